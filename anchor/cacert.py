"""Reading a national CA certificate for registration: its SHA-256 fingerprint and validity period."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from .errors import PKIError


@dataclass(frozen=True)
class CACertificate:
    fingerprint: bytes
    not_before: int
    not_after: int
    subject: str
    certificate: x509.Certificate


def read_ca_certificate(path: Path) -> CACertificate:
    """Load a PEM (or DER) CA certificate; refuse anything that is not a CA."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PKIError(f"cannot read {path}: {e.strerror}") from None
    try:
        cert = (
            x509.load_pem_x509_certificate(data)
            if b"-----BEGIN" in data
            else x509.load_der_x509_certificate(data)
        )
    except ValueError as e:
        raise PKIError(f"{path}: not an X.509 certificate ({e})") from None
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        bc = None
    if bc is None or not bc.ca:
        raise PKIError(
            f"{path}: {cert.subject.rfc4514_string()} is not a CA certificate (basicConstraints CA:TRUE)"
        )
    return CACertificate(
        fingerprint=hashlib.sha256(cert.public_bytes(_DER)).digest(),
        not_before=int(cert.not_valid_before_utc.timestamp()),
        not_after=int(cert.not_valid_after_utc.timestamp()),
        subject=cert.subject.rfc4514_string(),
        certificate=cert,
    )


from cryptography.hazmat.primitives.serialization import Encoding  # noqa: E402

_DER = Encoding.DER


POP_DOMAIN = b"TrustAnchor/ca-pop/v1\x00"


# Cached: the verifier asks for every certificate of every bundle, and keccak through eth_utils costs
# about 60 µs a call (bench_verify went from 2,926/s in v1 to 1,706/s before this cache).
@functools.lru_cache(maxsize=1024)
def ca_id(party: str, certificate_hash: bytes) -> bytes:
    """A CA's id on chain: keccak256(abi.encode(bytes8 party, bytes32 sha256(certificate DER))). The same
    certificate registered by two parties gives two ids, so a squatter neither blocks nor impersonates."""
    from eth_utils import keccak

    from .deploy import party_id

    return keccak(party_id(party).ljust(32, b"\x00") + bytes(certificate_hash))


def pop_message(chain_id: int, trust_registry: str, party: str, certificate_hash: bytes) -> bytes:
    """What a CA key signs to prove that `party` holds it (docs/security.md): domain, chain id (8 bytes),
    the TrustRegistry's address (20), the party code (8, zero-padded) and the certificate's SHA-256."""
    if len(certificate_hash) != 32:
        raise PKIError(f"certificate hash must be 32 bytes, got {len(certificate_hash)}")
    code = party.encode("ascii", "replace")
    if not 1 <= len(code) <= 8 or not code.isalnum():
        raise PKIError(f"party must be 1-8 ASCII letters or digits, got {party!r}")
    address = bytes.fromhex(trust_registry[2:]) if trust_registry.startswith("0x") else b""
    if len(address) != 20:
        raise PKIError(f"registry address must be 0x and 40 hex digits, got {trust_registry!r}")
    return (
        POP_DOMAIN + chain_id.to_bytes(8, "big") + address + code.ljust(8, b"\x00") + bytes(certificate_hash)
    )


def sign_pop(ca_key: object, ca: CACertificate, message: bytes) -> bytes:
    """The CA key's signature over `message`; refuses a key that is not the certificate's."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import PublicFormat

    from .issuing.signing import sign_with_key

    if not isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise PKIError(f"unsupported CA key type {type(ca_key).__name__}")
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if ca_key.public_key().public_bytes(*spki) != ca.certificate.public_key().public_bytes(*spki):
        raise PKIError(f"the key given is not the key of CA {ca.subject}: no proof of possession")
    return sign_with_key(ca_key, message).value


def verify_pop(certificate: x509.Certificate, proof: bytes, message: bytes) -> bool:
    """Is `proof` the certificate key's signature over `message`?"""
    from .errors import SigningError
    from .issuing.signing import algorithm_for, verify_signature

    try:
        alg = algorithm_for(certificate)
    except SigningError:
        return False
    return verify_signature(certificate, alg, proof, message)


def load_ca_key(path: Path) -> object:
    """A CA private key from a PEM file (unencrypted, or encrypted with TRUSTANCHOR_KEY_PASSWORD)."""
    import os

    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        data = path.read_bytes()
    except OSError as e:
        raise PKIError(f"cannot read {path}: {e.strerror}") from None
    password = os.environ.get("TRUSTANCHOR_KEY_PASSWORD")
    try:
        return load_pem_private_key(data, password.encode() if password and b"ENCRYPTED" in data else None)
    except (ValueError, TypeError) as e:
        raise PKIError(f"{path}: not a usable PEM private key ({e})") from None
