"""Demo/test PKI: a root CA, an issuing CA and document-signing certificates for one party.

Certificates are shaped to pass ``anchor.signing.validate_chain`` (pyca's web-PKI CA profile plus
our document-signing EE profile): v3, positive serials, critical basicConstraints on every cert,
keyUsage on every cert, SKI/AKI (keyIdentifier only), no EKU on CAs (the web-PKI CA profile would
demand clientAuth there), and CA keys restricted to EC P-256/P-384 or RSA >= 2048.
Not meant for production CAs: private keys are written unencrypted (0600).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from .errors import PKIError
from .issuing.signing import DOCUMENT_SIGNING

SignerKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
CaKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

KEY_TYPES = ("ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519")
CA_KEY_TYPES = ("ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096")

# Validity starts a little in the past so that freshly issued certs verify despite clock skew.
_BACKDATE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class PkiPaths:
    root_ca: Path
    root_ca_key: Path
    issuing_ca: Path
    issuing_ca_key: Path
    signer_cert: Path
    signer_key: Path
    signer_p12: Path


# The files init_pki writes, in PkiPaths' field order.
_FILE_NAMES = (
    "root-ca.pem",
    "root-ca-key.pem",
    "issuing-ca.pem",
    "issuing-ca-key.pem",
    "signer.pem",
    "signer-key.pem",
    "signer.p12",
)


def generate_key(key_type: str) -> SignerKey:
    if key_type == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    if key_type.startswith("rsa-") and key_type in KEY_TYPES:
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[4:]))
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise PKIError(f"unknown key type {key_type!r} (known: {', '.join(KEY_TYPES)})")


def _ca_key(key_type: str) -> CaKey:
    if key_type not in CA_KEY_TYPES:
        raise PKIError(
            f"key type {key_type!r} cannot be used for a CA: the verifier accepts only "
            f"{', '.join(CA_KEY_TYPES)} for CAs"
        )
    key = generate_key(key_type)
    assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    return key


def _hash_for(key: SignerKey) -> hashes.SHA256 | hashes.SHA384 | None:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None  # only reachable when minting deliberately unacceptable CAs for tests
    # The web-PKI profile only accepts ECDSA with the curve-matching hash, so P-384 must sign with SHA-384.
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def _party(party: str) -> str:
    code = party.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise PKIError(f"party must be a two-letter country code (ISO 3166-1 alpha-2), got {party!r}")
    return code


def _name(party: str, org: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, party),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _window(valid_from: dt.datetime | None, days: int) -> tuple[dt.datetime, dt.datetime]:
    if days <= 0:
        raise PKIError(f"validity must be at least one day, got {days}")
    start = valid_from if valid_from is not None else dt.datetime.now(dt.UTC) - _BACKDATE
    if start.tzinfo is None:
        raise PKIError("valid_from must be timezone-aware")
    return start, start + dt.timedelta(days=days)


def make_root_ca(
    party: str, key: CaKey, *, valid_from: dt.datetime | None = None, days: int = 3650
) -> x509.Certificate:
    party = _party(party)
    name = _name(party, f"{party} document signing", f"{party} Trust Anchor Root CA")
    start, end = _window(valid_from, days)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    )
    return builder.sign(key, _hash_for(key))


def make_issuing_ca(
    party: str,
    key: CaKey,
    root_cert: x509.Certificate,
    root_key: CaKey,
    *,
    valid_from: dt.datetime | None = None,
    days: int = 3650,
) -> x509.Certificate:
    party = _party(party)
    start, end = _window(valid_from, days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(party, f"{party} document signing", f"{party} Trust Anchor Issuing CA"))
        .issuer_name(root_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_aki(root_cert), critical=False)
    )
    return builder.sign(root_key, _hash_for(root_key))


def _aki(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        ski = x509.SubjectKeyIdentifier.from_public_key(issuer.public_key())
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def issue_signer(
    party: str,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey,
    issuing_ca: x509.Certificate,
    issuing_key: SignerKey,
    *,
    valid_from: dt.datetime | None = None,
    days: int = 825,
    not_after: dt.datetime | None = None,
    ekus: Sequence[x509.ObjectIdentifier] | None = (DOCUMENT_SIGNING,),
    digital_signature: bool = True,
    non_repudiation: bool = True,
    common_name: str | None = None,
) -> x509.Certificate:
    """A document-signing end-entity certificate; every knob exists to mint bad certs for tests too.

    ``ekus=None`` leaves the EKU extension out entirely; ``not_after`` overrides ``days``.
    """
    party = _party(party)
    start, end = _window(valid_from, days)
    if not_after is not None:
        end = not_after
    if end <= start:
        raise PKIError(f"certificate would expire ({end}) before it becomes valid ({start})")
    usage = x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(party, f"{party} document signing", common_name or f"{party} document signer"))
        .issuer_name(issuing_ca.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_aki(issuing_ca), critical=False)
    )
    if ekus is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(ekus)), critical=False)
    return builder.sign(issuing_key, _hash_for(issuing_key))


class PkiFilesExist(PKIError):
    """init_pki would overwrite an existing key or certificate."""


def _write(path: Path, data: bytes, *, secret: bool = False, force: bool = False) -> Path:
    """Write ``data`` to ``path``, never over an existing file unless ``force``; a secret (a private key,
    a PKCS#12 bag) is never readable by anyone but its owner, not even for a moment.

    A new file is created exclusively (so a file, or a symlink, that appeared since the check is not
    written through) with mode 0600 for a secret. With ``force`` the bytes go to a temporary file in the
    same directory (created 0600) that then replaces ``path`` in one step: a replaced key is never half
    written, never inherits the old file's wider mode, and a symlink at ``path`` is replaced, not followed.
    """
    if not force:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if secret else 0o666)
        except FileExistsError:
            raise PkiFilesExist(_exists_message([path])) from None
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return path
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created 0600
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            if not secret:
                os.fchmod(fh.fileno(), 0o644)  # a certificate is public
            fh.write(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _exists_message(existing: Sequence[Path]) -> str:
    others = len(existing) - 1
    more = f" (and {others} other file{'s' if others != 1 else ''} of a PKI)" if others else ""
    return f"{existing[0]} already exists{more}: refusing to overwrite keys or certificates"


def key_pem(key: SignerKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def init_pki(
    party: str,
    out_dir: Path,
    *,
    key_type: str = "ec-p256",
    ca_key_type: str | None = None,
    valid_from: dt.datetime | None = None,
    days: int = 825,
    ca_days: int = 3650,
    p12_password: bytes | str | None = None,
    force: bool = False,
) -> PkiPaths:
    """Create root CA, issuing CA and a signer for ``party`` in ``out_dir`` and return the file paths.

    ``key_type`` is the signer's key; the CAs use ``ca_key_type``, defaulting to ``key_type`` when
    that is usable for a CA and to ec-p256 otherwise (Ed25519 CAs are refused by the verifier).
    Existing keys and certificates are never overwritten unless ``force``: PkiFilesExist (a PKIError)
    names the first one, before any key is generated. Private keys and the PKCS#12 file are written 0600.
    """
    party = _party(party)
    if key_type not in KEY_TYPES:
        raise PKIError(f"unknown key type {key_type!r} (known: {', '.join(KEY_TYPES)})")
    if ca_key_type is None:
        ca_key_type = key_type if key_type in CA_KEY_TYPES else "ec-p256"
    out_dir = Path(out_dir)
    names = PkiPaths(*(out_dir / name for name in _FILE_NAMES))
    if not force:
        existing = [p for p in vars(names).values() if os.path.lexists(p)]
        if existing:
            raise PkiFilesExist(_exists_message(existing))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PKIError(f"cannot create directory {out_dir}: {e.strerror}") from None

    root_key = _ca_key(ca_key_type)
    root = make_root_ca(party, root_key, valid_from=valid_from, days=ca_days)
    issuing_key = _ca_key(ca_key_type)
    issuing = make_issuing_ca(party, issuing_key, root, root_key, valid_from=valid_from, days=ca_days)
    signer_key = generate_key(key_type)
    signer = issue_signer(
        party, signer_key.public_key(), issuing, issuing_key, valid_from=valid_from, days=days
    )

    password = p12_password.encode() if isinstance(p12_password, str) else p12_password
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    p12 = pkcs12.serialize_key_and_certificates(
        f"{party} document signer".encode(), signer_key, signer, [issuing], encryption
    )
    return PkiPaths(
        root_ca=_write(names.root_ca, cert_pem(root), force=force),
        root_ca_key=_write(names.root_ca_key, key_pem(root_key), secret=True, force=force),
        issuing_ca=_write(names.issuing_ca, cert_pem(issuing), force=force),
        issuing_ca_key=_write(names.issuing_ca_key, key_pem(issuing_key), secret=True, force=force),
        signer_cert=_write(names.signer_cert, cert_pem(signer), force=force),
        signer_key=_write(names.signer_key, key_pem(signer_key), secret=True, force=force),
        signer_p12=_write(names.signer_p12, p12, secret=True, force=force),
    )


def load_ca(cert_path: Path, key_path: Path) -> tuple[x509.Certificate, CaKey]:
    """An existing CA (e.g. the issuing CA written by ``init_pki``), to issue more signer certs from."""
    try:
        cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise PKIError(f"cannot load CA from {cert_path} / {key_path}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise PKIError(f"CA key {key_path} is {type(key).__name__}; CAs must be EC or RSA")
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise PKIError(f"CA key {key_path} does not belong to certificate {cert_path}")
    return cert, key
