#!/usr/bin/env python3
"""Merkle trees at scale, in process. One JSON object on stdout.

What the test suite used to assert with wall-clock limits (a 1M-leaf tree under 5 s, 100k proofs under
3 s) is measured here instead: tests must not depend on the machine's speed or load. Rendering bundles
is bench_bundle.py's (per bundle) and bench_issue.py's (end to end).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time

from anchor.issuing.merkle import MerkleTree


def main() -> int:
    leaves = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(1_000_000)]
    start = time.perf_counter()
    tree = MerkleTree(leaves)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    proofs = list(tree.iter_proofs(0, 100_000))
    proofs_s = time.perf_counter() - start
    print(
        json.dumps(
            {
                "leaves": len(leaves),
                "build_seconds": round(build_s, 3),
                "proofs": len(proofs),
                "proofs_seconds": round(proofs_s, 3),
                "proof_length": len(proofs[0]),
                "targets_met": {"build_le_5s": build_s <= 5, "proofs_le_3s": proofs_s <= 3},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
