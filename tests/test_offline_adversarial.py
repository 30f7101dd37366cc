"""Offline verification against what each adversary can do with public data and its own keys.

Each test builds a real world (anvil), witnesses checkpoints with real keys, and presents the border
post's offline verifier with a forged or stale trust pack or status proof; each gets its stable code,
while the rightful pack still verifies.
"""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from anchor.checkpoint.note import Checkpoint, SignedCheckpoint, cosign
from anchor.checkpoint.pack import TrustPack, verify_pack
from anchor.checkpoint.tlog import EventLog
from anchor.checkpoint.witness import Published, WitnessLedger, witness
from anchor.deploy import deploy
from anchor.errors import CheckpointError
from anchor.registry import DocumentProof, ProposalKind
from anchor.verify import CheckStatus, Decision
from tests.conftest import World, advance_time
from tests.issuing_helpers import build_scenario
from tests.offline_helpers import OfflineKit
from tests.registry_helpers import pass_proposal


@pytest.fixture
def kit(world: World, tmp_path: Path) -> OfflineKit:
    return OfflineKit.of(build_scenario(world, tmp_path, n_docs=3))


def codes(verdict: Any) -> dict[str, tuple[str, str]]:
    return {c.name: (c.status.value, c.code) for c in verdict.checks}


def chain_checks(verdict: Any) -> set[str]:
    """The codes of the checks that need the registries (the others run on the bundle alone)."""
    return {
        c.code
        for c in verdict.checks
        if c.name in ("anchored", "document_status", "ca_status", "recognition")
    }


def test_rightful_pack_verifies_like_the_node(kit: OfflineKit) -> None:
    s = kit.scenario
    cpr = kit.checkpointer()
    pack = TrustPack.from_json(kit.pack(cpr).to_json())
    offline = kit.verifier(pack, kit.pins(cpr))
    for doc, bundle in zip(s.docs, s.bundles, strict=True):
        online = s.verify(doc, bundle)
        got = offline.verify(doc, kit.refresh(cpr, bundle), "TH")
        assert got.verdict is Decision.VALID
        assert codes(got) == codes(online)
        assert got.details["asOf"]["events"] == cpr.checkpoint.size  # type: ignore[union-attr]


def test_too_few_witnesses(kit: OfflineKit) -> None:
    cpr = kit.checkpointer()
    pack = kit.pack(cpr, signers=("SG",))  # threshold 2
    got = kit.verifier(pack, kit.pins(cpr)).verify(
        kit.scenario.docs[0], kit.refresh(cpr, kit.scenario.bundles[0]), "TH"
    )
    assert got.verdict is Decision.INDETERMINATE
    assert "INSUFFICIENT_WITNESSES" in chain_checks(got)


def test_same_party_twice_counts_once(kit: OfflineKit) -> None:
    cpr = kit.checkpointer()
    sg2 = kit.scenario.world.account(23)
    kit.scenario.world.reg.trust.grant_witness(kit.scenario.world.sg, sg2.address)
    cpr = kit.checkpointer()
    pack = kit.pack(cpr, signers=("SG",))
    extra = cosign(pack.checkpoint, "SG", bytes(sg2.key))
    pack = TrustPack(pack.signed.with_cosignature(extra), pack.trust)
    assert verify_pack(pack, kit.pins(cpr)).code == "INSUFFICIENT_WITNESSES"


def test_a_key_that_is_not_a_witness_does_not_count(kit: OfflineKit) -> None:
    cpr = kit.checkpointer()
    outsider = Account.create()
    pack = kit.pack(cpr, signers=("SG", "TH"), keys={"TH": bytes(outsider.key)})
    assert verify_pack(pack, kit.pins(cpr)).code == "INSUFFICIENT_WITNESSES"
    # A line that names TH's real witness but carries another key's signature does not count either.
    real = pack.signed.cosignatures[1]
    forged = type(real)("TH", kit.witnesses["TH"].address.lower(), real.signature)
    pack = TrustPack(SignedCheckpoint(pack.checkpoint, (pack.signed.cosignatures[0], forged)), pack.trust)
    assert verify_pack(pack, kit.pins(cpr)).code == "INSUFFICIENT_WITNESSES"


