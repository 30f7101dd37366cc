"""TrustRegistry: governance, CAs, issuer accounts and recognition; every revert path by error name and args.

Every test runs on anvil and on the embedded py-evm chain (the `world` fixture is parametrized).
"""

from __future__ import annotations

from typing import Any

from anchor.deploy import party_id
from anchor.registry import ZERO_ADDRESS, CertificateAuthority, Issuer, ProposalKind, Status, StatusChange
from tests.conftest import World, advance_time
from tests.registry_helpers import (
    CERTIFICATE,
    LIFETIME,
    NOT_AFTER,
    NOT_BEFORE,
    ORIGIN,
    PERMIT,
    PHYTO,
    ZERO8,
    add_ca,
    add_issuer,
    anchor_batch,
    bit,
    call,
    event,
    events,
    pass_proposal,
    rand32,
    reverts,
    tx_time,
)

ADD = ProposalKind.ADD_PARTY
REMOVE = ProposalKind.REMOVE_PARTY
SET = ProposalKind.SET_THRESHOLD
A, S, R = Status.ACTIVE, Status.SUSPENDED, Status.REVOKED


# ====================================================================== deployment and founding state


def test_founding_state(world: World) -> None:
    t = world.reg.trust
    assert t.parties() == ["SG", "TH", "MY"]
    assert t.threshold() == 2
    assert call(t, "memberCount") == 3
    assert call(t, "proposalLifetime") == LIFETIME
    assert call(t, "documentRegistry").lower() == world.reg.documents.address.lower()
    assert call(world.reg.documents, "trustRegistry").lower() == t.address.lower()
    assert t.proposal_count() == 0
    for admin, code in ((world.sg, "SG"), (world.th, "TH"), (world.my, "MY")):
        assert t.admins(code) == [admin.address]
        assert t.admin_party(admin.address) == code
        assert t.is_member(code)
    assert t.admin_party(world.account(9).address) == ""
    assert not t.is_member("XX")
    assert not t.is_member_at("SG", 0)


def test_constructors_reject_bad_founding_setups(world: World) -> None:
    trust_abi, doc_abi = world.chain.abis
    a1, a2 = world.account(4).address, world.account(5).address
    sg, th = party_id("SG"), party_id("TH")
    doc = world.reg.documents.address
    cases: list[tuple[str, dict[str, Any], tuple[Any, ...]]] = [
        ("ZeroAddress", {}, ([sg], [a1], 1, 3600, ZERO_ADDRESS)),
        ("InvalidThreshold", {"threshold": 1, "members": 0}, ([], [], 1, 3600, doc)),
        ("InvalidThreshold", {"threshold": 1, "members": 2}, ([sg, th], [a1], 1, 3600, doc)),
        ("InvalidThreshold", {"threshold": 0, "members": 2}, ([sg, th], [a1, a2], 0, 3600, doc)),
        ("InvalidThreshold", {"threshold": 3, "members": 2}, ([sg, th], [a1, a2], 3, 3600, doc)),
        ("InvalidPartyId", {"party": ZERO8}, ([ZERO8], [a1], 1, 3600, doc)),
        ("PartyAlreadyMember", {"party": "SG"}, ([sg, sg], [a1, a2], 1, 3600, doc)),
        ("AccountAlreadyAdmin", {"account": a1, "party": "SG"}, ([sg, th], [a1, a1], 1, 3600, doc)),
        ("ZeroAddress", {}, ([sg], [ZERO_ADDRESS], 1, 3600, doc)),
    ]
    for error, args, ctor in cases:
        with reverts(error, args, _what=f"TrustRegistry{ctor[:3]}"):
            world.chain.transact(world.deployer, None, trust_abi.encode_constructor(*ctor))
    with reverts("InvalidRoot", _what="DocumentRegistry(0x0)"):
        world.chain.transact(world.deployer, None, doc_abi.encode_constructor(ZERO_ADDRESS))


# ====================================================================== governance


def test_non_admin_cannot_act(world: World) -> None:
    t = world.reg.trust
    stranger = world.account(9)
    fp = add_ca(world, world.sg)
    issuer = add_issuer(world, world.sg, 4, ca=fp)
    pid, _ = t.propose(world.sg, SET, threshold=1)
    ops = {
        "propose": lambda: t.propose(stranger, SET, threshold=1),
        "approve": lambda: t.approve(stranger, pid),
        "execute": lambda: t.execute(stranger, pid),
        "addAdmin": lambda: t.add_admin(stranger, world.account(8).address),
        "removeAdmin": lambda: t.remove_admin(stranger, world.sg.address),
        "addCA": lambda: t.add_ca(stranger, rand32(), NOT_BEFORE, NOT_AFTER, 1),
        "suspendCA": lambda: t.suspend_ca(stranger, fp),
        "resumeCA": lambda: t.resume_ca(stranger, fp),
        "revokeCA": lambda: t.revoke_ca(stranger, fp),
        "authorizeIssuer": lambda: t.authorize_issuer(stranger, world.account(8).address, fp, 1),
        "suspendIssuer": lambda: t.suspend_issuer(stranger, issuer.address),
        "resumeIssuer": lambda: t.resume_issuer(stranger, issuer.address),
        "revokeIssuer": lambda: t.revoke_issuer(stranger, issuer.address),
        "recognize": lambda: t.recognize(stranger, "SG", 1),
        "unrecognize": lambda: t.unrecognize(stranger, "SG", 1),
    }
    for name, op in ops.items():
        with reverts("NotPartyAdmin", account=stranger, _what=name):
            op()
    # An issuer account is not an admin either.
    with reverts("NotPartyAdmin", account=issuer.account):
        t.propose(issuer.account, SET, threshold=1)


