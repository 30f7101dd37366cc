"""What the audit makes of each CA's published certificate and proof of possession.

The TrustRegistry cannot check a CA key's signature (no P-256 or RSA on a Paris EVM): it publishes the
certificate and the proof in CACertificatePublished, and every audit checks them here. The proof is the
CA key's signature over ``pop_message(chain id, TrustRegistry, party, sha256(certificate))``
(docs/security.md), so it binds the key to this registry and to the registering party.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..cacert import pop_message, verify_pop
from ..errors import TrustAnchorError
from .snapshot import CA, Snapshot

VALID, INVALID, MISSING = "valid", "invalid", "missing"


@dataclass(frozen=True)
class CertCheck:
    """A CA's certificate as read, and the verdict on its proof of possession."""

    pop: str  # VALID | INVALID | MISSING
    reason: str  # why the proof is not valid ("" when it is)
    subject: str
    spki: bytes  # the DER SubjectPublicKeyInfo ("" if the certificate cannot be read)

    @property
    def key_hash(self) -> str:
        return "0x" + hashlib.sha256(self.spki).hexdigest() if self.spki else ""


def check_ca(s: Snapshot, c: CA) -> CertCheck:
    return _check(s.chain_id, s.trust_registry, c.party, c.certificate_hash, c.certificate, c.proof)


@lru_cache(maxsize=1024)
def _check(
    chain_id: int, registry: str, party: str, certificate_hash: bytes, certificate: bytes, proof: bytes
) -> CertCheck:
    if not certificate:
        return CertCheck(INVALID, "no certificate was published for it", "", b"")
    subject, spki, unreadable = "", b"", ""
    cert: x509.Certificate | None = None
    try:
        cert = x509.load_der_x509_certificate(certificate)
        subject = cert.subject.rfc4514_string()
        spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except Exception as e:  # an unreadable certificate or key is a verdict, not a crash
        what = "certificate" if cert is None else "certificate's public key"
        unreadable = f"the published {what} cannot be read ({type(e).__name__}: {e})"
    if not proof:
        reason = "it was registered without a proof of possession"
        return CertCheck(MISSING, f"{reason}; {unreadable}" if unreadable else reason, subject, spki)
    if cert is None or unreadable:
        return CertCheck(INVALID, unreadable, subject, spki)
    if hashlib.sha256(certificate).digest() != certificate_hash:
        return CertCheck(INVALID, "the certificate does not match its published hash", subject, spki)
    try:
        message = pop_message(chain_id, registry, party, certificate_hash)
    except TrustAnchorError as e:
        return CertCheck(INVALID, f"no proof can be bound to party {party} ({e})", subject, spki)
    if not verify_pop(cert, proof, message):
        return CertCheck(
            INVALID,
            "the proof is not the certificate key's signature over this registry's message for this party",
            subject,
            spki,
        )
    return CertCheck(VALID, "", subject, spki)
