"""Batch-root signatures and the certificate checks around them.

One signature covers a whole batch: the signed message binds the Merkle root to the tree size, the
document type, one registry contract on one chain, the issuing party and the issuer account that anchors
it, so a signed root plus an inclusion proof is per-document evidence that cannot be replayed against
another registry or chain, nor anchored by anyone else (a root copied from the mempool and anchored by
another account carries a signature that does not cover that account).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from ..doctypes import MAX_TYPE_ID
from ..errors import PKIError, SigningError

BATCH_DOMAIN = b"TrustAnchor/batch/v2\x00"
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
ALGORITHMS = ("ecdsa-sha256", "ecdsa-sha384", "rsa-pss-sha256", "ed25519")
MIN_RSA_BITS = 2048

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
_U64 = 1 << 64


def _address_bytes(address: bytes | str, what: str) -> bytes:
    if isinstance(address, str):
        if not re.fullmatch(r"0x[0-9a-fA-F]{40}", address):
            raise SigningError(f"{what} address must be 0x followed by 40 hex digits, got {address!r}")
        return bytes.fromhex(address[2:])
    if len(address) != 20:
        raise SigningError(f"{what} address must be 20 bytes, got {len(address)}")
    return bytes(address)


def batch_message(
    root: bytes,
    tree_size: int,
    doc_type_id: int,
    chain_id: int,
    registry_address: bytes | str,
    party: str,
    issuer: bytes | str,
) -> bytes:
    """The exact bytes signed for a batch (layout in docs/bundle.md)."""
    if len(root) != 32:
        raise SigningError(f"batch root must be 32 bytes, got {len(root)}")
    if not 1 <= tree_size < _U64:
        raise SigningError(f"tree size must be in 1..2^64-1, got {tree_size}")
    if not 0 <= doc_type_id <= MAX_TYPE_ID:
        raise SigningError(f"document type id must be in 0..{MAX_TYPE_ID}, got {doc_type_id}")
    if not 1 <= chain_id < _U64:
        raise SigningError(f"chain id must be in 1..2^64-1, got {chain_id}")
    return (
        BATCH_DOMAIN
        + bytes(root)
        + tree_size.to_bytes(8, "big")
        + bytes([doc_type_id])
        + chain_id.to_bytes(8, "big")
        + _address_bytes(registry_address, "registry")
        + _party_bytes(party)
        + _address_bytes(issuer, "issuer")
    )


def _party_bytes(party: str) -> bytes:
    raw = party.encode("ascii", "replace")
    if not 1 <= len(raw) <= 8 or not raw.isalnum() or raw != raw.upper():
        raise SigningError(f"party must be 1-8 ASCII capital letters or digits, got {party!r}")
    return raw.ljust(8, b"\x00")


@dataclass(frozen=True)
class Signature:
    alg: str
    value: bytes


def _pss() -> padding.PSS:
    # Salt length is pinned to the digest length (not AUTO/MAX) so that every verifier agrees on it.
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def algorithm_for(key: SigningKey | x509.Certificate) -> str:
    """The signature algorithm this library uses for a key (or a certificate's key)."""
    pub = key.public_key()
    if isinstance(pub, ec.EllipticCurvePublicKey):
        if isinstance(pub.curve, ec.SECP256R1):
            return "ecdsa-sha256"
        if isinstance(pub.curve, ec.SECP384R1):
            return "ecdsa-sha384"
        raise SigningError(f"unsupported EC curve {pub.curve.name}: use P-256 or P-384")
    if isinstance(pub, rsa.RSAPublicKey):
        if pub.key_size < MIN_RSA_BITS:
            raise SigningError(f"RSA key of {pub.key_size} bits is too small (minimum {MIN_RSA_BITS})")
        return "rsa-pss-sha256"
    if isinstance(pub, ed25519.Ed25519PublicKey):
        return "ed25519"
    raise SigningError(f"unsupported key type {type(pub).__name__}: use EC P-256/P-384, RSA or Ed25519")


def _check_usage(cert: x509.Certificate) -> None:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = None
    if eku is None or DOCUMENT_SIGNING not in eku:
        raise SigningError(
            "signing certificate lacks the documentSigning extended key usage (1.3.6.1.5.5.7.3.36)"
        )
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        ku = None
    if ku is None or not ku.digital_signature:
        raise SigningError("signing certificate lacks the digitalSignature key usage")


def _order_chain(leaf: x509.Certificate, others: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """Leaf first, then each issuer in turn: PEM files and PKCS#12 bags carry CAs in any order."""
    pool = [c for c in others if c != leaf]
    chain = [leaf]
    while pool:
        current = chain[-1]
        if current.issuer == current.subject:
            break
        issuer = next((c for c in pool if c.subject == current.issuer), None)
        if issuer is None:
            break
        chain.append(issuer)
        pool.remove(issuer)
    if pool:
        names = "; ".join(c.subject.rfc4514_string() for c in pool)
        raise SigningError(f"certificate(s) not in the signing certificate's issuer chain: {names}")
    return chain


class Signer:
    """A document-signing key with its certificate chain, checked for fitness when loaded."""

    def __init__(
        self,
        key: PrivateKeyTypes,
        certificates: Sequence[x509.Certificate],
        *,
        check_validity: bool = True,
        now: dt.datetime | None = None,
    ) -> None:
        if not certificates:
            raise SigningError("no signing certificate given")
        cert = certificates[0]
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
            raise SigningError(f"unsupported private key type {type(key).__name__}")
        if key.public_key().public_bytes(*_SPKI) != cert.public_key().public_bytes(*_SPKI):
            raise SigningError(
                f"private key does not match signing certificate {cert.subject.rfc4514_string()}"
            )
        self.alg = algorithm_for(key)
        _check_usage(cert)
        if check_validity:
            at = now or dt.datetime.now(dt.UTC)
            if at.tzinfo is None:
                raise SigningError("the time to check certificate validity at must be timezone-aware")
            if at < cert.not_valid_before_utc:
                raise SigningError(f"signing certificate is not valid until {_ts(cert.not_valid_before_utc)}")
            if at > cert.not_valid_after_utc:
                raise SigningError(f"signing certificate expired at {_ts(cert.not_valid_after_utc)}")
        self._key: SigningKey = key
        self.certificates: list[x509.Certificate] = _order_chain(cert, certificates[1:])

    @property
    def certificate(self) -> x509.Certificate:
        return self.certificates[0]

    @classmethod
    def from_pem(
        cls,
        key_path: Path | str,
        cert_path: Path | str,
        chain_paths: Sequence[Path | str] = (),
        *,
        password: bytes | str | None = None,
        check_validity: bool = True,
    ) -> Signer:
        """Key and certificate PEM files; extra certificates may also follow the signer in ``cert_path``."""
        try:
            key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=_pw(password))
        except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SigningError(f"cannot load signing key {key_path}: {_reason(exc)}") from exc
        certs: list[x509.Certificate] = []
        for path in (cert_path, *chain_paths):
            try:
                certs += x509.load_pem_x509_certificates(Path(path).read_bytes())
            except (OSError, ValueError) as exc:
                raise SigningError(f"cannot load certificates from {path}: {_reason(exc)}") from exc
        return cls(key, certs, check_validity=check_validity)

    @classmethod
    def from_pkcs12(
        cls, path: Path | str, password: bytes | str | None = None, *, check_validity: bool = True
    ) -> Signer:
        try:
            bag = pkcs12.load_pkcs12(Path(path).read_bytes(), _pw(password))
        except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise SigningError(f"cannot load PKCS#12 file {path}: {_reason(exc)}") from exc
        if bag.key is None or bag.cert is None:
            raise SigningError(f"PKCS#12 file {path} must contain a private key and its certificate")
        certs = [bag.cert.certificate, *(c.certificate for c in bag.additional_certs)]
        return cls(bag.key, certs, check_validity=check_validity)

    def sign(self, message: bytes) -> Signature:
        return sign_with_key(self._key, message)


def sign_with_key(key: SigningKey, message: bytes) -> Signature:
    """``key``'s signature over ``message`` with the algorithm this library uses for it."""
    alg = algorithm_for(key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        digest = hashes.SHA256() if alg == "ecdsa-sha256" else hashes.SHA384()
        value = key.sign(message, ec.ECDSA(digest))
    elif isinstance(key, rsa.RSAPrivateKey):
        value = key.sign(message, _pss(), hashes.SHA256())
    else:
        value = key.sign(message)
    return Signature(alg, value)


def _pw(password: bytes | str | None) -> bytes | None:
    return password.encode() if isinstance(password, str) else password


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def verify_signature(cert: x509.Certificate, alg: str, signature: bytes, message: bytes) -> bool:
    """True iff ``signature`` is ``cert``'s signature over ``message`` with ``alg``.

    Any mismatch (wrong key type or curve for ``alg``, bad encoding, wrong signature) is False;
    only an algorithm name this version does not know raises, as that is a format problem.
    """
    if alg not in ALGORITHMS:
        raise SigningError(f"unknown signature algorithm {alg!r} (known: {', '.join(ALGORITHMS)})")
    pub = cert.public_key()
    try:
        if alg.startswith("ecdsa-"):
            want = ec.SECP256R1 if alg == "ecdsa-sha256" else ec.SECP384R1
            if not isinstance(pub, ec.EllipticCurvePublicKey) or not isinstance(pub.curve, want):
                return False
            digest = hashes.SHA256() if alg == "ecdsa-sha256" else hashes.SHA384()
            pub.verify(signature, message, ec.ECDSA(digest))
        elif alg == "rsa-pss-sha256":
            if not isinstance(pub, rsa.RSAPublicKey) or pub.key_size < MIN_RSA_BITS:
                return False
            pub.verify(signature, message, _pss(), hashes.SHA256())
        else:
            if not isinstance(pub, ed25519.Ed25519PublicKey):
                return False
            pub.verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def fingerprint(cert: x509.Certificate) -> bytes:
    """SHA-256 of the certificate's DER: how CAs are registered on chain."""
    return cert.fingerprint(hashes.SHA256())


def _require_document_signing(_policy: Policy, _cert: x509.Certificate, eku: x509.ExtendedKeyUsage) -> None:
    if DOCUMENT_SIGNING not in eku:
        raise ValueError("signing certificate lacks the documentSigning extended key usage")


def _require_digital_signature(_policy: Policy, _cert: x509.Certificate, ku: x509.KeyUsage) -> None:
    if not ku.digital_signature:
        raise ValueError("signing certificate lacks the digitalSignature key usage")
    if ku.key_cert_sign:
        raise ValueError("signing certificate must not assert keyCertSign")


def document_signing_ee_policy() -> ExtensionPolicy:
    """Web-PKI EE defaults, but documentSigning instead of clientAuth, keyUsage required, no SAN needed."""
    return (
        ExtensionPolicy.webpki_defaults_ee()
        .require_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _require_document_signing)
        .require_present(x509.KeyUsage, Criticality.AGNOSTIC, _require_digital_signature)
        .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
    )


def validate_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    trusted_cas: Sequence[x509.Certificate],
    at: dt.datetime,
) -> x509.Certificate:
    """Validate ``leaf`` for document signing at time ``at``; return the trusted CA the chain ends in.

    Path building and checking are entirely pyca/cryptography's; this only supplies the policy and
    turns its failures into readable PKIError messages.
    """
    if at.tzinfo is None:
        raise PKIError("validation time must be timezone-aware")
    if not trusted_cas:
        raise PKIError("no trusted CA certificates given")
    verifier = (
        PolicyBuilder()
        .store(Store(list(trusted_cas)))
        .time(at.astimezone(dt.UTC))
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=document_signing_ee_policy()
        )
        .build_client_verifier()
    )
    try:
        verified = verifier.verify(leaf, list(intermediates))
    except VerificationError as exc:
        raise PKIError(_explain(leaf, intermediates, trusted_cas, at, str(exc))) from exc
    return verified.chain[-1]


