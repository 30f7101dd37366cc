"""Property: whatever sequence of registry operations ran, the replay equals the contracts' views.

Hypothesis drives random operations (most valid, some not: reverted ones simply leave no trace) against
real registries on anvil, then the replay is compared with every view at several blocks, and a replay
resumed from a checkpoint must reach the same digest as one from scratch.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anchor.audit import AuditSource, ResumeStore, check_consistency, find, replay, replay_incremental
from anchor.errors import ContractRevert
from anchor.issuing.leaf import Terms
from anchor.issuing.merkle import MerkleTree
from anchor.registry import DocumentProof, Opening, ProposalKind
from tests.conftest import World, advance_time
from tests.registry_helpers import (
    NOT_AFTER,
    NOT_BEFORE,
    Doc,
    fake_certificate,
    funded,
    make_cas,
    make_docs,
)
from tests.test_audit_support import new_world

MASKS = [0b1, 0b10, 0b11, 0b101, 0b111]
BACKDATE = [0, 0, 0, 5, 40, 400]
NEW_PARTIES = ["ID", "VN", "SG", "TH", "MY"]  # the founders too: a removed party may be readmitted
QUANTITIES = [0, 0, 5, 12]


@dataclass
class Model:
    w: World
    admins: dict[str, Any] = field(default_factory=dict)
    cas: list[tuple[str, bytes]] = field(default_factory=list)
    issuers: list[tuple[str, Any]] = field(default_factory=list)
    batches: list[tuple[MerkleTree, Any, list[Doc]]] = field(default_factory=list)
    proposals: list[int] = field(default_factory=list)
    admin_changes: list[int] = field(default_factory=list)
    consumers: list[tuple[str, Any]] = field(default_factory=list)
    created: list[Any] = field(default_factory=list)
    spare: int = 20

    def party(self, k: int) -> tuple[str, Any]:
        names = sorted(self.admins)
        name = names[k % len(names)]
        return name, self.admins[name]

    def fresh(self) -> Any:
        """A dev account no role ever used, with ether to send transactions."""
        self.spare += 1
        account = funded(self.w, self.spare)
        self.created.append(account)
        return account

    def doc(self, k: int, leaf: int) -> tuple[DocumentProof, Opening, Any]:
        tree, issuer, docs = self.batches[k % len(self.batches)]
        i = leaf % tree.size
        proof = DocumentProof(issuer.address, tree.root, tree.leaf(i), i, tuple(tree.inclusion_proof(i)))
        return proof, docs[i].opening, issuer

    def refresh_admins(self) -> None:
        """Parties and admins as the registry has them now (membership and admin changes happen)."""
        t = self.w.reg.trust
        known = {a.address.lower(): a for a in self.all_accounts}
        self.admins = {}
        for name in t.parties():
            if t.is_member(name):
                admins = [known[a.lower()] for a in t.admins(name) if a.lower() in known]
                if admins:
                    self.admins[name] = admins[0]

    @property
    def all_accounts(self) -> list[Any]:
        return [self.w.sg, self.w.th, self.w.my, *self.created]


def _pick(items: list[Any], k: int) -> Any:
    return items[k % len(items)]


def run(m: Model, op: tuple[Any, ...]) -> None:
    t, d, w = m.w.reg.trust, m.w.reg.documents, m.w
    kind, a, b, c = op
    now = w.now()
    if kind == "add_ca":
        name, admin = m.party(a)
        if c % 4:
            ca = make_cas(name)[0]
            fp, _ = t.register_ca(admin, ca.info, _pick(MASKS, b), ca.key)
        else:  # an old tool: no certificate worth the name, no proof (a warning, never critical)
            t.add_ca(admin, fake_certificate(), NOT_BEFORE, NOT_AFTER, _pick(MASKS, b))
            fp = t.party_cas(name)[-1]
        m.cas.append((name, fp))
    elif kind == "authorize" and m.cas and len(m.issuers) < 4:
        name, fp = _pick(m.cas, a)
        account = funded(w, 4 + len(m.issuers))
        t.authorize_issuer(m.admins[name], account.address, fp, _pick(MASKS, b))
        m.issuers.append((name, account))
    elif kind == "ca_status" and m.cas:
        name, fp = _pick(m.cas, a)
        eff = max(0, now - _pick(BACKDATE, c)) if _pick(BACKDATE, c) else 0
        action = b % 3
        if action == 0:
            t.suspend_ca(m.admins[name], fp, eff, 6)
        elif action == 1:
            t.resume_ca(m.admins[name], fp, eff)
        else:
            t.revoke_ca(m.admins[name], fp, eff, 1)
    elif kind == "issuer_status" and m.issuers:
        name, account = _pick(m.issuers, a)
        eff = max(0, now - _pick(BACKDATE, c)) if _pick(BACKDATE, c) else 0
        action = b % 3
        if action == 0:
            t.suspend_issuer(m.admins[name], account.address, eff, 6)
        elif action == 1:
            t.resume_issuer(m.admins[name], account.address, eff)
        else:
            t.revoke_issuer(m.admins[name], account.address, eff, 9)
    elif kind in ("recognize", "unrecognize"):
        _, admin = m.party(a)
        other, _ = m.party(b)
        eff = max(0, now - _pick(BACKDATE, c)) if _pick(BACKDATE, c) else 0
        getattr(t, kind)(admin, other, _pick(MASKS, c), eff)
    elif kind == "anchor" and m.issuers:
        _, account = _pick(m.issuers, a)
        doc_type = b % 3
        batches = []
        for i in range(1 + c % 3):
            terms = Terms(destination=m.party(a + i)[0], quantity=_pick(QUANTITIES, b + i))
            docs = make_docs(1 + (b + i) % 4, doc_type, terms)
            batches.append((MerkleTree([x.leaf for x in docs]), account, docs))
        if len(batches) == 1:
            d.anchor(account, batches[0][0].root, doc_type, batches[0][0].size)
        else:
            trees = [x[0] for x in batches]
            d.anchor_many(account, [x.root for x in trees], [doc_type] * len(trees), [x.size for x in trees])
        m.batches.extend(batches)
    elif kind == "copy_root" and m.batches and m.issuers:
        # Another account anchors a root it saw (front-running): a batch of its own.
        tree, _, docs = _pick(m.batches, a)
        _, account = _pick(m.issuers, b)
        d.anchor(account, tree.root, docs[0].doc_type, tree.size)
        m.batches.append((tree, account, docs))
    elif kind == "revoke_batch" and m.batches:
        tree, issuer, _ = _pick(m.batches, a)
        d.revoke_batch(issuer, issuer.address, tree.root, b % 20)
    elif kind == "revoke_doc" and m.batches:
        proof, _, issuer = m.doc(a, b)
        d.revoke_document(issuer, proof, 16)
    elif kind == "supersede" and len(m.batches) > 1:
        old, _, issuer = m.doc(a, b)
        new, _, _ = m.doc(a + 1 + c, b)
        d.supersede(issuer, old, new)
    elif kind in ("consume", "endorse") and m.batches and m.consumers:
        proof, opening, _ = m.doc(a, b)
        # Mostly a consumer of the document's destination (the only one that may use it), sometimes not.
        mine = [x for p, x in m.consumers if p == opening.terms.destination]
        consumer = _pick(mine, c) if mine and c % 4 else _pick(m.consumers, c)[1]
        if kind == "consume":
            d.consume(consumer, proof, opening)
        else:
            d.endorse(consumer, proof, opening, 1 + c % 4)
    elif kind == "grant_consumer":
        name, admin = m.party(a)
        account = m.fresh()
        t.grant_consumer(admin, account.address)
        m.consumers.append((name, account))
    elif kind == "revoke_consumer" and m.consumers:
        name, account = _pick(m.consumers, a)
        t.revoke_consumer(m.admins.get(name, m.w.sg), account.address)
    elif kind == "propose":
        _, admin = m.party(a)
        if b % 4 == 0:
            pid, _ = t.propose(admin, ProposalKind.ADD_PARTY, _pick(NEW_PARTIES, c), m.fresh().address)
        elif b % 4 == 1:
            pid, _ = t.propose(admin, ProposalKind.REMOVE_PARTY, m.party(c)[0])
        elif b % 4 == 2:
            pid, _ = t.propose(admin, ProposalKind.SET_THRESHOLD, threshold=1 + c % 3)
        else:
            pid, _ = t.propose(admin, ProposalKind.SET_ONE_TIME_TYPES, doc_types=_pick(MASKS, c))
        m.proposals.append(pid)
    elif kind in ("approve", "execute") and m.proposals:
        _, admin = m.party(a)
        getattr(t, kind)(admin, _pick(m.proposals, b))
    elif kind == "admin_change":
        name, admin = m.party(a)
        if b % 2:
            cid, _ = t.propose_admin_change(admin, m.fresh().address, True)
        else:
            others = [x for x in t.admins(name) if x != admin.address]
            if not others:
                return
            cid, _ = t.propose_admin_change(admin, others[c % len(others)], False)
        m.admin_changes.append(cid)
    elif kind in ("approve_change", "cancel_change", "execute_change") and m.admin_changes:
        cid = _pick(m.admin_changes, b)
        party = t.admin_change(cid).party
        admins = [x for x in m.all_accounts if t.admin_party(x.address) == party]
        if not admins:
            return
        fn = {"approve_change": t.approve_admin_change, "cancel_change": t.cancel_admin_change}
        fn.get(kind, t.execute_admin_change)(_pick(admins, a), cid)
    elif kind == "advance":
        advance_time(w.chain, _pick([1, 20, 300, 4000, 200_000], a))
    m.refresh_admins()


OPS = st.tuples(
    st.sampled_from(
        [
            "add_ca",
            "authorize",
            "authorize",
            "ca_status",
            "issuer_status",
            "recognize",
            "recognize",
            "unrecognize",
            "anchor",
            "anchor",
            "anchor",
            "copy_root",
            "copy_root",  # use is per leaf: uses through a copy and through the original share it
            "revoke_batch",
            "revoke_doc",
            "supersede",
            "grant_consumer",
            "revoke_consumer",
            "consume",
            "consume",
            "endorse",
            "endorse",
            "propose",
            "approve",
            "execute",
            "execute",
            "admin_change",
            "approve_change",
            "cancel_change",
            "execute_change",
            "advance",
        ]
    ),
    st.integers(0, 15),
    st.integers(0, 15),
    st.integers(0, 15),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, min_size=10, max_size=50))
@pytest.mark.devchain("evm_increaseTime")
def test_replay_equals_views_after_random_histories(
    anvil_url: str, tmp_path_factory: Any, ops: list[Any]
) -> None:
    w = new_world(anvil_url, threshold=1)
    m = Model(w, {"SG": w.sg, "TH": w.th, "MY": w.my})
    # A useful start: one CA and issuer each for two parties, everyone recognizing everyone, a consumer
    # account each, so that most random operations can succeed.
    start = [("add_ca", 0, 4, 1), ("add_ca", 2, 4, 1), ("authorize", 0, 4, 0), ("authorize", 1, 4, 0)]
    start += [("recognize", r, i, 2) for r in range(3) for i in range(3) if r != i]  # types 0b11, now
    start += [("grant_consumer", n, 0, 0) for n in range(3)]
    start += [("propose", 0, 3, 4), ("execute", 0, 0, 0)]  # every type one-time: all can be used up
    start += [("anchor", 0, 0, 2), ("anchor", 1, 2, 1)]
    for op in start:
        run(m, op)
    blocks = [w.chain.block_number()]
    for op in ops:
        with contextlib.suppress(ContractRevert):  # a refused operation leaves no trace: fine
            run(m, op)
        blocks.append(w.chain.block_number())
    src = AuditSource.connect(anvil_url, w.reg.manifest)
    picks = sorted({blocks[len(blocks) // 3], blocks[2 * len(blocks) // 3], blocks[-1]})
    store = ResumeStore(Path(tmp_path_factory.mktemp("cp")))
    for block in picks:
        outcome = replay_incremental(src, store, block)
        snap = outcome.snapshot
        report = check_consistency(src, snap)
        assert report.ok, (block, report.mismatches[:5])
        critical = [f for f in find(snap, consistency=report) if f.severity == "critical"]
        assert not critical, critical[0].title
    assert outcome.resumed_from is not None or len(picks) == 1
    assert outcome.snapshot.digest() == replay(src, picks[-1]).digest()