def test_old_key_after_rotation(kit: OfflineKit) -> None:
    w = kit.scenario.world
    before = kit.checkpointer()
    pins = kit.pins(before)  # the border post pinned TH's old key
    old = kit.witnesses["TH"]
    new = w.account(24)
    w.reg.trust.revoke_witness(w.th, old.address)
    w.reg.trust.grant_witness(w.th, new.address)
    after = kit.checkpointer()
    # The old key's signature on a checkpoint whose state no longer lists it does not count.
    stale_key = kit.pack(after, signers=("SG", "TH"), keys={"TH": bytes(old.key)})
    assert verify_pack(stale_key, pins).code == "INSUFFICIENT_WITNESSES"
    # MY and SG (keys unchanged) carry the rotation; the pins then move to TH's new key.
    rightful = kit.pack(after, signers=("SG", "MY"))
    accepted = verify_pack(rightful, pins)
    assert accepted.ok and accepted.pins is not None
    assert accepted.pins.witnesses["TH"] == (new.address.lower(),)
    later = kit.checkpointer()
    assert verify_pack(kit.pack(later, signers=("SG", "TH"), keys={"TH": bytes(new.key)}), accepted.pins).ok
    assert verify_pack(
        kit.pack(later, signers=("SG", "TH"), keys={"TH": bytes(old.key)}), accepted.pins
    ).code == ("INSUFFICIENT_WITNESSES")


def test_minority_fork_hides_a_revocation(kit: OfflineKit) -> None:
    """SG alone (a minority) signs a checkpoint whose state predates a revocation: not witnessed."""
    s = kit.scenario
    w = s.world
    early = kit.checkpointer()
    early_bundle = kit.refresh(early, s.bundles[0])
    w.reg.documents.revoke_document(s.issuer, DocumentProof.of(s.bundles[0]))
    now = kit.checkpointer()
    forked = Checkpoint(**{**now.checkpoint.__dict__, "state_root": early.checkpoint.state_root})  # type: ignore[union-attr]
    pack = TrustPack(
        SignedCheckpoint(forked, (cosign(forked, "SG", bytes(kit.witnesses["SG"].key)),)), now.trust
    )
    relabelled = _relabel(early_bundle, forked)
    got = kit.verifier(pack, kit.pins(now)).verify(s.docs[0], relabelled, "TH")
    assert got.verdict is Decision.INDETERMINATE
    assert "INSUFFICIENT_WITNESSES" in chain_checks(got)
    # The rightful pack says it is revoked.
    rightful = kit.verifier(kit.pack(now), kit.pins(now)).verify(
        s.docs[0], kit.refresh(now, s.bundles[0]), "TH"
    )
    assert codes(rightful)["document_status"] == ("INVALID", "DOCUMENT_REVOKED")


def test_trust_state_edited_after_signing(kit: OfflineKit) -> None:
    cpr = kit.checkpointer()
    pack = kit.pack(cpr)
    trust = json.loads(json.dumps(pack.trust))
    key = next(iter(trust["recognition"]))
    trust["recognition"][key] = "[]"  # drop a recognition history
    assert verify_pack(TrustPack(pack.signed, trust), kit.pins(cpr)).code == "TRUST_STATE_MISMATCH"


def test_status_proof_from_an_older_checkpoint(kit: OfflineKit) -> None:
    s = kit.scenario
    early = kit.checkpointer()
    old_proof = kit.refresh(early, s.bundles[0])
    s.world.reg.documents.revoke_document(s.issuer, DocumentProof.of(s.bundles[0]))
    now = kit.checkpointer()
    offline = kit.verifier(kit.pack(now), kit.pins(now))
    # Honestly labelled: not about the current checkpoint, so nothing can be said.
    honest = offline.verify(s.docs[0], old_proof, "TH")
    assert honest.verdict is Decision.INDETERMINATE
    assert "STATUS_PROOF_NOT_CURRENT" in chain_checks(honest)
    # Relabelled as current: the proofs do not hold against the current roots.
    forged = offline.verify(s.docs[0], _relabel(old_proof, now.checkpoint), "TH")  # type: ignore[arg-type]
    assert forged.verdict is Decision.INVALID
    assert codes(forged)["document_status"] == ("INVALID", "STATUS_PROOF_MISMATCH")