def test_add_party_by_proposal(world: World) -> None:
    t = world.reg.trust
    newbie = world.account(4)
    pid, r = t.propose(world.sg, ADD, "ID", newbie.address)
    created_at = tx_time(world, r)
    assert pid == 1 == t.proposal_count()
    assert event(world, r, "ProposalCreated") == {
        "proposalId": pid,
        "kind": ADD,
        "proposer": party_id("SG"),
        "party": party_id("ID"),
        "account": newbie.address,
        "threshold": 0,
        "expiresAt": created_at + LIFETIME,
    }
    # The proposer's party approves at once.
    assert event(world, r, "ProposalApproved") == {"proposalId": pid, "party": party_id("SG")}
    p = t.proposal(pid)
    assert (p.kind, p.party, p.account, p.proposer, p.approvals, p.executed) == (
        ADD,
        "ID",
        newbie.address,
        "SG",
        1,
        False,
    )
    assert (p.created_at, p.expires_at) == (created_at, created_at + LIFETIME)
    assert call(t, "hasApproved", pid, party_id("SG"))
    assert not call(t, "hasApproved", pid, party_id("TH"))

    r = t.approve(world.th, pid)
    assert event(world, r, "ProposalApproved") == {"proposalId": pid, "party": party_id("TH")}
    assert t.proposal(pid).approvals == 2
    assert not t.is_member("ID")

    r = t.execute(world.my, pid)  # any member admin may execute, not only an approver
    assert event(world, r, "ProposalExecuted") == {"proposalId": pid, "approvals": 2}
    assert event(world, r, "PartyAdded") == {
        "party": party_id("ID"),
        "admin": newbie.address,
        "proposalId": pid,
    }
    assert event(world, r, "AdminAdded") == {"party": party_id("ID"), "admin": newbie.address}
    assert t.proposal(pid).executed
    assert t.is_member("ID")
    assert t.is_member_at("ID", tx_time(world, r))
    assert not t.is_member_at("ID", tx_time(world, r) - 1)
    assert t.parties() == ["SG", "TH", "MY", "ID"]
    assert call(t, "memberCount") == 4
    assert t.threshold() == 2
    assert t.admins("ID") == [newbie.address]
    assert t.admin_party(newbie.address) == "ID"
    # The new party's admin acts at once.
    add_ca(world, newbie)
    assert len(t.party_cas("ID")) == 1


def test_remove_party_by_proposal_and_removed_admin_can_no_longer_act(world: World) -> None:
    t = world.reg.trust
    my_ca = add_ca(world, world.my)
    my_issuer = add_issuer(world, world.my, 4, ca=my_ca)
    open_pid, _ = t.propose(world.sg, SET, threshold=1)
    advance_time(world.chain, 10)  # anvil gives blocks of the same second the same timestamp
    pid, r = pass_proposal(world, [world.sg, world.th], REMOVE, "MY")
    removed_at = tx_time(world, r)
    assert event(world, r, "PartyRemoved") == {"party": party_id("MY"), "proposalId": pid}
    assert events(world, r, "ThresholdChanged") == []  # 2 of 2 still possible
    assert not t.is_member("MY")
    assert t.is_member_at("MY", removed_at - 1)
    assert not t.is_member_at("MY", removed_at)
    history = call(t, "membershipHistory", party_id("MY"))
    assert [h["member"] for h in history] == [True, False]
    assert history[1]["at"] == removed_at
    assert call(t, "memberCount") == 2
    assert t.threshold() == 2

    ops = {
        "propose": lambda: t.propose(world.my, SET, threshold=1),
        "approve": lambda: t.approve(world.my, open_pid),
        "execute": lambda: t.execute(world.my, open_pid),
        "addAdmin": lambda: t.add_admin(world.my, world.account(8).address),
        "removeAdmin": lambda: t.remove_admin(world.my, world.my.address),
        "addCA": lambda: t.add_ca(world.my, rand32(), NOT_BEFORE, NOT_AFTER, 1),
        "suspendCA": lambda: t.suspend_ca(world.my, my_ca),
        "revokeCA": lambda: t.revoke_ca(world.my, my_ca),
        "authorizeIssuer": lambda: t.authorize_issuer(world.my, world.account(8).address, my_ca, 1),
        "suspendIssuer": lambda: t.suspend_issuer(world.my, my_issuer.address),
        "revokeIssuer": lambda: t.revoke_issuer(world.my, my_issuer.address),
        "recognize": lambda: t.recognize(world.my, "SG", 1),
        "unrecognize": lambda: t.unrecognize(world.my, "SG", 1),
    }
    # The removed party's admins lost their role with it.
    assert [e["admin"] for e in events(world, r, "AdminRemoved")] == [world.my.address]
    assert t.admins("MY") == [] and t.admin_party(world.my.address) == ""
    for name, op in ops.items():
        with reverts("NotPartyAdmin", account=world.my, _what=name):
            op()


def test_set_threshold_by_proposal(world: World) -> None:
    t = world.reg.trust
    pid, r = pass_proposal(world, [world.sg, world.th], SET, threshold=3)
    assert event(world, r, "ThresholdChanged") == {"oldThreshold": 2, "newThreshold": 3, "proposalId": pid}
    assert t.threshold() == 3
    pid2, _ = t.propose(world.sg, SET, threshold=1)
    t.approve(world.th, pid2)
    with reverts("InsufficientApprovals", proposalId=pid2, approvals=2, threshold=3):
        t.execute(world.sg, pid2)
    t.approve(world.my, pid2)
    r = t.execute(world.th, pid2)
    assert event(world, r, "ProposalExecuted") == {"proposalId": pid2, "approvals": 3}
    assert t.threshold() == 1
    # With threshold 1, a single party's proposal executes at once.
    pid3, _ = t.propose(world.my, SET, threshold=2)
    t.execute(world.my, pid3)
    assert t.threshold() == 2


def test_invalid_threshold_proposals(world: World) -> None:
    for bad in (0, 4, 65535):
        with reverts("InvalidThreshold", threshold=bad, members=3, _what=f"threshold {bad}"):
            world.reg.trust.propose(world.sg, SET, threshold=bad)
    assert world.reg.trust.proposal_count() == 0


def test_approve_twice(world: World) -> None:
    t = world.reg.trust
    pid, _ = t.propose(world.sg, SET, threshold=1)
    with reverts("AlreadyApproved", proposalId=pid, party="SG"):
        t.approve(world.sg, pid)
    # Approval is per party, not per admin account.
    second_sg_admin = world.account(4)
    t.add_admin(world.sg, second_sg_admin.address)
    with reverts("AlreadyApproved", proposalId=pid, party="SG"):
        t.approve(second_sg_admin, pid)
    t.approve(world.th, pid)
    with reverts("AlreadyApproved", proposalId=pid, party="TH"):
        t.approve(world.th, pid)
    assert t.proposal(pid).approvals == 2


