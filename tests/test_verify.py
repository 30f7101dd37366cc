"""The verifier: one test per reason code, valid and invalid, on anvil; the tests marked parity read each
kind of chain data (calls at a block, headers, receipts, transactions, chain time) on the embedded chain too.

Every verdict is checked whole: `expect` asserts the decision and the status and code of all eight
checks, so a test also fails when a check that should be unaffected changes.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from anchor._internal.jsonrpc import Web3Rpc
from anchor.bundle import Bundle, to_checksum_address
from anchor.cacert import ca_id
from anchor.chain import connect
from anchor.config import ChainConfig
from anchor.doctypes import mask_of
from anchor.errors import BundleError, ConfigError
from anchor.issuing.canonical import digest_bytes
from anchor.issuing.leaf import Terms
from anchor.reasons import reason_code
from anchor.registry import DocumentProof, Opening
from anchor.verify import CHECK_NAMES, CheckStatus, Decision, Verdict, Verifier, checks
from tests.conftest import ASSETS, World, advance_time, free_port, start_anvil
from tests.issuing_helpers import (
    ISSUER_TYPES,
    ORIGIN,
    PERMIT,
    PHYTO,
    DeadProvider,
    Scenario,
    build_scenario,
    json_doc,
    make_pki,
    mine,
    reload,
    signed_but_unanchored,
)

V, INV, SKIP, ERR = CheckStatus.VALID, CheckStatus.INVALID, CheckStatus.SKIPPED, CheckStatus.ERROR
VALID, INVALID, INDETERMINATE = Decision.VALID, Decision.INVALID, Decision.INDETERMINATE
SPS_XML = ASSETS / "samples" / "sps-certificate-ephyto.xml"
SPS_PDF = ASSETS / "samples" / "sps-attachment.pdf"

BASELINE = {
    "integrity": (V, "DIGEST_MATCH"),
    "inclusion": (V, "PROOF_VALID"),
    "anchored": (V, "ANCHORED"),
    "document_status": (V, "ACTIVE"),
    "signature": (V, "SIGNATURE_VALID"),
    "certificate_chain": (V, "CHAIN_VALID"),
    "ca_status": (V, "CA_ACTIVE"),
    "recognition": (V, "RECOGNIZED"),
    "terms": (V, "NO_TERMS"),
}
NOT_ANCHORED_SKIPS = {
    name: (SKIP, "NOT_ANCHORED")
    for name in ("document_status", "certificate_chain", "ca_status", "recognition")
}


def expect(verdict: Verdict, decision: Decision, **changed: tuple[CheckStatus, str]) -> None:
    """The verdict is `decision`; the named checks have the given (status, code), all others the baseline."""
    assert set(changed) <= set(BASELINE), f"unknown check names {set(changed) - set(BASELINE)}"
    want = {**BASELINE, **changed}
    got = {c.name: (c.status, c.code) for c in verdict.checks}
    assert [c.name for c in verdict.checks] == list(CHECK_NAMES)
    assert got == want, "\n".join(f"{c.name}: {c.status} {c.code} {c.message}" for c in verdict.checks)
    assert verdict.verdict is decision
    assert verdict.valid is (decision is VALID)
    for c in verdict.checks:
        assert c.message and "\n" not in c.message, c


def tamper(bundle: Bundle, **sections: dict[str, Any]) -> Bundle:
    """Change fields of bundle sections (`anchor={"chain_id": 1}`) and reload it from JSON."""
    update = {name: getattr(bundle, name).model_copy(update=fields) for name, fields in sections.items()}
    return reload(bundle.model_copy(update=update))


def edit_json(bundle: Bundle, edit: Any) -> str:
    """The bundle's JSON after `edit(obj)` mutated the parsed object."""
    obj = json.loads(bundle.to_json())
    edit(obj)
    return json.dumps(obj, indent=2)


def flip_hex(h: str) -> str:
    """The same 0x-hex value with its last digit changed."""
    return h[:-1] + ("1" if h[-1] != "1" else "2")


@pytest.fixture
def sc(world: World, tmp_path: Path) -> Scenario:
    return build_scenario(world, tmp_path)


# ====================================================================== valid


@pytest.mark.parity
def test_valid_documents_get_a_full_valid_verdict(sc: Scenario, tmp_path: Path) -> None:
    verifier = sc.verifier()
    for doc, bundle in zip(sc.docs, sc.bundles, strict=True):
        v = verifier.verify(doc, bundle, "TH")
        expect(v, VALID)
        assert v.warnings == []
        assert v.verifying_party == "TH"
        assert v.document == bundle.document.name
        assert v.chain_id == sc.world.chain.chain_id
        assert v.anchored_at == bundle.anchor.block_time
        assert f"block {bundle.anchor.block_number}" in v.check("anchored").message
    # The three documents share one batch, one signature and one anchoring transaction.
    assert len({(b.batch, b.anchor) for b in sc.bundles}) == 1
    assert [b.proof.index for b in sc.bundles] == [0, 1, 2]
    # From a file, with the party code in lower case.
    path = tmp_path / "certificate.json"
    path.write_bytes(sc.docs[1])
    v = verifier.verify(path, sc.bundles[1], "th")
    expect(v, VALID)
    assert (v.verifying_party, v.document) == ("TH", "certificate.json")
    # The issuing party itself accepts its own documents without any recognition entry.
    expect(verifier.verify(sc.docs[0], sc.bundles[0], "SG"), VALID)


