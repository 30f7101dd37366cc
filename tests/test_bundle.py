"""Proof bundles v2: frozen vectors, known-bad files, terms, exact round trip, schema agreement, the fast
path equal to the model path (its cost per bundle is scripts/bench_bundle.py's, not a test's)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from anchor.bundle import (
    MEDIA_TYPE,
    OPEN_TERMS,
    Anchor,
    Batch,
    Bundle,
    BundleWriter,
    DocumentTerms,
    Supersedes,
    to_checksum_address,
)
from anchor.errors import BundleError
from anchor.issuing.leaf import (
    MAX_QUANTITY,
    MAX_TIME,
    NO_TERMS,
    Terms,
    commitment,
    leaf_data,
    leaf_hash,
    leaf_hashes,
    new_salts,
)
from anchor.issuing.merkle import MerkleTree
from anchor.issuing.signing import Signer, batch_message, validate_chain
from anchor.pki import init_pki

ASSETS = Path(__file__).parent / "assets" / "bundles"
SCHEMA = json.loads((Path(__file__).parent.parent / "anchor" / "schemas" / "bundle-v2.json").read_text())
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ISSUER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER_ISSUER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
# The terms of valid-terms-v2.json (tests/assets/bundles/regenerate.py).
VECTOR_TERMS = Terms(
    destination="TH", valid_from=1767225600, valid_until=1782863999, quantity=1203, unit="kg"
)
REISSUE = (
    "unsupported bundle version v1 (mediaType application/vnd.trustanchor.bundle.v1+json); this library "
    "reads v2 (a v1 bundle was anchored on registries v1: ask the issuer to re-issue the document)"
)


def schema_errors(obj: object) -> list[str]:
    return [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(obj)]


# --- frozen vectors -----------------------------------------------------------------------------------


VALID = ["valid-v2.json", "valid-amended-v2.json", "valid-terms-v2.json"]


@pytest.mark.parametrize("name", VALID)
def test_vectors_load_verify_and_round_trip_byte_for_byte(name: str) -> None:
    text = (ASSETS / name).read_text()
    bundle = Bundle.load(ASSETS / name)
    assert bundle.to_json() == text
    assert Bundle.from_json(text.encode()) == bundle
    assert bundle.proof_valid()
    assert bundle.signature_valid()
    assert schema_errors(json.loads(text)) == []
    root = x509.load_pem_x509_certificate((ASSETS / "vector-root-ca.pem").read_bytes())
    certs = bundle.batch.x509_certificates()
    at = dt.datetime.fromtimestamp(bundle.anchor.block_time, dt.UTC)
    assert validate_chain(certs[0], certs[1:], [root], at) == root


def test_vector_digest_is_the_sha256_of_the_canonical_document() -> None:
    bundle = Bundle.load(ASSETS / "valid-v2.json")
    document = (ASSETS / "vector-document-2.json").read_bytes()
    assert bundle.document.digest == "0x" + hashlib.sha256(document).hexdigest()
    salt, digest = bytes.fromhex(bundle.leaf.salt[2:]), bytes.fromhex(bundle.document.digest[2:])
    assert bundle.terms == OPEN_TERMS and bundle.terms.terms() == NO_TERMS
    assert bundle.leaf.hash == "0x" + leaf_hash(3, salt, digest).hex()
    assert '  "terms": {\n    "destination": null,' in (ASSETS / "valid-v2.json").read_text()


def test_vector_amended_carries_supersedes() -> None:
    bundle = Bundle.load(ASSETS / "valid-amended-v2.json")
    assert bundle.supersedes is not None
    assert bundle.supersedes.issuer == ISSUER
    assert bundle.supersedes.root == "0x" + hashlib.sha256(b"old root").hexdigest()
    assert bundle.supersedes.leaf == "0x" + hashlib.sha256(b"old leaf").hexdigest()


def test_vector_with_terms() -> None:
    bundle = Bundle.load(ASSETS / "valid-terms-v2.json")
    assert bundle.terms.terms() == VECTOR_TERMS
    assert bundle.terms == DocumentTerms(
        destination="TH", valid_from=1767225600, valid_until=1782863999, quantity=1203, unit="kg"
    )
    salt, digest = bytes.fromhex(bundle.leaf.salt[2:]), bytes.fromhex(bundle.document.digest[2:])
    assert bundle.leaf.hash == "0x" + leaf_hash(3, salt, digest, VECTOR_TERMS).hex()
    assert bundle.leaf.hash != "0x" + leaf_hash(3, salt, digest).hex()


def test_vectors_share_one_signed_batch() -> None:
    # Documents with and without terms sit in one batch: the signature covers the root, not the terms.
    bundles = [Bundle.load(ASSETS / name) for name in VALID]
    assert len({(b.batch, b.anchor, b.proof.tree_size) for b in bundles}) == 1
    salts = ["0x" + hashlib.sha256(b"vector salt %d" % i).digest()[:16].hex() for i in range(5)]
    assert [b.leaf.salt for b in bundles] == [salts[2], salts[4], salts[3]]
    assert bundles[0].signed_message() == bundles[2].signed_message()
    assert bundles[0].signed_message()[-28:] == b"SG\x00\x00\x00\x00\x00\x00" + bytes.fromhex(ISSUER[2:])


def test_the_v1_vector_is_a_genuine_v1_bundle() -> None:
    # Kept as issued on registries v1: it would load as v1, and v2 refuses it by its mediaType alone.
    obj = json.loads((ASSETS / "bad-version-v1.json").read_text())
    assert obj["mediaType"] == "application/vnd.trustanchor.bundle.v1+json"
    assert "terms" not in obj and set(obj) == set(SCHEMA["required"]) | {"supersedes"}
    with pytest.raises(BundleError) as info:
        Bundle.from_json((ASSETS / "bad-version-v1.json").read_bytes())
    assert str(info.value) == REISSUE


# --- docs/bundle.md quotes the code and the vectors -----------------------------------------------------

DOC = (Path(__file__).parent.parent / "docs" / "bundle.md").read_text()


def test_the_docs_example_is_the_terms_vector() -> None:
    example = json.loads(DOC.split("```json\n", 1)[1].split("```", 1)[0])
    vector = json.loads((ASSETS / "valid-terms-v2.json").read_text())
    shortened, full = example["batch"].pop("certificates"), vector["batch"].pop("certificates")
    assert example == vector
    assert list(example) == list(vector)
    assert len(shortened) == len(full)
    assert all(s.endswith("…") and f.startswith(s[:-1]) for s, f in zip(shortened, full, strict=True))


def test_the_docs_known_answers_are_computed_by_the_code() -> None:
    salt, digest = bytes(range(16)), bytes(range(32, 64))
    terms = Terms("TH", 1767225600, 1782863999, 1203, "kg")
    message = batch_message(bytes(range(32)), 1000, 3, 31337, REGISTRY, "SG", ISSUER)
    for value in (
        commitment(salt, digest),
        leaf_hash(3, salt, digest),
        leaf_hash(3, salt, digest, terms),
        hashlib.sha256(message).digest(),
    ):
        assert f"`{value.hex()}`" in DOC
    # The two hex dumps, one field a line, are the leaf data and the batch message.
    dumps = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```$", DOC, re.DOTALL | re.MULTILINE):
        lines = [line.split()[0] for line in block.splitlines() if line.strip()]
        if lines and all(re.fullmatch(r"[0-9a-f]+", line) for line in lines):
            dumps.append(bytes.fromhex("".join(lines)))
    assert dumps == [leaf_data(3, salt, digest, terms), message]


# --- known-bad files: (expected message, does the JSON Schema also reject it? None = not even JSON) -----

BAD = {
    "bad-version-v1.json": (REISSUE, True),
    "bad-version-v3.json": (
        "unsupported bundle version v3 (mediaType application/vnd.trustanchor.bundle.v3+json)",
        True,
    ),
    "bad-truncated.json": ("not a proof bundle: invalid JSON at line 38 column 7", None),
    "bad-hex-salt.json": ("leaf.salt: expected 0x and 32 lowercase hex digits", True),
    "bad-hex-path.json": ("proof.path[1]: expected 0x and 64 lowercase hex digits", True),
    "bad-index-out-of-range.json": ("proof: index 5 is not below treeSize 5", False),
    "bad-leaf-mismatch.json": ("leaf.hash does not match", False),
    "bad-extra-field.json": ("document.comment: unknown field", True),
    "bad-path-length.json": ("proof: path has 2 hashes but leaf 2 of a 5-leaf tree needs exactly 3", False),
    "bad-type-mismatch.json": ("documentType 'cites-permit' does not match documentTypeId 3", False),
    "bad-checksum.json": ("anchor.registry: address is not EIP-55 checksummed", False),
    "bad-string-number.json": ("proof.treeSize: Input should be a valid integer, got '5'", True),
    "bad-block-time.json": ("anchor.blockTime: Input should be less than or equal to 1099511627775", True),
    "bad-missing-field.json": ("batch.signature: required field is missing", True),
    "bad-not-an-object.json": ("not a proof bundle: expected a JSON object", True),
    "bad-duplicate-key.json": ("duplicate field 'salt'", False),
    "bad-supersedes-no-issuer.json": ("supersedes.issuer: required field is missing", True),
    # Terms (leaf v2). JSON Schema can say what each term looks like and that a unit needs a quantity,
    # but not compare two numbers, nor recompute the leaf.
    "bad-terms-mismatch.json": (
        "leaf.hash does not match the leaf computed from document.documentTypeId, terms",
        False,
    ),
    "bad-terms-added.json": (
        "leaf.hash does not match the leaf computed from document.documentTypeId, terms",
        False,
    ),
    "bad-terms-until-before-from.json": (
        "terms: validUntil 1767225599 is before validFrom 1767225600",
        False,
    ),
    "bad-terms-lowercase-destination.json": (
        "terms.destination: expected a party code of 1-8 capital letters or digits, got 'th'",
        True,
    ),
    "bad-terms-unit-without-quantity.json": ("terms: unit 'kg' given without a quantity", True),
    "bad-terms-quantity-zero.json": (
        "terms.quantity: Input should be greater than or equal to 1, got 0",
        True,
    ),
    "bad-terms-quantity-overflow.json": (
        "terms.quantity: Input should be less than or equal to 18446744073709551615, got 18446744073709551616",
        True,
    ),
}


def test_every_bad_asset_is_listed() -> None:
    assert {p.name for p in ASSETS.glob("bad-*.json")} == set(BAD)


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_assets_are_rejected_with_a_precise_one_line_message(name: str) -> None:
    message, _ = BAD[name]
    with pytest.raises(BundleError) as info:
        Bundle.load(ASSETS / name)
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert text.startswith(str(ASSETS / name) + ": ")


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_assets_against_the_schema(name: str) -> None:
    _, schema_rejects = BAD[name]
    text = (ASSETS / name).read_text()
    if schema_rejects is None:
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        return
    errors = schema_errors(json.loads(text))
    # The semantic checks (leaf hash, proof length, index < treeSize, checksums, type pairing,
    # validUntil >= validFrom, duplicate keys) are beyond JSON Schema: readers must implement them
    # (docs/bundle.md).
    assert bool(errors) == schema_rejects, errors


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# --- a live batch ------------------------------------------------------------------------------------


def live_terms(i: int) -> Terms:
    """Open terms for every fourth document; the others commit to one, two or all of the terms."""
    return [
        NO_TERMS,
        Terms(destination="TH"),
        Terms(valid_from=1767225600 + i, valid_until=1798761599),
        Terms("MY", 1767225600, 0, 1000 + i, "kg"),
    ][i % 4]


@dataclass
class LiveBatch:
    writer: BundleWriter
    tree: MerkleTree
    digests: list[bytes]
    salts: list[bytes]
    terms: list[Terms]
    signer: Signer


def make_batch(
    signer: Signer, size: int, doc_type_id: int = 2, terms: list[Terms] | None = None, party: str = "SG"
) -> LiveBatch:
    digests = [hashlib.sha256(b"doc %d" % i).digest() for i in range(size)]
    salts = new_salts(size)
    terms = terms if terms is not None else [live_terms(i) for i in range(size)]
    tree = MerkleTree(leaf_hashes(doc_type_id, salts, digests, terms))
    signature = signer.sign(batch_message(tree.root, size, doc_type_id, 31337, REGISTRY, party, ISSUER))
    anchor = Anchor.create(
        chain_id=31337,
        registry=REGISTRY.lower(),
        transaction_hash=b"\x01" * 32,
        block_number=7,
        block_hash="0x" + "AB" * 32,
        block_time=1767225600,
        issuer=bytes.fromhex(ISSUER[2:]),
        party=party,
    )
    batch = Batch.create(tree.root, signature, signer.certificates)
    writer = BundleWriter(batch=batch, anchor=anchor, tree_size=size, doc_type_id=doc_type_id)
    return LiveBatch(writer, tree, digests, salts, terms, signer)


def render(live: LiveBatch, position: int, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "name": f"doc-{position}.json",
        "media_type": "application/json",
        "canonicalization": "jcs-rfc8785",
        "digest": live.digests[position],
        "salt": live.salts[position],
        "index": position,
        "path": live.tree.inclusion_proof(position),
        "terms": live.terms[position],
    }
    fields.update(overrides)
    return live.writer.render(**fields)


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    paths = init_pki("SG", tmp_path_factory.mktemp("pki"), valid_from=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    return Signer.from_pem(paths.signer_key, paths.signer_cert, [paths.issuing_ca], check_validity=False)


@pytest.fixture(scope="module")
def live(signer: Signer) -> LiveBatch:
    return make_batch(signer, 37)


def reference_json(bundle: Bundle) -> str:
    return json.dumps(bundle.model_dump(mode="json"), indent=2) + "\n"


def test_every_bundle_of_a_batch_loads_and_verifies(live: LiveBatch) -> None:
    for index in range(37):
        text = render(live, index)
        bundle = Bundle.from_json(text)
        assert bundle.proof_valid() and bundle.signature_valid()
        assert bundle.to_json() == text == reference_json(bundle)
        assert schema_errors(json.loads(text)) == []
        assert bundle.anchor.registry == REGISTRY and bundle.anchor.issuer == ISSUER
        assert bundle.terms.terms() == live.terms[index]
        assert bundle.terms == DocumentTerms.of(live.terms[index])


def test_fast_path_equals_model_path(live: LiveBatch) -> None:
    for index in (4, 5, 7):
        fast = render(live, index)
        bundle = Bundle.from_json(fast)
        rebuilt = Bundle(
            media_type=MEDIA_TYPE,
            document=bundle.document,
            terms=DocumentTerms.of(live.terms[index]),
            leaf=bundle.leaf,
            proof=bundle.proof.model_copy(),
            batch=bundle.batch,
            anchor=bundle.anchor,
        )
        assert rebuilt == bundle
        assert rebuilt.to_json() == fast


def test_single_leaf_batch_has_empty_path(signer: Signer) -> None:
    one = make_batch(signer, 1)
    text = render(one, 0)
    assert '"path": []' in text
    bundle = Bundle.from_json(text)
    assert bundle.batch.root == bundle.leaf.hash
    assert bundle.proof_valid()


def test_uncatalogued_type_ids_use_the_generic_name(signer: Signer) -> None:
    bundle = Bundle.from_json(render(make_batch(signer, 3, doc_type_id=40), 1))
    assert bundle.document.document_type == "type-40"


@settings(max_examples=60, deadline=None)
@given(
    name=st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/\\"),
        min_size=1,
        max_size=40,
    ).filter(lambda s: s not in (".", "..")),
    index=st.integers(0, 36),
    amended=st.booleans(),
    canonicalization=st.sampled_from(["jcs-rfc8785", "xml-c14n2", "raw-sha256"]),
    media_type=st.sampled_from(["application/json", "application/xml", "application/pdf; charset=binary"]),
)
def test_round_trip_is_exact(
    live: LiveBatch, name: str, index: int, amended: bool, canonicalization: str, media_type: str
) -> None:
    supersedes = (
        Supersedes(issuer=OTHER_ISSUER, root="0x" + "ab" * 32, leaf="0x" + "cd" * 32) if amended else None
    )
    text = render(
        live,
        index,
        name=name,
        canonicalization=canonicalization,
        media_type=media_type,
        supersedes=supersedes,
    )
    bundle = Bundle.from_json(text)
    assert bundle.document.name == name
    assert bundle.to_json() == text
    assert text == reference_json(bundle)
    assert Bundle.from_json(bundle.to_json()) == bundle
    assert text.isascii() and text.endswith("}\n")


@st.composite
def any_terms(draw: st.DrawFn) -> Terms:
    """Every shape of terms, edges included: each term open or set, independently."""
    destination = draw(st.just("") | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8))
    valid_from = draw(st.just(0) | st.sampled_from([1, MAX_TIME]) | st.integers(1, MAX_TIME))
    valid_until = draw(st.just(0) | st.just(MAX_TIME) | st.integers(max(valid_from, 1), MAX_TIME))
    quantity = draw(st.just(0) | st.sampled_from([1, MAX_QUANTITY]) | st.integers(1, MAX_QUANTITY))
    unit = draw(
        st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8)
    )
    return Terms(
        destination, valid_from, valid_until, quantity, unit if quantity and draw(st.booleans()) else ""
    )


@settings(max_examples=40, deadline=None)
@given(terms=any_terms())
def test_terms_round_trip_and_are_committed(signer: Signer, terms: Terms) -> None:
    one = make_batch(signer, 1, terms=[terms])
    text = render(one, 0)
    bundle = Bundle.from_json(text)
    assert bundle.terms.terms() == terms
    assert bundle.to_json() == text == reference_json(bundle)
    assert schema_errors(json.loads(text)) == []
    assert bundle.proof_valid() and bundle.signature_valid()
    # Every term is written, null when open (never 0 or "").
    written = json.loads(text)["terms"]
    assert list(written) == ["destination", "validFrom", "validUntil", "quantity", "unit"]
    assert written == {
        "destination": terms.destination or None,
        "validFrom": terms.valid_from or None,
        "validUntil": terms.valid_until or None,
        "quantity": terms.quantity or None,
        "unit": terms.unit or None,
    }
    assert bundle == one.writer.build(
        name="doc-0.json",
        media_type="application/json",
        canonicalization="jcs-rfc8785",
        digest=one.digests[0],
        salt=one.salts[0],
        index=0,
        path=[],
        terms=terms,
    )


def test_save_and_load(tmp_path: Path, live: LiveBatch) -> None:
    bundle = Bundle.from_json(render(live, 3))
    bundle.save(tmp_path / "b.json")
    assert (tmp_path / "b.json").read_text() == bundle.to_json()
    assert Bundle.load(tmp_path / "b.json") == bundle
    assert hash(Bundle.load(tmp_path / "b.json")) == hash(bundle)
    with pytest.raises(BundleError, match="cannot read proof bundle"):
        Bundle.load(tmp_path / "missing.json")


# --- the verifier helpers catch what loading cannot -------------------------------------------------


def _edit(text: str, edit: Any) -> Bundle:
    obj = json.loads(text)
    edit(obj)
    return Bundle.from_json(json.dumps(obj))


def test_helpers_detect_tampering(live: LiveBatch) -> None:
    text = render(live, 9)
    assert not _edit(text, lambda o: o["batch"].__setitem__("root", "0x" + "00" * 32)).proof_valid()
    other_path = ["0x" + h.hex() for h in live.tree.inclusion_proof(8)]
    assert not _edit(text, lambda o: o["proof"].__setitem__("path", other_path)).proof_valid()
    assert not _edit(text, lambda o: o["anchor"].__setitem__("chainId", 1)).signature_valid()
    other_registry = to_checksum_address("0x" + "11" * 20)
    assert not _edit(text, lambda o: o["anchor"].__setitem__("registry", other_registry)).signature_valid()
    flipped = base64.b64encode(b"\x00" * 70).decode()
    assert not _edit(text, lambda o: o["batch"]["signature"].__setitem__("value", flipped)).signature_valid()


def test_the_signature_binds_party_and_issuer_account(live: LiveBatch) -> None:
    # A root signed for SG's issuer cannot be presented as anchored by another account or party.
    text = render(live, 9)
    assert Bundle.from_json(text).signature_valid()
    for party in ("TH", "SG1", "S"):
        assert not _edit(text, lambda o, p=party: o["anchor"].__setitem__("party", p)).signature_valid()
    assert not _edit(text, lambda o: o["anchor"].__setitem__("issuer", OTHER_ISSUER)).signature_valid()


def test_terms_cannot_be_changed_without_breaking_the_leaf(live: LiveBatch) -> None:
    text = render(live, 3)  # destination MY, from 2026-01-01, 1003 kg
    for edit in (
        {"destination": "TH"},
        {"destination": None},
        {"validFrom": None},
        {"validFrom": 1767225601},
        {"validUntil": 1767225600},
        {"quantity": 1004},
        {"quantity": MAX_QUANTITY},
        {"unit": "KG"},
        {"unit": None},
    ):
        with pytest.raises(BundleError, match=r"leaf\.hash does not match"):
            _edit(text, lambda o, e=edit: o["terms"].update(e))
    # And an open document cannot gain terms.
    with pytest.raises(BundleError, match=r"leaf\.hash does not match"):
        _edit(render(live, 0), lambda o: o["terms"].update(destination="TH"))


# --- loader errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe{", "not a proof bundle: not UTF-8 text"),
        ("", "not a proof bundle: invalid JSON at line 1 column 1"),
        ('{"mediaType": NaN}', "not a proof bundle: invalid JSON (NaN is not JSON)"),
        ('{"a": {"b": 1, "b": 2}}', "duplicate field 'b'"),
        ("{}", "not a proof bundle: no mediaType"),
        ('{"mediaType": "application/json"}', "not a proof bundle: mediaType 'application/json'"),
        ('{"mediaType": 1}', "not a proof bundle: mediaType 1"),
        ('{"mediaType": "application/vnd.trustanchor.bundle.v12+json"}', "unsupported bundle version v12"),
        ('{"mediaType": "application/vnd.trustanchor.bundle.v1+json"}', REISSUE),
        (f'{{"mediaType": "{MEDIA_TYPE}"}}', "document: required field is missing (and 4 more problems)"),
    ],
)
def test_loader_messages(data: str | bytes, message: str) -> None:
    with pytest.raises(BundleError) as info:
        Bundle.from_json(data)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("proof", "index"), -1, "proof.index: Input should be greater than or equal to 0"),
        (("proof", "index"), 2.0, "proof.index: Input should be a valid integer"),
        (("proof", "treeSize"), 0, "proof.treeSize: Input should be greater than or equal to 1"),
        (("proof", "path"), "0x00", "proof.path: Input should be a valid array"),
        (
            ("document", "documentTypeId"),
            64,
            "document.documentTypeId: Input should be less than or equal to 63",
        ),
        (
            ("document", "canonicalization"),
            "c14n",
            "document.canonicalization: expected one of jcs-rfc8785, xml-c14n2, raw-sha256",
        ),
        (("document", "name"), "../etc/passwd", "document.name: expected a file name"),
        (("document", "name"), "..", "document.name: expected a file name"),
        (("document", "mediaType"), "json", "document.mediaType: expected a media type"),
        (("batch", "signature", "alg"), "ecdsa-sha1", "batch.signature.alg: expected one of ecdsa-sha256"),
        (
            ("batch", "signature", "value"),
            "not base64!",
            "batch.signature.value: expected standard padded base64",
        ),
        (
            ("batch", "signature", "value"),
            "QR==",
            "batch.signature.value: expected non-empty, canonically padded",
        ),
        (("batch", "certificates"), [], "batch.certificates: must have at least 1 item(s), got 0"),
        (("batch", "certificates"), ["QUJD"], "batch.certificates[0]: not a DER-encoded X.509 certificate"),
        (("anchor", "party"), "sg", "anchor.party: expected a party code of 1-8 capital letters or digits"),
        (("anchor", "chainId"), 0, "anchor.chainId: Input should be greater than or equal to 1"),
        (("anchor", "blockNumber"), 1 << 64, "anchor.blockNumber: Input should be less than or equal to"),
        (("anchor", "transactionHash"), "0x" + "00" * 31, "anchor.transactionHash: expected 0x and 64"),
        (("supersedes",), {"root": "0x" + "00" * 32}, "supersedes.issuer: required field is missing"),
        (
            ("supersedes",),
            {"issuer": ISSUER, "root": "0x" + "00" * 32},
            "supersedes.leaf: required field is missing",
        ),
        (
            ("supersedes",),
            {"issuer": ISSUER.lower(), "root": "0x" + "00" * 32, "leaf": "0x" + "00" * 32},
            "supersedes.issuer: address is not EIP-55 checksummed",
        ),
        (("proof", "tree_size"), 37, "proof.tree_size: unknown field"),
        (("terms",), None, "terms: Input should be an object"),
        (("terms",), [], "terms: Input should be an object"),
        (("terms", "valid_from"), 1, "terms.valid_from: unknown field"),
        (("terms", "validFrom"), "1767225600", "terms.validFrom: Input should be a valid integer"),
        (("terms", "validFrom"), -1, "terms.validFrom: Input should be greater than or equal to 1"),
        (
            ("terms", "validUntil"),
            1 << 40,
            "terms.validUntil: Input should be less than or equal to 1099511627775",
        ),
        (("terms", "validUntil"), 1767225599, "terms: validUntil 1767225599 is before validFrom 1767225600"),
        (("terms", "quantity"), 1.5, "terms.quantity: Input should be a valid integer"),
        (("terms", "quantity"), True, "terms.quantity: Input should be a valid integer"),
        (("terms", "quantity"), 0, "terms.quantity: Input should be greater than or equal to 1"),
        (("terms", "quantity"), 1 << 64, "terms.quantity: Input should be less than or equal to"),
        (("terms", "unit"), "k g", "terms.unit: expected a unit of 1-8 ASCII letters or digits"),
        (("terms", "unit"), "kilograms", "terms.unit: expected a unit of 1-8 ASCII letters or digits"),
        (("terms", "unit"), 7, "terms.unit: Input should be a valid string"),
        (
            ("terms", "destination"),
            "my",
            "terms.destination: expected a party code of 1-8 capital letters or digits, got 'my'",
        ),
        (
            ("terms", "destination"),
            "MY-1",
            "terms.destination: expected a party code of 1-8 capital letters or digits",
        ),
        (
            ("terms", "destination"),
            "MALAYSIA1",
            "terms.destination: expected a party code of 1-8 capital letters or digits",
        ),
        (
            ("terms", "destination"),
            "ÑY",
            "terms.destination: expected a party code of 1-8 capital letters or digits",
        ),
    ],
)
def test_field_errors_name_the_field(
    live: LiveBatch, path: tuple[str, ...], value: object, message: str
) -> None:
    obj = json.loads(render(live, 3))
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(BundleError) as info:
        Bundle.from_json(json.dumps(obj))
    assert message in str(info.value)


def test_unit_without_quantity_is_refused(live: LiveBatch) -> None:
    obj = json.loads(render(live, 0))
    obj["terms"]["unit"] = "kg"
    with pytest.raises(BundleError, match="terms: unit 'kg' given without a quantity"):
        Bundle.from_json(json.dumps(obj))


def test_supersedes_may_be_omitted_and_is_then_written_as_null(live: LiveBatch) -> None:
    obj = json.loads(render(live, 4))
    del obj["supersedes"]
    bundle = Bundle.from_json(json.dumps(obj))
    assert bundle.supersedes is None
    assert '"supersedes": null' in bundle.to_json()


@pytest.mark.parametrize("terms", [None, {}, {"destination": None}, {"unit": None, "quantity": None}])
def test_open_terms_may_be_omitted_and_are_then_written_in_full(live: LiveBatch, terms: Any) -> None:
    text = render(live, 4)
    obj = json.loads(text)
    if terms is None:
        del obj["terms"]
    else:
        obj["terms"] = terms
    bundle = Bundle.from_json(json.dumps(obj))
    assert bundle.terms == OPEN_TERMS
    assert bundle.to_json() == text
    assert schema_errors(obj) == []


# Each open term has exactly one written form, null, and a party code has no padding, so that a bundle
# has one valid serialization (docs/bundle.md). The model also accepts the forms below (anchor/bundle/
# DocumentTerms): each gives the same leaf as its canonical form, so none is a forgery, but each breaks
# to_json(from_json(x)) == x and lets two texts stand for one bundle.
NON_CANONICAL_TERMS = [
    ("valid-v2.json", {"validFrom": 0}, "validFrom"),
    ("valid-v2.json", {"validUntil": 0}, "validUntil"),
    ("valid-v2.json", {"destination": ""}, "destination"),
    ("valid-v2.json", {"destination": "   "}, "destination"),
    ("valid-v2.json", {"unit": ""}, "unit"),
    ("valid-terms-v2.json", {"destination": " TH"}, "destination"),
    ("valid-terms-v2.json", {"destination": "TH\u2003"}, "destination"),
]


@pytest.mark.parametrize(("asset", "edit", "field"), NON_CANONICAL_TERMS)
def test_the_schema_refuses_non_canonical_terms(asset: str, edit: dict[str, Any], field: str) -> None:
    obj = json.loads((ASSETS / asset).read_text())
    obj["terms"].update(edit)
    assert schema_errors(obj), edit


@pytest.mark.parametrize(("asset", "edit", "field"), NON_CANONICAL_TERMS)
def test_the_model_refuses_non_canonical_terms(asset: str, edit: dict[str, Any], field: str) -> None:
    obj = json.loads((ASSETS / asset).read_text())
    obj["terms"].update(edit)
    with pytest.raises(BundleError, match=field):
        Bundle.from_json(json.dumps(obj))


@pytest.mark.parametrize(
    ("terms", "accepted"),
    [
        ({"destination": "ABCDEFGH"}, True),
        ({"destination": "ABCDEFGHI"}, False),
        ({"destination": "th"}, False),
        ({"destination": 1}, False),
        ({"validFrom": 1, "validUntil": 1}, True),
        ({"validFrom": MAX_TIME}, True),
        ({"validFrom": MAX_TIME + 1}, False),
        ({"validFrom": -1}, False),
        ({"quantity": 1}, True),
        ({"quantity": MAX_QUANTITY, "unit": "ABCDEFGH"}, True),
        ({"quantity": MAX_QUANTITY + 1}, False),
        ({"quantity": -1}, False),
        ({"quantity": "1"}, False),
        ({"quantity": 3, "unit": "kg"}, True),
        ({"quantity": 3, "unit": "kg/h"}, False),
        ({"quantity": 3, "unit": "ABCDEFGHI"}, False),
        ({"unit": "kg"}, False),
        ({"unit": "kg", "quantity": None}, False),
        ({"extra": None}, False),
    ],
)
def test_schema_and_model_agree_on_the_shape_of_terms(
    signer: Signer, terms: dict[str, Any], accepted: bool
) -> None:
    # Loaded for real: a bundle whose leaf commits to exactly these terms, if they are valid ones. (Not
    # in the table: 1.0 for an integer, which JSON Schema's "integer" accepts and readers must refuse.)
    obj = json.loads((ASSETS / "valid-v2.json").read_text())
    obj["terms"] = terms
    assert (not schema_errors(obj)) == accepted, schema_errors(obj)
    try:
        model = DocumentTerms.model_validate_json(json.dumps(terms), by_alias=True, by_name=False)
    except ValueError:
        assert not accepted
        return
    assert accepted
    one = make_batch(signer, 1, terms=[model.terms()])
    assert Bundle.from_json(render(one, 0)).terms == model


# --- writer -------------------------------------------------------------------------------------------


def test_writer_refuses_a_signature_for_another_registry_or_size(live: LiveBatch) -> None:
    anchor = live.writer.anchor.model_copy(update={"registry": to_checksum_address("0x" + "22" * 20)})
    with pytest.raises(BundleError, match="batch signature does not verify"):
        BundleWriter(batch=live.writer.batch, anchor=anchor, tree_size=37, doc_type_id=2)
    with pytest.raises(BundleError, match="batch signature does not verify"):
        BundleWriter(batch=live.writer.batch, anchor=live.writer.anchor, tree_size=36, doc_type_id=2)
    with pytest.raises(BundleError, match="batch signature does not verify"):
        BundleWriter(batch=live.writer.batch, anchor=live.writer.anchor, tree_size=37, doc_type_id=3)


@pytest.mark.parametrize("update", [{"party": "TH"}, {"issuer": OTHER_ISSUER}])
def test_writer_refuses_a_signature_for_another_party_or_issuer(
    live: LiveBatch, update: dict[str, str]
) -> None:
    anchor = live.writer.anchor.model_copy(update=update)
    with pytest.raises(BundleError, match=r"batch signature does not verify .* party and issuer account"):
        BundleWriter(batch=live.writer.batch, anchor=anchor, tree_size=37, doc_type_id=2)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"index": 37}, "index 37 is not below the batch's tree size 37"),
        ({"name": "a/b.json"}, "document.name"),
        ({"name": ""}, "document.name"),
        ({"media_type": "not a media type"}, "document.mediaType"),
        ({"canonicalization": "c14n"}, "unknown canonicalization"),
        ({"salt": b"\x00" * 15}, "salt 16 bytes"),
        ({"digest": b"\x00" * 31}, "32 bytes"),
    ],
)
def test_writer_checks_outside_inputs(live: LiveBatch, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(BundleError, match=message):
        render(live, 0, **overrides)


def test_build_gives_the_same_bundle_as_render(live: LiveBatch) -> None:
    for index in (0, 17, 35, 36):
        fields: dict[str, Any] = {
            "name": f"d{index}.xml",
            "media_type": "application/xml",
            "canonicalization": "xml-c14n2",
            "digest": live.digests[index],
            "salt": live.salts[index],
            "index": index,
            "path": live.tree.inclusion_proof(index),
            "terms": live.terms[index],
        }
        built = live.writer.build(**fields)
        text = live.writer.render(**fields)
        assert built.to_json() == text
        assert built == Bundle.from_json(text)
        assert built.proof_valid() and built.signature_valid()
    with pytest.raises(BundleError, match=r"document\.name"):
        live.writer.build(**{**fields, "name": "a/b"})


def test_the_writer_writes_what_it_is_given_for_the_leaf(live: LiveBatch) -> None:
    # The leaf is computed from the terms given: wrong terms give a leaf that is not in the tree.
    text = render(live, 1, terms=Terms(destination="MY"))
    bundle = Bundle.from_json(text)
    assert bundle.terms.destination == "MY"
    assert not bundle.proof_valid()


def test_writer_rejects_out_of_range_batch_values(live: LiveBatch) -> None:
    with pytest.raises(BundleError, match="document type id"):
        BundleWriter(batch=live.writer.batch, anchor=live.writer.anchor, tree_size=37, doc_type_id=64)
    with pytest.raises(BundleError, match="tree size"):
        BundleWriter(batch=live.writer.batch, anchor=live.writer.anchor, tree_size=0, doc_type_id=2)


def test_writer_accepts_a_precomputed_leaf_hash(live: LiveBatch) -> None:
    for index in (6, 7):
        precomputed = render(live, index, leaf_hash=live.tree.leaf(index))
        assert precomputed == render(live, index)


def test_checksum_address_eip55_vectors() -> None:
    for address in (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ):
        assert to_checksum_address(address.lower()) == address
        assert to_checksum_address(bytes.fromhex(address[2:])) == address
    with pytest.raises(ValueError):
        to_checksum_address("0x1234")


def test_deeply_nested_garbage_is_refused_before_parsing() -> None:
    # After py-evm is imported the recursion limit is huge; parsing this could crash the process.
    import anchor.chain  # noqa: F401  (imports py-evm via web3/eth-tester paths as the service does)

    with pytest.raises(BundleError, match="too many nested"):
        Bundle.from_json("[" * 200_000)


def test_braces_in_the_document_name_are_not_nesting(live: LiveBatch) -> None:
    text = render(live, 0, name="{" * 255)
    assert Bundle.from_json(text).document.name == "{" * 255
