#!/usr/bin/env python3
"""Rendering proof bundles through the fast path (BundleWriter), in process. One JSON object on stdout.

tests/test_bundle.py proves the fast path byte-identical to the model path; its cost per bundle, which a
test used to assert against the clock (under 20 µs), is measured here. bench_issue.py measures issuance
end to end. 5,000 bundles of a 100,000-document batch, best of 3 passes.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

from anchor.bundle import Anchor, Batch, BundleWriter
from anchor.issuing.leaf import NO_TERMS, leaf_hashes, new_salts
from anchor.issuing.merkle import MerkleTree
from anchor.issuing.signing import Signer, batch_message
from anchor.pki import init_pki

SIZE = 100_000
RENDERS = 5_000
TARGET_US = 20.0
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ISSUER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        paths = init_pki("SG", Path(tmp))
        signer = Signer.from_pem(paths.signer_key, paths.signer_cert, [paths.issuing_ca])
    digests = [hashlib.sha256(b"doc %d" % i).digest() for i in range(SIZE)]
    salts = new_salts(SIZE)
    tree = MerkleTree(leaf_hashes(2, salts, digests, [NO_TERMS] * SIZE))
    signature = signer.sign(batch_message(tree.root, SIZE, 2, 31337, REGISTRY, "SG", ISSUER))
    anchor = Anchor.create(
        chain_id=31337,
        registry=REGISTRY.lower(),
        transaction_hash=b"\x01" * 32,
        block_number=7,
        block_hash="0x" + "ab" * 32,
        block_time=1767225600,
        issuer=bytes.fromhex(ISSUER[2:]),
        party="SG",
    )
    writer = BundleWriter(
        batch=Batch.create(tree.root, signature, signer.certificates),
        anchor=anchor,
        tree_size=SIZE,
        doc_type_id=2,
    )
    proofs = [tree.inclusion_proof(i) for i in range(RENDERS)]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for i in range(RENDERS):
            writer.render(
                name=f"doc-{i}.json",
                media_type="application/json",
                canonicalization="jcs-rfc8785",
                digest=digests[i],
                salt=salts[i],
                index=i,
                path=proofs[i],
                terms=NO_TERMS,
                leaf_hash=tree.leaf(i),
            )
        best = min(best, (time.perf_counter() - start) / RENDERS)
    us = best * 1e6
    print(
        json.dumps(
            {
                "batch_size": SIZE,
                "renders": RENDERS,
                "us_per_bundle": round(us, 2),
                "targets_met": {"render_le_20us": us <= TARGET_US},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
