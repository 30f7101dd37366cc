"""TrustRegistry: governance, admin changes, roles, CAs, issuer and consumer accounts, recognition; every
revert path by error name and args.

Every test runs on anvil and on the embedded py-evm chain (marked parity).
"""

from __future__ import annotations

from typing import Any

import pytest

from anchor.cacert import ca_id, pop_message, verify_pop
from anchor.deploy import party_id
from anchor.registry import (
    ZERO_ADDRESS,
    AdminChange,
    CertificateAuthority,
    Issuer,
    ProposalKind,
    Role,
    Status,
    StatusChange,
)
from tests.conftest import World, advance_time
from tests.registry_helpers import (
    ADMIN_DELAY,
    CERTIFICATE,
    LIFETIME,
    NOT_AFTER,
    NOT_BEFORE,
    ORIGIN,
    PERMIT,
    PHYTO,
    ZERO8,
    add_ca,
    add_consumer,
    add_issuer,
    anchor_batch,
    bit,
    call,
    cert_hash,
    cert_id,
    change_admins,
    event,
    events,
    fake_certificate,
    funded,
    make_cas,
    pass_proposal,
    reverts,
    tx_time,
)

# Every contract function and error on both EVMs (tests/conftest.py: the parity set).
pytestmark = pytest.mark.parity

ADD = ProposalKind.ADD_PARTY
REMOVE = ProposalKind.REMOVE_PARTY
SET = ProposalKind.SET_THRESHOLD
ONE_TIME = ProposalKind.SET_ONE_TIME_TYPES
A, S, R = Status.ACTIVE, Status.SUSPENDED, Status.REVOKED
PARTY_REMOVED = 255  # reason recorded when a party's removal revokes its issuers


# ====================================================================== deployment and founding state


def test_founding_state(world: World) -> None:
    t = world.reg.trust
    assert t.parties() == ["SG", "TH", "MY"]
    assert t.threshold() == 2
    assert call(t, "memberCount") == 3
    assert call(t, "proposalLifetime") == LIFETIME
    assert t.admin_delay() == ADMIN_DELAY
    assert t.one_time_doc_types() == bit(PERMIT)
    assert call(t, "REASON_PARTY_REMOVED") == PARTY_REMOVED
    assert call(t, "documentRegistry").lower() == world.reg.documents.address.lower()
    assert call(world.reg.documents, "trustRegistry").lower() == t.address.lower()
    assert t.proposal_count() == 0
    assert t.admin_change_count() == 0
    for admin, code in ((world.sg, "SG"), (world.th, "TH"), (world.my, "MY")):
        assert t.admins(code) == [admin.address]
        assert t.admin_party(admin.address) == code
        assert t.role_of(admin.address) == (Role.ADMIN, code)
        assert t.consumers(code) == []
        assert t.is_member(code)
    stranger = world.account(9).address
    assert t.admin_party(stranger) == ""
    assert t.consumer_party(stranger) == ""
    assert t.role_of(stranger) == (Role.NONE, "")
    assert not t.is_member("XX")
    assert not t.is_member_at("SG", 0)


