"""Audits for the service's auditor role: the library's Auditor on the service's trusted deployment.

Every answer comes from a replay of the registries' events, resuming from checkpoints that
`trustanchor audit replay` saved under the same home. The service never saves checkpoints (several
worker processes may answer at once); like any replay it records the reorgs it notices (an append
to the notices file) and drops checkpoints a reorg made stale (an unlink), both safe to race. A report is the costliest answer (a full
consistency check), so the pages of the last few are kept, keyed by the block's hash: a reorg makes
a new one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from anchor.audit import (
    AuditError,
    Auditor,
    AuditQueryError,
    AuditSource,
    BlockOutOfRange,
    ResumeStore,
)
from anchor.errors import DeploymentError

from .ledger import ChainGateway, chain_call
from .problems import ApiError

T = TypeVar("T")
REPORTS_KEPT = 4


class AuditService:
    def __init__(self, gateway: ChainGateway, home: Path, depth: int) -> None:
        self.gateway = gateway
        self.home = home
        self.depth = depth
        self._reports: OrderedDict[tuple[Any, ...], dict[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def _auditor(self) -> Auditor:
        manifest = self.gateway.manifest()
        source = AuditSource.connect(self.gateway.url, manifest, timeout=120)
        # The code at the manifest's addresses must be the registries' (a reset chain may hold none): a
        # couple of requests, next to a replay.
        source.verify()
        return Auditor(source, ResumeStore.for_manifest(self.home, manifest), self.depth)

    def _run(self, fn: Callable[[Auditor], T], field: str) -> T:
        def go() -> T:
            try:
                return fn(self._auditor())
            except AuditQueryError as e:
                raise ApiError(422, "INVALID_AUDIT_QUERY", str(e), field=field) from None
            except BlockOutOfRange as e:
                raise ApiError(422, "INVALID_BLOCK", str(e), field=field) from None
            except DeploymentError as e:
                raise ApiError(503, "DEPLOYMENT_MISMATCH", str(e)) from None
            except AuditError as e:  # e.g. the chain kept reorganizing during the replay
                raise ApiError(502, "AUDIT_FAILED", str(e)) from None

        return chain_call(go)

    def replay(self, block: str | None) -> dict[str, Any]:
        return self._run(lambda a: a.replay(a.block(block)).summary(), "query.block")

    def state(self, block: str | None, at: int | None, known_at: str | None, full: bool) -> dict[str, Any]:
        def ask(a: Auditor) -> dict[str, Any]:
            view, outcome = a.state(block=block, time=at, known_at=known_at, full=full)
            return {**view, "notices": outcome.summary()["notices"]}

        return self._run(ask, "query")

    def diff(self, a: str, b: str) -> dict[str, Any]:
        def ask(auditor: Auditor) -> dict[str, Any]:
            result, outcome = auditor.diff(a, b)
            return {**result, "notices": outcome.summary()["notices"]}

        return self._run(ask, "query")

    def check(self, block: str | None, sample: int | None, seed: int | None, window: int) -> dict[str, Any]:
        return self._run(
            lambda a: a.check(block, sample=sample, seed=seed, window=window, save=False).to_dict(),
            "query.block",
        )

    def report(
        self, block: str | None, sample: int | None, seed: int | None, window: int
    ) -> dict[str, bytes]:
        """The report's files by name (report.html, report.json, csv/<table>.csv)."""

        def ask(a: Auditor) -> dict[str, bytes]:
            number = a.block(block)
            key = (number, a.source.require_header(number).hash, sample, seed, window)
            with self._lock:
                if key in self._reports:
                    self._reports.move_to_end(key)
                    return self._reports[key]
            pages = a.report_pages(number, sample=sample, seed=seed, window=window)
            with self._lock:
                self._reports[key] = pages
                while len(self._reports) > REPORTS_KEPT:
                    self._reports.popitem(last=False)
            return pages

        return self._run(ask, "query.block")