def test_execute_under_approved(world: World) -> None:
    t = world.reg.trust
    pid, _ = t.propose(world.sg, SET, threshold=3)
    for admin in (world.sg, world.th):
        with reverts("InsufficientApprovals", proposalId=pid, approvals=1, threshold=2):
            t.execute(admin, pid)
    assert not t.proposal(pid).executed
    assert t.threshold() == 2


def test_expired_proposal(world: World) -> None:
    t = world.reg.trust
    single, _ = t.propose(world.sg, SET, threshold=3)
    double, _ = t.propose(world.sg, SET, threshold=1)
    t.approve(world.th, double)
    expires = t.proposal(single).expires_at
    advance_time(world.chain, LIFETIME - 600)
    t.approve(world.my, single)  # still open within its lifetime
    advance_time(world.chain, 700)
    assert world.now() > expires
    with reverts("ProposalExpired", proposalId=single, expiresAt=expires):
        t.approve(world.th, single)
    with reverts("ProposalExpired", proposalId=double, expiresAt=t.proposal(double).expires_at):
        t.execute(world.sg, double)  # fully approved, but too late
    with reverts("ProposalExpired", proposalId=single):
        t.execute(world.sg, single)
    assert t.threshold() == 2


def test_executed_twice(world: World) -> None:
    t = world.reg.trust
    pid, _ = pass_proposal(world, [world.sg, world.th], SET, threshold=3)
    with reverts("ProposalAlreadyExecuted", proposalId=pid):
        t.execute(world.th, pid)
    with reverts("ProposalAlreadyExecuted", proposalId=pid):
        t.approve(world.my, pid)
    p = t.proposal(pid)
    assert p.executed and p.approvals == 2


def test_unknown_proposal(world: World) -> None:
    t = world.reg.trust
    with reverts("InvalidProposal", proposalId=0):
        t.approve(world.sg, 0)
    with reverts("InvalidProposal", proposalId=0):
        t.execute(world.sg, 0)
    pid, _ = t.propose(world.sg, SET, threshold=1)
    with reverts("InvalidProposal", proposalId=pid + 1):
        t.approve(world.th, pid + 1)
    with reverts("InvalidProposal", proposalId=2**200):
        t.execute(world.th, 2**200)


def test_add_party_rejections(world: World) -> None:
    t = world.reg.trust
    newbie = world.account(4).address
    with reverts("PartyAlreadyMember", party="TH"):
        t.propose(world.sg, ADD, "TH", newbie)
    with reverts("InvalidPartyId", party=ZERO8):
        t.propose(world.sg, ADD, "", newbie)
    with reverts("ZeroAddress"):
        t.propose(world.sg, ADD, "ID", ZERO_ADDRESS)
    with reverts("AccountAlreadyAdmin", account=world.th, party="TH"):
        t.propose(world.sg, ADD, "ID", world.th.address)
    assert t.proposal_count() == 0


def test_add_party_conditions_are_checked_again_at_execution(world: World) -> None:
    t = world.reg.trust
    first, _ = t.propose(world.sg, ADD, "ID", world.account(4).address)
    second, _ = t.propose(world.th, ADD, "ID", world.account(5).address)
    third, _ = t.propose(world.th, ADD, "VN", world.account(6).address)
    for pid in (first, second, third):
        t.approve(world.my, pid)
    t.execute(world.sg, first)
    with reverts("PartyAlreadyMember", party="ID"):
        t.execute(world.sg, second)
    # The proposed admin became another party's admin in the meantime.
    t.add_admin(world.sg, world.account(6).address)
    with reverts("AccountAlreadyAdmin", account=world.account(6), party="SG"):
        t.execute(world.sg, third)
    assert not t.is_member("VN")


def test_remove_non_member(world: World) -> None:
    t = world.reg.trust
    with reverts("PartyNotMember", party="XX"):
        t.propose(world.sg, REMOVE, "XX")
    first, _ = t.propose(world.sg, REMOVE, "MY")
    second, _ = t.propose(world.th, REMOVE, "MY")
    t.approve(world.th, first)
    t.approve(world.sg, second)
    t.execute(world.sg, first)
    with reverts("PartyNotMember", party="MY"):
        t.execute(world.sg, second)
    with reverts("PartyNotMember", party="MY"):
        t.propose(world.sg, REMOVE, "MY")


def test_threshold_clamped_when_membership_shrinks(world: World) -> None:
    t = world.reg.trust
    pass_proposal(world, [world.sg, world.th], SET, threshold=3)
    pid, r = pass_proposal(world, [world.sg, world.th, world.my], REMOVE, "MY")
    assert event(world, r, "PartyRemoved") == {"party": party_id("MY"), "proposalId": pid}
    assert event(world, r, "ThresholdChanged") == {"oldThreshold": 3, "newThreshold": 2, "proposalId": pid}
    assert t.threshold() == 2
    assert call(t, "memberCount") == 2


def test_set_threshold_checked_again_at_execution(world: World) -> None:
    t = world.reg.trust
    pid, _ = t.propose(world.sg, SET, threshold=3)
    t.approve(world.th, pid)
    pass_proposal(world, [world.sg, world.th], REMOVE, "MY")
    with reverts("InvalidThreshold", threshold=3, members=2):
        t.execute(world.sg, pid)
    assert t.threshold() == 2


def test_cannot_remove_last_party(world: World) -> None:
    t = world.reg.trust
    pass_proposal(world, [world.sg, world.th], REMOVE, "MY")
    pid, r = pass_proposal(world, [world.sg, world.th], REMOVE, "TH")
    assert event(world, r, "ThresholdChanged") == {"oldThreshold": 2, "newThreshold": 1, "proposalId": pid}
    assert t.threshold() == 1
    assert call(t, "memberCount") == 1
    with reverts("CannotRemoveLastParty", party="SG"):
        t.propose(world.sg, REMOVE, "SG")
    assert t.is_member("SG")


