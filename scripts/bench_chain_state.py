#!/usr/bin/env python3
"""What the local chain's persisted state costs as the registry grows. One JSON object on stdout.

`trustanchor chain up` runs anvil with `--state FILE --state-interval N` and, by default,
`--preserve-historical-states`. Anvil rewrites the whole file every N seconds whether or not anything
changed. This builds the audit benchmark's registry history on a node started that way, with and
without historical states. For each it measures the state file's size, the node's CPU use while idle
(the periodic rewrite), the stop and start times, and whether views at an old block still answer after
the restart.

    .venv/bin/python scripts/bench_chain_state.py [--rounds 4] [--interval 1]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_audit import MNEMONIC, Builder

from anchor._internal.anvil import LocalNode, rpc
from anchor.errors import ChainError

FUNDED = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(rounds: int, interval: int, historical: bool, idle_seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state.json"
        args = ["--state", str(state), "--state-interval", str(interval), "--accounts", "16"]
        if historical:
            args.append("--preserve-historical-states")
        node = LocalNode(_free_port(), *args, mnemonic=MNEMONIC).start()
        try:
            builder = Builder(node.url)
            for r in range(rounds):
                builder.anchor_round(10)
                builder.churn_round(r)
            old_block = hex(builder.manifest.deploy_block)
            before = rpc(node.url, "eth_getBalance", [FUNDED, old_block])
            time.sleep(interval + 1)  # let at least one periodic save finish before measuring idle CPU
            assert node.proc is not None
            cpu0 = _cpu_seconds(node.proc.pid)
            time.sleep(idle_seconds)
            idle_cpu_pct = 100 * (_cpu_seconds(node.proc.pid) - cpu0) / idle_seconds
            t0 = time.perf_counter()
            node.stop()
            stop_s = time.perf_counter() - t0
            size_mb = state.stat().st_size / 1e6
            t0 = time.perf_counter()
            node.start()
            start_s = time.perf_counter() - t0
            try:
                old_view_after_restart = rpc(node.url, "eth_getBalance", [FUNDED, old_block]) == before
            except ChainError:
                old_view_after_restart = False
            return {
                "historical_states": historical,
                "batches": builder.batches,
                "blocks": builder.head(),
                "state_file_mb": round(size_mb, 1),
                "idle_cpu_pct": round(idle_cpu_pct, 1),
                "stop_seconds": round(stop_s, 2),
                "start_seconds": round(start_s, 2),
                "old_block_views_after_restart": old_view_after_restart,
            }
        finally:
            node.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--rounds", type=int, default=4, help="rounds of 10 anchorMany transactions (5,000 roots)"
    )
    ap.add_argument("--interval", type=int, default=1, help="--state-interval in seconds")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    a = ap.parse_args()
    runs = [measure(a.rounds, a.interval, historical, a.idle) for historical in (True, False)]
    print(json.dumps({"state_interval": a.interval, "cores": os.cpu_count(), "runs": runs}))


if __name__ == "__main__":
    main()
