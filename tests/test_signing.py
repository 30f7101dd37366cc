"""Batch message layout, signers and their load-time refusals, signature checks, chain validation."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID

from anchor.errors import PKIError, SigningError
from anchor.issuing.signing import (
    Signature,
    Signer,
    batch_message,
    fingerprint,
    validate_chain,
    verify_signature,
)
from anchor.pki import PkiPaths, cert_pem, generate_key, init_pki, issue_signer, key_pem, load_ca

# Certificates start at a fixed time and are checked at a fixed time, so that no result depends on the
# wall clock, nor on how long after collection a test (or a module-scoped fixture) runs. Loading a
# signer from files checks validity against the wall clock, so tests load with check_validity=False
# and check validity through Signer(..., now=...).
VALID_FROM = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = VALID_FROM + dt.timedelta(days=1)
ROOT = bytes(range(32))
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
PARTY = "SG"
ISSUER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER_ISSUER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
KNOWN_MESSAGE_SHA256 = "9d19a0415a2b33795f2d182b033681fb086f20dcec1307c4c3f2d8264a90cf38"


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture(scope="module", params=["ec-p256", "ec-p384", "rsa-2048", "ed25519"])
def pki(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, PkiPaths]:
    key_type: str = request.param
    directory = tmp_path_factory.mktemp(key_type)
    return key_type, init_pki("SG", directory, key_type=key_type, valid_from=VALID_FROM, p12_password="pw")


@pytest.fixture(scope="module")
def sg(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return init_pki("SG", tmp_path_factory.mktemp("sg"), valid_from=VALID_FROM)


@pytest.fixture(scope="module")
def th(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return init_pki("TH", tmp_path_factory.mktemp("th"), valid_from=VALID_FROM)


# --- the signed message -----------------------------------------------------------------------------


def test_batch_message_layout() -> None:
    msg = batch_message(ROOT, 1000, 3, 31337, REGISTRY, PARTY, ISSUER)
    assert msg == (
        b"TrustAnchor/batch/v2\x00"
        + ROOT
        + (1000).to_bytes(8, "big")
        + b"\x03"
        + (31337).to_bytes(8, "big")
        + bytes.fromhex(REGISTRY[2:])
        + b"SG\x00\x00\x00\x00\x00\x00"
        + bytes.fromhex(ISSUER[2:])
    )
    assert len(msg) == 21 + 32 + 8 + 1 + 8 + 20 + 8 + 20 == 118
    # Frozen known answer (docs/bundle.md), written out byte by byte, so a layout change cannot slip through.
    assert msg.hex() == (
        "5472757374416e63686f722f62617463682f763200"  # "TrustAnchor/batch/v2\0"
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"  # root
        "00000000000003e8"  # tree size 1000
        "03"  # document type id
        "0000000000007a69"  # chain id 31337
        "5fbdb2315678afecb367f032d93f642f64180aa3"  # registry
        "5347000000000000"  # party "SG"
        "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"  # issuer account
    )
    assert hashlib.sha256(msg).hexdigest() == KNOWN_MESSAGE_SHA256


def test_batch_message_binds_every_field() -> None:
    base = batch_message(ROOT, 10, 3, 1, REGISTRY, PARTY, ISSUER)
    assert batch_message(ROOT[::-1], 10, 3, 1, REGISTRY, PARTY, ISSUER) != base
    assert batch_message(ROOT, 11, 3, 1, REGISTRY, PARTY, ISSUER) != base
    assert batch_message(ROOT, 10, 4, 1, REGISTRY, PARTY, ISSUER) != base
    assert batch_message(ROOT, 10, 3, 2, REGISTRY, PARTY, ISSUER) != base
    assert batch_message(ROOT, 10, 3, 1, "0x" + "11" * 20, PARTY, ISSUER) != base
    assert batch_message(ROOT, 10, 3, 1, bytes.fromhex(REGISTRY[2:]), PARTY, ISSUER) == base
    assert batch_message(ROOT, 10, 3, 1, REGISTRY.lower(), PARTY, ISSUER) == base
    assert batch_message(ROOT, 10, 3, 1, REGISTRY, PARTY, bytes.fromhex(ISSUER[2:])) == base
    assert batch_message(ROOT, 10, 3, 1, REGISTRY, PARTY, ISSUER.lower()) == base


@pytest.mark.parametrize("party", ["TH", "S", "SG1", "SGSGSGSG", "GS"])
def test_batch_message_binds_the_party(party: str) -> None:
    # A root signed for SG's issuer cannot be presented as anchored for another party.
    base = batch_message(ROOT, 10, 3, 1, REGISTRY, PARTY, ISSUER)
    other = batch_message(ROOT, 10, 3, 1, REGISTRY, party, ISSUER)
    assert other != base
    assert len(other) == len(base)  # fixed width: no party's bytes run into the issuer's
    assert other[90:98] == party.encode().ljust(8, b"\x00")


@pytest.mark.parametrize("issuer", [OTHER_ISSUER, "0x" + "00" * 20, bytes(20), b"\xff" * 20])
def test_batch_message_binds_the_issuer_account(issuer: str | bytes) -> None:
    # Nor as anchored by another account (a root copied from the mempool and anchored by someone else).
    base = batch_message(ROOT, 10, 3, 1, REGISTRY, PARTY, ISSUER)
    other = batch_message(ROOT, 10, 3, 1, REGISTRY, PARTY, issuer)
    assert other != base
    assert other[:98] == base[:98]
    raw = issuer if isinstance(issuer, bytes) else bytes.fromhex(issuer[2:])
    assert other[98:] == raw


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((ROOT[:31], 1, 0, 1, REGISTRY, PARTY, ISSUER), "root must be 32 bytes"),
        ((ROOT, 0, 0, 1, REGISTRY, PARTY, ISSUER), "tree size"),
        ((ROOT, 1 << 64, 0, 1, REGISTRY, PARTY, ISSUER), "tree size"),
        ((ROOT, 1, 64, 1, REGISTRY, PARTY, ISSUER), "document type id"),
        ((ROOT, 1, 0, 0, REGISTRY, PARTY, ISSUER), "chain id"),
        ((ROOT, 1, 0, 1 << 64, REGISTRY, PARTY, ISSUER), "chain id"),
        ((ROOT, 1, 0, 1, "0x1234", PARTY, ISSUER), "registry address"),
        ((ROOT, 1, 0, 1, b"\x00" * 19, PARTY, ISSUER), "registry address"),
        ((ROOT, 1, 0, 1, REGISTRY, "", ISSUER), "party must be 1-8 ASCII capital letters or digits"),
        ((ROOT, 1, 0, 1, REGISTRY, "ABCDEFGHI", ISSUER), "party must be 1-8 ASCII capital letters or digits"),
        ((ROOT, 1, 0, 1, REGISTRY, "S G", ISSUER), "party must be 1-8 ASCII capital letters or digits"),
        ((ROOT, 1, 0, 1, REGISTRY, "SG\x00", ISSUER), "party must be 1-8 ASCII capital letters or digits"),
        ((ROOT, 1, 0, 1, REGISTRY, "S-G", ISSUER), "party must be 1-8 ASCII capital letters or digits"),
        ((ROOT, 1, 0, 1, REGISTRY, "ŞG", ISSUER), "party must be 1-8 ASCII capital letters or digits"),
        ((ROOT, 1, 0, 1, REGISTRY, PARTY, "0x1234"), "address must be 0x followed by 40 hex digits"),
        ((ROOT, 1, 0, 1, REGISTRY, PARTY, ISSUER[:-1] + "g"), "address must be 0x followed by 40 hex digits"),
        ((ROOT, 1, 0, 1, REGISTRY, PARTY, ISSUER[2:]), "address must be 0x followed by 40 hex digits"),
        ((ROOT, 1, 0, 1, REGISTRY, PARTY, b"\x00" * 19), "address must be 20 bytes, got 19"),
        ((ROOT, 1, 0, 1, REGISTRY, PARTY, b"\x00" * 32), "address must be 20 bytes, got 32"),
        ((ROOT, 1, 0, 1, REGISTRY, PARTY, b""), "address must be 20 bytes, got 0"),
    ],
)
def test_batch_message_rejects(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(SigningError, match=message):
        batch_message(*args)


def test_a_bad_issuer_account_is_named_as_such() -> None:
    with pytest.raises(SigningError, match="issuer"):
        batch_message(ROOT, 1, 0, 1, REGISTRY, PARTY, "0x1234")


# --- signing and verifying ----------------------------------------------------------------------------

EXPECTED_ALG = {
    "ec-p256": "ecdsa-sha256",
    "ec-p384": "ecdsa-sha384",
    "rsa-2048": "rsa-pss-sha256",
    "ed25519": "ed25519",
}


def test_sign_and_verify_round_trip(pki: tuple[str, PkiPaths]) -> None:
    key_type, paths = pki
    for signer in (
        Signer.from_pem(paths.signer_key, paths.signer_cert, [paths.issuing_ca], check_validity=False),
        Signer.from_pkcs12(paths.signer_p12, "pw", check_validity=False),
    ):
        assert signer.alg == EXPECTED_ALG[key_type]
        assert signer.certificates == [load(paths.signer_cert), load(paths.issuing_ca)]
        msg = batch_message(ROOT, 5, 2, 1, REGISTRY, PARTY, ISSUER)
        sig = signer.sign(msg)
        assert sig.alg == signer.alg
        cert = signer.certificate
        assert verify_signature(cert, sig.alg, sig.value, msg)
        assert not verify_signature(cert, sig.alg, sig.value, msg + b"\x00")
        assert not verify_signature(
            cert, sig.alg, sig.value, batch_message(ROOT, 6, 2, 1, REGISTRY, PARTY, ISSUER)
        )
        assert not verify_signature(
            cert, sig.alg, sig.value, batch_message(ROOT, 5, 2, 1, REGISTRY, "TH", ISSUER)
        )
        assert not verify_signature(
            cert, sig.alg, sig.value, batch_message(ROOT, 5, 2, 1, REGISTRY, PARTY, OTHER_ISSUER)
        )
        assert not verify_signature(cert, sig.alg, bytes(len(sig.value)), msg)
        assert not verify_signature(cert, sig.alg, b"", msg)
        other = [a for a in EXPECTED_ALG.values() if a != sig.alg]
        for alg in other:
            assert not verify_signature(cert, alg, sig.value, msg), alg


def test_signature_from_another_key_fails(sg: PkiPaths, th: PkiPaths) -> None:
    msg = batch_message(ROOT, 5, 2, 1, REGISTRY, PARTY, ISSUER)
    sig = Signer.from_pem(sg.signer_key, sg.signer_cert, check_validity=False).sign(msg)
    assert verify_signature(load(sg.signer_cert), sig.alg, sig.value, msg)
    assert not verify_signature(load(th.signer_cert), sig.alg, sig.value, msg)


def test_unknown_algorithm_raises(sg: PkiPaths) -> None:
    with pytest.raises(SigningError, match="unknown signature algorithm 'ecdsa-sha1'"):
        verify_signature(load(sg.signer_cert), "ecdsa-sha1", b"x", b"y")


def test_ecdsa_signature_is_der(sg: PkiPaths) -> None:
    sig = Signer.from_pem(sg.signer_key, sg.signer_cert, check_validity=False).sign(b"m")
    r, s = decode_dss_signature(sig.value)
    assert r > 0 and s > 0


def test_rsa_pss_salt_is_digest_length(tmp_path: Path) -> None:
    paths = init_pki("SG", tmp_path, key_type="rsa-2048", valid_from=VALID_FROM)
    signer = Signer.from_pem(paths.signer_key, paths.signer_cert, check_validity=False)
    cert = load(paths.signer_cert)
    pub = cert.public_key()
    assert isinstance(pub, rsa.RSAPublicKey)
    sig = signer.sign(b"message")
    pub.verify(sig.value, b"message", padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    key = serialization.load_pem_private_key(paths.signer_key.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    max_salt = key.sign(
        b"message", padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH), hashes.SHA256()
    )
    assert not verify_signature(cert, "rsa-pss-sha256", max_salt, b"message")


def test_p384_key_with_sha256_alg_is_not_accepted(tmp_path: Path) -> None:
    paths = init_pki("SG", tmp_path, key_type="ec-p384", valid_from=VALID_FROM)
    key = serialization.load_pem_private_key(paths.signer_key.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    value = key.sign(b"m", ec.ECDSA(hashes.SHA256()))
    assert not verify_signature(load(paths.signer_cert), "ecdsa-sha256", value, b"m")


# --- load-time refusals -------------------------------------------------------------------------------


def _write_signer(tmp_path: Path, sg: PkiPaths, **kwargs: object) -> tuple[Path, Path]:
    ca, ca_key = load_ca(sg.issuing_ca, sg.issuing_ca_key)
    key = generate_key("ec-p256")
    kwargs.setdefault("valid_from", VALID_FROM)
    cert = issue_signer("SG", key.public_key(), ca, ca_key, **kwargs)  # type: ignore[arg-type]
    (tmp_path / "k.pem").write_bytes(key_pem(key))
    (tmp_path / "c.pem").write_bytes(cert_pem(cert))
    return tmp_path / "k.pem", tmp_path / "c.pem"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ekus": None}, "documentSigning"),
        ({"ekus": [ExtendedKeyUsageOID.CLIENT_AUTH]}, "documentSigning"),
        ({"digital_signature": False}, "digitalSignature"),
    ],
)
def test_signer_refuses_unfit_certificates(
    tmp_path: Path, sg: PkiPaths, kwargs: dict[str, object], message: str
) -> None:
    key_path, cert_path = _write_signer(tmp_path, sg, **kwargs)
    with pytest.raises(SigningError, match=message):
        Signer.from_pem(key_path, cert_path, check_validity=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"valid_from": dt.datetime(2020, 1, 1, tzinfo=dt.UTC), "days": 30}, "expired"),
        ({"valid_from": NOW + dt.timedelta(days=3), "days": 30}, "not valid until"),
    ],
)
def test_signer_refuses_certificates_outside_their_validity(
    tmp_path: Path, sg: PkiPaths, kwargs: dict[str, object], message: str
) -> None:
    key_path, cert_path = _write_signer(tmp_path, sg, **kwargs)
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    with pytest.raises(SigningError, match=message):
        Signer(key, [load(cert_path)], now=NOW)


def test_validity_check_can_be_disabled(tmp_path: Path, sg: PkiPaths) -> None:
    key_path, cert_path = _write_signer(
        tmp_path, sg, valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), days=30
    )
    signer = Signer.from_pem(key_path, cert_path, check_validity=False)
    assert verify_signature(signer.certificate, signer.alg, signer.sign(b"m").value, b"m")


def test_signer_refuses_key_of_another_cert(sg: PkiPaths, th: PkiPaths) -> None:
    with pytest.raises(SigningError, match="does not match signing certificate"):
        Signer.from_pem(th.signer_key, sg.signer_cert, check_validity=False)


def test_signer_refuses_unreadable_material(tmp_path: Path, sg: PkiPaths) -> None:
    (tmp_path / "junk.pem").write_text("not pem")
    with pytest.raises(SigningError, match="cannot load signing key"):
        Signer.from_pem(tmp_path / "junk.pem", sg.signer_cert)
    with pytest.raises(SigningError, match="cannot load certificates"):
        Signer.from_pem(sg.signer_key, tmp_path / "junk.pem")
    with pytest.raises(SigningError, match="cannot load signing key"):
        Signer.from_pem(tmp_path / "missing.pem", sg.signer_cert)
    with pytest.raises(SigningError, match="cannot load PKCS#12"):
        Signer.from_pkcs12(tmp_path / "junk.pem", "pw")


def test_pkcs12_wrong_password(pki: tuple[str, PkiPaths]) -> None:
    with pytest.raises(SigningError, match="cannot load PKCS#12"):
        Signer.from_pkcs12(pki[1].signer_p12, "wrong")


def test_chain_is_ordered_and_foreign_certs_refused(tmp_path: Path, sg: PkiPaths, th: PkiPaths) -> None:
    bundle = tmp_path / "chain.pem"
    bundle.write_bytes(sg.root_ca.read_bytes() + sg.issuing_ca.read_bytes())  # reversed on purpose
    signer = Signer.from_pem(sg.signer_key, sg.signer_cert, [bundle], check_validity=False)
    assert signer.certificates == [load(sg.signer_cert), load(sg.issuing_ca), load(sg.root_ca)]
    with pytest.raises(SigningError, match="not in the signing certificate's issuer chain"):
        Signer.from_pem(sg.signer_key, sg.signer_cert, [sg.issuing_ca, th.issuing_ca], check_validity=False)


def test_signature_dataclass_is_plain() -> None:
    assert Signature("ed25519", b"x") == Signature("ed25519", b"x")


# --- chain validation ---------------------------------------------------------------------------------


def test_validate_chain_returns_the_trust_anchor(pki: tuple[str, PkiPaths]) -> None:
    paths = pki[1]
    root, issuing, signer = load(paths.root_ca), load(paths.issuing_ca), load(paths.signer_cert)
    assert validate_chain(signer, [issuing], [root], NOW) == root
    # Registering the issuing CA itself as trusted also works, and is what is returned then.
    assert validate_chain(signer, [], [issuing], NOW) == issuing


def test_validate_chain_picks_the_right_anchor_among_many(sg: PkiPaths, th: PkiPaths) -> None:
    trusted = [load(th.root_ca), load(sg.root_ca)]
    assert validate_chain(load(sg.signer_cert), [load(sg.issuing_ca)], trusted, NOW) == load(sg.root_ca)


def test_validate_chain_unknown_ca(sg: PkiPaths, th: PkiPaths) -> None:
    with pytest.raises(PKIError, match="does not lead to a trusted CA"):
        validate_chain(load(sg.signer_cert), [load(sg.issuing_ca)], [load(th.root_ca)], NOW)
    with pytest.raises(PKIError, match="does not lead to a trusted CA"):
        validate_chain(load(sg.signer_cert), [], [load(sg.root_ca)], NOW)  # intermediate missing


def test_validate_chain_time(sg: PkiPaths) -> None:
    signer = load(sg.signer_cert)
    chain = [load(sg.issuing_ca)], [load(sg.root_ca)]
    with pytest.raises(PKIError, match="signing certificate had expired at"):
        validate_chain(signer, *chain, signer.not_valid_after_utc + dt.timedelta(seconds=1))
    with pytest.raises(PKIError, match="signing certificate is not yet valid"):
        validate_chain(signer, *chain, signer.not_valid_before_utc - dt.timedelta(seconds=1))
    assert validate_chain(signer, *chain, signer.not_valid_after_utc) == load(sg.root_ca)
    with pytest.raises(PKIError, match="timezone-aware"):
        validate_chain(signer, *chain, dt.datetime(2030, 1, 1))


def test_validate_chain_expired_ca(tmp_path: Path) -> None:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    paths = init_pki("SG", tmp_path, valid_from=start, days=800, ca_days=365)
    at = start + dt.timedelta(days=400)  # signer still valid, CAs not
    with pytest.raises(PKIError, match=r"CA certificate .* had expired"):
        validate_chain(load(paths.signer_cert), [load(paths.issuing_ca)], [load(paths.root_ca)], at)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ekus": None}, "lacks the documentSigning extended key usage"),
        ({"ekus": [ExtendedKeyUsageOID.CLIENT_AUTH]}, "lacks the documentSigning extended key usage"),
        (
            {"ekus": [ExtendedKeyUsageOID.CODE_SIGNING, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]},
            "documentSigning",
        ),
        ({"digital_signature": False}, "lacks the digitalSignature key usage"),
    ],
)
def test_validate_chain_requires_document_signing_profile(
    sg: PkiPaths, kwargs: dict[str, object], message: str
) -> None:
    ca, ca_key = load_ca(sg.issuing_ca, sg.issuing_ca_key)
    public_key = generate_key("ec-p256").public_key()
    cert = issue_signer("SG", public_key, ca, ca_key, valid_from=VALID_FROM, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(PKIError, match=message):
        validate_chain(cert, [ca], [load(sg.root_ca)], NOW)


def test_validate_chain_needs_trusted_cas(sg: PkiPaths) -> None:
    with pytest.raises(PKIError, match="no trusted CA"):
        validate_chain(load(sg.signer_cert), [load(sg.issuing_ca)], [], NOW)


def test_fingerprint_is_sha256_of_der(sg: PkiPaths) -> None:
    root = load(sg.root_ca)
    assert fingerprint(root) == hashlib.sha256(root.public_bytes(serialization.Encoding.DER)).digest()
    assert fingerprint(root) != fingerprint(load(sg.issuing_ca))


def test_signer_checks_validity_at_the_given_time(sg: PkiPaths) -> None:
    key = serialization.load_pem_private_key(sg.signer_key.read_bytes(), None)
    cert = load(sg.signer_cert)
    Signer(key, [cert], now=cert.not_valid_before_utc)
    with pytest.raises(SigningError, match="expired"):
        Signer(key, [cert], now=cert.not_valid_after_utc + dt.timedelta(seconds=1))
    with pytest.raises(SigningError, match="timezone-aware"):
        Signer(key, [cert], now=dt.datetime(2030, 1, 1))
    with pytest.raises(SigningError, match="no signing certificate"):
        Signer(key, [])


def test_a_certificate_whose_issuer_name_does_not_parse_is_a_pki_error() -> None:
    # pyca parses names lazily: a forged certificate can load and still fail when its issuer is read,
    # which the chain validation's error message does (found by tests/test_bundle_fuzz.py).
    assets = Path(__file__).parent / "assets" / "bundles"
    bundle = json.loads((assets / "valid-v2.json").read_text())
    ders = [base64.b64decode(c) for c in bundle["batch"]["certificates"]]
    leaf = x509.load_der_x509_certificate(ders[0])
    start = ders[0].index(leaf.issuer.public_bytes())
    forged = None
    for i in range(start, start + len(leaf.issuer.public_bytes())):
        candidate = bytearray(ders[0])
        candidate[i] = 0
        try:
            cert = x509.load_der_x509_certificate(bytes(candidate))
        except ValueError:
            continue
        try:
            cert.issuer.rfc4514_string()
        except ValueError:
            forged = cert
            break
    assert forged is not None
    _chain_names_an_unreadable_issuer(forged, bundle, ders, assets)


def _chain_names_an_unreadable_issuer(
    forged: x509.Certificate, bundle: dict[str, Any], ders: list[bytes], assets: Path
) -> None:
    """Validating the forged signer in its bundle's chain fails with one readable PKIError."""
    root = x509.load_pem_x509_certificate((assets / "vector-root-ca.pem").read_bytes())
    at = dt.datetime.fromtimestamp(bundle["anchor"]["blockTime"], dt.UTC)
    intermediates = [x509.load_der_x509_certificate(d) for d in ders[1:]]
    with pytest.raises(PKIError, match="issued by an unreadable name"):
        validate_chain(forged, intermediates, [root], at)


def test_a_certificate_whose_issuer_name_has_a_bit_string_attribute_is_a_pki_error() -> None:
    assets = Path(__file__).parent / "assets" / "bundles"
    bundle = json.loads((assets / "valid-v2.json").read_text())
    ders = [base64.b64decode(c) for c in bundle["batch"]["certificates"]]
    leaf = x509.load_der_x509_certificate(ders[0])
    start = ders[0].index(leaf.issuer.public_bytes())
    forged = None
    for i in range(start, start + len(leaf.issuer.public_bytes())):
        if ders[0][i] not in (0x0C, 0x13):  # UTF8String, PrintableString
            continue
        candidate = bytearray(ders[0])
        candidate[i] = 0x03  # BIT STRING, which pyca allows only for x500UniqueIdentifier
        try:
            cert = x509.load_der_x509_certificate(bytes(candidate))
            cert.issuer  # noqa: B018
        except ValueError:
            continue
        except TypeError:
            forged = cert
            break
    assert forged is not None
    _chain_names_an_unreadable_issuer(forged, bundle, ders, assets)