def test_removed_partys_approval_no_longer_counts(world: World) -> None:
    t = world.reg.trust
    pid, _ = t.propose(world.th, SET, threshold=1)
    t.approve(world.sg, pid)
    assert t.proposal(pid).approvals == 2
    pass_proposal(world, [world.sg, world.my], REMOVE, "TH")
    assert t.proposal(pid).approvals == 1
    with reverts("InsufficientApprovals", proposalId=pid, approvals=1, threshold=2):
        t.execute(world.sg, pid)
    t.approve(world.my, pid)
    r = t.execute(world.sg, pid)
    assert event(world, r, "ProposalExecuted") == {"proposalId": pid, "approvals": 2}
    assert t.proposal(pid).approvals == 2
    assert t.threshold() == 1


def test_removed_partys_issuers_stop_and_readmitted_partys_active_issuers_resume(world: World) -> None:
    t, d = world.reg.trust, world.reg.documents
    fp = add_ca(world, world.th)
    active = add_issuer(world, world.th, 4, ca=fp)
    suspended = add_issuer(world, world.th, 5, ca=fp)
    revoked = add_issuer(world, world.th, 6, ca=fp)
    t.suspend_issuer(world.th, suspended.address)
    t.revoke_issuer(world.th, revoked.address)
    anchor_batch(world, active)

    _, r = pass_proposal(world, [world.sg, world.my], REMOVE, "TH")
    synced = {e["account"]: e["active"] for e in events(world, r, "IssuerSynced")}
    assert synced == {active.address: False, suspended.address: False}  # revoked ones are left alone
    assert not d.issuer_auth(active.address)["active"]
    for issuer in (active, suspended, revoked):
        with reverts("IssuerNotActive", account=issuer.account):
            anchor_batch(world, issuer)

    # The old admin lost its role on removal and does not regain it on readmission.
    assert t.admin_party(world.th.address) == ""
    new_admin = world.account(8)
    _, r = pass_proposal(world, [world.sg, world.my], ADD, "TH", new_admin.address)
    synced = {e["account"]: e["active"] for e in events(world, r, "IssuerSynced")}
    assert synced == {active.address: True, suspended.address: False}
    assert d.issuer_auth(active.address) == {"party": party_id("TH"), "docTypes": bit(PERMIT), "active": True}
    anchor_batch(world, active)
    for issuer in (suspended, revoked):
        with reverts("IssuerNotActive", account=issuer.account):
            anchor_batch(world, issuer)
    assert t.parties() == ["SG", "TH", "MY"]
    assert call(t, "memberCount") == 3
    assert [h["member"] for h in call(t, "membershipHistory", party_id("TH"))] == [True, False, True]
    assert t.admins("TH") == [new_admin.address]
    with reverts("NotPartyAdmin", account=world.th):
        t.add_ca(world.th, rand32(), NOT_BEFORE, NOT_AFTER, 1)
    # The new admin manages the party's issuers: resuming the suspended one lets it anchor again.
    t.resume_issuer(new_admin, suspended.address)
    anchor_batch(world, suspended)


def test_admins_add_and_remove(world: World) -> None:
    t = world.reg.trust
    second = world.account(4)
    r = t.add_admin(world.sg, second.address)
    assert event(world, r, "AdminAdded") == {"party": party_id("SG"), "admin": second.address}
    assert t.admins("SG") == [world.sg.address, second.address]
    assert t.admin_party(second.address) == "SG"
    add_ca(world, second)  # the new admin acts for SG

    with reverts("AccountAlreadyAdmin", account=second, party="SG"):
        t.add_admin(world.sg, second.address)
    with reverts("AccountAlreadyAdmin", account=second, party="SG"):
        t.add_admin(world.th, second.address)
    with reverts("AccountAlreadyAdmin", account=world.th, party="TH"):
        t.add_admin(world.sg, world.th.address)
    with reverts("ZeroAddress"):
        t.add_admin(world.sg, ZERO_ADDRESS)
    with reverts("NotAdminOfParty", account=world.th, party="SG"):
        t.remove_admin(world.sg, world.th.address)
    with reverts("NotAdminOfParty", account=world.account(9), party="SG"):
        t.remove_admin(world.sg, world.account(9).address)

    r = t.remove_admin(second, world.sg.address)  # an admin may remove another admin of its party
    assert event(world, r, "AdminRemoved") == {"party": party_id("SG"), "admin": world.sg.address}
    assert t.admins("SG") == [second.address]
    assert t.admin_party(world.sg.address) == ""
    with reverts("NotPartyAdmin", account=world.sg):
        add_ca(world, world.sg)
    with reverts("LastAdmin", party="SG", account=second):
        t.remove_admin(second, second.address)
    # A removed account may be added again, to any party.
    t.add_admin(world.th, world.sg.address)
    assert t.admin_party(world.sg.address) == "TH"


# ====================================================================== certificate authorities


def test_add_ca_records_everything(world: World) -> None:
    t = world.reg.trust
    fp = rand32()
    r = t.add_ca(world.sg, fp, 1000, 2000, bit(PERMIT, PHYTO))
    at = tx_time(world, r)
    assert event(world, r, "CARegistered") == {
        "fingerprint": fp,
        "party": party_id("SG"),
        "notBefore": 1000,
        "notAfter": 2000,
        "docTypes": bit(PERMIT, PHYTO),
        "effectiveAt": at,
    }
    assert t.ca(fp) == CertificateAuthority(fp, "SG", 1000, 2000, bit(PERMIT, PHYTO), A, at, 0)
    assert t.ca_history(fp) == [StatusChange(A, at, at, 0)]
    fp2 = add_ca(world, world.sg)
    assert t.party_cas("SG") == [fp, fp2]
    assert t.party_cas("TH") == []
    assert t.ca(rand32()).status == Status.NONE


