"""The audit recomputes every published checkpoint: a witnessed one that disagrees with the chain, or two
for one event count, is a critical finding with the signed notes as evidence; the report lists them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from anchor.audit import Auditor, AuditSource
from anchor.checkpoint.audit import audit_checkpoints
from anchor.checkpoint.note import Checkpoint, SignedCheckpoint, cosign
from anchor.checkpoint.witness import Published
from tests.conftest import World
from tests.issuing_helpers import build_scenario
from tests.offline_helpers import OfflineKit


def _signed(kit: OfflineKit, cp: Checkpoint, *parties: str) -> SignedCheckpoint:
    return SignedCheckpoint(cp, tuple(cosign(cp, p, bytes(kit.witnesses[p].key)) for p in parties))


def test_rightful_checkpoints_give_no_finding(world: World, tmp_path: Path) -> None:
    kit = OfflineKit.of(build_scenario(world, tmp_path, n_docs=2))
    pub = Published(tmp_path / "cps")
    pub.merge(_signed(kit, kit.checkpointer().checkpoint, "SG", "TH"))  # type: ignore[arg-type]
    findings, table = audit_checkpoints(AuditSource.from_chain(world.chain, world.reg.manifest), pub)
    assert findings == []
    assert table.rows[0][3:] == ["yes", "SG, TH", 2, "yes"]


def test_a_witnessed_checkpoint_that_disagrees_and_a_fork(world: World, tmp_path: Path) -> None:
    kit = OfflineKit.of(build_scenario(world, tmp_path, n_docs=2))
    right = kit.checkpointer().checkpoint
    assert right is not None
    wrong = Checkpoint(**{**right.__dict__, "state_root": hashlib.sha256(b"hidden revocation").digest()})
    pub = Published(tmp_path / "cps")
    pub.merge(_signed(kit, right, "SG", "TH"))
    pub.merge(_signed(kit, wrong, "SG", "MY"))  # a colluding majority signs a state the chain never had
    source = AuditSource.from_chain(world.chain, world.reg.manifest)
    findings, table = audit_checkpoints(source, pub)
    kinds = {(f.kind, f.severity) for f in findings}
    assert kinds == {("checkpoint-disagrees", "critical"), ("checkpoint-fork", "critical")}
    disagrees = next(f for f in findings if f.kind == "checkpoint-disagrees")
    assert SignedCheckpoint.parse(disagrees.details["checkpoint"]).checkpoint == wrong
    assert disagrees.details["cosigners"] == ["MY", "SG"]
    fork = next(f for f in findings if f.kind == "checkpoint-fork")
    assert {SignedCheckpoint.parse(t).checkpoint for t in fork.details["checkpoints"]} == {right, wrong}
    assert sorted(r[3] for r in table.rows) == ["NO", "yes"]
    # The report carries them: a finding each and the checkpoints table (HTML and CSV).
    out = tmp_path / "report"
    report = Auditor(source, None, 0).report(out, "latest", extra_findings=findings, extra_tables=[table])
    assert report.finding_counts["critical"] >= 2
    data = json.loads((out / "report.json").read_text())
    assert data["tables"]["checkpoints"]["rows"]
    assert "Published registry checkpoints" in (out / "report.html").read_text()
    assert (out / "csv" / "checkpoints.csv").exists()


def test_a_lone_unwitnessed_disagreement_is_a_warning(world: World, tmp_path: Path) -> None:
    kit = OfflineKit.of(build_scenario(world, tmp_path, n_docs=1))
    right = kit.checkpointer().checkpoint
    assert right is not None
    wrong = Checkpoint(**{**right.__dict__, "trust_root": hashlib.sha256(b"x").digest()})
    pub = Published(tmp_path / "cps")
    pub.merge(_signed(kit, wrong, "MY"))
    findings, _ = audit_checkpoints(AuditSource.from_chain(world.chain, world.reg.manifest), pub)
    assert [(f.kind, f.severity) for f in findings] == [("checkpoint-disagrees", "warning")]
