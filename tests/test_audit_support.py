"""A scripted registry history that exercises every event, shared by the audit tests.

The history is built once per session on an anvil of its own (`history_url`) and remembers the blocks
and entities the tests ask about. Building it moves the chain's clock: every test that reads it is
marked devchain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from eth_account.signers.local import LocalAccount

from anchor.accounts import dev_account
from anchor.audit import AuditSource, check_consistency, replay
from anchor.chain import Chain, connect
from anchor.config import ChainConfig
from anchor.deploy import deploy
from anchor.issuing.leaf import Terms
from anchor.registry import ProposalKind, Registries
from tests.conftest import MNEMONIC, World, advance_time
from tests.registry_helpers import (
    CERTIFICATE,
    PERMIT,
    PHYTO,
    AnchoredBatch,
    IssuerSetup,
    TestCA,
    add_consumer,
    add_issuer,
    anchor_batch,
    bit,
    change_admins,
    funded,
    make_cas,
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
    accounts: dict[str, LocalAccount] = field(default_factory=dict)
    proposals: dict[str, int] = field(default_factory=dict)

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


def real_ca(w: World, admin: LocalAccount, doc_types: int, ca: TestCA | None = None) -> bytes:
    """Register a real CA certificate (a fresh root CA unless `ca` is given) with its proof of possession."""
    party = w.reg.trust.admin_party(admin.address)
    ca = ca or make_cas(party)[0]
    fp, _ = w.reg.trust.register_ca(admin, ca.info, doc_types, ca.key)
    return fp


def build_scenario(url: str) -> Scenario:
    w = new_world(url)
    t, d = w.reg.trust, w.reg.documents
    sc = Scenario(w, AuditSource.connect(url, w.reg.manifest))
    sc.mark("deployed")

    # Authorities (real certificates, with proofs of possession) and issuing accounts of three parties.
    sc.cas["SG1"] = real_ca(w, w.sg, bit(PERMIT, CERTIFICATE, PHYTO))
    sc.issuers["A"] = add_issuer(w, w.sg, 5, bit(PERMIT, CERTIFICATE), ca=sc.cas["SG1"])
    sc.cas["SG2"] = real_ca(w, w.sg, bit(PERMIT))
    sc.issuers["B"] = add_issuer(w, w.sg, 6, bit(PERMIT), ca=sc.cas["SG2"])
    sc.cas["TH1"] = real_ca(w, w.th, bit(PERMIT, PHYTO))
    sc.issuers["C"] = add_issuer(w, w.th, 7, bit(PERMIT, PHYTO), ca=sc.cas["TH1"])
    sc.cas["MY1"] = real_ca(w, w.my, bit(PERMIT))
    sc.issuers["D"] = add_issuer(w, w.my, 14, bit(PERMIT), ca=sc.cas["MY1"])
    t.recognize(w.th, "SG", bit(PERMIT))
    t.recognize(w.my, "SG", bit(PERMIT, CERTIFICATE))
    t.recognize(w.sg, "TH", bit(PHYTO))
    t.recognize(w.th, "MY", bit(PERMIT))
    sc.accounts["TH-consumer"] = add_consumer(w, w.th, 9)
    sc.accounts["MY-consumer"] = add_consumer(w, w.my, 10)
    # Checkpoint witnesses: MY's goes with MY's removal below (WitnessRevoked).
    for admin, index, name in ((w.sg, 16, "SG-witness"), (w.my, 17, "MY-witness")):
        sc.accounts[name] = dev_account(MNEMONIC, index)
        t.grant_witness(admin, sc.accounts[name].address)
    sc.mark("trust-set-up")

    # Anchoring, one anchorMany included; permits for TH (one-time), two of them with a quantity.
    to_th = Terms(destination="TH")
    for n in range(3):
        sc.batches[f"A{n}"] = anchor_batch(w, sc.issuers["A"], 4, terms=to_th)
    sc.batches["Q0"] = anchor_batch(
        w, sc.issuers["A"], 2, terms=[Terms("TH", quantity=10, unit="KG"), Terms("TH", quantity=8, unit="KG")]
    )
    sc.batches["B0"] = anchor_batch(w, sc.issuers["B"], 3)
    sc.batches["C0"] = anchor_batch(w, sc.issuers["C"], 2, PHYTO)
    sc.batches["D0"] = anchor_batch(w, sc.issuers["D"], 2)
    trees = [random_tree(2) for _ in range(5)]
    d.anchor_many(sc.issuers["A"].account, [x.root for x in trees], [PERMIT] * 5, [2] * 5)
    sc.mark("anchored")
    advance_time(w.chain, 1000)

    # Document lifecycle: a permit used up, a quantity endorsed in parts then used up, another endorsed.
    consumer = sc.accounts["TH-consumer"]
    a0, q0 = sc.batches["A0"], sc.batches["Q0"]
    r = d.consume(consumer, a0.proof(1), a0.opening(1))
    sc.times["consumed"] = tx_time(w, r)
    d.endorse(consumer, q0.proof(0), q0.opening(0), 3)
    d.endorse(consumer, q0.proof(0), q0.opening(0), 2)
    d.consume(consumer, q0.proof(0), q0.opening(0))  # endorses the remaining 5
    d.endorse(consumer, q0.proof(1), q0.opening(1), 3)
    d.revoke_document(w.sg, sc.batches["A1"].proof(0), 16)
    d.supersede(w.sg, a0.proof(2), sc.batches["A2"].proof(0))
    d.revoke_batch(w.sg, sc.issuers["B"].address, sc.batches["B0"].root, 1)
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

    # Governance: admit ID, then remove MY (its admin, consumer and issuer go) with MY's approvals of two
    # pending proposals lapsing; TH replaces its admin through admin changes.
    id_admin = dev_account(MNEMONIC, 8)
    pid, _ = t.propose(w.sg, ProposalKind.ADD_PARTY, "ID", id_admin.address)
    t.approve(w.th, pid)
    t.execute(w.sg, pid)
    pending, _ = t.propose(w.my, ProposalKind.SET_THRESHOLD, threshold=3)
    one_time, _ = t.propose(w.my, ProposalKind.SET_ONE_TIME_TYPES, doc_types=bit(PERMIT, CERTIFICATE))
    remove, _ = t.propose(w.sg, ProposalKind.REMOVE_PARTY, "MY")
    t.approve(w.th, remove)
    t.execute(w.th, remove)
    t.approve(w.th, pending)
    t.approve(w.sg, pending)
    t.execute(w.sg, pending)
    sc.proposals.update({"pending": pending, "one-time": one_time, "remove": remove})
    sc.times["pending-proposal"] = pending
    th2, th3 = funded(w, 11), funded(w, 12)
    change_admins(w, [w.th], th2.address, True)  # one admin: a majority of one
    change_admins(w, [w.th, th2], th3.address, True)
    change_admins(w, [th2, th3], w.th.address, False)
    cancelled, _ = t.propose_admin_change(th3, dev_account(MNEMONIC, 15).address, True)
    t.cancel_admin_change(th2, cancelled)
    t.propose_admin_change(th2, th3.address, False)  # left pending
    sc.accounts.update({"TH-admin": th2, "TH-admin-2": th3, "ID-admin": id_admin})
    sc.mark("governance")

    # MY is readmitted with a fresh admin: nothing comes back (issuer, consumer, recognitions, approvals).
    advance_time(w.chain, 100)
    my2 = funded(w, 13)
    readmit, _ = t.propose(w.sg, ProposalKind.ADD_PARTY, "MY", my2.address)
    t.approve(th2, readmit)
    t.approve(id_admin, readmit)
    t.execute(w.sg, readmit)
    sc.accounts["MY-admin"] = my2
    sc.mark("readmitted")
    advance_time(w.chain, 20)
    t.approve(my2, one_time)  # MY's approval counts again only once given anew
    t.approve(w.sg, one_time)
    t.approve(th2, one_time)
    t.execute(my2, one_time)
    t.recognize(my2, "SG", bit(PERMIT))
    t.grant_consumer(my2, sc.accounts["MY-consumer"].address)
    sc.mark("readmission")
    advance_time(w.chain, 10)
    sc.mark("end")
    return sc


_BUILT: dict[str, Scenario] = {}


@pytest.fixture(scope="module")
def scenario(history_url: str) -> Scenario:
    """Built once per session on a node of its own (the fixture is imported by several modules, each its
    own fixture): audits only read it, and no other test's blocks or reverts reach it."""
    if history_url not in _BUILT:
        _BUILT[history_url] = build_scenario(history_url)
    return _BUILT[history_url]


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_scenario_replays_consistently(scenario: Scenario) -> None:
    snap = replay(scenario.source, scenario.blocks["end"])
    report = check_consistency(scenario.source, snap)
    assert report.ok, report.mismatches[:5]
    # Every event of both registries occurs in the scenario.
    src = scenario.source
    declared = {e.name for abi in (src.trust_abi, src.document_abi) for e in abi.events.values()}
    assert set(snap.event_counts) == declared == {
        "PartyAdded", "PartyRemoved", "AdminAdded", "AdminRemoved", "ThresholdChanged", "ProposalCreated",
        "ProposalApproved", "ProposalExecuted", "CARegistered", "CACertificatePublished", "CAStatusChanged",
        "IssuerAuthorized", "IssuerStatusChanged", "RecognitionChanged", "ConsumerGranted", "ConsumerRevoked",
        "AdminChangeProposed", "AdminChangeApproved", "AdminChangeCancelled", "AdminChangeExecuted",
        "OneTimeTypesChanged", "Anchored", "BatchRevocationRecorded", "DocumentRevoked", "DocumentSuperseded",
        "DocumentConsumed", "DocumentEndorsed", "IssuerSynced", "WitnessGranted", "WitnessRevoked",
    }  # fmt: skip
    assert not snap.observations