def test_add_ca_rejections(world: World) -> None:
    t = world.reg.trust
    fp = add_ca(world, world.sg)
    with reverts("CAAlreadyRegistered", fingerprint=fp, party="SG"):
        t.add_ca(world.sg, fp, NOT_BEFORE, NOT_AFTER, 1)
    with reverts("CAAlreadyRegistered", fingerprint=fp, party="SG"):  # names the owner, not the caller
        t.add_ca(world.th, fp, NOT_BEFORE, NOT_AFTER, 1)
    t.revoke_ca(world.sg, fp)
    with reverts("CAAlreadyRegistered", fingerprint=fp, party="SG"):  # revoked fingerprints stay taken
        t.add_ca(world.sg, fp, NOT_BEFORE, NOT_AFTER, 1)
    with reverts("InvalidFingerprint"):
        t.add_ca(world.sg, b"\x00" * 32, NOT_BEFORE, NOT_AFTER, 1)
    with reverts("InvalidValidity", notBefore=NOT_AFTER, notAfter=NOT_AFTER):
        t.add_ca(world.sg, rand32(), NOT_AFTER, NOT_AFTER, 1)
    with reverts("InvalidValidity", notBefore=NOT_AFTER, notAfter=NOT_BEFORE):
        t.add_ca(world.sg, rand32(), NOT_AFTER, NOT_BEFORE, 1)
    with reverts("EmptyDocumentTypes"):
        t.add_ca(world.sg, rand32(), NOT_BEFORE, NOT_AFTER, 0)
    assert t.party_cas("SG") == [fp]
    assert t.party_cas("TH") == []


def test_ca_of_another_party_or_unknown(world: World) -> None:
    t = world.reg.trust
    fp = add_ca(world, world.sg)
    for name, op in {
        "suspendCA": lambda: t.suspend_ca(world.th, fp),
        "resumeCA": lambda: t.resume_ca(world.th, fp),
        "revokeCA": lambda: t.revoke_ca(world.th, fp),
        "authorizeIssuer": lambda: t.authorize_issuer(world.th, world.account(4).address, fp, 1),
    }.items():
        with reverts("NotYourCA", fingerprint=fp, owner="SG", caller="TH", _what=name):
            op()
    unknown = rand32()
    for name, op in {
        "suspendCA": lambda: t.suspend_ca(world.sg, unknown),
        "resumeCA": lambda: t.resume_ca(world.sg, unknown),
        "revokeCA": lambda: t.revoke_ca(world.sg, unknown),
        "authorizeIssuer": lambda: t.authorize_issuer(world.sg, world.account(4).address, unknown, 1),
    }.items():
        with reverts("UnknownCA", fingerprint=unknown, _what=name):
            op()
    assert t.ca(fp).status == A


def test_ca_status_transitions(world: World) -> None:
    t = world.reg.trust
    fp = add_ca(world, world.sg)
    with reverts("InvalidStatusTransition", {"from": A, "to": A}):
        t.resume_ca(world.sg, fp)
    r = t.suspend_ca(world.sg, fp, reason=7)
    assert event(world, r, "CAStatusChanged") == {
        "fingerprint": fp,
        "party": party_id("SG"),
        "status": S,
        "effectiveAt": tx_time(world, r),
        "reason": 7,
    }
    assert t.ca(fp).status == S
    with reverts("InvalidStatusTransition", {"from": S, "to": S}):
        t.suspend_ca(world.sg, fp)
    r = t.resume_ca(world.sg, fp)
    assert event(world, r, "CAStatusChanged")["status"] == A
    assert t.ca(fp).status == A
    t.suspend_ca(world.sg, fp)
    r = t.revoke_ca(world.sg, fp, reason=1)  # from Suspended
    revoked_at = tx_time(world, r)
    assert event(world, r, "CAStatusChanged")["status"] == R
    assert (t.ca(fp).status, t.ca(fp).revoked_at) == (R, revoked_at)
    # Revoked is final.
    for target, op in ((S, t.suspend_ca), (A, t.resume_ca), (R, t.revoke_ca)):
        with reverts("InvalidStatusTransition", {"from": R, "to": target}):
            op(world.sg, fp)
    assert [c.status for c in t.ca_history(fp)] == [A, S, A, S, R]
    # Revocation straight from Active.
    fp2 = add_ca(world, world.sg)
    t.revoke_ca(world.sg, fp2)
    assert t.ca(fp2).status == R


def test_ca_effective_time_rules(world: World) -> None:
    t = world.reg.trust
    r = t.add_ca(world.sg, fp := rand32(), NOT_BEFORE, NOT_AFTER, 1)
    t0 = tx_time(world, r)
    advance_time(world.chain, 100)
    future = world.now() + 1000
    for name, op in {
        "suspendCA": lambda: t.suspend_ca(world.sg, fp, future),
        "resumeCA": lambda: t.resume_ca(world.sg, fp, future),
        "revokeCA": lambda: t.revoke_ca(world.sg, fp, future),
    }.items():
        with reverts("EffectiveTimeInFuture", effectiveAt=future, _what=name) as e:
            op()
        assert world.now() <= int(e.value.args_["nowTime"]) < future  # type: ignore[call-overload]
    with reverts("EffectiveTimeBeforeLastChange", effectiveAt=t0 - 1, lastEffectiveAt=t0):
        t.suspend_ca(world.sg, fp, t0 - 1)
    r = t.suspend_ca(world.sg, fp, t0 + 50)  # backdated, after the last change: fine
    assert event(world, r, "CAStatusChanged")["effectiveAt"] == t0 + 50
    with reverts("EffectiveTimeBeforeLastChange", effectiveAt=t0 + 49, lastEffectiveAt=t0 + 50):
        t.resume_ca(world.sg, fp, t0 + 49)
    t.resume_ca(world.sg, fp, t0 + 50)  # same instant as the last change: fine
    # A revocation may go back before the last change (like a CRL invalidity date).
    r = t.revoke_ca(world.sg, fp, t0 + 10)
    assert t.ca(fp).revoked_at == t0 + 10


def test_ca_history_content(world: World) -> None:
    t = world.reg.trust
    r = t.add_ca(world.sg, fp := rand32(), NOT_BEFORE, NOT_AFTER, 1)
    t0 = tx_time(world, r)
    advance_time(world.chain, 100)
    r1 = t.suspend_ca(world.sg, fp, t0 + 20, reason=4)
    r2 = t.resume_ca(world.sg, fp)
    r3 = t.revoke_ca(world.sg, fp, t0 + 10, reason=1)
    assert t.ca_history(fp) == [
        StatusChange(A, t0, t0, 0),
        StatusChange(S, t0 + 20, tx_time(world, r1), 4),
        StatusChange(A, tx_time(world, r2), tx_time(world, r2), 0),
        StatusChange(R, t0 + 10, tx_time(world, r3), 1),
    ]


