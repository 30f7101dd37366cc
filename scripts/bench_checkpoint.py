#!/usr/bin/env python3
"""Checkpoints at growing registry sizes: incremental cost per new event, trust pack and proof sizes.

A fresh anvil holds the real trust state (SG with a CA and an issuing account, TH recognizing SG); then
anchorings of that issuer are generated as raw registry logs (one Anchored log per batch, the layout the
DocumentRegistry emits) and folded into the same checkpointer in steps — the map and the event log grow
incrementally, never rebuilt — up to each size. One JSON object on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import time

from benchlib import private_chain

from anchor.audit.source import AuditSource
from anchor.checkpoint.note import SignedCheckpoint, cosign
from anchor.checkpoint.pack import TrustPack
from anchor.checkpoint.state import Checkpointer
from anchor.checkpoint.status import make_status_proof

CHUNK = 10_000


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,100000,1000000", help="Anchored batches at each checkpoint.")
    args = ap.parse_args()
    with private_chain() as bench:
        bench.sg_issuer()
        a = bench.accounts
        bench.reg.trust.grant_witness(a[1], a[6].address)
        source = AuditSource.from_chain(bench.chain, bench.reg.manifest)
        checkpointer = Checkpointer(source)
        start = checkpointer.advance(source.head())
        issuer = a[4].address.lower()
        topic = "0x" + source.document_abi.event("Anchored").topic.hex()
        address = source.document_address
        block, when, anchored = start.block, start.block_time, 0
        runs = []
        for target in (int(x) for x in args.sizes.split(",")):
            t0 = time.perf_counter()
            events_before = checkpointer.log.size
            while anchored < target:
                n = min(CHUNK, target - anchored)
                block += 1
                when += 12
                bhash = "0x" + hashlib.sha256(block.to_bytes(8, "big")).hexdigest()
                logs = [
                    (
                        {
                            "address": address,
                            "topics": [
                                topic,
                                "0x" + _root(anchored + i).hex(),
                                "0x" + issuer[2:].rjust(64, "0"),
                            ],
                            "data": "0x" + (3).to_bytes(32, "big").hex() + (100).to_bytes(32, "big").hex(),
                            "blockNumber": hex(block),
                            "blockHash": bhash,
                            "transactionHash": "0x"
                            + hashlib.sha256(b"tx" + (anchored + i).to_bytes(8, "big")).hexdigest(),
                            "logIndex": hex(i),
                        },
                        when,
                    )
                    for i in range(n)
                ]
                cp = checkpointer.ingest(logs, block, bhash, when)
                anchored += n
            seconds = time.perf_counter() - t0
            new_events = checkpointer.log.size - events_before
            t1 = time.perf_counter()
            pack = TrustPack(SignedCheckpoint(cp, (cosign(cp, "SG", bytes(a[6].key)),)), checkpointer.trust)
            pack_text = pack.to_json()
            root_now = checkpointer.state.root()  # cached: nothing changed since the checkpoint
            pack_s = time.perf_counter() - t1
            assert root_now == cp.state_root
            status = json.dumps(_status_without_node(checkpointer, issuer, anchored // 2))
            runs.append(
                {
                    "anchored_batches": anchored,
                    "events": cp.size,
                    "new_events": new_events,
                    "seconds": round(seconds, 3),
                    "incremental_us_per_event": round(seconds / new_events * 1e6, 2),
                    "pack_seconds": round(pack_s, 4),
                    "trust_pack_bytes": len(pack_text),
                    "status_proof_bytes_without_event": len(status),
                    "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                }
            )
        print(json.dumps({"runs": runs, "chunk": CHUNK}))
    return 0


def _root(i: int) -> bytes:
    return hashlib.sha256(b"root" + i.to_bytes(8, "big")).digest()


def _status_without_node(checkpointer: Checkpointer, issuer: str, i: int) -> object:
    """A document's map proofs (the part of a status proof that grows with the registry); the Anchored
    event's inclusion proof is read from the node, which has none of the generated logs."""
    saved = checkpointer.anchorings
    checkpointer.anchorings = {}
    try:
        return make_status_proof(checkpointer, issuer, _root(i), _root(i))
    finally:
        checkpointer.anchorings = saved


if __name__ == "__main__":
    sys.exit(main())
