#!/usr/bin/env python3
"""Full verifications (all nine checks) per second, online against a fresh anvil and offline from a
witnessed trust pack, in the same run. One JSON object on stdout.

The registry is first filled with the given number of anchored documents (in batches of 10,000), then a
sample of documents from different batches is verified one by one, each reading the chain anew; then
the same sample, refreshed with status proofs at a checkpoint of the head, is verified offline.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from pathlib import Path

from benchlib import Bench, private_chain

from anchor.audit.source import AuditSource
from anchor.checkpoint.note import SignedCheckpoint, cosign
from anchor.checkpoint.pack import Pins, TrustPack
from anchor.checkpoint.state import Checkpointer
from anchor.checkpoint.status import refreshed as with_status
from anchor.issuing.batch import DocumentInput, DocumentIssuer
from anchor.issuing.canonical import digest_bytes
from anchor.verify import CHECK_NAMES, Verifier
from anchor.verify.offline import OfflineVerifier

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
            gc.collect()
            t0 = time.perf_counter()
            for _ in range(args.verifications):
                doc, bundle = sample[rng.randrange(len(sample))]
                t = time.perf_counter()
                v = verifier.verify(doc, bundle, "TH")  # type: ignore[arg-type]
                times.append(time.perf_counter() - t)
                verdicts.add(v.verdict.value)
            total = time.perf_counter() - t0
            times.sort()
            cold = _online_cold(verifier, sample, min(args.verifications, 1000), rng)
            offline = _offline(bench, sample, args.verifications, rng)
            runs.append(
                {
                    "anchored_documents": anchored,
                    "verifications": args.verifications,
                    "verifications_per_s": round(args.verifications / total),
                    "p50_ms": round(statistics.median(times) * 1000, 3),
                    "p99_ms": round(times[int(len(times) * 0.99)] * 1000, 3),
                    "verdicts": sorted(verdicts),
                    "online_cold_verifications_per_s": cold,
                    "offline": offline,
                    "offline_over_online": round(
                        offline["verifications_per_s"] / (args.verifications / total),
                        1,  # type: ignore[operator]
                    ),
                    "offline_over_online_cold": round(offline["verifications_per_s"] / cold, 1),  # type: ignore[operator]
                }
            )
        print(json.dumps({"runs": runs, "node": "anvil 1.7.1", "checks": len(CHECK_NAMES)}))
        return 0


def _online_cold(
    verifier: Verifier, sample: list[tuple[bytes, object]], count: int, rng: random.Random
) -> int:
    """Online, each verification as if of a document never seen before at this head: the reader's
    per-document caches (batch, document, trust context, anchoring receipt) are emptied first, so each
    verification makes the requests a border post makes for a new consignment (the head is shared)."""
    reader = verifier.reader
    t0 = time.perf_counter()
    for _ in range(count):
        doc, bundle = sample[rng.randrange(len(sample))]
        reader._batches.clear()
        reader._contexts.clear()
        reader._transactions.clear()
        reader._documents.clear()
        reader._one_time = None
        verifier.verify(doc, bundle, "TH")  # type: ignore[arg-type]
    return round(count / (time.perf_counter() - t0))


def _offline(
    bench: Bench, sample: list[tuple[bytes, object]], count: int, rng: random.Random
) -> dict[str, object]:
    """The same verifications from a trust pack co-signed by SG's and TH's witnesses (threshold 1 here)."""
    a = bench.accounts
    for admin, witness in ((a[1], a[6]), (a[2], a[7])):
        if bench.reg.trust.witness_party(witness.address) == "":
            bench.reg.trust.grant_witness(admin, witness.address)
    source = AuditSource.from_chain(bench.chain, bench.reg.manifest)
    t = time.perf_counter()
    checkpointer = Checkpointer(source)
    cp = checkpointer.advance(source.head())
    replay_s = time.perf_counter() - t
    pack = TrustPack(
        SignedCheckpoint(cp, (cosign(cp, "SG", bytes(a[6].key)), cosign(cp, "TH", bytes(a[7].key)))),
        checkpointer.trust,
    )
    pins = Pins.of(checkpointer.snapshot, cp)
    t = time.perf_counter()
    refreshed = []
    for doc, bundle in sample:
        refreshed.append((doc, with_status(checkpointer, bundle)))  # type: ignore[arg-type]
    refresh_s = time.perf_counter() - t
    # A border post holds the pack and the bundles, not the checkpointer that made them (whose maps, at
    # 100,000 batches, would otherwise be walked by every full garbage collection of the loop below).
    del checkpointer
    gc.collect()
    verifier = OfflineVerifier(pack, pins, bench.reg.manifest, max_age=None)
    times = []
    verdicts = set()
    t0 = time.perf_counter()
    for _ in range(count):
        doc, bundle = refreshed[rng.randrange(len(refreshed))]
        t = time.perf_counter()
        v = verifier.verify(doc, bundle, "TH")
        times.append(time.perf_counter() - t)
        verdicts.add(v.verdict.value)
    total = time.perf_counter() - t0
    times.sort()
    return {
        "verifications_per_s": round(count / total),
        "p50_ms": round(statistics.median(times) * 1000, 3),
        "p99_ms": round(times[int(len(times) * 0.99)] * 1000, 3),
        "verdicts": sorted(verdicts),
        "checkpoint_events": cp.size,
        "checkpoint_from_scratch_s": round(replay_s, 3),
        "trust_pack_bytes": len(pack.to_json()),
        "status_proof_bytes": len(json.dumps(refreshed[0][1].status)),
        "refresh_per_bundle_ms": round(refresh_s / len(refreshed) * 1000, 3),
    }


if __name__ == "__main__":
    sys.exit(main())