def test_ca_status_at_over_time(world: World) -> None:
    t = world.reg.trust
    r = t.add_ca(world.sg, fp := rand32(), NOT_BEFORE, NOT_AFTER, 1)
    t0 = tx_time(world, r)
    advance_time(world.chain, 10)
    ts = tx_time(world, t.suspend_ca(world.sg, fp))
    advance_time(world.chain, 10)
    tr = tx_time(world, t.resume_ca(world.sg, fp))
    expected = {
        0: Status.NONE,
        t0 - 1: Status.NONE,  # before registration
        t0: A,
        ts - 1: A,
        ts: S,
        tr - 1: S,
        tr: A,
        tr + 10**6: A,
    }
    assert {time: t.ca_status_at(fp, time) for time in expected} == expected
    assert t.ca_status_at(rand32(), tr) == Status.NONE


def test_backdated_ca_revocation(world: World) -> None:
    t = world.reg.trust
    r = t.add_ca(world.sg, fp := rand32(), NOT_BEFORE, NOT_AFTER, 1)
    t0 = tx_time(world, r)
    advance_time(world.chain, 1000)
    effective = t0 + 500
    r = t.revoke_ca(world.sg, fp, effective, reason=1)
    recorded = tx_time(world, r)
    assert effective < recorded - 400
    assert event(world, r, "CAStatusChanged")["effectiveAt"] == effective
    assert (t.ca(fp).status, t.ca(fp).revoked_at) == (R, effective)
    assert t.ca_history(fp)[-1] == StatusChange(R, effective, recorded, 1)
    assert t.ca_status_at(fp, t0) == A
    assert t.ca_status_at(fp, effective - 1) == A
    assert t.ca_status_at(fp, effective) == R
    assert t.ca_status_at(fp, recorded - 1) == R  # earlier than when the revocation was recorded
    assert t.ca_status_at(fp, recorded) == R
    # The same question asked before the revocation was recorded had the other answer.
    assert t.ca_status_at(fp, effective, block=r.block_number - 1) == A


def test_backdated_ca_revocation_overrides_a_later_suspension_window(world: World) -> None:
    t = world.reg.trust
    r = t.add_ca(world.sg, fp := rand32(), NOT_BEFORE, NOT_AFTER, 1)
    t0 = tx_time(world, r)
    advance_time(world.chain, 100)
    t.suspend_ca(world.sg, fp, t0 + 20)
    t.resume_ca(world.sg, fp, t0 + 40)
    t.revoke_ca(world.sg, fp, t0 + 30)
    expected = {t0: A, t0 + 20: S, t0 + 29: S, t0 + 30: R, t0 + 40: R, t0 + 10**6: R}
    assert {time: t.ca_status_at(fp, time) for time in expected} == expected


# ====================================================================== issuer accounts


def test_authorize_issuer(world: World) -> None:
    t, d = world.reg.trust, world.reg.documents
    fp = add_ca(world, world.sg, bit(PERMIT, CERTIFICATE))
    acc = world.account(4)
    r = t.authorize_issuer(world.sg, acc.address, fp, bit(PERMIT))
    at = tx_time(world, r)
    assert event(world, r, "IssuerAuthorized") == {
        "account": acc.address,
        "party": party_id("SG"),
        "ca": fp,
        "docTypes": bit(PERMIT),
        "effectiveAt": at,
    }
    assert event(world, r, "IssuerSynced") == {
        "account": acc.address,
        "party": party_id("SG"),
        "docTypes": bit(PERMIT),
        "active": True,
    }
    assert t.issuer(acc.address) == Issuer(acc.address, "SG", fp, bit(PERMIT), A, at, 0)
    assert t.issuer_history(acc.address) == [StatusChange(A, at, at, 0)]
    assert t.party_issuers("SG") == [acc.address]
    assert t.party_issuers("TH") == []
    assert d.issuer_auth(acc.address) == {"party": party_id("SG"), "docTypes": bit(PERMIT), "active": True}
    assert t.issuer_status_at(acc.address, at - 1) == Status.NONE
    assert t.issuer_status_at(acc.address, at) == A
    stranger = world.account(9).address
    assert t.issuer(stranger).status == Status.NONE
    assert d.issuer_auth(stranger) == {"party": ZERO8, "docTypes": 0, "active": False}


def test_authorize_issuer_rejections(world: World) -> None:
    t = world.reg.trust
    fp = add_ca(world, world.sg, bit(PERMIT, CERTIFICATE))
    th_fp = add_ca(world, world.th)
    acc = world.account(4).address
    with reverts("ZeroAddress"):
        t.authorize_issuer(world.sg, ZERO_ADDRESS, fp, 1)
    with reverts("EmptyDocumentTypes"):
        t.authorize_issuer(world.sg, acc, fp, 0)
    for requested in (bit(PHYTO), bit(PERMIT, PHYTO), 1 << 63):
        with reverts(
            "DocumentTypesNotAllowedForCA",
            fingerprint=fp,
            requested=requested,
            allowed=bit(PERMIT, CERTIFICATE),
        ):
            t.authorize_issuer(world.sg, acc, fp, requested)
    with reverts("NotYourCA", fingerprint=th_fp, owner="TH", caller="SG"):
        t.authorize_issuer(world.sg, acc, th_fp, 1)
    unknown = rand32()
    with reverts("UnknownCA", fingerprint=unknown):
        t.authorize_issuer(world.sg, acc, unknown, 1)
    suspended = add_ca(world, world.sg)
    t.suspend_ca(world.sg, suspended)
    with reverts("CANotActive", fingerprint=suspended, status=S):
        t.authorize_issuer(world.sg, acc, suspended, 1)
    revoked = add_ca(world, world.sg)
    t.revoke_ca(world.sg, revoked)
    with reverts("CANotActive", fingerprint=revoked, status=R):
        t.authorize_issuer(world.sg, acc, revoked, 1)

    t.authorize_issuer(world.sg, acc, fp, bit(PERMIT))
    with reverts("IssuerAlreadyRegistered", account=acc, party="SG"):
        t.authorize_issuer(world.sg, acc, fp, bit(CERTIFICATE))
    with reverts("IssuerAlreadyRegistered", account=acc, party="SG"):
        t.authorize_issuer(world.th, acc, th_fp, 1)
    t.revoke_issuer(world.sg, acc)
    with reverts("IssuerAlreadyRegistered", account=acc, party="SG"):  # a revoked account stays taken
        t.authorize_issuer(world.sg, acc, fp, bit(PERMIT))
    assert t.party_issuers("SG") == [acc]
    assert t.party_issuers("TH") == []


