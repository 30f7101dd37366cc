"""Membership semantics of the v2 trust registry, as the replay must mirror them: a removed party loses
its admins, consumers and issuers; readmission restores none of them; its removal ends every recognition
given to it and by it (RecognitionChanged to 0, in the history), so a later recognize starts from nothing;
proposal approvals given in an earlier membership do not count in a later one, and admin changes
proposed in an earlier membership are closed."""

from __future__ import annotations

import pytest

from anchor.accounts import dev_account
from anchor.audit import AuditSource, Fold, check_consistency, find, replay, state_at
from anchor.audit.events import Event
from anchor.audit.snapshot import REVOKED
from anchor.audit.tables import build_tables
from anchor.registry import ProposalKind, Status
from tests.conftest import MNEMONIC, advance_time
from tests.registry_helpers import (
    CERTIFICATE,
    PERMIT,
    add_consumer,
    add_issuer,
    anchor_batch,
    bit,
    funded,
    reverts,
)
from tests.test_audit_support import new_world, real_ca


@pytest.mark.devchain("evm_increaseTime")
def test_remove_readmit_and_recognize_again_agree_with_the_contract(anvil_url: str) -> None:
    w = new_world(anvil_url)
    t = w.reg.trust
    src = AuditSource.connect(anvil_url, w.reg.manifest)
    blocks: dict[str, int] = {}
    d = add_issuer(w, w.my, 14, bit(PERMIT), ca=real_ca(w, w.my, bit(PERMIT)))
    add_consumer(w, w.my, 10)
    anchor_batch(w, d, 2)
    t.recognize(w.sg, "MY", bit(PERMIT))
    t.recognize(w.my, "SG", bit(PERMIT, CERTIFICATE))
    t.recognize(w.th, "MY", bit(PERMIT))
    # A proposal MY approves before it leaves, still open when it comes back.
    pending, _ = t.propose(w.my, ProposalKind.SET_ONE_TIME_TYPES, doc_types=bit(PERMIT, CERTIFICATE))
    # An admin change MY proposes and leaves pending: its removal closes it for good.
    my_change, _ = t.propose_admin_change(w.my, funded(w, 16).address, True)
    blocks["before"] = w.chain.block_number()
    advance_time(w.chain, 50)
    remove, _ = t.propose(w.sg, ProposalKind.REMOVE_PARTY, "MY")
    t.approve(w.th, remove)
    t.execute(w.sg, remove)
    blocks["removed"] = w.chain.block_number()
    advance_time(w.chain, 50)
    my2 = funded(w, 13)
    readmit, _ = t.propose(w.sg, ProposalKind.ADD_PARTY, "MY", my2.address)
    t.approve(w.th, readmit)
    t.execute(w.th, readmit)
    blocks["readmitted"] = w.chain.block_number()
    # Nothing came back: the old recognitions read as none, the issuer stays revoked, no consumer.
    now = w.now()
    assert t.recognition_at("SG", "MY", now) == t.recognition_at("MY", "SG", now) == 0
    assert t.issuer_status_at(d.address, now) == Status.REVOKED and t.consumers("MY") == []
    assert t.proposal(pending).approvals == 0
    for name, op in {
        "approve": lambda: t.approve_admin_change(my2, my_change),
        "execute": lambda: t.execute_admin_change(my2, my_change),
        "cancel": lambda: t.cancel_admin_change(my2, my_change),
    }.items():
        with reverts("AdminChangeClosed", changeId=my_change, _what=name):
            op()
    advance_time(w.chain, 30)
    # Recognized anew, from the readmission on (not earlier: the contract refuses that).
    readmitted_at = int(w.chain.block(blocks["readmitted"])["timestamp"])
    t.recognize(my2, "SG", bit(PERMIT), readmitted_at)
    t.recognize(w.sg, "MY", bit(CERTIFICATE))
    t.approve(my2, pending)
    blocks["again"] = w.chain.block_number()
    advance_time(w.chain, 10)
    blocks["end"] = w.chain.block_number()

    for label, block in blocks.items():
        snap = replay(src, block)
        report = check_consistency(src, snap)
        assert report.ok, (label, report.mismatches[:5])
        assert not [f for f in find(snap, consistency=report) if f.severity == "critical"], label
        times = sorted(
            {m.at + k for p in snap.parties.values() for m in p.membership for k in (-1, 0, 1)}
            | {e.effective_at + k for h in snap.recognition.values() for e in h for k in (-1, 0, 1)}
            | {snap.block_time}
        )
        for when in times:
            for r in snap.party_order:
                for i in snap.party_order:
                    if r != i:
                        assert snap.recognition_at(r, i, when) == t.recognition_at(r, i, when, block=block), (
                            label,
                            r,
                            i,
                            when,
                        )
        for q in snap.proposals.values():
            assert snap.current_approvals(q) == t.proposal(q.id, block=block).approvals, (label, q.id)

    snap = replay(src, blocks["end"])
    removed_at = snap.parties["MY"].membership[1].at
    assert snap.recognition_at("SG", "MY", removed_at - 1) == bit(PERMIT)
    assert snap.recognition_at("SG", "MY", removed_at) == 0  # ended by MY's removal
    # The removal ended every recognition given to MY and by it, each with its own change to 0.
    for pair, before in {
        ("SG", "MY"): bit(PERMIT),
        ("MY", "SG"): bit(PERMIT, CERTIFICATE),
        ("TH", "MY"): bit(PERMIT),
    }.items():
        ending = next(e for e in snap.recognition[pair] if e.ended_by)
        assert (ending.old_doc_types, ending.doc_types, ending.ended_by) == (before, 0, "MY"), pair
        assert ending.effective_at == ending.recorded_at == removed_at
    # recognize() starts from the last recorded mask, 0 after the ending: recognizing PERMIT again does
    # not bring back CERTIFICATE.
    assert snap.recognition_at("MY", "SG", snap.block_time) == bit(PERMIT)
    assert snap.recognition[("MY", "SG")][-1].old_doc_types == 0
    assert snap.recognition_at("SG", "MY", snap.block_time) == bit(CERTIFICATE)
    assert snap.recognition_at("TH", "MY", snap.block_time) == 0  # given in MY's first membership
    assert snap.last_recognition("TH", "MY") == 0
    issuer = snap.issuers[d.address.lower()]
    assert issuer.status == REVOKED and issuer.history[-1].reason == 255
    assert not snap.anchoring_valid_at(issuer.account, snap.block_time)
    assert snap.parties["MY"].admins == [my2.address.lower()] and snap.parties["MY"].consumers == []
    assert snap.admin_party[w.my.address.lower()] == "" and snap.role_of(w.my.address.lower()) == (0, "")
    # MY approved the pending proposal twice, once per membership: only the second counts.
    q = snap.proposals[pending]
    assert [a.epoch for a in q.approvals] == [1, 3] and snap.counted_approvals(q) == ["MY"]
    view = state_at(snap, snap.block_time)
    assert view["recognition"]["TH"]["MY"] == [] and view["recognition"]["SG"]["MY"] == ["cites-certificate"]
    assert view["recognition"]["MY"]["SG"] == ["cites-permit"]
    removal = next(
        f for f in find(snap) if f.kind == "governance-execution" and f.details["kind"] == "remove-party"
    )
    assert removal.details["issuersRevoked"] == [d.address.lower()]
    assert removal.details["consumersRevoked"] == [dev_account(MNEMONIC, 10).address.lower()]
    assert removal.details["recognitionsEnded"] == ["SG->MY", "MY->SG", "TH->MY"]
    assert removal.details["adminChangesClosed"] == [my_change]
    # The admin change MY proposed before its removal: closed, in the model, the views and the report.
    change = snap.admin_proposals[my_change]
    assert not change.executed and not change.cancelled and change.expires_at > snap.block_time
    assert snap.admin_change_closed_by_removal(change, snap.block_time)
    assert not snap.admin_change_open(change, snap.block_time)
    assert snap.admin_change_outcome(change, snap.block_time) == "closed-by-removal"
    before_removal = snap.parties["MY"].membership[1].at - 1
    assert snap.admin_change_outcome(change, before_removal) == "pending"
    assert [c["closedByRemoval"] for c in view["adminChanges"] if c["id"] == my_change] == [True]
    assert [c["closedByRemoval"] for c in state_at(snap, before_removal)["adminChanges"]] == [False]
    requests = next(x for x in build_tables(snap, [], None) if x.name == "admin_change_requests")
    outcome = requests.columns.index("outcome")
    assert [r[outcome] for r in requests.rows if r[0] == my_change] == [
        "closed: MY was removed after it was proposed"
    ]
    changes = next(x for x in build_tables(snap, [], None) if x.name == "recognition_changes")
    because = changes.columns.index("because")
    assert sorted((r[0], r[1]) for r in changes.rows if r[because] == "MY was removed") == [
        ("MY", "SG"),
        ("SG", "MY"),
        ("TH", "MY"),
    ]
    # Approving, cancelling or executing it now would contradict the contract: a forged event says so.
    tx = "0x" + "ef" * 32
    Fold(snap).apply(
        Event(snap.block + 1, 0, snap.block_time, tx, "AdminChangeApproved", (my_change, my2.address.lower()))
    )
    (forged,) = [f for f in find(snap) if f.kind == "event-inconsistency"]
    assert "closed by its removal" in forged.title