def test_constructors_reject_bad_founding_setups(world: World) -> None:
    trust_abi, doc_abi = world.chain.abis
    a1, a2 = world.account(4).address, world.account(5).address
    sg, th = party_id("SG"), party_id("TH")
    doc = world.reg.documents.address
    d, o = ADMIN_DELAY, bit(PERMIT)  # admin delay, one-time types
    cases: list[tuple[str, dict[str, Any], tuple[Any, ...]]] = [
        ("ZeroAddress", {}, ([sg], [a1], 1, 3600, d, o, ZERO_ADDRESS)),
        ("InvalidThreshold", {"threshold": 1, "members": 0}, ([], [], 1, 3600, d, o, doc)),
        ("InvalidThreshold", {"threshold": 1, "members": 2}, ([sg, th], [a1], 1, 3600, d, o, doc)),
        ("InvalidThreshold", {"threshold": 0, "members": 2}, ([sg, th], [a1, a2], 0, 3600, d, o, doc)),
        ("InvalidThreshold", {"threshold": 3, "members": 2}, ([sg, th], [a1, a2], 3, 3600, d, o, doc)),
        ("InvalidPartyId", {"party": ZERO8}, ([ZERO8], [a1], 1, 3600, d, o, doc)),
        ("PartyAlreadyMember", {"party": "SG"}, ([sg, sg], [a1, a2], 1, 3600, d, o, doc)),
        (
            "AccountHasRole",
            {"account": a1, "party": "SG", "role": Role.ADMIN},
            ([sg, th], [a1, a1], 1, 3600, d, o, doc),
        ),
        ("ZeroAddress", {}, ([sg], [ZERO_ADDRESS], 1, 3600, d, o, doc)),
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
    consumer = add_consumer(world, world.sg, 5)
    pid, _ = t.propose(world.sg, SET, threshold=1)
    cid, _ = t.propose_admin_change(world.sg, world.account(8).address, True)
    ops = {
        "propose": lambda who: t.propose(who, SET, threshold=1),
        "approve": lambda who: t.approve(who, pid),
        "execute": lambda who: t.execute(who, pid),
        "proposeAdminChange": lambda who: t.propose_admin_change(who, world.account(8).address, True),
        "proposeAdminRemoval": lambda who: t.propose_admin_change(who, world.sg.address, False),
        "approveAdminChange": lambda who: t.approve_admin_change(who, cid),
        "cancelAdminChange": lambda who: t.cancel_admin_change(who, cid),
        "executeAdminChange": lambda who: t.execute_admin_change(who, cid),
        "grantConsumer": lambda who: t.grant_consumer(who, world.account(8).address),
        "revokeConsumer": lambda who: t.revoke_consumer(who, consumer.address),
        "addCA": lambda who: t.add_ca(who, fake_certificate(), NOT_BEFORE, NOT_AFTER, 1),
        "suspendCA": lambda who: t.suspend_ca(who, fp),
        "resumeCA": lambda who: t.resume_ca(who, fp),
        "revokeCA": lambda who: t.revoke_ca(who, fp),
        "authorizeIssuer": lambda who: t.authorize_issuer(who, world.account(8).address, fp, 1),
        "suspendIssuer": lambda who: t.suspend_issuer(who, issuer.address),
        "resumeIssuer": lambda who: t.resume_issuer(who, issuer.address),
        "revokeIssuer": lambda who: t.revoke_issuer(who, issuer.address),
        "recognize": lambda who: t.recognize(who, "TH", 1),
        "unrecognize": lambda who: t.unrecognize(who, "TH", 1),
    }
    # Nobody, an issuer account and a consumer account (a border service's key) are no admins.
    for who in (stranger, issuer.account, consumer):
        for name, op in ops.items():
            with reverts("NotPartyAdmin", account=who, _what=f"{name} by {who.address}"):
                op(who)
    assert t.consumers("SG") == [consumer.address]
    assert t.admins("SG") == [world.sg.address]


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
        "docTypes": 0,
        "expiresAt": created_at + LIFETIME,
    }
    # The proposer's party approves at once.
    assert event(world, r, "ProposalApproved") == {"proposalId": pid, "party": party_id("SG")}
    p = t.proposal(pid)
    assert (p.kind, p.party, p.account, p.proposer, p.approvals, p.executed, p.doc_types) == (
        ADD,
        "ID",
        newbie.address,
        "SG",
        1,
        False,
        0,
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
    assert t.role_of(newbie.address) == (Role.ADMIN, "ID")
    # The new party's admin acts at once.
    add_ca(world, newbie)
    assert len(t.party_cas("ID")) == 1


@pytest.mark.devchain("evm_increaseTime")
def test_remove_party_by_proposal_and_removed_admin_can_no_longer_act(world: World) -> None:
    t = world.reg.trust
    my_ca = add_ca(world, world.my)
    my_issuer = add_issuer(world, world.my, 4, ca=my_ca)
    my_consumers = [add_consumer(world, world.my, i) for i in (5, 6)]
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

    # Its consumers are dropped and its issuers revoked for good, effective at removal.
    assert {e["account"] for e in events(world, r, "ConsumerRevoked")} == {c.address for c in my_consumers}
    assert t.consumers("MY") == []
    for c in my_consumers:
        assert t.consumer_party(c.address) == ""
        assert t.role_of(c.address) == (Role.NONE, "")
    assert event(world, r, "IssuerStatusChanged") == {
        "account": my_issuer.address,
        "party": party_id("MY"),
        "status": R,
        "effectiveAt": removed_at,
        "reason": PARTY_REMOVED,
    }
    assert t.issuer(my_issuer.address).status == R
    assert t.issuer_history(my_issuer.address)[-1] == StatusChange(R, removed_at, removed_at, PARTY_REMOVED)
    assert t.role_of(my_issuer.address) == (Role.ISSUER, "MY")  # an issuer account is never reused
    assert not world.reg.documents.issuer_auth(my_issuer.address)["active"]

    ops = {
        "propose": lambda: t.propose(world.my, SET, threshold=1),
        "approve": lambda: t.approve(world.my, open_pid),
        "execute": lambda: t.execute(world.my, open_pid),
        "proposeAdminChange": lambda: t.propose_admin_change(world.my, world.account(8).address, True),
        "grantConsumer": lambda: t.grant_consumer(world.my, world.account(8).address),
        "revokeConsumer": lambda: t.revoke_consumer(world.my, my_consumers[0].address),
        "addCA": lambda: t.add_ca(world.my, fake_certificate(), NOT_BEFORE, NOT_AFTER, 1),
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


def test_set_one_time_types_by_proposal(world: World) -> None:
    t = world.reg.trust
    pid, r = t.propose(world.sg, ONE_TIME, doc_types=bit(PERMIT, PHYTO))
    assert event(world, r, "ProposalCreated")["docTypes"] == bit(PERMIT, PHYTO)
    assert (t.proposal(pid).kind, t.proposal(pid).doc_types) == (ONE_TIME, bit(PERMIT, PHYTO))
    with reverts("InsufficientApprovals", proposalId=pid, approvals=1, threshold=2):
        t.execute(world.sg, pid)
    assert t.one_time_doc_types() == bit(PERMIT)
    t.approve(world.my, pid)
    r = t.execute(world.th, pid)
    assert event(world, r, "OneTimeTypesChanged") == {
        "oldDocTypes": bit(PERMIT),
        "newDocTypes": bit(PERMIT, PHYTO),
        "proposalId": pid,
    }
    assert t.one_time_doc_types() == bit(PERMIT, PHYTO)
    # The consortium may also make no type consumable at all.
    pid, r = pass_proposal(world, [world.th, world.my], ONE_TIME, doc_types=0)
    assert event(world, r, "OneTimeTypesChanged")["newDocTypes"] == 0
    assert t.one_time_doc_types() == 0


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
    change_admins(world, [world.sg], second_sg_admin.address, add=True)
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


@pytest.mark.devchain("evm_increaseTime")
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
    issuer = add_issuer(world, world.sg, 5)
    consumer = add_consumer(world, world.th, 6)
    with reverts("PartyAlreadyMember", party="TH"):
        t.propose(world.sg, ADD, "TH", newbie)
    with reverts("InvalidPartyId", party=ZERO8):
        t.propose(world.sg, ADD, "", newbie)
    with reverts("ZeroAddress"):
        t.propose(world.sg, ADD, "ID", ZERO_ADDRESS)
    # One account, one role, one party: no admin, issuer or consumer account becomes a new party's admin.
    for account, party, role in (
        (world.th.address, "TH", Role.ADMIN),
        (issuer.address, "SG", Role.ISSUER),
        (consumer.address, "TH", Role.CONSUMER),
    ):
        with reverts("AccountHasRole", account=account, party=party, role=role, _what=role.name):
            t.propose(world.sg, ADD, "ID", account)
    assert t.proposal_count() == 0
    # An open AddParty proposal reserves its admin account, even for another party's proposal.
    pid, _ = t.propose(world.sg, ADD, "ID", newbie)
    with reverts("AccountReserved", account=newbie, proposalId=pid):
        t.propose(world.th, ADD, "VN", newbie)
    assert t.proposal_count() == 1


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
    # The proposed admin cannot become another party's admin in the meantime: it is reserved.
    with reverts("AccountReserved", account=world.account(6), proposalId=third):
        t.propose_admin_change(world.sg, world.account(6).address, True)
    t.execute(world.sg, third)
    assert t.is_member("VN")
    assert t.admins("VN") == [world.account(6).address]
    assert t.admins("SG") == [world.sg.address]


@pytest.mark.devchain("evm_increaseTime")
def test_add_party_reservation_covers_every_role_and_ends_with_the_proposal(world: World) -> None:
    t = world.reg.trust
    ca = add_ca(world, world.my)
    reserved = world.account(4).address
    pid, _ = t.propose(world.sg, ADD, "ID", reserved)
    for name, op in {
        "proposeAdminChange": lambda: t.propose_admin_change(world.my, reserved, True),
        "authorizeIssuer": lambda: t.authorize_issuer(world.my, reserved, ca, bit(PERMIT)),
        "grantConsumer": lambda: t.grant_consumer(world.my, reserved),
        "propose AddParty": lambda: t.propose(world.my, ADD, "VN", reserved),
    }.items():
        with reverts("AccountReserved", account=reserved, proposalId=pid, _what=name):
            op()
    assert t.role_of(reserved) == (Role.NONE, "")
    # Once the proposal expired unexecuted, the account is free again.
    advance_time(world.chain, LIFETIME + 1)
    with reverts("ProposalExpired", proposalId=pid):
        t.execute(world.sg, pid)
    t.grant_consumer(world.my, reserved)
    assert t.role_of(reserved) == (Role.CONSUMER, "MY")
    # Once executed, the reservation ends and the account holds the admin role.
    other = world.account(5).address
    pid, _ = pass_proposal(world, [world.sg, world.th], ADD, "ID", other)
    with reverts("AccountHasRole", account=other, party="ID", role=Role.ADMIN):
        t.grant_consumer(world.my, other)


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


def test_readmitted_partys_earlier_approval_does_not_come_back(world: World) -> None:
    t = world.reg.trust
    pid, _ = t.propose(world.th, SET, threshold=1)
    assert call(t, "hasApproved", pid, party_id("TH"))
    pass_proposal(world, [world.sg, world.my], REMOVE, "TH")
    new_admin = world.account(4)
    pass_proposal(world, [world.sg, world.my], ADD, "TH", new_admin.address)
    assert t.proposal(pid).approvals == 0
    t.approve(world.sg, pid)
    with reverts("InsufficientApprovals", proposalId=pid, approvals=1, threshold=2):
        t.execute(world.sg, pid)
    # The readmitted party may approve again, in its new membership; that approval counts.
    r = t.approve(new_admin, pid)
    assert event(world, r, "ProposalApproved") == {"proposalId": pid, "party": party_id("TH")}
    with reverts("AlreadyApproved", proposalId=pid, party="TH"):
        t.approve(new_admin, pid)
    r = t.execute(new_admin, pid)
    assert event(world, r, "ProposalExecuted") == {"proposalId": pid, "approvals": 2}
    assert t.threshold() == 1


@pytest.mark.devchain("evm_increaseTime")
def test_removed_partys_issuers_are_revoked_and_readmission_restores_nothing(world: World) -> None:
    t, d = world.reg.trust, world.reg.documents
    fp = add_ca(world, world.th)
    active = add_issuer(world, world.th, 4, ca=fp)
    suspended = add_issuer(world, world.th, 5, ca=fp)
    revoked = add_issuer(world, world.th, 6, ca=fp)
    consumer = add_consumer(world, world.th, 7)
    t.suspend_issuer(world.th, suspended.address)
    t.revoke_issuer(world.th, revoked.address, reason=2)
    batch = anchor_batch(world, active)
    advance_time(world.chain, 10)

    _, r = pass_proposal(world, [world.sg, world.my], REMOVE, "TH")
    removed_at = tx_time(world, r)
    synced = {e["account"]: e["active"] for e in events(world, r, "IssuerSynced")}
    assert synced == {active.address: False, suspended.address: False}  # revoked ones are left alone
    changed = {e["account"]: (e["status"], e["reason"]) for e in events(world, r, "IssuerStatusChanged")}
    assert changed == {active.address: (R, PARTY_REMOVED), suspended.address: (R, PARTY_REMOVED)}
    assert t.issuer(revoked.address).revoked_at < removed_at
    assert t.issuer_history(revoked.address)[-1].reason == 2
    for issuer in (active, suspended):
        assert (t.issuer(issuer.address).status, t.issuer(issuer.address).revoked_at) == (R, removed_at)
    assert not d.issuer_auth(active.address)["active"]
    # What it anchored while a member stays valid: the revocation is effective at removal.
    assert call(t, "anchoringValidAt", active.address, batch.anchored_at)
    assert not call(t, "anchoringValidAt", active.address, removed_at)
    for issuer in (active, suspended, revoked):
        with reverts("IssuerNotActive", account=issuer.account):
            anchor_batch(world, issuer)
    assert t.consumer_party(consumer.address) == ""

    # The old admin lost its role on removal and does not regain it on readmission.
    assert t.admin_party(world.th.address) == ""
    new_admin = world.account(8)
    _, r = pass_proposal(world, [world.sg, world.my], ADD, "TH", new_admin.address)
    assert events(world, r, "IssuerSynced") == []
    assert events(world, r, "ConsumerGranted") == []
    for issuer in (active, suspended, revoked):
        assert t.issuer(issuer.address).status == R
        assert not d.issuer_auth(issuer.address)["active"]
        with reverts("IssuerNotActive", account=issuer.account):
            anchor_batch(world, issuer)
    assert t.consumers("TH") == []
    assert t.parties() == ["SG", "TH", "MY"]
    assert call(t, "memberCount") == 3
    assert [h["member"] for h in call(t, "membershipHistory", party_id("TH"))] == [True, False, True]
    assert t.admins("TH") == [new_admin.address]
    with reverts("NotPartyAdmin", account=world.th):
        t.add_ca(world.th, fake_certificate(), NOT_BEFORE, NOT_AFTER, 1)
    # Revoked is final: the new admin cannot resume the old issuers, nor authorize their accounts again.
    with reverts("InvalidStatusTransition", {"from": R, "to": A}):
        t.resume_issuer(new_admin, suspended.address)
    with reverts("AccountHasRole", account=active.address, party="TH", role=Role.ISSUER):
        t.authorize_issuer(new_admin, active.address, fp, bit(PERMIT))
    # It starts afresh: a new issuer account (under the party's CA) and its consumer again.
    fresh = add_issuer(world, new_admin, 9, ca=fp)
    anchor_batch(world, fresh)
    t.grant_consumer(new_admin, consumer.address)
    assert t.consumers("TH") == [consumer.address]


# ====================================================================== a party's own admins


def test_sole_admin_adds_a_second_admin_at_once(world: World) -> None:
    t = world.reg.trust
    second = world.account(4)
    cid, r = t.propose_admin_change(world.sg, second.address, True)
    at = tx_time(world, r)
    assert cid == 1 == t.admin_change_count()
    assert event(world, r, "AdminChangeProposed") == {
        "changeId": cid,
        "party": party_id("SG"),
        "account": second.address,
        "add": True,
        "proposer": world.sg.address,
        "readyAt": at + ADMIN_DELAY,
        "expiresAt": at + ADMIN_DELAY + LIFETIME,
    }
    assert event(world, r, "AdminChangeApproved") == {"changeId": cid, "admin": world.sg.address}
    assert t.admin_change(cid) == AdminChange(
        cid, "SG", second.address, True, world.sg.address, at, at + ADMIN_DELAY, at + ADMIN_DELAY + LIFETIME,
        False, False, 1,
    )  # fmt: skip
    r = t.execute_admin_change(world.sg, cid)  # 1 of 1 admins is a majority
    assert event(world, r, "AdminAdded") == {"party": party_id("SG"), "admin": second.address}
    assert event(world, r, "AdminChangeExecuted") == {"changeId": cid, "approvals": 1}
    assert t.admin_change(cid).executed
    assert t.admins("SG") == [world.sg.address, second.address]
    assert t.admin_party(second.address) == "SG"
    assert t.role_of(second.address) == (Role.ADMIN, "SG")
    add_ca(world, second)  # the new admin acts for SG


def test_admin_change_by_majority(world: World) -> None:
    t = world.reg.trust
    a4, a5, a6 = world.account(4), world.account(5), funded(world, 10)
    change_admins(world, [world.sg], a4.address, add=True)
    # Two admins: a majority is both.
    cid, _ = t.propose_admin_change(a4, a5.address, True)
    ready_at = t.admin_change(cid).ready_at
    with reverts("AdminChangeNotReady", changeId=cid, approvals=1, needed=2, readyAt=ready_at):
        t.execute_admin_change(a4, cid)
    r = t.approve_admin_change(world.sg, cid)
    assert event(world, r, "AdminChangeApproved") == {"changeId": cid, "admin": world.sg.address}
    assert t.admin_change(cid).approvals == 2
    r = t.execute_admin_change(world.sg, cid)  # any admin of the party may execute
    assert event(world, r, "AdminChangeExecuted") == {"changeId": cid, "approvals": 2}
    # Three admins: two are a majority.
    cid, _ = t.propose_admin_change(a5, a6.address, True)
    with reverts("AdminChangeNotReady", changeId=cid, approvals=1, needed=2):
        t.execute_admin_change(a5, cid)
    t.approve_admin_change(a4, cid)
    t.execute_admin_change(a5, cid)
    assert t.admins("SG") == [world.sg.address, a4.address, a5.address, a6.address]
    # Four admins: three are a majority, also for a removal.
    cid, _ = t.propose_admin_change(a4, world.sg.address, False)
    t.approve_admin_change(a5, cid)
    with reverts("AdminChangeNotReady", changeId=cid, approvals=2, needed=3):
        t.execute_admin_change(a4, cid)
    t.approve_admin_change(a6, cid)
    r = t.execute_admin_change(a6, cid)
    assert event(world, r, "AdminRemoved") == {"party": party_id("SG"), "admin": world.sg.address}
    assert event(world, r, "AdminChangeExecuted") == {"changeId": cid, "approvals": 3}
    assert sorted(t.admins("SG")) == sorted([a4.address, a5.address, a6.address])
    assert t.role_of(world.sg.address) == (Role.NONE, "")
    with reverts("NotPartyAdmin", account=world.sg):
        add_ca(world, world.sg)
    # A removed account may be added again, to any party.
    change_admins(world, [world.th], world.sg.address, add=True)
    assert t.admin_party(world.sg.address) == "TH"


@pytest.mark.devchain("evm_increaseTime")
def test_admin_change_after_the_delay_without_majority(world: World) -> None:
    t = world.reg.trust
    second = world.account(4)
    change_admins(world, [world.sg], second.address, add=True)
    target = world.account(5).address
    cid, r = t.propose_admin_change(second, target, True)
    ready_at = tx_time(world, r) + ADMIN_DELAY
    advance_time(world.chain, ADMIN_DELAY - 100)
    with reverts("AdminChangeNotReady", changeId=cid, approvals=1, needed=2, readyAt=ready_at):
        t.execute_admin_change(world.sg, cid)
    advance_time(world.chain, 200)
    r = t.execute_admin_change(world.sg, cid)  # uncancelled for the whole delay: it runs with 1 of 2
    assert event(world, r, "AdminChangeExecuted") == {"changeId": cid, "approvals": 1}
    assert t.admin_party(target) == "SG"
    with reverts("AdminChangeClosed", changeId=cid):
        t.execute_admin_change(world.sg, cid)


@pytest.mark.devchain("evm_increaseTime")
def test_admin_change_expires(world: World) -> None:
    t = world.reg.trust
    second = world.account(4)
    change_admins(world, [world.sg], second.address, add=True)
    cid, _ = t.propose_admin_change(second, world.account(5).address, True)
    other, _ = t.propose_admin_change(second, world.account(6).address, True)
    expires = t.admin_change(cid).expires_at
    advance_time(world.chain, ADMIN_DELAY + LIFETIME - 100)
    t.approve_admin_change(world.sg, other)  # still open until it expires
    advance_time(world.chain, 200)
    assert world.now() > expires
    for name, op in {
        "approve": lambda: t.approve_admin_change(world.sg, cid),
        "cancel": lambda: t.cancel_admin_change(world.sg, cid),
        "execute": lambda: t.execute_admin_change(world.sg, cid),
        "execute approved": lambda: t.execute_admin_change(world.sg, other),
    }.items():
        with reverts("AdminChangeClosed", _what=name):
            op()
    assert t.admins("SG") == [world.sg.address, second.address]


@pytest.mark.devchain("evm_increaseTime")
def test_admin_change_cancelled(world: World) -> None:
    t = world.reg.trust
    second = world.account(4)
    change_admins(world, [world.sg], second.address, add=True)
    cid, _ = t.propose_admin_change(second, world.account(5).address, True)
    r = t.cancel_admin_change(world.sg, cid)
    assert event(world, r, "AdminChangeCancelled") == {"changeId": cid, "admin": world.sg.address}
    assert t.admin_change(cid).cancelled
    advance_time(world.chain, ADMIN_DELAY)
    for name, op in {
        "approve": lambda: t.approve_admin_change(world.sg, cid),
        "cancel": lambda: t.cancel_admin_change(second, cid),
        "execute": lambda: t.execute_admin_change(second, cid),
    }.items():
        with reverts("AdminChangeClosed", changeId=cid, _what=name):
            op()
    # The proposer may withdraw its own change too.
    cid, _ = t.propose_admin_change(second, world.account(5).address, True)
    t.cancel_admin_change(second, cid)
    # But the admin a removal names may not cancel it: a stolen key could otherwise never be removed.
    cid, _ = t.propose_admin_change(world.sg, second.address, False)
    with reverts("CannotCancelOwnRemoval", changeId=cid, admin=second):
        t.cancel_admin_change(second, cid)
    advance_time(world.chain, ADMIN_DELAY)
    t.execute_admin_change(world.sg, cid)
    assert t.admins("SG") == [world.sg.address]


def test_admin_change_rejections(world: World) -> None:
    t = world.reg.trust
    second = world.account(4)
    change_admins(world, [world.sg], second.address, add=True)
    issuer = add_issuer(world, world.sg, 5)
    consumer = add_consumer(world, world.th, 6)
    for account, party, role in (
        (second.address, "SG", Role.ADMIN),
        (world.th.address, "TH", Role.ADMIN),
        (issuer.address, "SG", Role.ISSUER),
        (consumer.address, "TH", Role.CONSUMER),
    ):
        with reverts("AccountHasRole", account=account, party=party, role=role, _what=f"add {account}"):
            t.propose_admin_change(world.sg, account, True)
    with reverts("ZeroAddress"):
        t.propose_admin_change(world.sg, ZERO_ADDRESS, True)
    stranger = world.account(9).address
    for account in (world.th.address, stranger, issuer.address):
        with reverts("NotAdminOfParty", account=account, party="SG", _what=f"remove {account}"):
            t.propose_admin_change(world.sg, account, False)
    with reverts("LastAdmin", party="TH", account=world.th):
        t.propose_admin_change(world.th, world.th.address, False)

    cid, _ = t.propose_admin_change(world.sg, world.account(7).address, True)
    with reverts("AdminChangeAlreadyApproved", changeId=cid, admin=world.sg):
        t.approve_admin_change(world.sg, cid)
    # Another party's admin has no say in SG's admins.
    for name, op in {
        "approve": lambda: t.approve_admin_change(world.th, cid),
        "cancel": lambda: t.cancel_admin_change(world.th, cid),
        "execute": lambda: t.execute_admin_change(world.th, cid),
    }.items():
        with reverts("NotAdminOfParty", account=world.th, party="SG", _what=name):
            op()
    change_ops = {
        "approve": t.approve_admin_change,
        "cancel": t.cancel_admin_change,
        "execute": t.execute_admin_change,
    }
    for unknown in (0, cid + 1, 2**200):
        for name, change_op in change_ops.items():
            with reverts("UnknownAdminChange", changeId=unknown, _what=f"{name} {unknown}"):
                change_op(world.sg, unknown)
    assert t.admin_change_count() == 2


@pytest.mark.devchain("evm_increaseTime")
def test_admin_change_is_checked_again_at_execution(world: World) -> None:
    t = world.reg.trust
    second = world.account(4)
    change_admins(world, [world.sg], second.address, add=True)
    # The account to add took another role in the meantime.
    newcomer = world.account(5).address
    add_cid, _ = t.propose_admin_change(world.sg, newcomer, True)
    t.grant_consumer(world.th, newcomer)
    t.approve_admin_change(second, add_cid)
    with reverts("AccountHasRole", account=newcomer, party="TH", role=Role.CONSUMER):
        t.execute_admin_change(world.sg, add_cid)
    # The admin to remove left by another change; then removing the other would leave no admin.
    remove_second, _ = t.propose_admin_change(world.sg, second.address, False)
    remove_sg, _ = t.propose_admin_change(second, world.sg.address, False)
    t.approve_admin_change(world.sg, remove_sg)
    t.execute_admin_change(second, remove_sg)
    assert t.admins("SG") == [second.address]
    # The removed admin's approval no longer counts.
    assert t.admin_change(remove_second).approvals == 0
    ready_at = t.admin_change(remove_second).ready_at
    with reverts("AdminChangeNotReady", changeId=remove_second, approvals=0, needed=1, readyAt=ready_at):
        t.execute_admin_change(second, remove_second)
    advance_time(world.chain, ADMIN_DELAY)
    with reverts("LastAdmin", party="SG", account=second):
        t.execute_admin_change(second, remove_second)
    assert t.admins("SG") == [second.address]


# ====================================================================== consumer accounts


def test_grant_and_revoke_consumer(world: World) -> None:
    t = world.reg.trust
    c1, c2 = world.account(4).address, world.account(5).address
    r = t.grant_consumer(world.sg, c1)
    assert event(world, r, "ConsumerGranted") == {"party": party_id("SG"), "account": c1}
    t.grant_consumer(world.sg, c2)
    assert t.consumers("SG") == [c1, c2]
    assert t.consumer_party(c1) == "SG"
    assert t.role_of(c1) == (Role.CONSUMER, "SG")
    assert t.admin_party(c1) == ""
    r = t.revoke_consumer(world.sg, c1)
    assert event(world, r, "ConsumerRevoked") == {"party": party_id("SG"), "account": c1}
    assert t.consumers("SG") == [c2]
    assert t.role_of(c1) == (Role.NONE, "")
    # A former consumer account may take a role again, for any party.
    t.grant_consumer(world.th, c1)
    assert t.role_of(c1) == (Role.CONSUMER, "TH")


def test_consumer_rejections(world: World) -> None:
    t = world.reg.trust
    issuer = add_issuer(world, world.sg, 4)
    consumer = world.account(5).address
    t.grant_consumer(world.sg, consumer)
    for account, party, role in (
        (consumer, "SG", Role.CONSUMER),
        (world.sg.address, "SG", Role.ADMIN),
        (world.th.address, "TH", Role.ADMIN),
        (issuer.address, "SG", Role.ISSUER),
    ):
        for who in (world.sg, world.th):
            with reverts("AccountHasRole", account=account, party=party, role=role, _what=f"grant {account}"):
                t.grant_consumer(who, account)
    with reverts("ZeroAddress"):
        t.grant_consumer(world.sg, ZERO_ADDRESS)
    reserved = world.account(6).address
    pid, _ = t.propose(world.th, ADD, "ID", reserved)
    with reverts("AccountReserved", account=reserved, proposalId=pid):
        t.grant_consumer(world.sg, reserved)
    for who, account, party in (
        (world.th, consumer, "TH"),  # another party's consumer
        (world.sg, world.account(9).address, "SG"),  # nobody
        (world.sg, world.sg.address, "SG"),  # an admin is no consumer
        (world.sg, issuer.address, "SG"),
    ):
        with reverts("NotConsumerOfParty", account=account, party=party, _what=f"revoke {account}"):
            t.revoke_consumer(who, account)
    assert t.consumers("SG") == [consumer]


# ====================================================================== certificate authorities


def test_add_ca_records_everything(world: World) -> None:
    t = world.reg.trust
    cert, pop = fake_certificate(), b"a proof of possession"
    fp = cert_id("SG", cert)
    assert fp == ca_id("SG", cert_hash(cert)) == call(t, "caId", party_id("SG"), cert_hash(cert))
    r = t.add_ca(world.sg, cert, 1000, 2000, bit(PERMIT, PHYTO), pop)
    at = tx_time(world, r)
    assert event(world, r, "CARegistered") == {
        "fingerprint": fp,
        "party": party_id("SG"),
        "notBefore": 1000,
        "notAfter": 2000,
        "docTypes": bit(PERMIT, PHYTO),
        "effectiveAt": at,
    }
    assert event(world, r, "CACertificatePublished") == {
        "fingerprint": fp,
        "party": party_id("SG"),
        "certificateHash": cert_hash(cert),
        "certificate": cert,
        "proofOfPossession": pop,
    }
    assert t.ca(fp) == CertificateAuthority(fp, "SG", 1000, 2000, bit(PERMIT, PHYTO), A, at, 0)
    assert t.ca_history(fp) == [StatusChange(A, at, at, 0)]
    fp2 = add_ca(world, world.sg)
    assert t.party_cas("SG") == [fp, fp2]
    assert t.party_cas("TH") == []
    assert t.ca(cert_id("TH", cert)).status == Status.NONE
    assert t.ca(cert_hash(cert)).status == Status.NONE  # the id is not the bare certificate hash


def test_add_ca_rejections(world: World) -> None:
    t = world.reg.trust
    cert = fake_certificate()
    fp = add_ca(world, world.sg, certificate=cert)
    with reverts("CAAlreadyRegistered", fingerprint=fp, party="SG"):
        t.add_ca(world.sg, cert, NOT_BEFORE, NOT_AFTER, 1)
    t.revoke_ca(world.sg, fp)
    with reverts("CAAlreadyRegistered", fingerprint=fp, party="SG"):  # revoked ids stay taken
        t.add_ca(world.sg, cert, NOT_BEFORE, NOT_AFTER, 1)
    with reverts("EmptyCertificate"):
        t.add_ca(world.sg, b"", NOT_BEFORE, NOT_AFTER, 1)
    with reverts("InvalidValidity", notBefore=NOT_AFTER, notAfter=NOT_AFTER):
        t.add_ca(world.sg, fake_certificate(), NOT_AFTER, NOT_AFTER, 1)
    with reverts("InvalidValidity", notBefore=NOT_AFTER, notAfter=NOT_BEFORE):
        t.add_ca(world.sg, fake_certificate(), NOT_AFTER, NOT_BEFORE, 1)
    with reverts("EmptyDocumentTypes"):
        t.add_ca(world.sg, fake_certificate(), NOT_BEFORE, NOT_AFTER, 0)
    assert t.party_cas("SG") == [fp]
    # Another party registering the same certificate gets an id of its own and blocks nobody.
    th_fp = add_ca(world, world.th, certificate=cert)
    assert th_fp == cert_id("TH", cert) != fp
    assert (t.ca(th_fp).party, t.ca(th_fp).status, t.ca(fp).status) == ("TH", A, R)
    assert t.party_cas("TH") == [th_fp]


def test_add_ca_publishes_a_proof_of_possession_tools_can_check(world: World) -> None:
    t = world.reg.trust
    root, issuing = make_cas("SG")
    pop = root.pop(world, "SG")
    r = t.add_ca(world.sg, root.der, NOT_BEFORE, NOT_AFTER, bit(PERMIT), pop)
    published = event(world, r, "CACertificatePublished")
    assert (published["certificate"], published["proofOfPossession"]) == (root.der, pop)
    assert published["fingerprint"] == cert_id("SG", root.der)

    def message(party: str, certificate: bytes, registry: str = t.address) -> bytes:
        return pop_message(world.chain.chain_id, registry, party, cert_hash(certificate))

    assert verify_pop(root.certificate, pop, message("SG", root.der))
    # The proof is bound to the party, the certificate and the registry.
    assert not verify_pop(root.certificate, pop, message("MY", root.der))
    assert not verify_pop(issuing.certificate, pop, message("SG", issuing.der))
    assert not verify_pop(root.certificate, pop, message("SG", root.der, world.reg.documents.address))
    # The registry cannot check it (a Paris EVM verifies no P-256 signature): a bogus one is recorded as
    # given, for every audit to flag.
    r = t.add_ca(world.sg, issuing.der, NOT_BEFORE, NOT_AFTER, bit(PERMIT), b"bogus")
    assert event(world, r, "CACertificatePublished")["proofOfPossession"] == b"bogus"
    assert not verify_pop(issuing.certificate, b"bogus", message("SG", issuing.der))


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
    unknown = cert_id("SG", fake_certificate())
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


def _fresh_ca(world: World) -> tuple[bytes, int]:
    """An SG CA registered now: its id and registration time."""
    cert = fake_certificate()
    r = world.reg.trust.add_ca(world.sg, cert, NOT_BEFORE, NOT_AFTER, 1)
    return cert_id("SG", cert), tx_time(world, r)


@pytest.mark.devchain("evm_increaseTime")
def test_ca_effective_time_rules(world: World) -> None:
    t = world.reg.trust
    fp, t0 = _fresh_ca(world)
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


@pytest.mark.devchain("evm_increaseTime")
def test_ca_history_content(world: World) -> None:
    t = world.reg.trust
    fp, t0 = _fresh_ca(world)
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


@pytest.mark.devchain("evm_increaseTime")
def test_ca_status_at_over_time(world: World) -> None:
    t = world.reg.trust
    fp, t0 = _fresh_ca(world)
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
    assert t.ca_status_at(cert_id("SG", fake_certificate()), tr) == Status.NONE


@pytest.mark.devchain("evm_increaseTime")
def test_backdated_ca_revocation(world: World) -> None:
    t = world.reg.trust
    fp, t0 = _fresh_ca(world)
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


@pytest.mark.devchain("evm_increaseTime")
def test_backdated_ca_revocation_overrides_a_later_suspension_window(world: World) -> None:
    t = world.reg.trust
    fp, t0 = _fresh_ca(world)
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
    assert t.role_of(acc.address) == (Role.ISSUER, "SG")
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
    unknown = cert_id("SG", fake_certificate())
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
    with reverts("AccountHasRole", account=acc, party="SG", role=Role.ISSUER):
        t.authorize_issuer(world.sg, acc, fp, bit(CERTIFICATE))
    with reverts("AccountHasRole", account=acc, party="SG", role=Role.ISSUER):
        t.authorize_issuer(world.th, acc, th_fp, 1)
    t.revoke_issuer(world.sg, acc)
    # A revoked account stays taken.
    with reverts("AccountHasRole", account=acc, party="SG", role=Role.ISSUER):
        t.authorize_issuer(world.sg, acc, fp, bit(PERMIT))
    # Neither an admin (of any party) nor a consumer account becomes an issuer.
    consumer = add_consumer(world, world.sg, 5).address
    for account, party, role in (
        (world.sg.address, "SG", Role.ADMIN),
        (world.th.address, "TH", Role.ADMIN),
        (consumer, "SG", Role.CONSUMER),
    ):
        with reverts("AccountHasRole", account=account, party=party, role=role, _what=role.name):
            t.authorize_issuer(world.sg, account, fp, bit(PERMIT))
    reserved = world.account(6).address
    pid, _ = t.propose(world.th, ADD, "ID", reserved)
    with reverts("AccountReserved", account=reserved, proposalId=pid):
        t.authorize_issuer(world.sg, reserved, fp, bit(PERMIT))
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
    assert t.role_of(acc) == (Role.ISSUER, "SG")  # revoked, but bound to SG for good


@pytest.mark.devchain("evm_increaseTime")
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


@pytest.mark.devchain("evm_increaseTime")
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


@pytest.mark.devchain("evm_increaseTime")
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
    advance_time(world.chain, 10)
    r = t.recognize(world.sg, "TH", 1)
    last = tx_time(world, r)
    for name, op in {"recognize": t.recognize, "unrecognize": t.unrecognize}.items():
        with reverts("EffectiveTimeBeforeLastChange", effectiveAt=last - 1, lastEffectiveAt=last, _what=name):
            op(world.sg, "TH", 1, last - 1)
    pass_proposal(world, [world.sg, world.th], REMOVE, "MY")
    with reverts("PartyNotMember", party="MY"):
        t.recognize(world.sg, "MY", 1)
    assert t.recognition_history("SG", "TH") == [(1, last)]


@pytest.mark.devchain("evm_increaseTime")
def test_recognition_may_not_take_effect_before_admission(world: World) -> None:
    t = world.reg.trust
    advance_time(world.chain, 100)
    newbie = world.account(4)
    _, r = pass_proposal(world, [world.sg, world.th], ADD, "ID", newbie.address)
    admitted = tx_time(world, r)
    advance_time(world.chain, 100)
    # Neither towards a party admitted later, nor by it.
    for name, op in {
        "SG recognizes ID": lambda effective: t.recognize(world.sg, "ID", 1, effective),
        "SG unrecognizes ID": lambda effective: t.unrecognize(world.sg, "ID", 1, effective),
        "ID recognizes SG": lambda effective: t.recognize(newbie, "SG", 1, effective),
    }.items():
        with reverts(
            "EffectiveTimeBeforeAdmission", effectiveAt=admitted - 1, admittedAt=admitted, _what=name
        ):
            op(admitted - 1)
    r = t.recognize(world.sg, "ID", 1, admitted)  # at the very admission: fine
    assert event(world, r, "RecognitionChanged")["effectiveAt"] == admitted
    t.recognize(newbie, "SG", 1, admitted + 1)
    assert t.recognition_at("SG", "ID", admitted) == 1
    assert t.recognition_at("ID", "SG", admitted + 1) == 1


@pytest.mark.devchain("evm_increaseTime")
def test_readmission_restores_no_recognition(world: World) -> None:
    t = world.reg.trust
    th_ca = add_ca(world, world.th, bit(PERMIT))
    sg_ca = add_ca(world, world.sg, bit(PERMIT))
    given = tx_time(world, t.recognize(world.sg, "TH", bit(PERMIT)))
    t.recognize(world.th, "SG", bit(PERMIT))
    advance_time(world.chain, 10)
    _, r = pass_proposal(world, [world.sg, world.my], REMOVE, "TH")
    removed = tx_time(world, r)
    advance_time(world.chain, 10)
    new_admin = world.account(4)
    _, r = pass_proposal(world, [world.sg, world.my], ADD, "TH", new_admin.address)
    back = tx_time(world, r)
    advance_time(world.chain, 10)
    now = world.now()
    # The history is kept, ended at the removal (in both directions), and still answers for the earlier
    # membership...
    assert t.recognition_history("SG", "TH") == [(bit(PERMIT), given), (0, removed)]
    assert t.recognition_history("TH", "SG")[-1] == (0, removed)
    assert t.recognition_at("SG", "TH", removed - 1) == bit(PERMIT)
    assert t.recognizes_ca_at("SG", th_ca, PERMIT, removed - 1)
    # ...but counts for nothing since, in either direction.
    for time in (removed, back, now):
        assert t.recognition_at("SG", "TH", time) == 0
        assert t.recognition_at("TH", "SG", time) == 0
        assert not t.recognizes_ca_at("SG", th_ca, PERMIT, time)
        assert not t.recognizes_ca_at("TH", sg_ca, PERMIT, time)
    assert t.recognizes_ca_at("TH", th_ca, PERMIT, now)  # its own CAs, as ever
    with reverts("EffectiveTimeBeforeAdmission", effectiveAt=given, admittedAt=back):
        t.recognize(world.sg, "TH", bit(PERMIT), given)
    t.recognize(world.sg, "TH", bit(PERMIT))
    assert t.recognizes_ca_at("SG", th_ca, PERMIT, world.now())


@pytest.mark.devchain("evm_increaseTime")
def test_recognizing_one_type_after_readmission_brings_no_old_type_back(world: World) -> None:
    t = world.reg.trust
    t.recognize(world.sg, "TH", bit(PERMIT))
    pass_proposal(world, [world.sg, world.my], REMOVE, "TH")
    pass_proposal(world, [world.sg, world.my], ADD, "TH", world.account(4).address)
    advance_time(world.chain, 10)
    r = t.recognize(world.sg, "TH", bit(PHYTO))
    assert event(world, r, "RecognitionChanged")["oldDocTypes"] == 0
    assert t.recognition_at("SG", "TH", world.now()) == bit(PHYTO)


@pytest.mark.devchain("evm_increaseTime")
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


@pytest.mark.devchain("evm_increaseTime")
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
    assert not recognizes("SG", cert_id("SG", fake_certificate()), PERMIT, now)
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