@pytest.mark.parity
@pytest.mark.devchain("evm_increaseTime")
def test_verdict_states_the_block_it_read_and_serializes_as_documented(sc: Scenario) -> None:
    chain = sc.world.chain
    verifier = sc.verifier()
    v = verifier.verify(sc.docs[0], sc.bundles[0], "TH")
    head = chain.block("latest")
    assert v.read_at_block == head["number"]
    assert v.read_at_block_hash == head["hash"].to_0x_hex()
    assert v.read_at_time == head["timestamp"]
    assert v.read_at_block >= sc.bundles[0].anchor.block_number

    advance_time(chain, 7)
    later = verifier.verify(sc.docs[0], sc.bundles[0], "TH")
    assert later.read_at_block == v.read_at_block + 1
    assert later.read_at_time is not None and later.read_at_time > v.read_at_time
    assert later.read_at_block_hash == chain.block("latest")["hash"].to_0x_hex()

    d = v.to_dict()
    assert set(d) == {
        "verdict",
        "verifyingParty",
        "document",
        "checks",
        "chain",
        "anchoredAt",
        "terms",
        "details",
    }
    assert d["verdict"] == "VALID"
    assert d["verifyingParty"] == "TH"
    assert d["document"] == "doc-0.json"
    assert d["anchoredAt"] == sc.bundles[0].anchor.block_time
    assert d["chain"] == {
        "chainId": chain.chain_id,
        "readAtBlock": v.read_at_block,
        "readAtBlockHash": v.read_at_block_hash,
        "readAtTime": v.read_at_time,
    }
    assert [c["name"] for c in d["checks"]] == list(CHECK_NAMES)
    for c in d["checks"]:
        assert set(c) == {"name", "status", "code", "message"}  # "warning" only when there is one
        assert c["status"] == "VALID"
    assert json.loads(v.to_json()) == d


# ====================================================================== integrity


def test_one_changed_byte_is_a_digest_mismatch(sc: Scenario) -> None:
    doc = sc.docs[0]
    assert doc.count(b'"quantity": 120') == 1
    forged = doc.replace(b'"quantity": 120', b'"quantity": 920')
    v = sc.verify(forged, sc.bundles[0])
    expect(v, INVALID, integrity=(INV, "DIGEST_MISMATCH"))
    # The other documents of the batch are not affected.
    expect(sc.verify(sc.docs[1], sc.bundles[1]), VALID)


