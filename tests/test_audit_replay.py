"""Replay: decoding, folding, digests, point-in-time answers and findings against a scripted history."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from anchor.audit import (
    AuditError,
    AuditSource,
    EventDecoder,
    LogFetcher,
    ResumeStore,
    check_consistency,
    digest,
    find,
    from_canonical,
    replay,
    replay_incremental,
    state_at,
    to_canonical,
)
from anchor.audit.ids import party_raw, party_str
from anchor.audit.snapshot import ACTIVE, REVOKED, SUSPENDED
from anchor.deploy import party_id
from anchor.errors import DeploymentError
from anchor.issuing.leaf import Terms
from anchor.registry import Status
from tests.conftest import World
from tests.registry_helpers import PERMIT, add_consumer, add_issuer, anchor_batch, bit, call
from tests.test_audit_support import Scenario, scenario, world_on

__all__ = ["scenario"]


def _eth_abi_event(inputs: tuple[dict[str, Any], ...], topics: list[bytes], data: bytes) -> list[Any]:
    """The event's fields in ABI order as eth_abi alone decodes them (the reference for the codec)."""
    from eth_abi import decode as abi_decode

    plain = iter(abi_decode([p["type"] for p in inputs if not p.get("indexed")], data))
    indexed = iter(topics[1:])
    return [abi_decode([p["type"]], next(indexed))[0] if p.get("indexed") else next(plain) for p in inputs]


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_the_event_decoder_agrees_with_eth_abi_on_every_log(scenario: Scenario) -> None:
    src = scenario.source
    decoder = EventDecoder(src)
    logs = src.rpc.call(
        "eth_getLogs",
        [
            {
                "fromBlock": hex(src.deploy_block),
                "toBlock": "latest",
                "address": [src.trust_address, src.document_address],
            }
        ],
    )
    assert len(logs) > 50
    for lg in logs:
        ev = decoder.decode(lg, 0)
        assert ev is not None
        abi = src.trust_abi if lg["address"].lower() == src.trust_address else src.document_abi
        ref = _eth_abi_event(
            abi.events[bytes.fromhex(lg["topics"][0][2:])].inputs,
            [bytes.fromhex(t[2:]) for t in lg["topics"]],
            bytes.fromhex(lg["data"][2:]),
        )
        for (name, mine), theirs in zip(decoder.named(ev).items(), ref, strict=True):
            if isinstance(theirs, bytes) and len(theirs) == 8:
                theirs = party_str(theirs)
            elif isinstance(theirs, str):
                theirs = theirs.lower()
            assert mine == theirs, (ev.name, name)


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_two_replays_and_a_resumed_one_have_the_same_digest(scenario: Scenario, tmp_path: Path) -> None:
    src, end = scenario.source, scenario.blocks["end"]
    first = replay(src, end).digest()
    # A tiny chunk size changes every request boundary, never the result.
    second = replay(src, end, fetcher=LogFetcher(src, initial_span=1, max_span=3)).digest()
    assert first == second
    store = ResumeStore(tmp_path / "cp")
    middle = replay_incremental(src, store, scenario.blocks["lifecycle"])
    assert middle.saved is not None and middle.resumed_from is None
    resumed = replay_incremental(src, store, end)
    assert resumed.resumed_from is not None and resumed.resumed_from.block == scenario.blocks["lifecycle"]
    assert resumed.snapshot.digest() == first
    assert resumed.stats.events < resumed.snapshot.events
    # Different states must give different digests.
    assert replay(src, scenario.blocks["backdated"]).digest() != first


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_canonical_form_round_trips(scenario: Scenario) -> None:
    snap = replay(scenario.source, scenario.blocks["end"])
    again = from_canonical(to_canonical(snap))
    assert digest(again) == digest(snap)
    assert again.ca_status_at(scenario.cas["SG2"], snap.block_time) == REVOKED