def test_status_proof_about_another_document(kit: OfflineKit) -> None:
    s = kit.scenario
    cpr = kit.checkpointer()
    other = kit.refresh(cpr, s.bundles[1])
    mine = s.bundles[0].model_copy(update={"status": other.status})
    got = kit.verifier(kit.pack(cpr), kit.pins(cpr)).verify(s.docs[0], mine, "TH")
    assert got.verdict is Decision.INVALID
    assert codes(got)["document_status"] == ("INVALID", "STATUS_PROOF_MISMATCH")


def test_no_status_proof(kit: OfflineKit) -> None:
    cpr = kit.checkpointer()
    got = kit.verifier(kit.pack(cpr), kit.pins(cpr)).verify(
        kit.scenario.docs[0], kit.scenario.bundles[0], "TH"
    )
    assert got.verdict is Decision.INDETERMINATE
    assert "NO_STATUS_PROOF" in chain_checks(got)


def test_pack_from_another_registry(kit: OfflineKit, world: World) -> None:
    cpr = kit.checkpointer()
    pins = kit.pins(cpr)
    other = deploy(
        world.chain, world.deployer, [("SG", world.sg.address)], threshold=1, proposal_lifetime=3600
    )
    moved = Checkpoint(
        **{**cpr.checkpoint.__dict__, "document_registry": other.document_registry.address.lower()}
    )  # type: ignore[union-attr]
    pack = TrustPack(
        SignedCheckpoint(moved, tuple(cosign(moved, p, bytes(kit.witnesses[p].key)) for p in ("SG", "TH"))),
        cpr.trust,
    )
    assert verify_pack(pack, pins).code == "WRONG_TRUST_PACK"
    other_chain = Checkpoint(**{**cpr.checkpoint.__dict__, "chain_id": 1})  # type: ignore[union-attr]
    pack = TrustPack(SignedCheckpoint(other_chain, ()), cpr.trust)
    assert verify_pack(pack, pins).code == "WRONG_TRUST_PACK"


def test_reordered_or_truncated_event_log(kit: OfflineKit) -> None:
    """Even a colluding majority cannot rewrite history a verifier already accepted."""
    s = kit.scenario
    first = kit.checkpointer()
    accepted = verify_pack(kit.pack(first), kit.pins(first))
    assert accepted.ok and accepted.pins is not None
    pins = accepted.pins
    s.world.reg.documents.revoke_document(s.issuer, DocumentProof.of(s.bundles[1]))
    now = kit.checkpointer()
    leaves = list(now.log.leaves)
    leaves[0], leaves[1] = leaves[1], leaves[0]
    reordered = EventLog(leaves)
    forged = Checkpoint(**{**now.checkpoint.__dict__, "root": reordered.root()})  # type: ignore[union-attr]
    proof = reordered.consistency_proof(pins.size, reordered.size)
    pack = TrustPack(
        SignedCheckpoint(forged, tuple(cosign(forged, p, bytes(kit.witnesses[p].key)) for p in ("SG", "TH"))),
        now.trust,
        (
            type(kit.pack(now, since=[(pins.size, pins.root)]).consistency[0])(
                pins.size, pins.root, tuple(proof)
            ),
        ),
    )
    assert verify_pack(pack, pins).code == "FORKED_CHECKPOINT"
    truncated = kit.pack(first)
    assert verify_pack(truncated, pins).ok  # the same checkpoint again is fine
    shorter = EventLog(now.log.leaves[: pins.size - 1])
    cut = Checkpoint(**{**first.checkpoint.__dict__, "size": shorter.size, "root": shorter.root()})  # type: ignore[union-attr]
    pack = TrustPack(
        SignedCheckpoint(cut, tuple(cosign(cut, p, bytes(kit.witnesses[p].key)) for p in ("SG", "TH"))),
        first.trust,
    )
    assert verify_pack(pack, pins).code == "ROLLED_BACK_CHECKPOINT"
    # Without a consistency proof from what the border post accepted, a newer pack is not taken on trust.
    assert verify_pack(kit.pack(now), pins).code == "NO_CONSISTENCY_PROOF"
    assert verify_pack(kit.pack(now, since=[(pins.size, pins.root)]), pins).ok


