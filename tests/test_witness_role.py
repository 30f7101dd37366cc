"""The witness role on the TrustRegistry: granted and revoked by the party's admins, one role per account,
nothing on chain but its events (it signs checkpoints off chain). Both EVMs (the parity set)."""

from __future__ import annotations

import pytest

from anchor.registry import ProposalKind, Role
from tests.conftest import World
from tests.registry_helpers import ZERO_ADDRESS, add_issuer, event, reverts

pytestmark = pytest.mark.parity


def test_grant_and_revoke_a_witness(world: World) -> None:
    t = world.reg.trust
    w = world.account(5).address
    r = t.grant_witness(world.sg, w)
    assert event(world, r, "WitnessGranted")["account"].lower() == w.lower()
    assert t.witnesses("SG") == [w]
    assert t.witness_party(w) == "SG"
    assert t.role_of(w) == (Role.WITNESS, "SG")
    r = t.revoke_witness(world.sg, w)
    assert event(world, r, "WitnessRevoked")["account"].lower() == w.lower()
    assert t.witnesses("SG") == []
    assert t.role_of(w) == (Role.NONE, "")


def test_witness_rejections(world: World) -> None:
    t = world.reg.trust
    issuer = add_issuer(world, world.sg, 4)
    w = world.account(5).address
    t.grant_witness(world.sg, w)
    for account, party, role in (
        (w, "SG", Role.WITNESS),
        (world.th.address, "TH", Role.ADMIN),
        (issuer.address, "SG", Role.ISSUER),
    ):
        with reverts("AccountHasRole", account=account, party=party, role=role, _what=f"grant {account}"):
            t.grant_witness(world.th, account)
        with reverts("AccountHasRole", account=account, party=party, role=role, _what=f"consumer {account}"):
            t.grant_consumer(world.sg, account)
    with reverts("ZeroAddress"):
        t.grant_witness(world.sg, ZERO_ADDRESS)
    with reverts("NotWitnessOfParty", account=w, party="TH"):
        t.revoke_witness(world.th, w)  # another party's witness
    with reverts("NotWitnessOfParty", account=world.sg.address, party="SG"):
        t.revoke_witness(world.sg, world.sg.address)  # an admin is no witness
    with reverts("NotPartyAdmin"):
        t.grant_witness(world.account(5), world.account(6).address)  # a witness grants nothing


def test_a_witness_key_can_do_nothing_on_chain(world: World) -> None:
    t = world.reg.trust
    w = world.account(5)
    t.grant_witness(world.sg, w.address)
    with reverts("NotPartyAdmin"):
        t.recognize(w, "TH", 1)
    with reverts("NotPartyAdmin"):
        t.grant_consumer(w, world.account(6).address)
    with reverts("NotPartyAdmin"):
        t.propose(w, ProposalKind.SET_THRESHOLD, "", ZERO_ADDRESS, 1)
