"""Reading a national CA certificate for registration: its SHA-256 fingerprint and validity period."""

from __future__ import annotations

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
