"""Chunked eth_getLogs over the registries whose block range adapts to what the node accepts.

Public nodes cap eth_getLogs by block range, result count or response time, each with its own error
text. The fetcher does not try to know them all: any failed request is retried on a smaller range
(the one the node suggests when its message names one), and the range grows again while answers are
small, so a replay runs at the largest range the node tolerates without configuration.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import ChainError
from .errors import AuditError, ReorgDuringReplay
from .source import AuditSource

# Several providers suggest a range in their error message: "[0x1, 0x2]" or "retry with the range 1-2".
_HINT_HEX = re.compile(r"\[\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*\]")
_HINT_DEC = re.compile(r"range\s+(\d+)\s*-\s*(\d+)")


@dataclass
class LogChunk:
    """The registries' logs of blocks first..last in (block, log index) order, with block times."""

    first: int
    last: int
    logs: list[dict[str, Any]]
    times: dict[int, int]
    hashes: dict[int, str]


@dataclass
class FetchStats:
    requests: int = 0
    failures: int = 0
    logs: int = 0
    spans: list[int] = field(default_factory=list)


def _hinted_span(message: str, start: int) -> int | None:
    m = _HINT_HEX.search(message)
    if m:
        lo, hi = int(m.group(1), 16), int(m.group(2), 16)
    else:
        m = _HINT_DEC.search(message)
        if not m:
            return None
        lo, hi = int(m.group(1)), int(m.group(2))
    if lo != start or hi < lo:
        return None
    return hi - lo + 1


class LogFetcher:
    """Iterate over the registries' logs in adaptive chunks (see the module docstring)."""

    def __init__(
        self,
        source: AuditSource,
        *,
        initial_span: int = 10,
        max_span: int = 1_000_000,
        target_logs: int = 5_000,
        retries_at_one_block: int = 3,
        retry_pause: float = 0.2,
    ) -> None:
        if initial_span < 1 or max_span < 1 or target_logs < 1:
            raise AuditError("log fetch spans and targets must be positive")
        self.source = source
        self.span = min(initial_span, max_span)
        self.max_span = max_span
        self.target_logs = target_logs
        self.retries_at_one_block = retries_at_one_block
        self.retry_pause = retry_pause
        self.stats = FetchStats()
        self._addresses = [source.trust_address, source.document_address]

    def chunks(self, start: int, end: int) -> Iterator[LogChunk]:
        if not self.source.prefetch:
            yield from self._chunks(start, end)
            return
        yield from _prefetched(self._chunks(start, end))

    def _chunks(self, start: int, end: int) -> Iterator[LogChunk]:
        block = start
        stuck = 0
        while block <= end:
            hi = min(end, block + self.span - 1)
            self.stats.requests += 1
            try:
                logs = self._get_logs(block, hi)
            except ChainError as e:
                self.stats.failures += 1
                if hi == block:
                    stuck += 1
                    if stuck > self.retries_at_one_block:
                        raise ChainError(
                            f"eth_getLogs fails even for the single block {block}: {e}"
                        ) from None
                    time.sleep(self.retry_pause * stuck)
                    continue
                current = hi - block + 1
                hint = _hinted_span(str(e), block)
                self.span = max(1, hint if hint is not None and hint < current else current // 2)
                continue
            stuck = 0
            if not isinstance(logs, list):
                raise ChainError(f"eth_getLogs answered {type(logs).__name__}, not a list")
            chunk = self._finish(block, hi, logs)
            self.stats.logs += len(chunk.logs)
            self.stats.spans.append(hi - block + 1)
            yield chunk
            block = hi + 1
            n = len(logs)
            if n * 2 < self.target_logs:
                self.span = min(self.max_span, self.span * 2)
            elif n > self.target_logs * 2:
                self.span = max(1, self.span // 2)

    def _get_logs(self, first: int, last: int) -> Any:
        span = {"fromBlock": hex(first), "toBlock": hex(last)}
        if self.source.address_lists:
            return self.source.rpc.call("eth_getLogs", [{**span, "address": self._addresses}])
        # One request per contract; _finish restores the (block, log index) order.
        answers = self.source.rpc.batch([("eth_getLogs", [{**span, "address": a}]) for a in self._addresses])
        if not all(isinstance(a, list) for a in answers):
            return None
        return [lg for a in answers for lg in a]

    def _finish(self, first: int, last: int, logs: list[dict[str, Any]]) -> LogChunk:
        logs = [lg for lg in logs if not lg.get("removed")]
        times: dict[int, int] = {}
        hashes: dict[int, str] = {}
        missing: list[int] = []
        prev = (-1, -1)
        ordered = True
        for lg in logs:
            n = int(lg["blockNumber"], 16)
            key = (n, int(lg["logIndex"], 16))
            if key <= prev:
                ordered = False
            prev = key
            h = lg["blockHash"]
            seen = hashes.get(n)
            if seen is None:
                hashes[n] = h
                ts = lg.get("blockTimestamp")
                if ts is not None:
                    times[n] = int(ts, 16)
                else:
                    missing.append(n)
            elif seen != h:
                raise ReorgDuringReplay(n, seen, h)
        if not ordered:
            logs.sort(key=lambda lg: (int(lg["blockNumber"], 16), int(lg["logIndex"], 16)))
        if missing:
            # The node does not put block times in logs: one header per block that has registry events.
            for n, hdr in self.source.headers(missing).items():
                if hdr is None or hdr.hash != hashes[n]:
                    raise ReorgDuringReplay(n, hashes[n], hdr.hash if hdr else None)
                times[n] = hdr.time
        return LogChunk(first, last, logs, times, hashes)


_DONE = object()


def _prefetched(chunks: Iterator[LogChunk], depth: int = 2) -> Iterator[LogChunk]:
    """Fetch the next chunks on a thread while the caller folds the current one (bounded memory)."""
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run() -> None:
        try:
            for c in chunks:
                while not stop.is_set():
                    try:
                        q.put(c, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as e:  # handed to the consumer, which re-raises it
            q.put(e)

    t = threading.Thread(target=run, name="audit-log-fetch", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        # Unblock a producer waiting on a full queue so the thread ends promptly.
        while not q.empty():
            q.get_nowait()
        t.join(timeout=5)
