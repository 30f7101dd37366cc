#!/usr/bin/env python3
"""Full verifications (all eight checks) per second against a fresh anvil. One JSON object on stdout.

The registry is first filled with the given number of anchored documents (in batches of 10,000), then a
sample of documents from different batches is verified one by one, each reading the chain anew.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from anchor._internal.anvil import ANVIL, rpc
from anchor.accounts import dev_account
from anchor.cacert import read_ca_certificate
from anchor.canonical import digest_bytes
from anchor.chain import connect
from anchor.config import ChainConfig
from anchor.deploy import deploy
from anchor.doctypes import ALL_TYPES_MASK
from anchor.issuing import DocumentInput, DocumentIssuer
from anchor.pki import init_pki
from anchor.registry import Registries
from anchor.signing import Signer
from anchor.verify import Verifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_issue import permit

MNEMONIC = "test test test test test test test test test test test junk"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--registry-sizes", default="1000,100000")
    ap.add_argument("--verifications", type=int, default=3000)
    args = ap.parse_args()
    port = 20000 + os.getpid() % 20000
    node = subprocess.Popen(
        [str(ANVIL), "--port", str(port), "--mnemonic", MNEMONIC, "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                rpc(url, "eth_chainId")
                break
            except OSError:
                time.sleep(0.05)
        chain = connect(ChainConfig(backend="rpc", rpc_url=url, mnemonic=MNEMONIC))
        acct = [dev_account(MNEMONIC, i) for i in range(6)]
        manifest = deploy(chain, acct[0], [("SG", acct[1].address), ("TH", acct[2].address)], 1, 3600)
        reg = Registries.open(chain, manifest)
        pki = init_pki("SG", Path(f"/tmp/bench-verify-{os.getpid()}"))
        ca = read_ca_certificate(pki.root_ca)
        reg.trust.add_ca(acct[1], ca.fingerprint, ca.not_before, ca.not_after, ALL_TYPES_MASK)
        reg.trust.authorize_issuer(acct[1], acct[4].address, ca.fingerprint, ALL_TYPES_MASK)
        reg.trust.recognize(acct[2], "SG", ALL_TYPES_MASK)
        signer = Signer.from_pem(pki.signer_key, pki.signer_cert, [pki.issuing_ca, pki.root_ca])
        issuer = DocumentIssuer(reg, acct[4], signer, max_batch=10_000)
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
                bundles = issuer.issue(docs, "cites-permit").bundles
                picks = rng.sample(range(n), min(n, 300))
                sample += [(raw[i], bundles[i]) for i in picks]
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
        print(json.dumps({"runs": runs, "node": "anvil 1.7.1", "checks": 8}))
        return 0
    finally:
        node.terminate()
        node.wait(10)


if __name__ == "__main__":
    sys.exit(main())
