#!/usr/bin/env python3
"""The agency service under an unauthenticated large-body attack: does it stay live and small?

Starts its own anvil and a real `trustanchor serve` on loopback (one worker process by default: one
event loop, the case the attack hurt most), anchors some permits, then runs two phases of the same
length, each with a client polling /v1/health/live and a client verifying documents (both sequential,
keep-alive):

    reference   nothing else
    attack      plus --attackers concurrent clients (a separate process), each posting to
                /v1/documents, again and again, a submission-shaped JSON body of --attack-mb MB
                announced in Content-Length, without an API key (at most --max-posts each, and none
                started after the phase ends)

and prints one JSON object: per phase the p50/p99/max latency of the liveness polls and of the
verifications, the service's peak resident memory sampled every 10 ms (all its processes together),
the CPU it used, and the machine's load average (on a shared 2-core machine other work competes for
the CPU too); for the attack, the posts made, their answers, the MB the attackers got to send and
their CPU. `rss_hwm_mb` is the kernel's high-water mark (VmHWM) over the whole run, set-up included.
Traffic goes to 127.0.0.1 only, and everything stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MB = 1000 * 1000


def attack_body(size: int) -> tuple[bytes, bytes, int, bytes]:
    """A JSON submission of about `size` bytes, sent as prefix + chunk * n + tail (cheap to produce)."""
    prefix = b'{"documentType": "cites-permit", "documents": ['
    entry = b'{"name": "p.json", "content": "' + b"QUFB" * 250 + b'"},'
    chunk = entry * max(1, (1 << 20) // len(entry))
    tail = b'{"name": "z.json", "content": "QUFB"}]}'
    return prefix, chunk, max(1, (size - len(prefix) - len(tail)) // len(chunk)), tail


async def _attacker(
    host: str, port: int, size: int, deadline: float, max_posts: int, stats: dict[str, Any]
) -> None:
    prefix, chunk, repeat, tail = attack_body(size)
    length = len(prefix) + len(chunk) * repeat + len(tail)
    head = (
        f"POST /v1/documents HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    for _ in range(max_posts):
        if time.monotonic() >= deadline:
            return
        stats["posts"] += 1
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            stats["connect_errors"] += 1
            continue
        answer = asyncio.ensure_future(reader.readline())
        try:
            writer.write(head + prefix)
            for _ in range(repeat):
                if answer.done():
                    break  # answered before we were done: stop sending
                writer.write(chunk)
                await writer.drain()
                stats["sent"] += len(chunk)
            else:
                writer.write(tail)
                await writer.drain()
        except (ConnectionError, OSError):
            pass  # the server closed the connection on us
        try:
            line = await asyncio.wait_for(answer, 120)
            status = line.split()[1].decode() if line.startswith(b"HTTP/") else "closed, no answer"
        except TimeoutError:
            status = "no answer in 120 s"
        except (ConnectionError, OSError, IndexError):
            # asyncio stops reading a connection whose write failed: the server's answer (sent before
            # it closed) may then stay unread here.
            status = "reset before the answer was read"
        stats["statuses"][status] = stats["statuses"].get(status, 0) + 1
        writer.close()


def run_attackers(host: str, port: int, attackers: int, size: int, seconds: float, max_posts: int) -> None:
    stats: dict[str, Any] = {"posts": 0, "connect_errors": 0, "sent": 0, "statuses": {}}

    async def main() -> None:
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(_attacker(host, port, size, deadline, max_posts, stats) for _ in range(attackers))
        )

    asyncio.run(main())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    stats["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    print(json.dumps(stats))


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    if not ordered:
        return {"p50_ms": -1, "p99_ms": -1, "max_ms": -1}
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def _client(kind: str, host: str, port: int, key: str, bodies_file: str) -> None:
    """One measuring client, in a process of its own (so that no other thread of ours delays it), until
    its standard input is closed; prints its latencies and errors."""
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    bodies = [b.encode() for b in json.loads(Path(bodies_file).read_text())] if kind == "verify" else []
    rng = random.Random(5)
    headers = {"Content-Type": "application/json", "X-API-Key": key}
    latencies: list[float] = []
    errors: list[str] = []
    conn = http.client.HTTPConnection(host, port, timeout=120)
    while not stop.is_set():
        t = time.perf_counter()
        try:
            if kind == "live":
                conn.request("GET", "/v1/health/live")
            else:
                conn.request("POST", "/v1/verify", bodies[rng.randrange(len(bodies))], headers)
            r = conn.getresponse()
            data = r.read()
            if r.status != 200 or (kind == "verify" and json.loads(data)["verdict"] != "VALID"):
                errors.append(f"{kind} {r.status}")
        except (OSError, http.client.HTTPException) as e:
            errors.append(f"{kind} {type(e).__name__}")
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=120)
            continue
        latencies.append(time.perf_counter() - t)
        if kind == "live":
            stop.wait(0.01)
    print(json.dumps({"latencies": latencies, "errors": errors}))


def cpu_seconds(pid: int) -> float:
    from scripts.bench_api import cpu_seconds as tree_cpu_seconds

    return tree_cpu_seconds(pid)


def _sample_rss(pid: int, stop: threading.Event, peak: list[float]) -> None:
    """The service's resident memory, all its processes together, every 10 ms (the process tree is
    listed again every second: listing it reads every process's stat file)."""
    from scripts.bench_api import process_tree

    listed, pids = 0.0, [pid]
    while not stop.is_set():
        if time.monotonic() - listed > 1:
            listed, pids = time.monotonic(), process_tree(pid)
        kb = 0
        for p in pids:
            try:
                status = Path(f"/proc/{p}/status").read_text()
            except OSError:
                continue  # a worker went away between listing and reading
            kb += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        peak[0] = max(peak[0], kb / 1024)
        stop.wait(0.01)