def _explain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    trusted_cas: Sequence[x509.Certificate],
    at: dt.datetime,
    raw: str,
) -> str:
    """A one-line reason; pyca's message names the failing cert only as a Python repr."""
    if "not valid at validation time" in raw:
        when = _ts(at)
        for cert in (leaf, *intermediates, *trusted_cas):
            who = "signing certificate" if cert is leaf else f"CA certificate {_dn(cert, 'subject')}"
            if at < cert.not_valid_before_utc:
                return f"{who} is not yet valid at {when} (valid from {_ts(cert.not_valid_before_utc)})"
            if at > cert.not_valid_after_utc:
                return f"{who} had expired at {when} (valid until {_ts(cert.not_valid_after_utc)})"
    detail = raw.removeprefix("validation failed: ").split(" (encountered processing")[0]
    detail = detail.replace("Python extension validator failed: ValueError: ", "")
    if "missing required extension" in detail:
        if "2.5.29.37" in detail:
            return "signing certificate lacks the documentSigning extended key usage (1.3.6.1.5.5.7.3.36)"
        if "2.5.29.15" in detail:
            return "signing certificate lacks the keyUsage extension (digitalSignature required)"
    if detail.startswith("candidates exhausted: "):
        inner = detail.removeprefix("candidates exhausted: ")
        for marker, reason in _CHAIN_REASONS.items():
            if marker in inner:
                inner = reason
                break
        return (
            "certificate chain does not lead to a trusted CA (signing certificate issued by "
            f"{_dn(leaf, 'issuer')}: {inner})"
        )
    return f"certificate chain rejected: {detail}"


def _dn(cert: x509.Certificate, which: str) -> str:
    """The subject or issuer name for a message; pyca parses names lazily, and a forged one may not parse."""
    try:
        name: x509.Name = getattr(cert, which)
        return name.rfc4514_string()
    except (ValueError, TypeError):  # pyca raises TypeError for some malformed attribute types
        return "an unreadable name"


# pyca's interior errors, in words (its own text for some of them is a Rust debug dump).
_CHAIN_REASONS = {
    "no interior errors": "no trusted CA or supplied intermediate issued it",
    "Forbidden public key algorithm": "a CA key uses a forbidden algorithm; CAs must be EC P-256/P-384/P-521 "
    "or RSA >= 2048",
    "RSA key is too weak": "a CA's RSA key is shorter than 2048 bits",
    "Forbidden signature algorithm": "a certificate is signed with an algorithm the web-PKI profile forbids",
}


def _ts(when: dt.datetime) -> str:
    return f"{when.astimezone(dt.UTC):%Y-%m-%d %H:%M:%SZ}"
