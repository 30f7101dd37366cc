"""Chunked eth_getLogs against fake nodes with the limits and failures real providers have."""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Any

import pytest

from anchor.audit import AuditSource, LogFetcher, ReorgDuringReplay
from anchor.deploy import ContractRecord, Manifest
from anchor.errors import ChainError, ChainUnavailable

TRUST = "0x" + "11" * 20
DOCS = "0x" + "22" * 20


def _manifest() -> Manifest:
    rec = ContractRecord(TRUST, "0x", 100, "0x")
    return Manifest(31337, "test", 100, TRUST, rec, ContractRecord(DOCS, "0x", 100, "0x"), {}, {}, 0)


def _hash(n: int, fork: int = 0) -> str:
    return "0x" + f"{fork:02x}{n:062x}"


class FakeNode:
    """Blocks 100..1099; block n holds n % 7 logs (alternating contracts), time 1000 + 12 n."""

    def __init__(
        self,
        *,
        max_range: int | None = None,
        max_results: int | None = None,
        hint: bool = False,
        flaky: int = 0,
        timestamps: bool = True,
        broken_block: int | None = None,
    ) -> None:
        self.max_range = max_range
        self.max_results = max_results
        self.hint = hint
        self.flaky = flaky
        self.timestamps = timestamps
        self.broken_block = broken_block
        self.header_fork = 0
        self.ranges: list[tuple[int, int]] = []
        self.header_requests = 0
        self.threads: set[str] = set()

    def logs(self, lo: int, hi: int, address: Any) -> list[dict[str, Any]]:
        wanted = set(address) if isinstance(address, list) else {address}
        out = []
        for n in range(max(lo, 100), min(hi, 1099) + 1):
            for i in range(n % 7):
                addr = TRUST if i % 2 == 0 else DOCS
                if addr not in wanted:
                    continue
                lg = {
                    "address": addr,
                    "topics": ["0x" + "ab" * 32],
                    "data": "0x",
                    "blockNumber": hex(n),
                    "blockHash": _hash(n),
                    "transactionHash": "0x" + "cd" * 32,
                    "logIndex": hex(i),
                    "removed": False,
                }
                if self.timestamps:
                    lg["blockTimestamp"] = hex(1000 + 12 * n)
                out.append(lg)
        return out

    def call(self, method: str, params: list[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def batch(self, requests: list[tuple[str, list[Any]]]) -> list[Any]:
        self.threads.add(threading.current_thread().name)
        out: list[Any] = []
        for method, params in requests:
            if method == "eth_getLogs":
                f = params[0]
                lo, hi = int(f["fromBlock"], 16), int(f["toBlock"], 16)
                if self.flaky:
                    self.flaky -= 1
                    raise ChainUnavailable("chain unreachable at fake: timed out")
                if self.broken_block is not None and lo <= self.broken_block <= hi:
                    raise ChainError("node error: internal error")
                if self.max_range is not None and hi - lo + 1 > self.max_range:
                    raise ChainError(f"node error: block range is too large (max {self.max_range})")
                logs = self.logs(lo, hi, f["address"])
                if self.max_results is not None and len(logs) > self.max_results:
                    msg = f"node error: query returned more than {self.max_results} results."
                    if self.hint:
                        msg += f" Try with this block range [{hex(lo)}, {hex(lo + 9)}]."
                    raise ChainError(msg)
                self.ranges.append((lo, hi))
                out.append(logs)
            elif method == "eth_getBlockByNumber":
                self.header_requests += 1
                n = int(params[0], 16)
                out.append(
                    {
                        "number": hex(n),
                        "hash": _hash(n, self.header_fork),
                        "timestamp": hex(1000 + 12 * n),
                        "parentHash": _hash(n - 1),
                    }
                )
            else:
                raise ChainError(f"node error: unexpected {method}")
        return out


def _fetch(node: FakeNode, *, prefetch: bool = False, **kw: Any) -> tuple[LogFetcher, list[dict[str, Any]]]:
    src = AuditSource(node, _manifest(), prefetch=prefetch)
    fetcher = LogFetcher(src, **kw)
    logs = [lg for chunk in fetcher.chunks(100, 1099) for lg in chunk.logs]
    return fetcher, logs


def _expected() -> list[tuple[int, int]]:
    return [(n, i) for n in range(100, 1100) for i in range(n % 7)]


def _keys(logs: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(int(lg["blockNumber"], 16), int(lg["logIndex"], 16)) for lg in logs]


def test_range_limited_node_is_read_completely_in_order() -> None:
    node = FakeNode(max_range=50)
    fetcher, logs = _fetch(node, initial_span=400)
    assert _keys(logs) == _expected()
    assert fetcher.stats.failures >= 1
    assert all(hi - lo + 1 <= 50 for lo, hi in node.ranges)
    # Contiguous, non-overlapping coverage of the whole range.
    assert node.ranges[0][0] == 100 and node.ranges[-1][1] == 1099
    assert all(b[0] == a[1] + 1 for a, b in zip(node.ranges, node.ranges[1:], strict=False))


def test_result_limited_node_with_a_range_hint() -> None:
    node = FakeNode(max_results=40, hint=True)
    fetcher, logs = _fetch(node, initial_span=500)
    assert _keys(logs) == _expected()
    # The first failure's hint ([lo, lo+9]) is taken as the next span.
    assert node.ranges[0] == (100, 109)


def test_result_limited_node_without_a_hint_halves_the_range() -> None:
    node = FakeNode(max_results=40)
    fetcher, logs = _fetch(node, initial_span=512, target_logs=30)
    assert _keys(logs) == _expected()
    assert fetcher.stats.failures >= 3
    assert max(hi - lo + 1 for lo, hi in node.ranges) <= 16


def test_sparse_logs_grow_the_range() -> None:
    node = FakeNode()
    fetcher, logs = _fetch(node, initial_span=2, max_span=64, target_logs=10_000)
    assert _keys(logs) == _expected()
    spans = fetcher.stats.spans
    assert spans[:4] == [2, 4, 8, 16] and max(spans) == 64


def test_transient_failures_are_retried() -> None:
    node = FakeNode(flaky=3)
    fetcher, logs = _fetch(node, initial_span=1000)
    assert _keys(logs) == _expected()
    assert fetcher.stats.failures == 3


def test_a_block_that_always_fails_is_a_clear_error() -> None:
    node = FakeNode(broken_block=555)
    with pytest.raises(ChainError, match="fails even for the single block 555"):
        _fetch(node, initial_span=100, retry_pause=0)


def test_block_times_come_from_headers_when_logs_lack_them() -> None:
    node = FakeNode(timestamps=False)
    src = AuditSource(node, _manifest(), prefetch=False)
    chunks = list(LogFetcher(src, initial_span=100).chunks(100, 1099))
    assert all(c.times[n] == 1000 + 12 * n for c in chunks for n in c.hashes)
    assert node.header_requests == sum(1 for n in range(100, 1100) if n % 7)


def test_a_header_that_disagrees_with_the_logs_is_a_reorg() -> None:
    node = FakeNode(timestamps=False)
    node.header_fork = 1
    src = AuditSource(node, _manifest(), prefetch=False)
    with pytest.raises(ReorgDuringReplay):
        list(LogFetcher(src).chunks(100, 1099))


def test_unordered_answers_are_sorted_and_removed_logs_dropped() -> None:
    class Shuffled(FakeNode):
        def logs(self, lo: int, hi: int, address: Any) -> list[dict[str, Any]]:
            out = super().logs(lo, hi, address)
            out.reverse()
            if out:
                out.append({**out[0], "removed": True, "logIndex": "0x63"})
            return out

    fetcher, logs = _fetch(Shuffled(), initial_span=50)
    assert _keys(logs) == _expected()


def test_prefetch_runs_on_a_thread_and_stops_when_abandoned() -> None:
    node = FakeNode()
    src = AuditSource(node, _manifest(), prefetch=True)
    it = LogFetcher(src, initial_span=10, max_span=10).chunks(100, 1099)
    assert isinstance(it, Generator)
    first = next(it)
    assert first.first == 100
    it.close()  # abandoning the iteration must not leave a producer blocked on a full queue
    assert "audit-log-fetch" in node.threads
    assert not any(t.name == "audit-log-fetch" for t in threading.enumerate())
    _, logs = _fetch(FakeNode(max_range=30), prefetch=True, initial_span=100)
    assert _keys(logs) == _expected()


def test_prefetch_hands_errors_to_the_consumer() -> None:
    with pytest.raises(ChainError, match="single block 300"):
        _fetch(FakeNode(broken_block=300), prefetch=True, initial_span=100, retry_pause=0)


def test_bad_parameters_are_refused() -> None:
    from anchor.audit import AuditError

    with pytest.raises(AuditError):
        LogFetcher(AuditSource(FakeNode(), _manifest()), initial_span=0)