def test_issuer_of_another_party_or_unknown(world: World) -> None:
    t = world.reg.trust
    issuer = add_issuer(world, world.sg, 4)
    for name, op in {
        "suspendIssuer": lambda: t.suspend_issuer(world.th, issuer.address),
        "resumeIssuer": lambda: t.resume_issuer(world.th, issuer.address),
        "revokeIssuer": lambda: t.revoke_issuer(world.th, issuer.address),
    }.items():
        with reverts("NotYourIssuer", account=issuer.account, owner="SG", caller="TH", _what=name):
            op()
    unknown = world.account(9).address
    for name, op in {
        "suspendIssuer": lambda: t.suspend_issuer(world.sg, unknown),
        "resumeIssuer": lambda: t.resume_issuer(world.sg, unknown),
        "revokeIssuer": lambda: t.revoke_issuer(world.sg, unknown),
    }.items():
        with reverts("UnknownIssuer", account=unknown, _what=name):
            op()
    assert t.issuer(issuer.address).status == A


def test_issuer_lifecycle_and_document_registry_mirror(world: World) -> None:
    t, d = world.reg.trust, world.reg.documents
    issuer = add_issuer(world, world.sg, 4, bit(PERMIT, CERTIFICATE))
    acc = issuer.address
    with reverts("InvalidStatusTransition", {"from": A, "to": A}):
        t.resume_issuer(world.sg, acc)

    r = t.suspend_issuer(world.sg, acc, reason=3)
    assert event(world, r, "IssuerStatusChanged") == {
        "account": acc,
        "party": party_id("SG"),
        "status": S,
        "effectiveAt": tx_time(world, r),
        "reason": 3,
    }
    assert event(world, r, "IssuerSynced") == {
        "account": acc,
        "party": party_id("SG"),
        "docTypes": bit(PERMIT, CERTIFICATE),
        "active": False,
    }
    assert not d.issuer_auth(acc)["active"]
    assert t.issuer(acc).status == S
    with reverts("IssuerNotActive", account=acc):
        anchor_batch(world, issuer)
    with reverts("InvalidStatusTransition", {"from": S, "to": S}):
        t.suspend_issuer(world.sg, acc)

    r = t.resume_issuer(world.sg, acc)
    assert event(world, r, "IssuerSynced")["active"] is True
    assert d.issuer_auth(acc)["active"]
    anchor_batch(world, issuer)

    r = t.revoke_issuer(world.sg, acc, reason=2)
    revoked_at = tx_time(world, r)
    assert event(world, r, "IssuerStatusChanged")["status"] == R
    assert event(world, r, "IssuerSynced")["active"] is False
    assert (t.issuer(acc).status, t.issuer(acc).revoked_at) == (R, revoked_at)
    assert d.issuer_auth(acc) == {
        "party": party_id("SG"),
        "docTypes": bit(PERMIT, CERTIFICATE),
        "active": False,
    }
    with reverts("IssuerNotActive", account=acc):
        anchor_batch(world, issuer)
    for target, op in ((S, t.suspend_issuer), (A, t.resume_issuer), (R, t.revoke_issuer)):
        with reverts("InvalidStatusTransition", {"from": R, "to": target}):
            op(world.sg, acc)
    assert [c.status for c in t.issuer_history(acc)] == [A, S, A, R]
    assert [c.reason for c in t.issuer_history(acc)] == [0, 3, 0, 2]


def test_issuer_effective_times_and_backdated_revocation(world: World) -> None:
    t = world.reg.trust
    issuer = add_issuer(world, world.sg, 4)
    acc = issuer.address
    t0 = tx_time(world, issuer.receipt)
    advance_time(world.chain, 10)
    ts = tx_time(world, t.suspend_issuer(world.sg, acc))
    advance_time(world.chain, 10)
    tr = tx_time(world, t.resume_issuer(world.sg, acc))
    advance_time(world.chain, 100)
    future = world.now() + 500
    with reverts("EffectiveTimeInFuture", effectiveAt=future):
        t.suspend_issuer(world.sg, acc, future)
    with reverts("EffectiveTimeInFuture", effectiveAt=future):
        t.revoke_issuer(world.sg, acc, future)
    with reverts("EffectiveTimeBeforeLastChange", effectiveAt=tr - 1, lastEffectiveAt=tr):
        t.suspend_issuer(world.sg, acc, tr - 1)

    effective = tr + 50
    r = t.revoke_issuer(world.sg, acc, effective, reason=1)
    recorded = tx_time(world, r)
    assert effective < recorded
    assert event(world, r, "IssuerStatusChanged")["effectiveAt"] == effective
    assert t.issuer(acc).revoked_at == effective
    assert t.issuer_history(acc)[-1] == StatusChange(R, effective, recorded, 1)
    expected = {
        t0 - 1: Status.NONE,
        t0: A,
        ts - 1: A,
        ts: S,
        tr - 1: S,
        tr: A,
        effective - 1: A,
        effective: R,
        recorded - 1: R,
        recorded: R,
    }
    assert {time: t.issuer_status_at(acc, time) for time in expected} == expected


# ====================================================================== recognition