def _reorder(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reorder(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reorder(x) for x in value]
    return value


def test_reordered_and_reformatted_json_is_still_valid(sc: Scenario) -> None:
    original = json.loads(sc.docs[2])
    variants = [
        json.dumps(_reorder(original), separators=(",", ":")).encode(),  # keys reversed, compact
        json.dumps(_reorder(original), indent="\t", ensure_ascii=True).encode() + b"\r\n",
        # Same values, other spellings: escaped letters, an exponent for an integer.
        sc.docs[2].replace(b'"SG"', b'"\\u0053G"').replace(b'"durationHours": 2', b'"durationHours": 2.0e0'),
    ]
    for variant in variants:
        assert variant != sc.docs[2]
        expect(sc.verify(variant, sc.bundles[2]), VALID)
    # Reformatting is not a licence to change values: a value change in the same layout still fails.
    expect(
        sc.verify(variants[0].replace(b'"unit":"boxes"', b'"unit":"crates"'), sc.bundles[2]),
        INVALID,
        integrity=(INV, "DIGEST_MISMATCH"),
    )


def _reformat_sps(xml: bytes) -> bytes:
    """The same SPS certificate as another XML tool might write it."""
    declaration, body = xml.decode("utf-8").split("?>", 1)
    assert declaration.startswith('<?xml version="1.0" encoding="UTF-8" standalone="no"')
    # Namespace declarations of the root element in reverse order, on one line.
    root = re.search(r"<ns0:SPSCertificate\s([^>]*)>", body)
    assert root is not None
    attrs = re.findall(r'[\w:]+="[^"]*"', root.group(1))
    assert len(attrs) == 3
    body = body.replace(root.group(0), "<ns0:SPSCertificate " + " ".join(reversed(attrs)) + ">", 1)
    # Single-quoted attribute values with spaces around '=' in every start tag.
    body = re.sub(r"<[A-Za-z][^>]*>", lambda m: re.sub(r'="([^"]*)"', r" = '\1'", m.group(0)), body)
    # Empty-element tags written out as start and end tags.
    body = re.sub(r"<([\w:]+)/>", r"<\1></\1>", body)
    # Another XML declaration (quote style, encoding spelled in lower case, no standalone), CRLF lines.
    return ("<?xml version='1.0' encoding='utf-8'?>" + body).replace("\n", "\r\n").encode("utf-8")


def test_reformatted_real_sps_certificate_xml_is_still_valid(sc: Scenario) -> None:
    xml = SPS_XML.read_bytes()
    [bundle] = sc.issue([xml], PHYTO, media_type="application/xml", names=[SPS_XML.name])
    assert (bundle.document.media_type, bundle.document.canonicalization) == ("application/xml", "xml-c14n2")
    expect(sc.verify(SPS_XML, bundle), VALID)

    reformatted = _reformat_sps(xml)
    assert reformatted != xml
    assert b"languageID = 'en'" in reformatted and b"<ns1:Name></ns1:Name>" in reformatted
    assert b"standalone" not in reformatted
    expect(sc.verify(reformatted, bundle), VALID)
    # One changed character of content is still caught in the reformatted document.
    changed = reformatted.replace(b"<ns1:ID>123ABC</ns1:ID>", b"<ns1:ID>123ABD</ns1:ID>", 1)
    assert changed != reformatted
    expect(sc.verify(changed, bundle), INVALID, integrity=(INV, "DIGEST_MISMATCH"))


def test_document_of_the_wrong_media_type_is_unreadable(sc: Scenario, tmp_path: Path) -> None:
    # The PDF attachment presented where the bundle says the document is JSON.
    v = sc.verify(SPS_PDF.read_bytes(), sc.bundles[0])
    expect(v, INVALID, integrity=(INV, "DOCUMENT_UNREADABLE"))
    assert "application/json" in v.check("integrity").message
    # Same from a path, and from a path that does not exist.
    expect(sc.verify(SPS_PDF, sc.bundles[0]), INVALID, integrity=(INV, "DOCUMENT_UNREADABLE"))
    missing = sc.verify(tmp_path / "no-such-file.json", sc.bundles[0])
    expect(missing, INVALID, integrity=(INV, "DOCUMENT_UNREADABLE"))
    assert "cannot read the document" in missing.check("integrity").message
    # A bundle whose media type contradicts its canonicalization.
    odd = tamper(sc.bundles[0], document={"media_type": "application/pdf"})
    v = sc.verify(sc.docs[0], odd)
    expect(v, INVALID, integrity=(INV, "DOCUMENT_UNREADABLE"))
    assert "does not go with jcs-rfc8785" in v.check("integrity").message


def test_canonicalization_mismatch_code() -> None:
    # Unreachable through Verifier.verify (the canonicalization applied is the one the bundle's media type
    # implies, and a contradiction between the two is DOCUMENT_UNREADABLE), so the check runs directly.
    digest = digest_bytes(b"<a/>", "application/xml")
    bundle = SimpleNamespace(document=SimpleNamespace(canonicalization="jcs-rfc8785"))
    c = checks.integrity(bundle, digest, None)  # type: ignore[arg-type]
    assert (c.name, c.status, c.code) == ("integrity", INV, "CANONICALIZATION_MISMATCH")
    assert "jcs-rfc8785" in c.message and "xml-c14n2" in c.message


def test_tampered_leaf_is_refused_when_loading_and_by_the_verifier(sc: Scenario) -> None:
    bundle = sc.bundles[0]

    def set_leaf(obj: dict[str, Any]) -> None:
        obj["leaf"]["hash"] = flip_hex(obj["leaf"]["hash"])

    def set_salt(obj: dict[str, Any]) -> None:
        obj["leaf"]["salt"] = flip_hex(obj["leaf"]["salt"])

    for edit in (set_leaf, set_salt):
        with pytest.raises(BundleError, match=r"leaf\.hash does not match the leaf computed"):
            Bundle.from_json(edit_json(bundle, edit))
    # A bundle object built without validation (not from JSON) is still caught by the integrity check.
    unvalidated = bundle.model_copy(
        update={"leaf": bundle.leaf.model_copy(update={"hash": flip_hex(bundle.leaf.hash)})}
    )
    v = sc.verify(sc.docs[0], unvalidated)
    assert v.verdict is INVALID
    assert (v.check("integrity").status, v.check("integrity").code) == (INV, "LEAF_MISMATCH")
    assert v.check("inclusion").code == "PROOF_INVALID"


# ====================================================================== inclusion


def test_tampered_proof_path_is_proof_invalid(sc: Scenario) -> None:
    bundle = sc.bundles[1]
    assert len(bundle.proof.path) == 2
    for i in range(2):
        path = list(bundle.proof.path)
        path[i] = flip_hex(path[i])
        forged = tamper(bundle, proof={"path": tuple(path)})
        expect(sc.verify(sc.docs[1], forged), INVALID, inclusion=(INV, "PROOF_INVALID"))
    # Another document's path for this leaf.
    forged = tamper(bundle, proof={"path": sc.bundles[0].proof.path})
    expect(sc.verify(sc.docs[1], forged), INVALID, inclusion=(INV, "PROOF_INVALID"))


def test_proof_against_another_anchored_root_is_proof_invalid(sc: Scenario) -> None:
    # A second anchored batch of the same size and type by the same issuer: only the inclusion proof
    # ties the document to a batch, everything else about the other batch checks out.
    other = sc.issue([json_doc(10 + i) for i in range(3)])
    forged = reload(sc.bundles[0].model_copy(update={"batch": other[0].batch, "anchor": other[0].anchor}))
    assert forged.batch.root != sc.bundles[0].batch.root
    expect(sc.verify(sc.docs[0], forged), INVALID, inclusion=(INV, "PROOF_INVALID"))


# ====================================================================== anchored


def test_root_never_anchored_skips_the_registry_checks(sc: Scenario) -> None:
    forged = reload(signed_but_unanchored(sc, sc.bundles[0]))
    v = sc.verify(sc.docs[0], forged)
    expect(v, INVALID, anchored=(INV, "ROOT_NOT_ANCHORED"), **NOT_ANCHORED_SKIPS)
    assert v.anchored_at is None
    assert v.read_at_block is not None


def test_bundle_for_another_registry_is_wrong_registry(sc: Scenario) -> None:
    elsewhere = to_checksum_address(sc.world.account(9).address)
    forged = tamper(sc.bundles[0], anchor={"registry": elsewhere})
    v = sc.verify(sc.docs[0], forged)
    # The batch signature covers the registry address, so it no longer verifies either.
    expect(
        v,
        INVALID,
        anchored=(INV, "WRONG_REGISTRY"),
        signature=(INV, "SIGNATURE_INVALID"),
        **NOT_ANCHORED_SKIPS,
    )
    assert elsewhere in v.check("anchored").message
    assert sc.manifest.document_registry.address in v.check("anchored").message


def test_bundle_for_another_chain_is_wrong_chain(sc: Scenario) -> None:
    forged = tamper(sc.bundles[0], anchor={"chain_id": 1})
    v = sc.verify(sc.docs[0], forged)
    expect(
        v, INVALID, anchored=(INV, "WRONG_CHAIN"), signature=(INV, "SIGNATURE_INVALID"), **NOT_ANCHORED_SKIPS
    )
    assert f"chain 1, not the trusted chain {sc.world.chain.chain_id}" in v.check("anchored").message


def test_bundle_naming_another_issuer_is_not_anchored_nor_signed(sc: Scenario) -> None:
    stranger = sc.world.account(9).address
    forged = tamper(sc.bundles[0], anchor={"issuer": stranger})
    v = sc.verify(sc.docs[0], forged)
    assert v.verdict is INVALID
    # Batches are keyed by (issuer, root): the stranger never anchored this root; and the batch signature
    # covers the issuer account, so it does not verify for the stranger either.
    assert (v.check("anchored").status, v.check("anchored").code) == (INV, "ROOT_NOT_ANCHORED")
    assert stranger.lower() in v.check("anchored").message.lower()
    assert (v.check("signature").status, v.check("signature").code) == (INV, "SIGNATURE_INVALID")
    for name in ("integrity", "inclusion"):
        assert v.check(name).status is V, v.check(name)


def test_unknown_issuer_does_not_make_a_member_verifier_a_non_member(sc: Scenario) -> None:
    forged = tamper(sc.bundles[0], anchor={"issuer": sc.world.account(9).address})
    v = sc.verify(sc.docs[0], forged, "TH")
    assert sc.world.reg.trust.is_member("TH")
    assert v.check("recognition").code != "VERIFIER_NOT_MEMBER", v.check("recognition")


def test_bundle_misstating_the_batch_is_batch_mismatch(sc: Scenario) -> None:
    # Leaf 0 of a 3-leaf tree has the same proof as in a 4-leaf tree, so the proof still verifies;
    # the registry's record of the batch size does not.
    forged = tamper(sc.bundles[0], proof={"tree_size": 4})
    v = sc.verify(sc.docs[0], forged)
    expect(v, INVALID, anchored=(INV, "BATCH_MISMATCH"), signature=(INV, "SIGNATURE_INVALID"))
    assert "3 documents" in v.check("anchored").message and "claims 4" in v.check("anchored").message


def test_bundle_misstating_the_anchoring_block_is_block_mismatch(sc: Scenario) -> None:
    bundle = sc.bundles[0]
    forged = tamper(bundle, anchor={"block_hash": flip_hex(bundle.anchor.block_hash)})
    v = sc.verify(sc.docs[0], forged)
    expect(v, INVALID, anchored=(INV, "BLOCK_MISMATCH"))
    assert "reorg" in v.check("anchored").message
    forged = tamper(bundle, anchor={"block_time": bundle.anchor.block_time + 1})
    assert sc.verify(sc.docs[0], forged).check("anchored").code == "BLOCK_MISMATCH"
    forged = tamper(bundle, anchor={"block_number": bundle.anchor.block_number + 10_000})
    v = sc.verify(sc.docs[0], forged)
    assert (v.check("anchored").code, v.verdict) == ("BLOCK_MISMATCH", INVALID)
    assert f"in block {bundle.anchor.block_number} " in v.check("anchored").message


@pytest.mark.parity
def test_bundle_naming_another_transaction_is_transaction_mismatch(sc: Scenario) -> None:
    bundle = sc.bundles[0]
    forged = tamper(bundle, anchor={"transaction_hash": flip_hex(bundle.anchor.transaction_hash)})
    v = sc.verify(sc.docs[0], forged)
    expect(v, INVALID, anchored=(INV, "TRANSACTION_MISMATCH"))
    assert "is not on the chain" in v.check("anchored").message
    # A real anchoring transaction of another batch: only its logs tell that it did not anchor this root.
    other = sc.issue([json_doc(90)])[0]
    for anchor in (
        {"transaction_hash": other.anchor.transaction_hash},
        {
            "transaction_hash": other.anchor.transaction_hash,
            "block_number": other.anchor.block_number,
            "block_hash": other.anchor.block_hash,
            "block_time": other.anchor.block_time,
        },
    ):
        v = sc.verify(sc.docs[0], tamper(bundle, anchor=anchor))
        expect(v, INVALID, anchored=(INV, "TRANSACTION_MISMATCH"))
        assert "did not anchor this root" in v.check("anchored").message


def test_bundle_naming_another_party_is_party_mismatch(sc: Scenario) -> None:
    forged = tamper(sc.bundles[0], anchor={"party": "TH"})
    v = sc.verify(sc.docs[0], forged)
    # The signed batch message binds the issuing party too.
    expect(v, INVALID, anchored=(INV, "PARTY_MISMATCH"), signature=(INV, "SIGNATURE_INVALID"))
    assert "belongs to SG, not TH" in v.check("anchored").message


@pytest.mark.parity
@pytest.mark.devchain("evm_mine")
def test_insufficient_confirmations_is_indeterminate_until_enough_blocks(sc: Scenario) -> None:
    chain = sc.world.chain
    bundle = sc.bundles[0]
    depth = chain.block_number() - bundle.anchor.block_number + 1
    assert depth < 5
    verifier = sc.verifier(confirmations=5)
    v = verifier.verify(sc.docs[0], bundle, "TH")
    expect(v, INDETERMINATE, anchored=(ERR, "INSUFFICIENT_CONFIRMATIONS"))
    assert f"{depth} of 5 required confirmations" in v.check("anchored").message
    # A tampered document is INVALID whatever the confirmations.
    assert verifier.verify(b"{}", bundle, "TH").verdict is INVALID
    mine(chain, 4 - depth)
    v = verifier.verify(sc.docs[0], bundle, "TH")
    assert v.check("anchored").message == "4 of 5 required confirmations so far"
    mine(chain, 1)
    expect(verifier.verify(sc.docs[0], bundle, "TH"), VALID)


# ====================================================================== issuer authorization


@pytest.mark.parametrize("action", ["suspend", "revoke"])
@pytest.mark.devchain("evm_increaseTime")
def test_issuer_suspended_or_revoked_before_anchoring_is_not_authorized(sc: Scenario, action: str) -> None:
    # Suspensions and revocations recorded later with an effective time before the anchoring (the
    # contract refuses anchoring by a currently inactive issuer, so only backdating gets here).
    world = sc.world
    advance_time(world.chain, 30)
    [late] = sc.issue([json_doc(50)])
    t_early, t_late = sc.bundles[0].anchor.block_time, late.anchor.block_time
    assert t_late >= t_early + 20
    advance_time(world.chain, 30)
    effective = t_late - 10
    if action == "suspend":
        world.reg.trust.suspend_issuer(world.sg, sc.issuer.address, effective)
    else:
        world.reg.trust.revoke_issuer(world.sg, sc.issuer.address, effective, reason_code("key-compromise"))
    v = sc.verify(json_doc(50), late)
    expect(v, INVALID, anchored=(INV, "ISSUER_NOT_AUTHORIZED"))
    state = "suspended" if action == "suspend" else "revoked"
    assert f"was {state} when it anchored" in v.check("anchored").message
    # Anchored before the effective time: still valid.
    expect(sc.verify(sc.docs[0], sc.bundles[0]), VALID)


@pytest.mark.devchain("evm_increaseTime")
def test_issuer_revoked_after_anchoring_leaves_documents_valid(sc: Scenario) -> None:
    advance_time(sc.world.chain, 5)
    sc.world.reg.trust.revoke_issuer(sc.world.sg, sc.issuer.address)
    expect(sc.verify(sc.docs[2], sc.bundles[2]), VALID)


# ====================================================================== document status


@pytest.mark.parity
def test_revoked_document(sc: Scenario) -> None:
    sc.world.reg.documents.revoke_document(
        sc.world.sg, DocumentProof.of(sc.bundles[0]), reason_code("issued-in-error")
    )
    v = sc.verify(sc.docs[0], sc.bundles[0])
    expect(v, INVALID, document_status=(INV, "DOCUMENT_REVOKED"))
    assert "(issued-in-error)" in v.check("document_status").message
    expect(sc.verify(sc.docs[1], sc.bundles[1]), VALID)


def test_revoked_batch(sc: Scenario) -> None:
    # The issuer account that anchored a batch may revoke it, like the party's admins.
    root = bytes.fromhex(sc.bundles[0].batch.root[2:])
    sc.world.reg.documents.revoke_batch(sc.issuer, sc.issuer.address, root, reason_code("fraud-suspected"))
    for doc, bundle in zip(sc.docs, sc.bundles, strict=True):
        v = sc.verify(doc, bundle)
        expect(v, INVALID, document_status=(INV, "BATCH_REVOKED"))
        assert "(fraud-suspected)" in v.check("document_status").message


def test_superseded_document_names_its_successor(sc: Scenario) -> None:
    amended = json_doc(0, amendment="consignee address corrected")
    [successor] = sc.issue([amended])
    sc.world.reg.documents.supersede(
        sc.world.sg, DocumentProof.of(sc.bundles[0]), DocumentProof.of(successor)
    )
    v = sc.verify(sc.docs[0], sc.bundles[0])
    expect(v, INVALID, document_status=(INV, "SUPERSEDED"))
    message = v.check("document_status").message
    assert f"by leaf {successor.leaf.hash} of batch {successor.batch.root}" in message
    expect(sc.verify(amended, successor), VALID)


@pytest.mark.parity
def test_consumed_document_names_the_consumer(sc: Scenario) -> None:
    docs, bundles = sc.issue_permits(2, Terms(destination="TH"))
    sc.world.reg.documents.consume(sc.consumer("TH"), DocumentProof.of(bundles[1]), Opening.of(bundles[1]))
    v = sc.verify(docs[1], bundles[1], "TH")
    expect(v, INVALID, document_status=(INV, "CONSUMED"), terms=(V, "TERMS_MET"))
    assert "consumed by TH" in v.check("document_status").message
    expect(sc.verify(docs[0], bundles[0], "TH"), VALID, terms=(V, "TERMS_MET"))


# ====================================================================== terms (leaf v2)


@pytest.mark.parity
@pytest.mark.devchain("evm_increaseTime")
def test_terms_validity_period_at_chain_time(sc: Scenario) -> None:
    now = sc.world.now()
    docs, [later, current, expired] = (
        [json_doc(60 + i) for i in range(3)],
        [
            sc.issue([json_doc(60)], terms=Terms(valid_from=now + 3600))[0],
            sc.issue([json_doc(61)], terms=Terms(valid_from=now - 10, valid_until=now + 3600))[0],
            sc.issue([json_doc(62)], terms=Terms(valid_until=now + 5))[0],
        ],
    )
    v = sc.verify(docs[0], later)
    expect(v, INVALID, terms=(INV, "NOT_YET_VALID"))
    expect(sc.verify(docs[1], current), VALID, terms=(V, "TERMS_MET"))
    advance_time(sc.world.chain, 60)
    v = sc.verify(docs[2], expired)
    expect(v, INVALID, terms=(INV, "EXPIRED"))
    assert v.terms == {
        "destination": None,
        "validFrom": None,
        "validUntil": now + 5,
        "quantity": None,
        "unit": None,
    }


def test_not_destination_is_invalid_for_one_time_and_a_warning_otherwise(sc: Scenario) -> None:
    sc.world.reg.trust.recognize(sc.world.my, "SG", mask_of([PHYTO, PERMIT]))
    _, [permit] = sc.issue_permits(1, Terms(destination="TH"))
    v = sc.verify(json_doc(0, permit=True), permit, "MY")
    expect(v, INVALID, terms=(INV, "NOT_DESTINATION"))
    assert "destined to TH, not MY" in v.check("terms").message
    [phyto] = sc.issue([json_doc(70)], terms=Terms(destination="TH"))
    v = sc.verify(json_doc(70), phyto, "MY")
    expect(v, VALID, terms=(V, "NOT_DESTINATION"))
    assert v.check("terms").warning


def test_partial_endorsements_then_quantity_exhausted(sc: Scenario) -> None:
    docs, [permit] = sc.issue_permits(1, Terms(destination="TH", quantity=5000, unit="pieces"))
    consumer = sc.consumer("TH")
    proof, opening = DocumentProof.of(permit), Opening.of(permit)
    sc.world.reg.documents.endorse(consumer, proof, opening, 2000)
    v = sc.verify(docs[0], permit, "TH")
    expect(v, VALID, terms=(V, "TERMS_MET"))
    assert "3000 of 5000 pieces remain" in v.check("terms").message
    assert v.terms["endorsed"] == 2000 and v.terms["remaining"] == 3000
    sc.world.reg.documents.endorse(consumer, proof, opening, 3000)
    v = sc.verify(docs[0], permit, "TH")
    expect(v, INVALID, document_status=(INV, "CONSUMED"), terms=(INV, "QUANTITY_EXHAUSTED"))


# ====================================================================== signature and certificates


def test_signature_by_a_key_outside_the_certificate_chain(sc: Scenario) -> None:
    bundle = sc.bundles[0]
    rogue = ec.generate_private_key(ec.SECP256R1())
    value = rogue.sign(bundle.signed_message(), ec.ECDSA(hashes.SHA256()))
    forged = tamper(
        bundle,
        batch={
            "signature": bundle.batch.signature.model_copy(update={"value": base64.b64encode(value).decode()})
        },
    )
    expect(sc.verify(sc.docs[0], forged), INVALID, signature=(INV, "SIGNATURE_INVALID"))


def test_certificate_from_an_unregistered_ca(sc: Scenario, tmp_path: Path) -> None:
    # A second SG-named PKI whose CA is never registered signs for the issuer account bound to the real CA.
    rogue = make_pki(tmp_path / "rogue-pki")
    [bundle] = sc.issue([json_doc(60)], signer=rogue.signer)
    v = sc.verify(json_doc(60), bundle)
    expect(v, INVALID, certificate_chain=(INV, "CA_NOT_REGISTERED"))
    assert sc.fingerprint.hex()[:16] in v.check("certificate_chain").message
    # A local CA store cannot stand in for the registry.
    v = sc.verify(json_doc(60), bundle, ca_certificates=[rogue.root_cert])
    assert v.check("certificate_chain").code == "CA_NOT_REGISTERED"


def test_registered_root_from_the_local_ca_store(sc: Scenario) -> None:
    # Bundles that carry only signer + issuing CA need the registered root from the verifier's CA store.
    from anchor.issuing.signing import Signer

    p = sc.pki.paths
    short = Signer.from_pem(p.signer_key, p.signer_cert, [p.issuing_ca])
    [bundle] = sc.issue([json_doc(70)], signer=short)
    assert len(bundle.batch.certificates) == 2
    expect(sc.verify(json_doc(70), bundle), INVALID, certificate_chain=(INV, "CA_NOT_REGISTERED"))
    expect(sc.verify(json_doc(70), bundle, ca_certificates=[sc.pki.root_cert]), VALID)


def test_signing_certificate_expired_at_anchoring_time(sc: Scenario) -> None:
    expired = sc.pki.expired_signer(sc.world.now())
    [bundle] = sc.issue([json_doc(80)], signer=expired)
    v = sc.verify(json_doc(80), bundle)
    expect(v, INVALID, certificate_chain=(INV, "CHAIN_INVALID"))
    assert "signing certificate had expired" in v.check("certificate_chain").message


# ====================================================================== CA status


@pytest.mark.devchain("evm_increaseTime")
def test_ca_suspended_at_anchoring_time(sc: Scenario) -> None:
    world = sc.world
    advance_time(world.chain, 10)
    # The registry refuses anchoring under a suspended CA, so the suspension is recorded afterwards,
    # effective from just before the anchoring (a late-reported certificate hold).
    [during] = sc.issue([json_doc(90)])
    anchored_at = during.anchor.block_time
    advance_time(world.chain, 10)
    world.reg.trust.suspend_ca(world.sg, sc.fingerprint, anchored_at - 1, reason_code("certificate-hold"))
    advance_time(world.chain, 10)
    world.reg.trust.resume_ca(world.sg, sc.fingerprint)
    v = sc.verify(json_doc(90), during)
    expect(v, INVALID, ca_status=(INV, "CA_SUSPENDED"))
    # Anchored before the suspension.
    expect(sc.verify(sc.docs[0], sc.bundles[0]), VALID)


@pytest.mark.devchain("evm_increaseTime")
def test_ca_revoked_after_anchoring_is_valid_with_a_warning(sc: Scenario) -> None:
    advance_time(sc.world.chain, 10)
    sc.world.reg.trust.revoke_ca(sc.world.sg, sc.fingerprint, 0, reason_code("cessation-of-operation"))
    v = sc.verify(sc.docs[0], sc.bundles[0])
    expect(v, VALID, ca_status=(V, "CA_REVOKED_LATER"))
    c = v.check("ca_status")
    assert c.warning is True
    assert v.warnings == [c]
    assert {
        "name": "ca_status",
        "status": "VALID",
        "code": "CA_REVOKED_LATER",
        "message": c.message,
        "warning": True,
    } in v.to_dict()["checks"]


@pytest.mark.parity
@pytest.mark.devchain("evm_increaseTime")
def test_backdated_ca_revocation_invalidates_only_later_documents(sc: Scenario) -> None:
    world = sc.world
    advance_time(world.chain, 100)
    [late] = sc.issue([json_doc(100)])
    t_early, t_late = sc.bundles[0].anchor.block_time, late.anchor.block_time
    assert t_late >= t_early + 90
    advance_time(world.chain, 10)
    effective = t_early + 50
    world.reg.trust.revoke_ca(world.sg, sc.fingerprint, effective, reason_code("key-compromise"))
    v = sc.verify(json_doc(100), late)
    expect(v, INVALID, ca_status=(INV, "CA_REVOKED"))
    early = sc.verify(sc.docs[0], sc.bundles[0])
    expect(early, VALID, ca_status=(V, "CA_REVOKED_LATER"))
    assert early.check("ca_status").warning


def test_ca_registered_validity_over_at_anchoring_time(sc: Scenario, tmp_path: Path) -> None:
    # A second SG CA whose *registered* validity ended before anchoring (its certificate is still valid).
    world = sc.world
    other = make_pki(tmp_path / "sg-pki-2")
    der = other.ca.certificate.public_bytes(Encoding.DER)
    world.reg.trust.add_ca(world.sg, der, 1_600_000_000, world.now() - 1, ISSUER_TYPES)
    account = world.account(5)
    world.reg.trust.authorize_issuer(
        world.sg, account.address, ca_id("SG", other.ca.fingerprint), ISSUER_TYPES
    )
    second = Scenario(world, tmp_path, other, account)
    [bundle] = second.issue([json_doc(110)])
    v = second.verify(json_doc(110), bundle)
    expect(v, INVALID, ca_status=(INV, "CA_OUTSIDE_VALIDITY"))


# ====================================================================== recognition


@pytest.mark.devchain("evm_increaseTime")
def test_document_type_not_recognized_by_the_verifying_party(sc: Scenario) -> None:
    # TH recognizes SG for phyto and certificates of origin, not CITES permits; MY recognizes nothing.
    [permit] = sc.issue([json_doc(120)], PERMIT)
    v = sc.verify(json_doc(120), permit, "TH")
    expect(v, INVALID, recognition=(INV, "NOT_RECOGNIZED"))
    assert "TH did not recognize SG's CA for cites-permit" in v.check("recognition").message
    expect(sc.verify(json_doc(120), permit, "SG"), VALID)
    expect(sc.verify(sc.docs[0], sc.bundles[0], "MY"), INVALID, recognition=(INV, "NOT_RECOGNIZED"))
    # Recognition given later is not retroactive: it counts from its effective time.
    advance_time(sc.world.chain, 5)
    sc.world.reg.trust.recognize(sc.world.my, "SG", mask_of([PHYTO]))
    expect(sc.verify(sc.docs[0], sc.bundles[0], "MY"), INVALID, recognition=(INV, "NOT_RECOGNIZED"))
    [fresh] = sc.issue([json_doc(121)])
    expect(sc.verify(json_doc(121), fresh, "MY"), VALID)


@pytest.mark.devchain("evm_increaseTime")
def test_recognition_withdrawn_after_issuance_is_valid_with_a_warning(sc: Scenario) -> None:
    advance_time(sc.world.chain, 10)
    sc.world.reg.trust.unrecognize(sc.world.th, "SG", mask_of([PHYTO]))
    v = sc.verify(sc.docs[0], sc.bundles[0], "TH")
    expect(v, VALID, recognition=(V, "RECOGNITION_WITHDRAWN_SINCE"))
    assert v.check("recognition").warning
    assert v.warnings == [v.check("recognition")]


@pytest.mark.devchain("evm_increaseTime")
def test_recognition_withdrawn_before_issuance_is_not_recognized(sc: Scenario) -> None:
    world = sc.world
    advance_time(world.chain, 10)
    world.reg.trust.unrecognize(world.th, "SG", mask_of([PHYTO]))
    [after] = sc.issue([json_doc(130)])
    [origin] = sc.issue([json_doc(131)], ORIGIN)  # still recognized for certificates of origin
    expect(sc.verify(json_doc(130), after, "TH"), INVALID, recognition=(INV, "NOT_RECOGNIZED"))
    expect(sc.verify(json_doc(131), origin, "TH"), VALID)


def test_verifier_not_a_member(sc: Scenario) -> None:
    v = sc.verify(sc.docs[0], sc.bundles[0], "US")
    expect(v, INVALID, recognition=(INV, "VERIFIER_NOT_MEMBER"))
    assert v.verifying_party == "US"
    assert "US is not a member" in v.check("recognition").message
    with pytest.raises(ConfigError):
        sc.verify(sc.docs[0], sc.bundles[0], "not a party")


# ====================================================================== one verifier over time


@pytest.mark.devchain("evm_increaseTime")
def test_one_verifier_sees_every_change_made_after_its_earlier_verdicts(sc: Scenario) -> None:
    """A long-lived verifier (a border post's service) must never answer from a stale view."""
    world, docs, bundles = sc.world, sc.docs, sc.bundles
    verifier = sc.verifier()
    for doc, bundle in zip(docs, bundles, strict=True):
        expect(verifier.verify(doc, bundle, "TH"), VALID)
    advance_time(world.chain, 5)

    world.reg.documents.revoke_document(world.sg, DocumentProof.of(bundles[0]))
    expect(verifier.verify(docs[0], bundles[0], "TH"), INVALID, document_status=(INV, "DOCUMENT_REVOKED"))
    expect(verifier.verify(docs[1], bundles[1], "TH"), VALID)

    [permit_doc], [permit] = sc.issue_permits(1, Terms(destination="TH"))
    met = (V, "TERMS_MET")
    expect(verifier.verify(permit_doc, permit, "TH"), VALID, terms=met)
    world.reg.documents.consume(sc.consumer("TH"), DocumentProof.of(permit), Opening.of(permit))
    expect(verifier.verify(permit_doc, permit, "TH"), INVALID, document_status=(INV, "CONSUMED"), terms=met)

    withdrawn = (V, "RECOGNITION_WITHDRAWN_SINCE")
    world.reg.trust.unrecognize(world.th, "SG", mask_of([PHYTO]))
    expect(verifier.verify(docs[2], bundles[2], "TH"), VALID, recognition=withdrawn)

    world.reg.trust.revoke_ca(world.sg, sc.fingerprint)
    later = (V, "CA_REVOKED_LATER")
    expect(verifier.verify(docs[2], bundles[2], "TH"), VALID, recognition=withdrawn, ca_status=later)

    world.reg.documents.revoke_batch(
        world.sg, bundles[2].anchor.issuer, bytes.fromhex(bundles[2].batch.root[2:])
    )
    expect(
        verifier.verify(docs[2], bundles[2], "TH"),
        INVALID,
        document_status=(INV, "BATCH_REVOKED"),
        recognition=withdrawn,
        ca_status=later,
    )


# ====================================================================== chain availability


def _verifier_losing_its_node(sc: Scenario) -> tuple[Verifier, str | None]:
    """A verifier built while its node answers, whose node then goes away; and the node's URL if any."""
    if sc.world.chain.backend == "embedded":
        verifier = Verifier(sc.world.chain, sc.manifest)
        verifier.reader.rpc = Web3Rpc(DeadProvider())
        return verifier, None
    # A second anvil (same chain id as the session's) that is killed once the verifier is built.
    port = free_port()
    proc = start_anvil(port)
    url = f"http://127.0.0.1:{port}"
    try:
        verifier = Verifier(connect(ChainConfig(backend="rpc", rpc_url=url)), sc.manifest)
    finally:
        proc.stop(kill=True)
    return verifier, url


def test_unreachable_chain_is_indeterminate_but_local_checks_still_run(sc: Scenario) -> None:
    verifier, url = _verifier_losing_its_node(sc)
    v = verifier.verify(sc.docs[0], sc.bundles[0], "TH")
    registry_checks = ("anchored", "document_status", "certificate_chain", "ca_status", "recognition")
    expect(v, INDETERMINATE, **{name: (ERR, "CHAIN_UNAVAILABLE") for name in registry_checks})
    for name in registry_checks:
        assert "could not read the chain" in v.check(name).message
        assert url is None or url in v.check(name).message
    assert (v.read_at_block, v.read_at_block_hash, v.read_at_time, v.anchored_at) == (None, None, None, None)
    # What can be decided without the chain still decides: a forged document is INVALID.
    forged = verifier.verify(b'{"forged": true}', sc.bundles[0], "TH")
    assert forged.verdict is INVALID
    assert forged.check("integrity").code == "DIGEST_MISMATCH"
    assert forged.check("anchored").code == "CHAIN_UNAVAILABLE"
    # So does a bundle contradicting the trusted manifest.
    other_chain = tamper(sc.bundles[0], anchor={"chain_id": 1})
    assert verifier.verify(sc.docs[0], other_chain, "TH").check("anchored").code == "WRONG_CHAIN"


def test_verifier_reads_the_embedded_chain_directly(sc: Scenario, request: pytest.FixtureRequest) -> None:
    """Verifier(world.chain, ...) without the test-side JSON-RPC translation of issuing_helpers."""
    v = Verifier(sc.world.chain, sc.manifest).verify(sc.docs[0], sc.bundles[0], "TH")
    expect(v, VALID)


def test_every_reason_code_is_exercised() -> None:
    """Every reason code anchor/verify/checks.py can emit is asserted somewhere in this file."""
    source = Path(checks.__file__).read_text()
    emitted = set(re.findall(r'"([A-Z][A-Z_]{4,})"', source))
    assert {"DIGEST_MISMATCH", "CA_REVOKED_LATER", "RECOGNITION_WITHDRAWN_SINCE"} <= emitted
    # Not reachable through Verifier.verify: CA_NOT_ACTIVE needs a CA unregistered at the anchoring time,
    # but an issuer can only be bound to an active CA; ISSUER_UNKNOWN needs an anchored batch of an
    # unregistered account, but batches are keyed by the anchoring issuer (registries v2);
    # CERTIFICATE_UNREADABLE needs a certificate that passed bundle validation as DER.
    unreachable = {"CA_NOT_ACTIVE", "CERTIFICATE_UNREADABLE", "ISSUER_UNKNOWN"}
    this = Path(__file__).read_text()
    missing = sorted(code for code in emitted - unreachable if f'"{code}"' not in this)
    assert not missing, f"reason codes without a test: {missing}"
