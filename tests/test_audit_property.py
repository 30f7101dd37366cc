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

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anchor.accounts import dev_account
from anchor.audit import AuditSource, CheckpointStore, check_consistency, find, replay, replay_incremental
from anchor.errors import ContractRevert
from anchor.merkle import MerkleTree
from anchor.registry import DocumentProof, ProposalKind
from tests.conftest import MNEMONIC, World, advance_time
from tests.registry_helpers import NOT_AFTER, NOT_BEFORE, rand32
from tests.test_audit_support import new_world

MASKS = [0b1, 0b10, 0b11, 0b101, 0b111]
BACKDATE = [0, 0, 0, 5, 40, 400]
NEW_PARTIES = [("ID", 8), ("VN", 9)]


@dataclass
class Model:
    w: World
    admins: dict[str, Any] = field(default_factory=dict)
    cas: list[tuple[str, bytes]] = field(default_factory=list)
    issuers: list[tuple[str, Any]] = field(default_factory=list)
    batches: list[tuple[MerkleTree, Any]] = field(default_factory=list)
    proposals: list[int] = field(default_factory=list)
    spare_admin: int = 20

    def party(self, k: int) -> tuple[str, Any]:
        names = sorted(self.admins)
        name = names[k % len(names)]
        return name, self.admins[name]

    def proof(self, k: int, leaf: int) -> tuple[DocumentProof, Any]:
        tree, issuer = self.batches[k % len(self.batches)]
        i = leaf % tree.size
        return DocumentProof(tree.root, tree.leaf(i), i, tuple(tree.inclusion_proof(i))), issuer


def _pick(items: list[Any], k: int) -> Any:
    return items[k % len(items)]


def run(m: Model, op: tuple[Any, ...]) -> None:
    t, d, w = m.w.reg.trust, m.w.reg.documents, m.w
    kind, a, b, c = op
    now = w.now()
    if kind == "add_ca":
        name, admin = m.party(a)
        fp = rand32()
        t.add_ca(admin, fp, NOT_BEFORE, NOT_AFTER, _pick(MASKS, b))
        m.cas.append((name, fp))
    elif kind == "authorize" and m.cas and len(m.issuers) < 4:
        name, fp = _pick(m.cas, a)
        account = dev_account(MNEMONIC, 4 + len(m.issuers))
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
        trees = [MerkleTree([rand32() for _ in range(1 + (b + i) % 4)]) for i in range(1 + c % 3)]
        doc_type = b % 3
        if len(trees) == 1:
            d.anchor(account, trees[0].root, doc_type, trees[0].size)
        else:
            d.anchor_many(account, [x.root for x in trees], [doc_type] * len(trees), [x.size for x in trees])
        m.batches.extend((x, account) for x in trees)
    elif kind == "revoke_batch" and m.batches:
        tree, issuer = _pick(m.batches, a)
        d.revoke_batch(issuer, tree.root, b % 20)
    elif kind == "revoke_doc" and m.batches:
        proof, issuer = m.proof(a, b)
        d.revoke_document(issuer, proof, 16)
    elif kind == "supersede" and len(m.batches) > 1:
        old, issuer = m.proof(a, b)
        new, _ = m.proof(a + 1 + c, b)
        d.supersede(issuer, old, new)
    elif kind == "consume" and m.batches:
        proof, _ = m.proof(a, b)
        _, admin = m.party(c)
        d.consume(admin, proof)
    elif kind == "propose":
        _, admin = m.party(a)
        if b % 3 == 0:
            name, index = _pick(NEW_PARTIES, c)
            pid, _ = t.propose(admin, ProposalKind.ADD_PARTY, name, dev_account(MNEMONIC, index).address)
        elif b % 3 == 1:
            pid, _ = t.propose(admin, ProposalKind.REMOVE_PARTY, m.party(c)[0])
        else:
            pid, _ = t.propose(admin, ProposalKind.SET_THRESHOLD, threshold=1 + c % 3)
        m.proposals.append(pid)
    elif kind in ("approve", "execute") and m.proposals:
        _, admin = m.party(a)
        getattr(t, kind)(admin, _pick(m.proposals, b))
        if kind == "execute":
            for name, index in NEW_PARTIES:
                if name not in m.admins and t.is_member(name):
                    m.admins[name] = dev_account(MNEMONIC, index)
    elif kind == "add_admin":
        _, admin = m.party(a)
        m.spare_admin += 1
        t.add_admin(admin, dev_account(MNEMONIC, m.spare_admin).address)
    elif kind == "remove_admin":
        name, admin = m.party(a)
        others = [x for x in t.admins(name) if x != admin.address]
        if others:
            t.remove_admin(admin, others[b % len(others)])
    elif kind == "advance":
        advance_time(w.chain, _pick([1, 20, 300, 4000], a))


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
            "revoke_batch",
            "revoke_doc",
            "supersede",
            "consume",
            "consume",
            "propose",
            "approve",
            "execute",
            "add_admin",
            "remove_admin",
            "advance",
        ]
    ),
    st.integers(0, 15),
    st.integers(0, 15),
    st.integers(0, 15),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, min_size=6, max_size=40))
def test_replay_equals_views_after_random_histories(
    anvil_url: str, tmp_path_factory: Any, ops: list[Any]
) -> None:
    w = new_world(anvil_url, threshold=1)
    m = Model(w, {"SG": w.sg, "TH": w.th, "MY": w.my})
    # A useful start: one CA and issuer each for two parties, so that most random operations can succeed.
    for op in [("add_ca", 0, 4, 0), ("add_ca", 2, 4, 0), ("authorize", 0, 4, 0), ("authorize", 1, 4, 0)]:
        run(m, op)
    blocks = [w.chain.block_number()]
    for op in ops:
        with contextlib.suppress(ContractRevert):  # a refused operation leaves no trace: fine
            run(m, op)
        blocks.append(w.chain.block_number())
    src = AuditSource.connect(anvil_url, w.reg.manifest)
    picks = sorted({blocks[len(blocks) // 3], blocks[2 * len(blocks) // 3], blocks[-1]})
    store = CheckpointStore(Path(tmp_path_factory.mktemp("cp")))
    for block in picks:
        outcome = replay_incremental(src, store, block)
        snap = outcome.snapshot
        report = check_consistency(src, snap)
        assert report.ok, (block, report.mismatches[:5])
        assert not [f for f in find(snap, consistency=report) if f.severity == "critical"]
    assert outcome.resumed_from is not None or len(picks) == 1
    assert outcome.snapshot.digest() == replay(src, picks[-1]).digest()
