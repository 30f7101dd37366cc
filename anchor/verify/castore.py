"""A verifier's local CA store: extra CA certificates for bundles that leave their CA out."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from ..errors import PKIError


def load_ca_directory(directory: Path | None) -> list[x509.Certificate]:
    """Every certificate in DIRECTORY/*.pem; a file that is not PEM is a clear error, not a skip."""
    if directory is None:
        return []
    certs: list[x509.Certificate] = []
    for p in sorted(directory.glob("*.pem")):
        try:
            certs += x509.load_pem_x509_certificates(p.read_bytes())
        except ValueError as e:
            raise PKIError(f"{p}: not a PEM certificate ({e})") from None
    return certs
