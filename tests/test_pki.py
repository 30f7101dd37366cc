"""The demo PKI: file layout, certificate profile, and acceptance by the chain validator."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from anchor.errors import PKIError
from anchor.issuing.signing import validate_chain
from anchor.pki import (
    DOCUMENT_SIGNING,
    PkiPaths,
    generate_key,
    init_pki,
    issue_signer,
    load_ca,
    make_root_ca,
)

# Certificates start at a fixed time and are validated at a fixed time, so that no result depends on
# the wall clock, nor on how long after collection a test (or a module-scoped fixture) runs.
VALID_FROM = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = VALID_FROM + dt.timedelta(days=1)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture(scope="module")
def sg(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return init_pki("SG", tmp_path_factory.mktemp("sg"), valid_from=VALID_FROM, p12_password="s3cret")


def test_writes_the_expected_files_with_private_keys_0600(sg: PkiPaths) -> None:
    names = {p.name for p in sg.root_ca.parent.iterdir()}
    assert names == {
        "root-ca.pem",
        "root-ca-key.pem",
        "issuing-ca.pem",
        "issuing-ca-key.pem",
        "signer.pem",
        "signer-key.pem",
        "signer.p12",
    }
    for secret in (sg.signer_key, sg.signer_p12, sg.root_ca_key, sg.issuing_ca_key):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret
    assert b"BEGIN PRIVATE KEY" in sg.signer_key.read_bytes()  # PKCS#8, unencrypted


def test_root_and_issuing_ca_profile(sg: PkiPaths) -> None:
    root, issuing = load(sg.root_ca), load(sg.issuing_ca)
    assert root.subject == root.issuer
    root_bc = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert root_bc.critical and root_bc.value.ca
    root_ku = root.extensions.get_extension_for_class(x509.KeyUsage)
    assert root_ku.critical and root_ku.value.key_cert_sign and root_ku.value.crl_sign
    issuing_bc = issuing.extensions.get_extension_for_class(x509.BasicConstraints)
    assert issuing_bc.critical and issuing_bc.value.ca and issuing_bc.value.path_length == 0
    issuing.verify_directly_issued_by(root)
    with pytest.raises(x509.ExtensionNotFound):
        issuing.extensions.get_extension_for_class(x509.ExtendedKeyUsage)


def test_signer_profile(sg: PkiPaths) -> None:
    signer, issuing = load(sg.signer_cert), load(sg.issuing_ca)
    signer.verify_directly_issued_by(issuing)
    assert signer.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "SG"
    assert signer.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "SG document signing"
    assert list(signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [DOCUMENT_SIGNING]
    assert DOCUMENT_SIGNING.dotted_string == "1.3.6.1.5.5.7.3.36"
    ku = signer.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment and not ku.key_cert_sign
    assert not signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    aki = signer.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    issuing_ski = issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == issuing_ski.digest
    assert aki.authority_cert_issuer is None
    signer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)


def test_p12_holds_key_cert_and_issuing_ca(sg: PkiPaths) -> None:
    bag = pkcs12.load_pkcs12(sg.signer_p12.read_bytes(), b"s3cret")
    assert bag.cert is not None and bag.cert.certificate == load(sg.signer_cert)
    assert [c.certificate for c in bag.additional_certs] == [load(sg.issuing_ca)]
    assert bag.key is not None
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert bag.key.public_key().public_bytes(*spki) == load(sg.signer_cert).public_key().public_bytes(*spki)
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(sg.signer_p12.read_bytes(), b"wrong")


@pytest.mark.parametrize(
    ("key_type", "signer_key_class", "ca_key_class"),
    [
        ("ec-p256", ec.EllipticCurvePublicKey, ec.EllipticCurvePublicKey),
        ("ec-p384", ec.EllipticCurvePublicKey, ec.EllipticCurvePublicKey),
        ("rsa-2048", rsa.RSAPublicKey, rsa.RSAPublicKey),
        ("ed25519", ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey),
    ],
)
def test_every_key_type_passes_chain_validation(
    tmp_path: Path, key_type: str, signer_key_class: type, ca_key_class: type
) -> None:
    paths = init_pki("TH", tmp_path, key_type=key_type, valid_from=VALID_FROM)
    root, issuing, signer = load(paths.root_ca), load(paths.issuing_ca), load(paths.signer_cert)
    assert isinstance(signer.public_key(), signer_key_class)
    assert isinstance(root.public_key(), ca_key_class)  # Ed25519 signers get EC CAs
    assert validate_chain(signer, [issuing], [root], NOW) == root


def test_validity_window(tmp_path: Path) -> None:
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    paths = init_pki("MY", tmp_path, valid_from=start, days=30, ca_days=400)
    signer = load(paths.signer_cert)
    assert signer.not_valid_before_utc == start
    assert signer.not_valid_after_utc == start + dt.timedelta(days=30)
    assert load(paths.root_ca).not_valid_after_utc == start + dt.timedelta(days=400)


def test_issue_signer_from_existing_ca(sg: PkiPaths) -> None:
    ca, ca_key = load_ca(sg.issuing_ca, sg.issuing_ca_key)
    key = generate_key("ec-p256")
    plain = issue_signer(
        "SG", key.public_key(), ca, ca_key, valid_from=VALID_FROM, ekus=None, common_name="no eku"
    )
    with pytest.raises(x509.ExtensionNotFound):
        plain.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    client = issue_signer(
        "SG", key.public_key(), ca, ca_key, valid_from=VALID_FROM, ekus=[ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    assert list(client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    end = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    old = issue_signer(
        "SG", key.public_key(), ca, ca_key, valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), not_after=end
    )
    assert old.not_valid_after_utc == end
    no_ds = issue_signer("SG", key.public_key(), ca, ca_key, valid_from=VALID_FROM, digital_signature=False)
    assert not no_ds.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature


def test_refuses_bad_parameters(tmp_path: Path, sg: PkiPaths) -> None:
    with pytest.raises(PKIError, match="two-letter"):
        init_pki("Singapore", tmp_path, valid_from=VALID_FROM)
    with pytest.raises(PKIError, match="unknown key type"):
        init_pki("SG", tmp_path, key_type="dsa-1024", valid_from=VALID_FROM)
    with pytest.raises(PKIError, match="cannot be used for a CA"):
        init_pki("SG", tmp_path, ca_key_type="ed25519", valid_from=VALID_FROM)
    with pytest.raises(PKIError, match="timezone-aware"):
        init_pki("SG", tmp_path, valid_from=dt.datetime(2030, 1, 1))
    with pytest.raises(PKIError, match="does not belong"):
        load_ca(sg.issuing_ca, sg.root_ca_key)
    ca, ca_key = load_ca(sg.issuing_ca, sg.issuing_ca_key)
    with pytest.raises(PKIError, match="before it becomes valid"):
        issue_signer(
            "SG",
            generate_key("ec-p256").public_key(),
            ca,
            ca_key,
            valid_from=VALID_FROM,
            not_after=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
        )


def _self_signed_ca(key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odd CA")])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=10))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(ski, critical=False)
    )
    return builder.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())


@pytest.mark.parametrize(
    "ca_key", [ed25519.Ed25519PrivateKey.generate(), rsa.generate_private_key(65537, 1024)]
)
def test_verifier_refuses_ed25519_and_small_rsa_cas(
    ca_key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey,
) -> None:
    """Why init_pki refuses these CA key types: the web-PKI CA profile rejects chains through them."""
    root = _self_signed_ca(ca_key)
    signer_key = generate_key("ec-p256")
    signer = issue_signer("SG", signer_key.public_key(), root, ca_key, valid_from=VALID_FROM, days=5)
    with pytest.raises(PKIError):
        validate_chain(signer, [], [root], NOW)


def test_make_root_ca_is_usable_on_its_own() -> None:
    key = generate_key("ec-p384")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    root = make_root_ca("SG", key, valid_from=VALID_FROM)
    assert root.signature_hash_algorithm is not None
    assert root.signature_hash_algorithm.name == "sha384"  # web-PKI: P-384 signs with SHA-384