@pytest.mark.devchain
def test_revoked_after_the_checkpoint_is_valid_as_of_it(kit: OfflineKit) -> None:
    s = kit.scenario
    cpr = kit.checkpointer()
    pack, bundle = kit.pack(cpr), kit.refresh(cpr, s.bundles[2])
    s.world.reg.documents.revoke_document(s.issuer, DocumentProof.of(s.bundles[2]))
    advance_time(s.world.chain, 3 * 3600)
    later = pack.checkpoint.block_time + 3 * 3600
    got = kit.verifier(pack, kit.pins(cpr), now=later).verify(s.docs[2], bundle, "TH")
    assert got.verdict is Decision.VALID
    assert got.details["asOf"] == {
        "events": pack.checkpoint.size,
        "block": pack.checkpoint.block,
        "blockTime": pack.checkpoint.block_time,
        "ageSeconds": 3 * 3600,
        "witnesses": ["SG", "TH"],
    }
    assert s.verify(s.docs[2], s.bundles[2]).verdict is Decision.INVALID  # online sees the revocation


def test_stale_checkpoint(kit: OfflineKit) -> None:
    cpr = kit.checkpointer()
    pack = kit.pack(cpr)
    verifier = kit.verifier(pack, kit.pins(cpr), now=pack.checkpoint.block_time + 25 * 3600)
    got = verifier.verify(kit.scenario.docs[0], kit.refresh(cpr, kit.scenario.bundles[0]), "TH")
    assert got.verdict is Decision.INDETERMINATE
    assert "STALE_CHECKPOINT" in chain_checks(got)
    assert all(c.status is not CheckStatus.INVALID for c in got.checks)


def test_offline_verification_opens_no_socket(kit: OfflineKit, monkeypatch: pytest.MonkeyPatch) -> None:
    cpr = kit.checkpointer()
    pack_text, pins = kit.pack(cpr).to_json(), kit.pins(cpr)
    bundle_text = kit.refresh(cpr, kit.scenario.bundles[0]).to_json()
    opened: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        opened.append(args)
        raise OSError("no network at the border post")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    from anchor.bundle import Bundle

    verifier = kit.verifier(TrustPack.from_json(pack_text), pins)
    got = verifier.verify(kit.scenario.docs[0], Bundle.from_json(bundle_text), "TH")
    assert got.verdict is Decision.VALID
    assert opened == []


# ---------------------------------------------------------------------------------------- witnesses


def test_witness_never_signs_two_checkpoints_for_one_size(kit: OfflineKit, tmp_path: Path) -> None:
    cpr = kit.checkpointer()
    th = kit.witnesses["TH"]
    ledger = WitnessLedger.load(tmp_path / "ledger.json")
    pub = Published(tmp_path / "cps")
    witness(cpr, "TH", bytes(th.key), th.address, ledger, pub)
    # Same size, another body (its node now says another state root): refused, nothing published.
    cpr.checkpoint = Checkpoint(**{**cpr.checkpoint.__dict__, "state_root": hashlib.sha256(b"x").digest()})  # type: ignore[union-attr]
    with pytest.raises(CheckpointError, match="second, different checkpoint"):
        witness(cpr, "TH", bytes(th.key), th.address, WitnessLedger.load(tmp_path / "ledger.json"), pub)
    assert len(list(pub.dir.glob("*.note"))) == 1


