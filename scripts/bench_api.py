#!/usr/bin/env python3
"""The agency service under load: bulk intake until anchored, then verification at 32 concurrent clients.

Starts its own anvil and a real `trustanchor serve` on loopback (deployment, PKI, CA, issuer and
recognition set up first), then prints one JSON object:

    intake_docs_per_s   documents submitted in bulk requests, measured until every one is anchored
    verify_rps          verifications per second at --clients concurrent keep-alive clients
    verify_service_cpu_us   the service's CPU time per verification (less sensitive than verify_rps
                        to other work on a shared machine)
    verify_p50_ms / verify_p99_ms   their latency
    rss_mb              the service's resident memory at the end (rss_peak_mb: its high-water mark)

The load generator is a lean asyncio HTTP/1.1 client so that it takes as little of the machine's CPU
as possible from the service it measures.
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
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.auth import Role
from tests.api_helpers import Anvil, make_env, permit, start_serve
from tests.conftest import free_port


def _post(conn: http.client.HTTPConnection, path: str, body: bytes, key: str) -> tuple[int, bytes]:
    conn.request("POST", path, body, {"Content-Type": "application/json", "X-API-Key": key})
    r = conn.getresponse()
    return r.status, r.read()


def _get(conn: http.client.HTTPConnection, path: str, key: str) -> Any:
    conn.request("GET", path, headers={"X-API-Key": key})
    r = conn.getresponse()
    return json.loads(r.read())


def intake(
    host: str, port: int, key: str, documents: list[bytes], per_request: int, clients: int
) -> tuple[float, list[int]]:
    total = len(documents)
    bodies = []
    for start in range(0, total, per_request):
        docs = [
            {"name": f"permit-{i}.json", "content": base64.b64encode(documents[i]).decode()}
            for i in range(start, min(total, start + per_request))
        ]
        bodies.append(json.dumps({"documentType": "cites-permit", "documents": docs}).encode())
    ids: list[int] = []
    lock = threading.Lock()
    queue = list(reversed(bodies))

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=120)
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            status, data = _post(conn, "/v1/documents", body, key)
            if status not in (200, 202):
                raise RuntimeError(f"intake answered {status}: {data[:300]!r}")
            got = [d["id"] for d in json.loads(data)["documents"]]
            with lock:
                ids.extend(got)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conn = http.client.HTTPConnection(host, port, timeout=60)
    while True:
        stats = _get(conn, "/v1/intake", key)
        if stats["documents"]["anchored"] >= total:
            break
        if stats["documents"]["failed"]:
            raise RuntimeError(f"documents failed: {stats}")
        time.sleep(0.02)
    return time.perf_counter() - started, ids


async def _client(
    host: str, port: int, requests: list[bytes], count: int, latencies: list[float], verdicts: dict[str, int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    rng = random.Random(id(latencies) ^ count)
    for _ in range(count):
        req = requests[rng.randrange(len(requests))]
        t = time.perf_counter()
        writer.write(req)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await reader.readexactly(length)
        latencies.append(time.perf_counter() - t)
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"verify answered {head[:40]!r}: {body[:200]!r}")
        verdict = json.loads(body)["verdict"]
        verdicts[verdict] = verdicts.get(verdict, 0) + 1
    writer.close()


def verify_load(
    host: str, port: int, key: str, samples: list[tuple[bytes, dict[str, Any]]], clients: int, total: int
) -> dict[str, Any]:
    requests = []
    for doc, bundle in samples:
        body = json.dumps({"document": base64.b64encode(doc).decode(), "bundle": bundle}).encode()
        requests.append(
            f"POST /v1/verify HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"X-API-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    latencies: list[float] = []
    verdicts: dict[str, int] = {}

    async def run(n: int) -> float:
        t = time.perf_counter()
        per = n // clients
        await asyncio.gather(
            *(_client(host, port, requests, per, latencies, verdicts) for _ in range(clients))
        )
        return time.perf_counter() - t

    asyncio.run(run(clients * 20))  # warm-up: caches, connections
    latencies.clear()
    verdicts.clear()
    seconds = asyncio.run(run(total))
    latencies.sort()
    return {
        "verify_rps": round(len(latencies) / seconds),
        "verify_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "verify_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
        "verifications": len(latencies),
        "verdicts": verdicts,
    }


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (the service's worker processes)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree = [pid]
    for p in tree:
        tree += [child for child, parent in parents.items() if parent == p]
    return tree


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in process_tree(pid):
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of the service, all its processes together, in MiB."""
    now = peak = 0
    for p in process_tree(pid):
        lines = Path(f"/proc/{p}/status").read_text().splitlines()
        fields = dict(line.split(":", 1) for line in lines if ":" in line)
        now += int(fields["VmRSS"].split()[0])
        peak += int(fields["VmHWM"].split()[0])
    return now / 1024, peak / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--documents", type=int, default=50_000, help="documents to submit")
    ap.add_argument("--per-request", type=int, default=1000, help="documents per submission")
    ap.add_argument("--intake-clients", type=int, default=2)
    ap.add_argument("--clients", type=int, default=32, help="concurrent verification clients")
    ap.add_argument("--verifications", type=int, default=16000)
    ap.add_argument("--batch-max-documents", type=int, default=5000)
    ap.add_argument("--batch-max-wait-ms", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2, help="service worker processes")
    ap.add_argument(
        "--no-fastpath", action="store_true", help="verification through FastAPI (verify_fast_path = false)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp_dir:
        tmp = Path(tmp_dir)
        node = Anvil(free_port(), tmp / "anvil-state.json").start()
        served = None
        try:
            service = {
                "batch_max_documents": args.batch_max_documents,
                "batch_max_wait_ms": args.batch_max_wait_ms,
                "backlog_limit": max(200_000, args.documents),
                "workers": args.workers,
                "verify_fast_path": not args.no_fastpath,
            }
            env = make_env(tmp, node.url, service)
            issuer_key = env.key(Role.ISSUER, "SG")
            verifier_key = env.key(Role.VERIFIER, "TH")
            served = start_serve(env)
            host, port = "127.0.0.1", int(served.url.rsplit(":", 1)[1])
            rng = random.Random(7)
            documents = [permit(i, seq=rng.random()) for i in range(args.documents)]
            seconds, ids = intake(host, port, issuer_key, documents, args.per_request, args.intake_clients)
            conn = http.client.HTTPConnection(host, port, timeout=60)
            picks = random.Random(3).sample(range(len(ids)), min(2000, len(ids)))
            status, data = _post(
                conn,
                "/v1/documents/lookup",
                json.dumps({"ids": [ids[i] for i in picks], "includeBundles": True}).encode(),
                issuer_key,
            )
            docs = json.loads(data)["documents"]
            samples = [(documents[int(d["name"][7:-5])], d["bundle"]) for d in docs]
            result: dict[str, Any] = {
                "intake_docs_per_s": round(args.documents / seconds),
                "intake_documents": args.documents,
                "intake_seconds": round(seconds, 2),
            }
            assert node.proc is not None
            node0, cpu0 = cpu_seconds(node.proc.pid), cpu_seconds(served.proc.pid)
            own0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.time()
            result.update(verify_load(host, port, verifier_key, samples, args.clients, args.verifications))
            own1, elapsed = resource.getrusage(resource.RUSAGE_SELF), time.time() - t0
            service_cpu = cpu_seconds(served.proc.pid) - cpu0
            result["verify_service_cpu_pct"] = round(100 * service_cpu / elapsed)
            result["verify_service_cpu_us"] = round(1e6 * service_cpu / result["verifications"])
            result["verify_node_cpu_pct"] = round(100 * (cpu_seconds(node.proc.pid) - node0) / elapsed)
            result["verify_loadgen_cpu_pct"] = round(
                100 * (own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime) / elapsed
            )
            now, peak = rss(served.proc.pid)
            result.update(
                {
                    "rss_mb": round(now, 1),
                    "rss_peak_mb": round(peak, 1),
                    "clients": args.clients,
                    "batch_max_documents": args.batch_max_documents,
                    "batch_max_wait_ms": args.batch_max_wait_ms,
                    "workers": args.workers,
                    "fastpath": not args.no_fastpath,
                    "load_1m": round(os.getloadavg()[0], 2),
                }
            )
            print(json.dumps(result))
            return 0
        finally:
            if served is not None:
                served.stop()
            node.stop()


if __name__ == "__main__":
    sys.exit(main())
