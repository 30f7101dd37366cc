"""A scripted registry history that exercises every event, shared by the audit tests.

The history is built once per test module on the session anvil (fresh registries each time) and
remembers the blocks and entities the tests ask about.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from anchor.accounts import dev_account
from anchor.audit import AuditSource, check_consistency, replay
from anchor.chain import Chain, connect
from anchor.config import ChainConfig
from anchor.deploy import deploy
from anchor.registry import ProposalKind, Registries
from tests.conftest import MNEMONIC, World, advance_time
from tests.registry_helpers import (
    CERTIFICATE,
    PERMIT,
    PHYTO,
    AnchoredBatch,
    IssuerSetup,
    add_ca,
    add_issuer,
    anchor_batch,
    bit,
    random_tree,
    tx_time,
)


@dataclass
class Scenario:
    world: World
    source: AuditSource
    blocks: dict[str, int] = field(default_factory=dict)
    batches: dict[str, AnchoredBatch] = field(default_factory=dict)
    issuers: dict[str, IssuerSetup] = field(default_factory=dict)
    cas: dict[str, bytes] = field(default_factory=dict)
    times: dict[str, int] = field(default_factory=dict)

    def mark(self, label: str) -> None:
        self.blocks[label] = self.world.chain.block_number()


def new_world(url: str, *, threshold: int = 2) -> World:
    chain = connect(ChainConfig(backend="rpc", rpc_url=url, mnemonic=MNEMONIC, confirmations=1))
    return world_on(chain, threshold=threshold)


def world_on(chain: Chain, *, threshold: int = 2) -> World:
    accounts = [dev_account(MNEMONIC, i) for i in range(4)]
    parties: list[tuple[str, str]] = [(p, accounts[i].address) for i, p in ((1, "SG"), (2, "TH"), (3, "MY"))]
    manifest = deploy(chain, accounts[0], parties, threshold=threshold, proposal_lifetime=3600)
    return World(chain, Registries.open(chain, manifest), *accounts)


def build_scenario(url: str) -> Scenario:
    w = new_world(url)
    t, d = w.reg.trust, w.reg.documents
    sc = Scenario(w, AuditSource.connect(url, w.reg.manifest))
    sc.mark("deployed")

    # Authorities and issuing accounts of two parties.
    sc.issuers["A"] = add_issuer(w, w.sg, 5, bit(PERMIT, CERTIFICATE))
    sc.cas["SG1"] = sc.issuers["A"].ca
    sc.cas["SG2"] = add_ca(w, w.sg, bit(PERMIT))
    sc.issuers["B"] = add_issuer(w, w.sg, 6, bit(PERMIT), ca=sc.cas["SG2"])
    sc.issuers["C"] = add_issuer(w, w.th, 7, bit(PERMIT, PHYTO))
    sc.cas["TH1"] = sc.issuers["C"].ca
    t.recognize(w.th, "SG", bit(PERMIT))
    t.recognize(w.my, "SG", bit(PERMIT, CERTIFICATE))
    t.recognize(w.sg, "TH", bit(PHYTO))
    sc.mark("trust-set-up")

    # Anchoring, one anchorMany included.
    for n in range(3):
        sc.batches[f"A{n}"] = anchor_batch(w, sc.issuers["A"], 4)
    sc.batches["B0"] = anchor_batch(w, sc.issuers["B"], 3)
    sc.batches["C0"] = anchor_batch(w, sc.issuers["C"], 2, PHYTO)
    trees = [random_tree(2) for _ in range(5)]
    d.anchor_many(sc.issuers["A"].account, [x.root for x in trees], [PERMIT] * 5, [2] * 5)
    sc.mark("anchored")
    advance_time(w.chain, 1000)

    # Document lifecycle.
    r = d.consume(w.th, sc.batches["A0"].proof(1))
    sc.times["consumed"] = tx_time(w, r)
    d.revoke_document(w.sg, sc.batches["A1"].proof(0), 16)
    d.supersede(w.sg, sc.batches["A0"].proof(2), sc.batches["A2"].proof(0))
    d.revoke_batch(w.sg, sc.batches["B0"].root, 1)
    sc.mark("lifecycle")

    # Issuer A anchors, then is suspended soon after, then resumed.
    advance_time(w.chain, 100)
    sc.batches["A3"] = anchor_batch(w, sc.issuers["A"], 2)
    advance_time(w.chain, 60)
    t.suspend_issuer(w.sg, sc.issuers["A"].address, 0, 6)
    advance_time(w.chain, 50)
    t.resume_issuer(w.sg, sc.issuers["A"].address)
    sc.mark("suspension")

    # CA SG2 revoked with a backdated effect: B's batch anchored inside the window is impacted.
    advance_time(w.chain, 200)
    sc.batches["B1"] = anchor_batch(w, sc.issuers["B"], 2)
    advance_time(w.chain, 300)
    r = t.revoke_ca(w.sg, sc.cas["SG2"], w.now() - 400, 1)
    sc.times["ca-revoked"] = tx_time(w, r)
    sc.mark("backdated")

    # Recognition withdrawn with a backdated effect; TH's CA suspended with one too.
    advance_time(w.chain, 100)
    t.unrecognize(w.my, "SG", bit(CERTIFICATE), w.now() - 50)
    t.suspend_ca(w.th, sc.cas["TH1"], w.now() - 20, 6)
    advance_time(w.chain, 30)
    t.resume_ca(w.th, sc.cas["TH1"])
    sc.mark("recognition")

    # Governance: admit ID, then remove MY with MY's own approval on a pending proposal lapsing.
    new_admin = dev_account(MNEMONIC, 8).address
    pid, _ = t.propose(w.sg, ProposalKind.ADD_PARTY, "ID", new_admin)
    t.approve(w.th, pid)
    t.execute(w.sg, pid)
    pending, _ = t.propose(w.my, ProposalKind.SET_THRESHOLD, threshold=3)
    remove, _ = t.propose(w.sg, ProposalKind.REMOVE_PARTY, "MY")
    t.approve(w.th, remove)
    t.execute(w.th, remove)
    t.approve(w.th, pending)
    t.approve(w.sg, pending)
    t.execute(w.sg, pending)
    sc.times["pending-proposal"] = pending
    t.add_admin(w.th, dev_account(MNEMONIC, 11).address)
    t.add_admin(w.th, dev_account(MNEMONIC, 12).address)
    t.remove_admin(w.th, w.th.address)
    sc.mark("governance")
    advance_time(w.chain, 10)
    sc.mark("end")
    return sc


_BUILT: dict[str, Scenario] = {}


@pytest.fixture(scope="module")
def scenario(anvil_url: str) -> Scenario:
    """Built once per anvil: audits only read it, and blocks added later by other tests do not touch it."""
    if anvil_url not in _BUILT:
        _BUILT[anvil_url] = build_scenario(anvil_url)
    return _BUILT[anvil_url]


def test_scenario_replays_consistently(scenario: Scenario) -> None:
    snap = replay(scenario.source, scenario.blocks["end"])
    report = check_consistency(scenario.source, snap)
    assert report.ok, report.mismatches[:5]
    assert set(snap.event_counts) == {
        "PartyAdded", "PartyRemoved", "AdminAdded", "AdminRemoved", "ThresholdChanged", "ProposalCreated",
        "ProposalApproved", "ProposalExecuted", "CARegistered", "CAStatusChanged", "IssuerAuthorized",
        "IssuerStatusChanged", "RecognitionChanged", "Anchored", "BatchRevocationRecorded", "DocumentRevoked",
        "DocumentSuperseded", "DocumentConsumed", "IssuerSynced",
    }  # fmt: skip