@pytest.mark.parametrize(
    "label",
    [
        "trust-set-up",
        "anchored",
        "lifecycle",
        "suspension",
        "backdated",
        "recognition",
        "governance",
        "readmitted",
        "readmission",
    ],
)
@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_replay_matches_contract_views_at_historical_blocks(scenario: Scenario, label: str) -> None:
    snap = replay(scenario.source, scenario.blocks[label])
    report = check_consistency(scenario.source, snap)
    assert report.ok, report.mismatches[:5]
    assert not report.sampled and report.entities_checked == report.entities_total
    assert report.calls > 20


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_point_in_time_answers_match_the_contracts_time_queries(scenario: Scenario) -> None:
    """The snapshot at block B answers every "...At(T)" question exactly like the contracts at block B."""
    w, src = scenario.world, scenario.source
    t = w.reg.trust
    for label in ("backdated", "recognition", "governance", "readmitted", "end"):
        block = scenario.blocks[label]
        snap = replay(src, block)
        times = sorted(
            {e.effective_at + k for c in snap.cas.values() for e in c.history for k in (-1, 0, 1)}
            | {e.effective_at + k for i in snap.issuers.values() for e in i.history for k in (-1, 0, 1)}
            | {e.effective_at + k for h in snap.recognition.values() for e in h for k in (-1, 0)}
            | {m.at + k for p in snap.parties.values() for m in p.membership for k in (-1, 0, 1)}
        )
        for when in times:
            for fp in snap.cas:
                assert snap.ca_status_at(fp, when) == t.ca_status_at(fp, when, block=block)
            for account in snap.issuers:
                assert snap.issuer_status_at(account, when) == t.issuer_status_at(account, when, block=block)
            for r in snap.party_order:
                for i in snap.party_order:
                    if r != i:
                        got = t.recognition_at(r, i, when, block=block)
                        assert snap.recognition_at(r, i, when) == got, (label, r, i, when)
            for party in snap.party_order:
                assert snap.is_member_at(party, when) == t.is_member_at(party, when, block=block)
        for issuer, root, leaf in snap.known_documents():
            for when in times[:: max(1, len(times) // 8)]:
                chain_state = call(w.reg.documents, "documentStateAt", issuer, root, leaf, when)
                assert list(snap.document_state_at(issuer, root, leaf, when)) == list(chain_state)


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_state_at_time_sees_backdated_changes_only_once_recorded(scenario: Scenario) -> None:
    src = scenario.source
    fp = "0x" + scenario.cas["SG2"].hex()
    when = scenario.times["ca-revoked"] - 100  # inside the backdated window
    before = state_at(replay(src, src.block_at_time(when)), when)
    after = state_at(replay(src, scenario.blocks["end"]), when)
    status = {c["fingerprint"]: c["status"] for c in before["cas"]}
    assert status[fp] == "active"
    assert {c["fingerprint"]: c["status"] for c in after["cas"]}[fp] == "revoked"
    assert after["documents"]["consumed"] == 2 and after["documents"]["endorsed"] == 2
    assert set(after["members"]) == {"SG", "TH", "MY"}
    assert after["recognition"]["TH"]["SG"] == ["cites-permit"]


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_consistency_reports_a_tampered_snapshot(scenario: Scenario) -> None:
    src = scenario.source
    snap = replay(src, scenario.blocks["end"])
    fp = scenario.cas["TH1"]
    snap.cas[fp].history[1] = dataclasses.replace(
        snap.cas[fp].history[1], effective_at=snap.cas[fp].history[1].effective_at - 5
    )
    a3 = scenario.batches["A3"]
    snap.batches[(a3.issuer.address.lower(), a3.root)].size += 1
    snap.threshold += 1
    report = check_consistency(src, snap)
    calls = {m.call.split("(")[0] for m in report.mismatches}
    assert {"caHistory", "caStatusAt", "batch", "threshold"} <= calls
    found = find(snap, consistency=report)
    assert found[0].severity == "critical" and found[0].kind == "consistency-mismatch"


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_consistency_sample_is_reproducible_and_stated(scenario: Scenario) -> None:
    src = scenario.source
    snap = replay(src, scenario.blocks["end"])
    a = check_consistency(src, snap, sample=3)
    b = check_consistency(src, snap, sample=3)
    assert a.sampled and a.document_entities_checked == 3 and a.seed == b.seed and a.calls == b.calls
    assert a.document_entities_total == len(snap.batches) + len(snap.known_documents())
    assert "random sample of 3" in a.describe()
    c = check_consistency(src, snap, sample=3, seed=a.seed + 1)  # type: ignore[operator]
    assert c.ok and c.seed == a.seed + 1  # type: ignore[operator]
    limited = check_consistency(src, snap, full_limit=4)
    assert limited.sampled and limited.document_entities_checked == 4


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_findings_explain_backdating_suspension_and_governance(scenario: Scenario) -> None:
    snap = replay(scenario.source, scenario.blocks["end"])
    found = find(snap, window=3600)
    kinds = [f.kind for f in found]
    assert "consumed-without-recognition" not in kinds and "event-inconsistency" not in kinds
    revoked = next(f for f in found if f.kind == "backdated-revocation")
    assert revoked.subject == "0x" + scenario.cas["SG2"].hex()
    assert 400 <= revoked.details["backdatedSeconds"] <= 402  # the clock may tick before the tx
    roots = {row["root"] for row in revoked.impact}
    assert {row["issuer"] for row in revoked.impact} == {scenario.issuers["B"].address.lower()}
    assert roots == {"0x" + scenario.batches["B1"].root.hex()}
    assert all(row["inBackdatedWindow"] for row in revoked.impact)
    suspended = next(f for f in found if f.kind == "backdated-suspension")
    assert suspended.subject == "0x" + scenario.cas["TH1"].hex()
    assert 20 <= suspended.details["backdatedSeconds"] <= 22
    early = next(f for f in found if f.kind == "anchored-before-suspension")
    assert early.subject == scenario.issuers["A"].address.lower()
    assert "0x" + scenario.batches["A3"].root.hex() in {row["root"] for row in early.impact}
    assert all(row["secondsBefore"] <= 3600 for row in early.impact)
    narrow = [f for f in find(snap, window=30) if f.kind == "anchored-before-suspension"]
    assert not narrow  # A3 was anchored 60 s before the suspension
    gov = [f for f in found if f.kind == "governance-execution"]
    assert [f.details["kind"] for f in gov] == [
        "add-party",
        "remove-party",
        "set-threshold",
        "add-party",
        "set-one-time-types",
    ]
    lapsed = gov[2]
    assert lapsed.details["approvalsCounted"] == ["TH", "SG"] and lapsed.details["approvalsLapsed"] == ["MY"]
    assert lapsed.details["thresholdAtExecution"] == 2
    removal = gov[1]
    assert removal.details["issuersRevoked"] == [scenario.issuers["D"].address.lower()]
    assert removal.details["consumersRevoked"] == [scenario.accounts["MY-consumer"].address.lower()]
    assert removal.details["recognitionsEnded"] == ["MY->SG", "TH->MY"]
    assert removal.details["adminChangesClosed"] == []
    # MY approved before it left and again once readmitted: only the second approval counted.
    one_time = gov[-1]
    assert one_time.details["approvalsCounted"] == ["MY", "SG", "TH"]
    assert one_time.details["approvalsLapsed"] == ["MY"] and one_time.details["docTypes"] == [
        "cites-permit",
        "cites-certificate",
    ]
    assert [row["counted"] for row in one_time.impact] == [False, True, True, True]
    admin = [f for f in found if f.kind == "admin-change"]
    assert [f.details["change"] for f in admin] == [1, 2, 3] and all(f.severity == "info" for f in admin)
    assert not [f for f in found if f.kind.startswith(("ca-", "root-"))]
    assert all(f.explanation for f in found)
    assert [f.severity for f in found] == sorted(
        (f.severity for f in found), key=["critical", "warning", "info"].index
    )


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_fold_state_details(scenario: Scenario) -> None:
    snap = replay(scenario.source, scenario.blocks["end"])
    w = scenario.world
    assert snap.party_order == ["SG", "TH", "MY", "ID"]
    assert snap.parties["MY"].member and snap.member_count == 4 and snap.threshold == 3
    assert [m.member for m in snap.parties["MY"].membership] == [True, False, True]
    assert snap.admin_party[w.th.address.lower()] == ""
    a = snap.issuers[scenario.issuers["A"].address.lower()]
    assert [e.status for e in a.history] == [ACTIVE, SUSPENDED, ACTIVE]
    assert snap.issuer_auth[a.account].active
    b0 = snap.batches[(scenario.issuers["B"].address.lower(), scenario.batches["B0"].root)]
    assert b0.revoked_at and b0.revoke_reason == 1 and b0.party == "SG"
    assert b0.revoked_by == w.sg.address.lower()
    a0 = scenario.batches["A0"]
    # Use is kept per leaf, naming the batch it went through; nothing about it is kept per document.
    consumed = snap.usage[a0.leaf(1)]
    assert consumed.consumed_by == "TH" and consumed.consumed_at == scenario.times["consumed"]
    assert consumed.consumer_account == scenario.accounts["TH-consumer"].address.lower()
    assert consumed.consumed_batch == (a0.issuer.address.lower(), a0.root)
    assert (a0.issuer.address.lower(), a0.root, a0.leaf(1)) not in snap.documents
    assert len(snap.batches) == 14
    # Endorsements: 3 + 2, then consume() endorses the remaining 5; the other document 3 of 8.
    q0 = scenario.batches["Q0"]
    used = snap.usage[q0.leaf(0)]
    assert [e.amount for e in used.endorsements] == [3, 2, 5] and used.endorsed == used.quantity == 10
    assert used.consumed_at == used.endorsements[-1].time
    assert used.batches == [(q0.issuer.address.lower(), q0.root)]
    partial = snap.usage[q0.leaf(1)]
    assert (partial.endorsed, partial.quantity, partial.consumed_at) == (3, 8, 0)
    # Every document the history names: revoked A1/0, superseded A0/2, and the three used leaves.
    assert set(snap.known_documents()) == {
        (a0.issuer.address.lower(), a0.root, a0.leaf(1)),
        (a0.issuer.address.lower(), a0.root, a0.leaf(2)),
        (a0.issuer.address.lower(), scenario.batches["A1"].root, scenario.batches["A1"].leaf(0)),
        (q0.issuer.address.lower(), q0.root, q0.leaf(0)),
        (q0.issuer.address.lower(), q0.root, q0.leaf(1)),
    }
    # MY's removal ended the recognitions given to it and by it (TH->MY, MY->SG), in the history.
    ended = {(r, i): h[-1] for (r, i), h in snap.recognition.items() if any(e.ended_by for e in h)}
    assert set(ended) == {("TH", "MY"), ("MY", "SG")}
    th_my = snap.recognition[("TH", "MY")]
    assert [(e.doc_types, e.ended_by) for e in th_my] == [(bit(PERMIT), ""), (0, "MY")]
    removed_at = snap.parties["MY"].membership[1].at
    assert th_my[-1].effective_at == th_my[-1].recorded_at == removed_at
    # Recognized anew after the readmission: from nothing, not from the mask before the removal.
    my_sg = snap.recognition[("MY", "SG")]
    assert [(e.old_doc_types, e.doc_types, e.ended_by) for e in my_sg[-2:]] == [
        (bit(PERMIT), 0, "MY"),
        (0, bit(PERMIT), ""),
    ]
    # MY's removal revoked its issuer for good (reason 255) and dropped its consumer; readmission
    # restored neither, and the consumer was granted afresh.
    d = snap.issuers[scenario.issuers["D"].address.lower()]
    assert d.status == REVOKED and d.history[-1].reason == 255
    my_consumer = scenario.accounts["MY-consumer"].address.lower()
    assert [c.added for c in snap.parties["MY"].consumer_changes] == [True, False, True]
    assert snap.consumer_party[my_consumer] == "MY" and snap.parties["MY"].consumers == [my_consumer]
    assert snap.one_time_types == 0b11 and [c.new for c in snap.one_time_history] == [1, 0b11]
    # TH's admin changes: two additions and a removal executed, one cancelled, one pending.
    changes = snap.admin_proposals
    assert [(c.executed, c.cancelled) for c in changes.values()] == [
        (True, False),
        (True, False),
        (True, False),
        (False, True),
        (False, False),
    ]
    # Removing the founding admin moved the last one into its place, as the contract's array does.
    assert snap.parties["TH"].admins == [
        scenario.accounts["TH-admin-2"].address.lower(),
        scenario.accounts["TH-admin"].address.lower(),
    ]
    assert all(c.certificate and c.proof for c in snap.cas.values())


def test_party_ids_are_lossless() -> None:
    assert party_str(party_id("SG")) == "SG"
    odd = b"sg\x00x\x00\x00\x00\x00"
    assert party_str(odd).startswith("0x") and party_raw(party_str(odd)) == odd
    assert party_raw("SG") == party_id("SG")


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_replay_refuses_bad_targets(scenario: Scenario) -> None:
    src = scenario.source
    with pytest.raises(AuditError, match="does not exist"):
        replay(src, src.head() + 1000)
    snap = replay(src, scenario.blocks["anchored"])
    with pytest.raises(AuditError, match="backwards"):
        replay(src, scenario.blocks["deployed"], start=snap)
    with pytest.raises(AuditError, match="before the registries were deployed"):
        src.check_block(src.deploy_block - 1)
    with pytest.raises(AuditError, match="before the registries were deployed"):
        src.block_at_time(1)
    with pytest.raises(AuditError, match="depth"):
        src.target_block(-1)


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_source_refuses_the_wrong_chain_or_code(scenario: Scenario) -> None:
    m = scenario.world.reg.manifest
    wrong_chain = dataclasses.replace(m, chain_id=m.chain_id + 1)
    with pytest.raises(DeploymentError, match="chain id"):
        AuditSource(scenario.source.rpc, wrong_chain).verify()
    wrong_code = dataclasses.replace(
        m, trust_registry=dataclasses.replace(m.trust_registry, code_hash="0x" + "00" * 32)
    )
    with pytest.raises(DeploymentError, match="code hash"):
        AuditSource(scenario.source.rpc, wrong_code).verify()


@pytest.mark.parity
def test_replay_on_both_backends(world: World) -> None:
    """The embedded chain's logs carry no block timestamp: headers are fetched instead."""
    issuer = add_issuer(world, world.sg, 5, bit(PERMIT))
    batch = anchor_batch(world, issuer, 3, terms=Terms("TH", quantity=4, unit="PCS"))
    world.reg.trust.recognize(world.th, "SG", bit(PERMIT))
    consumer = add_consumer(world, world.th, 9)
    world.reg.documents.endorse(consumer, batch.proof(0), batch.opening(0), 1)
    world.reg.documents.consume(consumer, batch.proof(1), batch.opening(1))
    world.reg.trust.revoke_issuer(world.sg, issuer.address)
    src = AuditSource.from_chain(world.chain, world.reg.manifest)
    snap = replay(src, src.head())
    assert snap.batches[(issuer.address.lower(), batch.root)].anchored_at == batch.anchored_at
    assert snap.issuer_status_at(issuer.address.lower(), snap.block_time) == int(Status.REVOKED)
    report = check_consistency(src, snap)
    assert report.ok, report.mismatches[:5]


def test_world_on_helper_deploys(anvil_url: str) -> None:
    from anchor.chain import connect
    from anchor.config import ChainConfig
    from tests.conftest import MNEMONIC

    w = world_on(connect(ChainConfig(backend="rpc", rpc_url=anvil_url, mnemonic=MNEMONIC)))
    snap = replay(AuditSource.from_chain(w.chain, w.reg.manifest), w.chain.block_number())
    assert snap.party_order == ["SG", "TH", "MY"] and snap.threshold == 2


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_the_codec_matches_eth_abi_on_every_consistency_call(scenario: Scenario) -> None:
    from eth_abi import decode as abi_decode
    from eth_abi import encode as abi_encode

    from anchor._internal.abi import _structured
    from anchor.audit.consistency import _Checks

    src = scenario.source
    snap = replay(src, scenario.blocks["end"])
    checks = _Checks(src, snap)
    items = list(checks.trust_registry())
    items += [c for key in snap.batches for c in checks.batch(key)]
    items += [c for key in snap.known_documents() for c in checks.document(key)]
    names = {fn.name for _, _, fn, _, _ in items}
    assert {
        "batch",
        "caHistory",
        "proposal",
        "document",
        "anchoringValidAt",
        "parties",
        "adminChange",
        "consumers",
        "consumerParty",
        "roleOf",
        "caId",
        "oneTimeDocTypes",
        "recognizesIssuerAt",
    } <= names
    for _, _, fn, args, _ in items:
        assert fn.encode(*args) == fn.selector + abi_encode(fn.input_types, args), fn.name
    answers = src.eth_calls([(to, fn.encode(*args)) for _, to, fn, args, _ in items], snap.block)
    for (_, _, fn, _, _), raw in zip(items, answers, strict=True):
        ref = [_structured(p, v) for p, v in zip(fn.outputs, abi_decode(fn.output_types, raw), strict=True)]
        assert fn.decode(raw) == (ref[0] if len(ref) == 1 else tuple(ref)), fn.name


def test_durations_read_like_plain_language() -> None:
    from anchor.audit.findings import human_seconds

    assert human_seconds(1) == "1 second" and human_seconds(400) == "400 seconds"
    assert (
        human_seconds(180) == "3 minutes"
        and human_seconds(86_400) == "1 day"
        and human_seconds(7_200) == "2 hours"
    )
    assert human_seconds(9_000) == "about 2.5 hours"


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_observations_survive_the_canonical_round_trip(scenario: Scenario) -> None:
    """Several observations of one event (here two contradictions) keep distinct canonical keys."""
    from anchor.audit import Fold
    from anchor.audit.events import Event

    snap = replay(scenario.source, scenario.blocks["governance"])
    fold = Fold(snap)
    # A forged execution of an executed proposal, with an impossible approval count.
    fold.apply(Event(snap.block + 1, 0, snap.block_time, "0x" + "00" * 32, "ProposalExecuted", (1, 0)))
    fold.apply(
        Event(
            snap.block + 1,
            1,
            snap.block_time,
            "0x" + "00" * 32,
            "RecognitionChanged",
            ("TH", "SG", 5, 1, snap.block_time),
        )
    )
    assert len(snap.observations) == 3
    again = from_canonical(to_canonical(snap))
    assert len(again.observations) == 3 and digest(again) == digest(snap)
    found = find(again)
    assert [f.kind for f in found if f.severity == "critical"] == ["event-inconsistency"] * 3
    assert "replay counts" in found[0].title


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_recognition_changes_the_contract_refuses_are_reported(scenario: Scenario) -> None:
    """_setRecognition and _expel's rules, checked on forged events: a change before an admission or for
    a party that is not a member, and a removal that leaves a recognition to or from the party standing."""
    from anchor.audit import Fold
    from anchor.audit.events import Event

    snap = replay(scenario.source, scenario.blocks["end"])
    now, tx = snap.block_time, "0x" + "0e" * 32
    readmitted = snap.parties["MY"].membership[-1].at
    last = snap.last_recognition("SG", "MY")
    fold = Fold(snap)
    fold.apply_all(
        [
            # Effective before MY's current admission: the contract refuses it.
            Event(snap.block + 1, 0, now, tx, "RecognitionChanged", ("SG", "MY", last, 1, readmitted - 1)),
            # Removal of ID (which nobody recognizes) in one transaction, then TH recognizes it anyway.
            Event(snap.block + 2, 0, now, "0x" + "01" * 32, "PartyRemoved", ("ID", 9)),
            Event(snap.block + 3, 0, now, "0x" + "02" * 32, "RecognitionChanged", ("TH", "ID", 0, 1, now)),
            # SG is removed, but its recognitions (TH->SG, MY->SG) are not ended in that transaction.
            Event(snap.block + 4, 0, now, "0x" + "03" * 32, "PartyRemoved", ("SG", 10)),
        ]
    )
    messages = [o.details["message"] for o in snap.observations]
    assert len(messages) == 3, messages
    assert "SG->MY recognition effective" in messages[0] and "before the admission" in messages[0]
    assert messages[1] == "TH->ID recognition changed while one of them was not a member"
    assert messages[2].startswith("the removal of SG left recognitions it should have ended: ")
    assert "MY->SG" in messages[2] and "TH->SG" in messages[2]
    assert all(o.kind == "event-inconsistency" for o in snap.observations)


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_a_consumption_without_recognition_would_be_reported(scenario: Scenario) -> None:
    """The contract refuses it, so the history cannot show one: fold a forged event to see the finding."""
    from anchor.audit import Fold
    from anchor.audit.events import Event

    snap = replay(scenario.source, scenario.blocks["end"])
    batch = scenario.batches["A2"]
    issuer = batch.issuer.address.lower()
    forged = Event(
        snap.block + 1, 0, snap.block_time, "0x" + "ab" * 32, "DocumentConsumed",
        (batch.root, batch.leaf(3), "ID", issuer, scenario.world.account(8).address.lower()),
    )  # fmt: skip
    Fold(snap).apply(forged)
    finding = next(f for f in find(snap) if f.kind == "consumed-without-recognition")
    assert finding.severity == "critical" and "did not recognize the issuer" in finding.title
    assert "was consumed by ID" in finding.title and "not a consumer account of ID" in finding.title
    assert finding.details["consumer"] == "ID" and finding.details["tx"] == "0x" + "ab" * 32
    assert finding.subject == f"{issuer}/0x{batch.root.hex()}/0x{batch.leaf(3).hex()}"


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_admins_at_a_time_match_the_contract_at_the_last_block_of_that_time(scenario: Scenario) -> None:
    src, end = scenario.source, scenario.blocks["end"]
    snap = replay(src, end)
    trust = scenario.world.reg.trust
    changed = [c for p in snap.parties.values() for c in p.admin_changes if not c.added]
    assert changed  # the scenario removes an admin: the history is not just the founding one
    for label in ("recognition", "governance", "readmitted", "end"):
        when = src.require_header(scenario.blocks[label]).time
        block = src.block_at_time(when, upper=end)
        for p in state_at(snap, when)["parties"]:
            # The contract keeps admins in swap-and-pop order; the history keeps them in order added.
            on_chain = sorted(a.lower() for a in trust.admins(p["party"], block))
            assert sorted(p["admins"]) == on_chain, (label, p["party"])
    # A second before TH first changed its admins, its founding admin alone.
    before = min(c.at for c in snap.parties["TH"].admin_changes[1:]) - 1
    th_before = state_at(snap, before)["parties"]
    th = next(p for p in th_before if p["party"] == "TH")
    assert th["admins"] == [scenario.world.th.address.lower()]
    assert th["adminsAtKnownBlock"] != th["admins"]
