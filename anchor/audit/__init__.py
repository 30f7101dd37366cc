"""Audit the registries from nothing but an RPC endpoint and the deployment manifest.

Data flows one way: registry events (``logs``, ``events``) are folded into a replayed
:class:`Snapshot` (``replay``), which is compared with the contracts' own views (``consistency``),
examined for findings (``findings``) and written up (``report``). ``checkpoint`` makes replays
incremental and notices reorgs between them.

    source = AuditSource.connect(url, Manifest.load(path))
    outcome = replay_incremental(source, ResumeStore.for_manifest(home, source.manifest),
                                 source.target_block(depth=1))
    consistency = check_consistency(source, outcome.snapshot)
    findings = find(outcome.snapshot, consistency=consistency, notices=outcome.notices)
    write_report(out_dir, outcome.snapshot, findings, consistency, outcome.notices)
"""

from .auditor import Auditor, CheckResult, Report
from .consistency import ConsistencyReport, Mismatch, check_consistency
from .errors import AuditError, AuditQueryError, BlockOutOfRange, ReorgDuringReplay, ResumePointError
from .events import Event, EventDecoder
from .findings import DEFAULT_WINDOW, Finding, find
from .logs import LogChunk, LogFetcher
from .replay import Fold, ReplayStats, empty_snapshot, replay
from .report import ReportFiles, build_report, write_report
from .resume import Notice, ReplayOutcome, ResumePoint, ResumeStore, replay_incremental
from .snapshot import Snapshot
from .snapshot_codec import digest, entity_strings, from_canonical, to_canonical
from .source import AuditSource, BlockHeader
from .views import diff, state_at

__all__ = [
    "DEFAULT_WINDOW",
    "AuditError",
    "AuditQueryError",
    "AuditSource",
    "Auditor",
    "BlockHeader",
    "BlockOutOfRange",
    "CheckResult",
    "ConsistencyReport",
    "Event",
    "EventDecoder",
    "Finding",
    "Fold",
    "LogChunk",
    "LogFetcher",
    "Mismatch",
    "Notice",
    "ReorgDuringReplay",
    "ReplayOutcome",
    "ReplayStats",
    "Report",
    "ReportFiles",
    "ResumePoint",
    "ResumePointError",
    "ResumeStore",
    "Snapshot",
    "build_report",
    "check_consistency",
    "diff",
    "digest",
    "empty_snapshot",
    "entity_strings",
    "find",
    "from_canonical",
    "replay",
    "replay_incremental",
    "state_at",
    "to_canonical",
    "write_report",
]
