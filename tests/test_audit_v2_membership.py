"""Membership semantics of the v2 trust registry, as the replay must mirror them: a removed party loses
its admins, consumers and issuers; readmission restores none of them; recognitions and proposal
approvals given in an earlier membership (of either party) do not count in a later one."""

from __future__ import annotations

from anchor.accounts import dev_account
from anchor.audit import AuditSource, check_consistency, find, replay, state_at
from anchor.audit.snapshot import REVOKED
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
)
from tests.test_audit_support import new_world, real_ca


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
    assert snap.recognition_at("SG", "MY", removed_at) == 0  # MY not a member then
    # recognize() adds to the last mask of the history, even one from an earlier membership: recognizing
    # PERMIT again brings back CERTIFICATE too (what the contract does; the replay follows its events).
    assert snap.recognition_at("MY", "SG", snap.block_time) == bit(PERMIT, CERTIFICATE)
    assert snap.recognition[("MY", "SG")][-1].old_doc_types == bit(PERMIT, CERTIFICATE)
    assert snap.recognition_at("SG", "MY", snap.block_time) == bit(PERMIT, CERTIFICATE)
    assert snap.recognition_at("TH", "MY", snap.block_time) == 0  # given in MY's first membership
    issuer = snap.issuers[d.address.lower()]
    assert issuer.status == REVOKED and issuer.history[-1].reason == 255
    assert not snap.anchoring_valid_at(issuer.account, snap.block_time)
    assert snap.parties["MY"].admins == [my2.address.lower()] and snap.parties["MY"].consumers == []
    assert snap.admin_party[w.my.address.lower()] == "" and snap.role_of(w.my.address.lower()) == (0, "")
    # MY approved the pending proposal twice, once per membership: only the second counts.
    q = snap.proposals[pending]
    assert [a.epoch for a in q.approvals] == [1, 3] and snap.counted_approvals(q) == ["MY"]
    view = state_at(snap, snap.block_time)
    assert view["recognition"]["TH"]["MY"] == [] and view["recognition"]["SG"]["MY"] == [
        "cites-permit",
        "cites-certificate",
    ]
    removal = next(
        f for f in find(snap) if f.kind == "governance-execution" and f.details["kind"] == "remove-party"
    )
    assert removal.details["issuersRevoked"] == [d.address.lower()]
    assert removal.details["consumersRevoked"] == [dev_account(MNEMONIC, 10).address.lower()]


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