@pytest.mark.devchain("evm_increaseTime")
def test_admin_changes_by_majority_cancelled_and_by_delay(anvil_url: str) -> None:
    w = new_world(anvil_url)
    t = w.reg.trust
    src = AuditSource.connect(anvil_url, w.reg.manifest)
    sg2, sg3 = funded(w, 11), funded(w, 12)
    cid, _ = t.propose_admin_change(w.sg, sg2.address, True)
    t.execute_admin_change(w.sg, cid)  # one admin: a majority of one
    by_delay, _ = t.propose_admin_change(sg2, sg3.address, True)  # 1 of the 2 approvals a majority needs
    cancelled, _ = t.propose_admin_change(w.sg, dev_account(MNEMONIC, 15).address, True)
    t.cancel_admin_change(sg2, cancelled)
    mid = w.chain.block_number()
    assert check_consistency(src, replay(src, mid)).ok
    advance_time(w.chain, t.admin_delay() + 1)
    t.execute_admin_change(w.sg, by_delay)
    removal, _ = t.propose_admin_change(sg3, sg2.address, False)
    t.approve_admin_change(sg2, removal)  # the admin being removed may approve it
    t.execute_admin_change(w.sg, removal)

    snap = replay(src, w.chain.block_number())
    report = check_consistency(src, snap)
    assert report.ok, report.mismatches[:5]
    changes = {f.details["change"]: f for f in find(snap, consistency=report) if f.kind == "admin-change"}
    assert set(changes) == {cid, by_delay, removal}
    assert changes[cid].severity == "info" and changes[removal].severity == "info"
    late = changes[by_delay]
    assert late.severity == "warning" and late.details["byDelay"] and "after its waiting period" in late.title
    # The removed admin's approval counted when the change ran: 2 of the 3 admins then.
    assert changes[removal].details["approvals"] == 2 and changes[removal].details["needed"] == 2
    c = snap.admin_proposals[cancelled]
    assert c.cancelled and c.cancelled_by == sg2.address.lower() and not c.executed
    view = state_at(snap, snap.block_time)
    assert [x["id"] for x in view["adminChanges"] if x["cancelled"]] == [cancelled]