def test_witness_publishes_evidence_of_a_fork(kit: OfflineKit, tmp_path: Path) -> None:
    cpr = kit.checkpointer()
    pub = Published(tmp_path / "cps")
    forked = Checkpoint(**{**cpr.checkpoint.__dict__, "state_root": hashlib.sha256(b"fork").digest()})  # type: ignore[union-attr]
    pub.merge(SignedCheckpoint(forked, (cosign(forked, "SG", bytes(kit.witnesses["SG"].key)),)))
    th = kit.witnesses["TH"]
    done = witness(cpr, "TH", bytes(th.key), th.address, WitnessLedger.load(tmp_path / "l.json"), pub)
    assert len(done.evidence) == 1
    evidence = json.loads(done.evidence[0].read_text())
    assert evidence["kind"] == "checkpoint-fork" and evidence["events"] == forked.size
    assert {SignedCheckpoint.parse(t).checkpoint for t in evidence["checkpoints"]} == {forked, cpr.checkpoint}


def test_witness_refuses_a_rewritten_history(kit: OfflineKit, tmp_path: Path) -> None:
    cpr = kit.checkpointer()
    th = kit.witnesses["TH"]
    ledger = WitnessLedger.load(tmp_path / "ledger.json")
    pub = Published(tmp_path / "cps")
    witness(cpr, "TH", bytes(th.key), th.address, ledger, pub)
    kit.scenario.world.reg.trust.recognize(kit.scenario.world.th, "MY", 1)
    later = kit.checkpointer()
    later.log = EventLog([hashlib.sha256(b"other").digest(), *later.log.leaves[1:]])
    later.checkpoint = Checkpoint(**{**later.checkpoint.__dict__, "root": later.log.root()})  # type: ignore[union-attr]
    with pytest.raises(CheckpointError, match="does not extend"):
        witness(later, "TH", bytes(th.key), th.address, ledger, pub)


def test_only_a_witness_account_of_the_party_signs(kit: OfflineKit, tmp_path: Path) -> None:
    cpr = kit.checkpointer()
    sg = kit.witnesses["SG"]
    with pytest.raises(CheckpointError, match="not a witness account of TH"):
        witness(
            cpr, "TH", bytes(sg.key), sg.address, WitnessLedger.load(tmp_path / "l.json"), Published(tmp_path)
        )


def test_removing_a_party_drops_its_witnesses(kit: OfflineKit) -> None:
    w = kit.scenario.world
    pass_proposal(w, [w.sg, w.th], ProposalKind.REMOVE_PARTY, party="MY")
    cpr = kit.checkpointer()
    assert "MY" not in cpr.snapshot.witness_party.values()
    assert w.reg.trust.witnesses("MY") == []
    assert verify_pack(kit.pack(cpr, signers=("SG", "MY")), kit.pins(cpr)).code == "INSUFFICIENT_WITNESSES"


def _relabel(bundle: Any, checkpoint: Checkpoint) -> Any:
    status = json.loads(json.dumps(bundle.status))
    status["checkpoint"] = {
        "events": checkpoint.size,
        "root": checkpoint.root.hex(),
        "block": checkpoint.block,
    }
    return bundle.model_copy(update={"status": status})


def test_bundle_naming_another_transaction_or_block(kit: OfflineKit) -> None:
    """The anchor section is not signed: a bundle may name any transaction; offline says what online says."""
    s = kit.scenario
    other_tx = s.world.reg.trust.recognize(s.world.th, "MY", 1).tx_hash
    cpr = kit.checkpointer()
    offline = kit.verifier(kit.pack(cpr), kit.pins(cpr))
    good = s.bundles[0]
    for change in (
        {"transaction_hash": other_tx},
        {"block_hash": "0x" + "ab" * 32},
        {"block_number": good.anchor.block_number + 1},
    ):
        bad = good.model_copy(update={"anchor": good.anchor.model_copy(update=change)})
        online = s.verify(s.docs[0], bad)
        got = offline.verify(s.docs[0], kit.refresh(cpr, bad), "TH")
        assert online.verdict is Decision.INVALID
        assert codes(got)["anchored"] == codes(online)["anchored"], change
