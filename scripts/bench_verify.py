#!/usr/bin/env python3
"""Full verifications (all eight checks) per second against a fresh anvil. One JSON object on stdout.

The registry is first filled with the given number of anchored documents (in batches of 10,000), then a
sample of documents from different batches is verified one by one, each reading the chain anew.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from benchlib import private_chain

from anchor.issuing.batch import DocumentInput, DocumentIssuer
from anchor.issuing.canonical import digest_bytes
from anchor.verify import CHECK_NAMES, Verifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_issue import permit

MNEMONIC = "test test test test test test test test test test test junk"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--registry-sizes", default="1000,100000")
    ap.add_argument("--verifications", type=int, default=3000)
    args = ap.parse_args()
    with private_chain() as bench:
        signer = bench.sg_issuer()
        issuer = DocumentIssuer(bench.reg, bench.accounts[4], signer, max_batch=10_000)
        chain, manifest = bench.chain, bench.reg.manifest
        verifier = Verifier(chain, manifest)
        rng = random.Random(11)
        anchored = 0
        sample: list[tuple[bytes, object]] = []
        runs = []
        for target in (int(s) for s in args.registry_sizes.split(",")):
            while anchored < target:
                n = min(10_000, target - anchored)
                raw = [permit(anchored + i, rng) for i in range(n)]
                docs = [
                    DocumentInput(f"p{i}.json", digest_bytes(b, "application/json"))
                    for i, b in enumerate(raw)
                ]
                issued = issuer.issue(docs, "cites-permit").documents
                picks = rng.sample(range(n), min(n, 300))
                sample += [(raw[i], issued[i].bundle) for i in picks]  # parse only the sampled bundles
                anchored += n
            times = []
            verdicts = set()
            t0 = time.perf_counter()
            for _ in range(args.verifications):
                doc, bundle = sample[rng.randrange(len(sample))]
                t = time.perf_counter()
                v = verifier.verify(doc, bundle, "TH")  # type: ignore[arg-type]
                times.append(time.perf_counter() - t)
                verdicts.add(v.verdict.value)
            total = time.perf_counter() - t0
            times.sort()
            runs.append(
                {
                    "anchored_documents": anchored,
                    "verifications": args.verifications,
                    "verifications_per_s": round(args.verifications / total),
                    "p50_ms": round(statistics.median(times) * 1000, 3),
                    "p99_ms": round(times[int(len(times) * 0.99)] * 1000, 3),
                    "verdicts": sorted(verdicts),
                }
            )
        print(json.dumps({"runs": runs, "node": "anvil 1.7.1", "checks": len(CHECK_NAMES)}))
        return 0


if __name__ == "__main__":
    sys.exit(main())