def test_recognize_and_unrecognize_masks_and_history(world: World) -> None:
    t = world.reg.trust
    r1 = t.recognize(world.sg, "TH", bit(PERMIT, PHYTO))
    t1 = tx_time(world, r1)
    assert event(world, r1, "RecognitionChanged") == {
        "recognizer": party_id("SG"),
        "recognized": party_id("TH"),
        "oldDocTypes": 0,
        "newDocTypes": bit(PERMIT, PHYTO),
        "effectiveAt": t1,
    }
    advance_time(world.chain, 10)
    r2 = t.recognize(world.sg, "TH", bit(CERTIFICATE, PHYTO))  # adds to what it had
    t2 = tx_time(world, r2)
    assert event(world, r2, "RecognitionChanged")["oldDocTypes"] == bit(PERMIT, PHYTO)
    assert event(world, r2, "RecognitionChanged")["newDocTypes"] == bit(PERMIT, CERTIFICATE, PHYTO)
    advance_time(world.chain, 10)
    r3 = t.unrecognize(world.sg, "TH", bit(PERMIT, ORIGIN))  # withdrawing an unheld type is harmless
    t3 = tx_time(world, r3)
    assert event(world, r3, "RecognitionChanged")["oldDocTypes"] == bit(PERMIT, CERTIFICATE, PHYTO)
    assert event(world, r3, "RecognitionChanged")["newDocTypes"] == bit(CERTIFICATE, PHYTO)
    assert t.recognition_history("SG", "TH") == [
        (bit(PERMIT, PHYTO), t1),
        (bit(PERMIT, CERTIFICATE, PHYTO), t2),
        (bit(CERTIFICATE, PHYTO), t3),
    ]
    expected = {
        t1 - 1: 0,
        t1: bit(PERMIT, PHYTO),
        t2 - 1: bit(PERMIT, PHYTO),
        t2: bit(PERMIT, CERTIFICATE, PHYTO),
        t3 - 1: bit(PERMIT, CERTIFICATE, PHYTO),
        t3: bit(CERTIFICATE, PHYTO),
    }
    assert {time: t.recognition_at("SG", "TH", time) for time in expected} == expected
    # Recognition is directed.
    assert t.recognition_at("TH", "SG", t3) == 0
    assert t.recognition_history("TH", "SG") == []


def test_recognition_rejections(world: World) -> None:
    t = world.reg.trust
    for name, op in {"recognize": t.recognize, "unrecognize": t.unrecognize}.items():
        with reverts("CannotRecognizeSelf", party="SG", _what=name):
            op(world.sg, "SG", 1)
        with reverts("PartyNotMember", party="XX", _what=name):
            op(world.sg, "XX", 1)
        with reverts("EmptyDocumentTypes", _what=name):
            op(world.sg, "TH", 0)
        future = world.now() + 1000
        with reverts("EffectiveTimeInFuture", effectiveAt=future, _what=name):
            op(world.sg, "TH", 1, future)
    r = t.recognize(world.sg, "TH", 1)
    last = tx_time(world, r)
    for name, op in {"recognize": t.recognize, "unrecognize": t.unrecognize}.items():
        with reverts("EffectiveTimeBeforeLastChange", effectiveAt=last - 1, lastEffectiveAt=last, _what=name):
            op(world.sg, "TH", 1, last - 1)
    pass_proposal(world, [world.sg, world.th], REMOVE, "MY")
    with reverts("PartyNotMember", party="MY"):
        t.recognize(world.sg, "MY", 1)
    assert t.recognition_history("SG", "TH") == [(1, last)]


def test_backdated_recognition(world: World) -> None:
    t = world.reg.trust
    start = world.now()
    advance_time(world.chain, 100)
    r = t.recognize(world.th, "SG", bit(PERMIT), start + 10)
    assert event(world, r, "RecognitionChanged")["effectiveAt"] == start + 10
    assert t.recognition_at("TH", "SG", start + 9) == 0
    assert t.recognition_at("TH", "SG", start + 10) == bit(PERMIT)
    t.unrecognize(world.th, "SG", bit(PERMIT), start + 50)
    assert t.recognition_at("TH", "SG", start + 49) == bit(PERMIT)
    assert t.recognition_at("TH", "SG", start + 50) == 0
    assert t.recognition_history("TH", "SG") == [(bit(PERMIT), start + 10), (0, start + 50)]


def test_recognizes_ca_at(world: World) -> None:
    t = world.reg.trust

    def recognizes(recognizer: str, fp: bytes, doc_type: int, time: int) -> bool:
        return t.recognizes_ca_at(recognizer, fp, doc_type, time)

    sg_fp = add_ca(world, world.sg, bit(PERMIT, CERTIFICATE))
    th_fp = add_ca(world, world.th, bit(PERMIT))
    sg_issuer = add_issuer(world, world.sg, 4, ca=sg_fp)
    now = world.now()
    # A party recognizes its own CAs, for the types they are registered for only.
    assert recognizes("SG", sg_fp, PERMIT, now)
    assert recognizes("SG", sg_fp, CERTIFICATE, now)
    assert not recognizes("SG", sg_fp, PHYTO, now)
    assert not recognizes("SG", sg_fp, 64, now)
    assert not recognizes("SG", sg_fp, 255, now)
    assert not recognizes("SG", rand32(), PERMIT, now)
    assert not recognizes("XX", sg_fp, PERMIT, now)
    # Another party only once it recognizes the CA's party for the type.
    assert not recognizes("TH", sg_fp, PERMIT, now)
    advance_time(world.chain, 10)
    t1 = tx_time(world, t.recognize(world.th, "SG", bit(PERMIT, PHYTO)))
    t.recognize(world.sg, "TH", bit(PERMIT))
    assert recognizes("TH", sg_fp, PERMIT, t1)
    assert not recognizes("TH", sg_fp, PERMIT, t1 - 1)
    assert not recognizes("TH", sg_fp, CERTIFICATE, t1)  # type not recognized
    assert not recognizes("TH", sg_fp, PHYTO, t1)  # recognized, but the CA is not registered for it
    assert not recognizes("MY", sg_fp, PERMIT, t1)
    assert call(t, "recognizesIssuerAt", party_id("TH"), sg_issuer.address, PERMIT, t1)
    assert not call(t, "recognizesIssuerAt", party_id("MY"), sg_issuer.address, PERMIT, t1)
    assert not call(t, "recognizesIssuerAt", party_id("TH"), world.account(9).address, PERMIT, t1)

    # Membership is respected on both sides: remove TH.
    advance_time(world.chain, 10)
    _, r = pass_proposal(world, [world.sg, world.my], REMOVE, "TH")
    tr = tx_time(world, r)
    assert recognizes("TH", sg_fp, PERMIT, tr - 1)
    assert not recognizes("TH", sg_fp, PERMIT, tr)  # the recognizer left
    assert recognizes("SG", th_fp, PERMIT, tr - 1)
    assert not recognizes("SG", th_fp, PERMIT, tr)  # the CA's party left
    assert recognizes("TH", th_fp, PERMIT, tr - 1)
    assert not recognizes("TH", th_fp, PERMIT, tr)  # not even its own CAs
    assert recognizes("SG", sg_fp, PERMIT, tr)