def _spawn(*args: str, stdin: bool = False) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, *args],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
    )


def phase(
    host: str, port: int, pid: int, key: str, bodies_file: str, args: argparse.Namespace, attack: bool
) -> dict[str, Any]:
    stop = threading.Event()
    peak = [0.0]
    sampler = threading.Thread(target=_sample_rss, args=(pid, stop, peak))
    sampler.start()
    service_cpu = cpu_seconds(pid)
    started = time.monotonic()
    clients = {
        kind: _spawn("--client", kind, host, str(port), key, bodies_file, stdin=True)
        for kind in ("live", "verify")
    }
    stats: dict[str, Any] = {}
    if attack:
        attacker = _spawn(
            "--attack-only", host, str(port), str(args.attackers), str(args.attack_mb * MB),
            str(args.seconds), str(args.max_posts),
        )  # fmt: skip
        stats = json.loads(attacker.communicate(timeout=args.seconds + 600)[0])
    # The clients measure as long as the attack lasts (a service that reads every body is still
    # busy with it after the last post started), and for --seconds at least.
    time.sleep(max(0.0, args.seconds - (time.monotonic() - started)))
    measured = {kind: json.loads(proc.communicate(b"", timeout=300)[0]) for kind, proc in clients.items()}
    elapsed = time.monotonic() - started
    stop.set()
    sampler.join()
    result: dict[str, Any] = {"seconds": round(elapsed, 1)}
    result.update({f"live_{k}": v for k, v in _percentiles(measured["live"]["latencies"]).items()})
    result["live_polls"] = len(measured["live"]["latencies"])
    result.update({f"verify_{k}": v for k, v in _percentiles(measured["verify"]["latencies"]).items()})
    result["verifications"] = len(measured["verify"]["latencies"])
    result["rss_peak_mb"] = round(peak[0], 1)
    result["service_cpu_pct"] = round(100 * (cpu_seconds(pid) - service_cpu) / elapsed)
    result["machine_load_1m"] = round(os.getloadavg()[0], 2)  # other work on the machine competes too
    result["errors"] = len(measured["live"]["errors"]) + len(measured["verify"]["errors"])
    if attack:
        result["attack_posts"] = stats["posts"]
        result["attack_statuses"] = stats["statuses"]
        result["attack_mb_sent"] = round(stats["sent"] / MB, 1)
        result["attack_connect_errors"] = stats["connect_errors"]
        result["attacker_cpu_pct"] = round(100 * stats["cpu_seconds"] / elapsed)
    return result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--attackers", type=int, default=16, help="concurrent unauthenticated posters")
    ap.add_argument("--attack-mb", type=int, default=60, help="announced body size of each post, MB")
    ap.add_argument("--max-posts", type=int, default=200, help="posts per attacker at most")
    ap.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    ap.add_argument("--workers", type=int, default=1, help="service worker processes")
    ap.add_argument("--documents", type=int, default=200, help="permits anchored to verify")
    ap.add_argument("--attack-only", nargs=6, help=argparse.SUPPRESS)
    ap.add_argument("--client", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client:
        kind, host, port, key, bodies_file = args.client
        _client(kind, host, int(port), key, bodies_file)
        return 0
    if args.attack_only:
        host, port, attackers, size, seconds, max_posts = args.attack_only
        run_attackers(host, int(port), int(attackers), int(size), float(seconds), int(max_posts))
        return 0

    from api.auth import Role
    from scripts.bench_api import rss
    from tests.api_helpers import Anvil, make_env, permit, start_serve
    from tests.conftest import free_port

    with tempfile.TemporaryDirectory(prefix="bench-api-dos-") as tmp_dir:
        tmp = Path(tmp_dir)
        node = Anvil(free_port(), tmp / "anvil-state.json").start()
        served = None
        try:
            env = make_env(tmp, node.url, {"workers": args.workers})
            issuer, verifier = env.key(Role.ISSUER, "SG"), env.key(Role.VERIFIER, "TH")
            served = start_serve(env)
            host, port = "127.0.0.1", int(served.url.rsplit(":", 1)[1])
            documents = [permit(i, seq=i) for i in range(args.documents)]
            conn = http.client.HTTPConnection(host, port, timeout=120)
            submission = {
                "documentType": "cites-permit",
                "documents": [
                    {"name": f"permit-{i}.json", "content": base64.b64encode(d).decode()}
                    for i, d in enumerate(documents)
                ],
            }
            conn.request(
                "POST",
                "/v1/documents?wait=30",
                json.dumps(submission),
                {"Content-Type": "application/json", "X-API-Key": issuer},
            )
            views = json.loads(conn.getresponse().read())["documents"]
            ids = [v["id"] for v in views]
            conn.request(
                "POST",
                "/v1/documents/lookup",
                json.dumps({"ids": ids, "includeBundles": True}),
                {"Content-Type": "application/json", "X-API-Key": issuer},
            )
            anchored = json.loads(conn.getresponse().read())["documents"]
            if any(d["state"] != "anchored" for d in anchored):
                raise RuntimeError("the documents were not anchored")
            bodies = [
                json.dumps({"document": base64.b64encode(documents[i]).decode(), "bundle": d["bundle"]})
                for i, d in enumerate(anchored)
            ]
            bodies_file = tmp / "verify-bodies.json"
            bodies_file.write_text(json.dumps(bodies))
            pid = served.proc.pid
            result: dict[str, Any] = {
                "workers": args.workers,
                "attackers": args.attackers,
                "attack_body_mb": args.attack_mb,
                "cores": os.cpu_count(),
            }
            for name, attack in (("reference", False), ("attack", True)):
                result[name] = phase(host, port, pid, verifier, str(bodies_file), args, attack)
            result["rss_hwm_mb"] = round(rss(pid)[1], 1)
            attack = result["attack"]
            result["targets_met"] = {
                "live_p99_le_50ms": 0 <= attack["live_p99_ms"] <= 50,
                "rss_le_500mb": attack["rss_peak_mb"] <= 500 and result["rss_hwm_mb"] <= 500,
            }
            print(json.dumps(result))
            return 0
        finally:
            if served is not None:
                served.stop()
            node.stop()


if __name__ == "__main__":
    sys.exit(main())
