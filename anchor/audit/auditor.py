"""The auditor's questions, answered from replays: what `trustanchor audit` and the service's /v1/audit ask.

Each answer starts from a replay to the block asked about (resuming from a saved checkpoint when there
is one) and returns plain data: the state at a block or time, the changes between two blocks, the
consistency check with its findings, the report.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .consistency import ConsistencyReport, check_consistency
from .errors import AuditError, AuditQueryError
from .findings import CRITICAL, DEFAULT_WINDOW, Finding, counts, find, sort_findings
from .replay import replay
from .report import ReportFiles, write_report
from .resume import Notice, ReplayOutcome, ResumeStore, replay_incremental
from .snapshot_codec import entity_strings
from .source import AuditSource
from .tables import Table
from .views import diff, state_at


@dataclass
class CheckResult:
    outcome: ReplayOutcome
    consistency: ConsistencyReport
    findings: list[Finding]

    @property
    def critical(self) -> int:
        return counts(self.findings)[CRITICAL]

    @property
    def ok(self) -> bool:
        """Consistent with the contracts and nothing critical found."""
        return self.consistency.ok and not self.critical

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.outcome.summary(),
            "consistency": self.consistency.to_dict(),
            "findingCounts": counts(self.findings),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class Report:
    files: ReportFiles
    block: int
    digest: str
    consistency: ConsistencyReport
    finding_counts: dict[str, int]
    notices: list[Notice] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "html": str(self.files.html),
            "json": str(self.files.json),
            "csv": [str(p) for p in self.files.csv],
            "block": self.block,
            "digest": self.digest,
            "consistent": self.consistency.ok,
            "findingCounts": self.finding_counts,
        }


class Auditor:
    """Audits one deployment through `source`, keeping checkpoints in `store` (None: always replay
    from the deployment block), reading `depth` blocks below the head unless told a block."""

    def __init__(self, source: AuditSource, store: ResumeStore | None, depth: int) -> None:
        if depth < 0:
            raise AuditError(f"confirmation depth must be >= 0, not {depth}")
        self.source = source
        self.store = store
        self.depth = depth

    def block(self, which: str | int | None, *, check: bool = True) -> int:
        """None -> the confirmed target (head minus depth); 'latest' -> the head; else a block number."""
        if which is None:
            return self.source.target_block(self.depth)
        if isinstance(which, str):
            text = which.strip().lower()
            if text == "latest":
                return self.source.head()
            if not (text.isascii() and text.isdigit()):
                raise AuditQueryError(f"{which!r} is not a block number or 'latest'")
            which = int(text)
        return self.source.check_block(which) if check else which

    def replay(self, block: int, *, save: bool = False) -> ReplayOutcome:
        return replay_incremental(self.source, self.store, block, save=save)

    def state(
        self,
        *,
        block: str | int | None = None,
        time: int | None = None,
        known_at: str | int | None = None,
        full: bool = False,
    ) -> tuple[dict[str, Any], ReplayOutcome]:
        """The state at a block or at a time (unix seconds), as the history known at `known_at` (a
        later block, which shows changes backdated into the past) tells it."""
        if block is not None and time is not None:
            raise AuditQueryError("give a block or a time, not both")
        at_block = self.source.block_at_time(time) if time else self.block(block)
        known = self.block(known_at) if known_at is not None else at_block
        if known < at_block:
            raise AuditQueryError(
                f"the history known at block {known} cannot tell the state at the later block {at_block}"
            )
        outcome = self.replay(known)
        s = outcome.snapshot
        view = state_at(s, time or self.source.require_header(at_block).time, full=full)
        view["block"] = at_block
        view["digest"] = s.digest()
        return view, outcome

    def diff(self, a: str | int, b: str | int) -> tuple[dict[str, Any], ReplayOutcome]:
        """What changed in the registries between blocks `a` and `b`."""
        # Order first: a after b is the caller's mistake whatever the blocks are.
        first, second = self.block(a, check=False), self.block(b, check=False)
        if first > second:
            raise AuditQueryError(f"block {first} is after block {second}: give the earlier block first")
        first, second = self.source.check_block(first), self.source.check_block(second)
        outcome = self.replay(first)
        s = outcome.snapshot
        before, digest_a, events_a = entity_strings(s), s.digest(), s.events
        replay(self.source, second, start=s)
        changes = diff(before, entity_strings(s))
        changes.pop("meta", None)
        result = {
            "from": {"block": first, "digest": digest_a, "events": events_a},
            "to": {"block": second, "digest": s.digest(), "events": s.events},
            "events": s.events - events_a,
            "changes": changes,
        }
        return result, outcome

    def check(
        self,
        block: str | int | None = None,
        *,
        sample: int | None = None,
        seed: int | None = None,
        window: int = DEFAULT_WINDOW,
        save: bool | None = None,
        extra_findings: Sequence[Finding] = (),
    ) -> CheckResult:
        """The replay against the contracts' own views at the same block, and the findings (with
        `extra_findings` from checks made elsewhere, e.g. of published registry checkpoints).
        By default a resume point is saved when checking the confirmed target block."""
        at = self.block(block)
        outcome = self.replay(at, save=block is None if save is None else save)
        consistency = check_consistency(self.source, outcome.snapshot, sample=sample, seed=seed)
        findings = find(outcome.snapshot, consistency=consistency, notices=outcome.notices, window=window)
        return CheckResult(outcome, consistency, sort_findings([*findings, *extra_findings]))

    def report(
        self,
        out_dir: Path,
        block: str | int | None = None,
        *,
        sample: int | None = None,
        seed: int | None = None,
        window: int = DEFAULT_WINDOW,
        extra_findings: Sequence[Finding] = (),
        extra_tables: Sequence[Table] = (),
    ) -> Report:
        """Write report.json, a self-contained report.html and CSV tables to `out_dir`."""
        if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / "report.json").exists():
            raise ConfigError(
                f"{out_dir} is not empty and holds no earlier report: choose an empty directory"
            )
        at = self.block(block)
        outcome = self.replay(at, save=block is None)
        s = outcome.snapshot
        consistency = check_consistency(self.source, s, sample=sample, seed=seed)
        # Reorgs and gaps noticed by earlier audits of this deployment belong in the report too.
        notices = self.store.notices() if self.store is not None else outcome.notices
        findings = sort_findings(
            [*find(s, consistency=consistency, notices=notices, window=window), *extra_findings]
        )
        files = write_report(out_dir, s, findings, consistency, notices, extra_tables=extra_tables)
        return Report(files, s.block, s.digest(), consistency, counts(findings), outcome.notices)

    def report_pages(
        self,
        block: str | int | None = None,
        *,
        sample: int | None = None,
        seed: int | None = None,
        window: int = DEFAULT_WINDOW,
    ) -> dict[str, bytes]:
        """The report's files by relative name (report.html, report.json, csv/<table>.csv), in memory."""
        with tempfile.TemporaryDirectory(prefix="trustanchor-report-") as tmp:
            out = Path(tmp)
            self.report(out, block, sample=sample, seed=seed, window=window)
            return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
