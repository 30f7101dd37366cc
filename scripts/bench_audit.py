#!/usr/bin/env python3
"""Audit benchmark: build a large registry history on a private anvil, then time replay and consistency.

The history: >= 100,000 anchored batches (anchorMany with 500 roots per transaction, pre-signed with
explicit nonces and sent as JSON-RPC batches), interleaved with CA, issuer and recognition changes,
batch revocations, one-time use and partial endorsement by a consumer account, supersession, several
days of chain time and a backdated CA revocation. CAs are real certificates registered with their
proofs of possession (registries v2), which the audit's findings check.

Replay and consistency are measured in a fresh child process per size, so peak RSS is that of the audit
alone; two sizes show how memory grows with the number of events. Prints ONE JSON object.

    .venv/bin/python scripts/bench_audit.py [--batches 100000] [--small 25000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding  # noqa: E402
from eth_account import Account  # noqa: E402

from anchor._internal.anvil import LocalNode  # noqa: E402
from anchor._internal.anvil_binary import find_anvil  # noqa: E402
from anchor._internal.jsonrpc import JsonRpc  # noqa: E402
from anchor.accounts import dev_account  # noqa: E402
from anchor.cacert import CACertificate, ca_id, pop_message, sign_pop  # noqa: E402
from anchor.chain import connect  # noqa: E402
from anchor.config import ChainConfig  # noqa: E402
from anchor.deploy import Manifest, deploy  # noqa: E402
from anchor.issuing.leaf import Terms, commitment, leaf_hash  # noqa: E402
from anchor.issuing.merkle import MerkleTree  # noqa: E402
from anchor.pki import make_root_ca  # noqa: E402
from anchor.registry import DocumentProof, Opening, Registries  # noqa: E402

MNEMONIC = "test test test test test test test test test test test junk"
ROOTS_PER_TX = 500
TXS_PER_RPC_BATCH = 20
ALL_TYPES = 0b111111
NOT_BEFORE, NOT_AFTER = 1_600_000_000, 2_600_000_000
DAY = 86_400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rand32() -> bytes:
    return os.urandom(32)


def _ca(party: str) -> CACertificate:
    """A fresh root CA certificate of `party` (EC P-256), with its key kept for the proof of possession."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = make_root_ca(party, key)
    info = CACertificate(
        fingerprint=hashlib.sha256(cert.public_bytes(Encoding.DER)).digest(),
        not_before=int(cert.not_valid_before_utc.timestamp()),
        not_after=int(cert.not_valid_after_utc.timestamp()),
        subject=cert.subject.rfc4514_string(),
        certificate=cert,
    )
    _KEYS[info.fingerprint] = key
    return info


_KEYS: dict[bytes, Any] = {}


class _Docs:
    """A batch of real v2 leaves with their openings (consume and endorse need them)."""

    def __init__(self, terms: list[Terms], doc_type: int = 0) -> None:
        self.secrets = [(os.urandom(16), os.urandom(32)) for _ in terms]
        self.terms = terms
        self.tree = MerkleTree(
            [leaf_hash(doc_type, s, d, t) for (s, d), t in zip(self.secrets, terms, strict=True)]
        )

    def opening(self, i: int) -> Opening:
        salt, digest = self.secrets[i]
        return Opening(commitment(salt, digest), self.terms[i])


class Builder:
    def __init__(self, url: str) -> None:
        self.url = url
        self.rpc = JsonRpc(url, timeout=300)
        self.chain = connect(ChainConfig(backend="rpc", rpc_url=url, mnemonic=MNEMONIC, confirmations=0))
        acct = [dev_account(MNEMONIC, i) for i in range(16)]
        self.acct = acct
        parties: list[tuple[str, str]] = [
            ("SG", acct[1].address),
            ("TH", acct[2].address),
            ("MY", acct[3].address),
        ]
        self.manifest = deploy(self.chain, acct[0], parties, threshold=2, proposal_lifetime=30 * DAY)
        self.reg = Registries.open(self.chain, self.manifest)
        self.admins = {"SG": acct[1], "TH": acct[2], "MY": acct[3]}
        t = self.reg.trust
        # Bulk issuers (one or two per party) under long-lived CAs; churn issuers under their own CAs.
        self.bulk = []
        self.churn: list[tuple[str, Any, bytes]] = []
        for n, party in enumerate(["SG", "SG", "TH", "MY"]):
            fp = self._register_ca(party)
            issuer = acct[4 + n]
            t.authorize_issuer(self.admins[party], issuer.address, fp, ALL_TYPES)
            self.bulk.append(issuer)
        for n, party in enumerate(["SG", "TH", "MY"]):
            fp = self._register_ca(party)
            issuer = acct[8 + n]
            t.authorize_issuer(self.admins[party], issuer.address, fp, ALL_TYPES)
            self.churn.append((party, issuer, fp))
        self.consumer = acct[11]
        t.grant_consumer(self.admins["TH"], self.consumer.address)
        t.recognize(self.admins["TH"], "SG", 0b11)
        t.recognize(self.admins["MY"], "SG", 0b1)
        t.recognize(self.admins["SG"], "TH", 0b101)
        self.nonces = {
            a.address: int(self.rpc.call("eth_getTransactionCount", [a.address, "pending"]), 16)
            for a in self.bulk
        }
        self.fn = self.reg.documents.abi.fn("anchorMany")
        self.batches = 0
        self.trust_changes = 0

    def _register_ca(self, party: str) -> bytes:
        info = _ca(party)
        message = pop_message(self.chain.chain_id, self.reg.trust.address, party, info.fingerprint)
        proof = sign_pop(_KEYS[info.fingerprint], info, message)
        der = info.certificate.public_bytes(Encoding.DER)
        self.reg.trust.add_ca(self.admins[party], der, NOT_BEFORE, NOT_AFTER, ALL_TYPES, proof)
        return ca_id(party, info.fingerprint)

    def _signed_anchor_many(self, issuer: Any) -> str:
        roots = [_rand32() for _ in range(ROOTS_PER_TX)]
        data = self.fn.encode(roots, [n % 3 for n in range(ROOTS_PER_TX)], [1 + (b[0] % 200) for b in roots])
        tx = {
            "type": 2,
            "chainId": self.chain.chain_id,
            "nonce": self.nonces[issuer.address],
            "to": self.manifest.document_registry.address,
            "data": data,
            "value": 0,
            "gas": 15_000_000,
            "maxFeePerGas": 50 * 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
        self.nonces[issuer.address] += 1
        return "0x" + Account.sign_transaction(tx, issuer.key).raw_transaction.hex()

    def anchor_round(self, txs: int) -> None:
        """`txs` anchorMany transactions, round-robin over the bulk issuers, sent in JSON-RPC batches.

        Automine is off meanwhile: anvil mines on arrival only, so a batch of arrivals would otherwise leave
        the transactions that did not fit the first block waiting for the next arrival.
        """
        raw = [self._signed_anchor_many(self.bulk[n % len(self.bulk)]) for n in range(txs)]
        self.rpc.call("evm_setAutomine", [False])
        try:
            hashes: list[str] = []
            for i in range(0, len(raw), TXS_PER_RPC_BATCH):
                hashes += self.rpc.batch(
                    [("eth_sendRawTransaction", [r]) for r in raw[i : i + TXS_PER_RPC_BATCH]]
                )
            for _ in range(10 * txs):
                if int(self.rpc.call("txpool_status", [])["pending"], 16) == 0:
                    break
                self.rpc.call("evm_mine", [])
        finally:
            self.rpc.call("evm_setAutomine", [True])
        receipts = self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        failed = [r for r in receipts if r is None or r["status"] != "0x1"]
        if failed:
            raise SystemExit(f"{len(failed)} of {txs} anchorMany transactions failed or were not mined")
        self.batches += txs * ROOTS_PER_TX

    def churn_round(self, r: int) -> None:
        """Trust registry changes between anchoring rounds, and some document lifecycle."""
        t, d = self.reg.trust, self.reg.documents
        party, issuer, fp = self.churn[r % len(self.churn)]
        admin = self.admins[party]
        docs = _Docs(
            [Terms("TH"), Terms("TH"), *(Terms() for _ in range(4)), Terms("TH", quantity=9, unit="KG")]
        )
        tree = docs.tree
        d.anchor(issuer, tree.root, 0, tree.size)
        self.batches += 1

        def proof(i: int) -> DocumentProof:
            return DocumentProof(issuer.address, tree.root, tree.leaf(i), i, tuple(tree.inclusion_proof(i)))

        if party == "SG":
            # Lifecycle before any status change, so the anchoring is still valid when used.
            d.consume(self.consumer, proof(1), docs.opening(1))
            d.endorse(self.consumer, proof(6), docs.opening(6), 4)
            d.endorse(self.consumer, proof(6), docs.opening(6), 2)
            d.revoke_document(admin, proof(2), 16)
            d.supersede(admin, proof(3), proof(4))
        elif r % 2:
            d.revoke_batch(admin, issuer.address, tree.root, 17)
        t.suspend_issuer(admin, issuer.address, 0, 6)
        t.resume_issuer(admin, issuer.address)
        t.suspend_ca(admin, fp, 0, 6)
        t.resume_ca(admin, fp)
        other = ["SG", "TH", "MY"][(r + 1) % 3]
        if r % 2:
            t.recognize(admin, other, 0b10)
        else:
            t.unrecognize(admin, other, 0b10)
        self.trust_changes += 5

    def advance(self, seconds: int) -> None:
        self.rpc.call("evm_increaseTime", [seconds])
        self.rpc.call("evm_mine", [])

    def finale(self) -> None:
        """A CA revoked with a backdated effect after its issuer anchored inside the window."""
        t, d = self.reg.trust, self.reg.documents
        party, issuer, fp = self.churn[1]
        tree = MerkleTree([_rand32() for _ in range(4)])
        d.anchor(issuer, tree.root, 0, tree.size)
        self.batches += 1
        self.advance(600)
        now = int(self.chain.block("latest")["timestamp"])
        t.revoke_ca(self.admins[party], fp, now - 900, 1)
        self.trust_changes += 1

    def head(self) -> int:
        return int(self.rpc.call("eth_blockNumber", []), 16)


def build(url: str, batches: int, small: int) -> tuple[Builder, int, int, float]:
    t0 = time.perf_counter()
    b = Builder(url)
    txs_total = -(-batches // ROOTS_PER_TX)
    per_round = 10
    small_block = 0
    r = 0
    sent = 0
    while sent < txs_total:
        n = min(per_round, txs_total - sent)
        b.anchor_round(n)
        sent += n
        b.churn_round(r)
        if r % 4 == 3:
            b.advance(DAY)
        r += 1
        if not small_block and b.batches >= small:
            small_block = b.head()
    b.finale()
    return b, small_block, b.head(), time.perf_counter() - t0


def measure(url: str, manifest_path: str, to_block: int) -> dict[str, Any]:
    """Runs in a child process: replay, digest and full consistency check, with this process's peak RSS."""
    from anchor.audit import AuditSource, ReplayStats, check_consistency, find, replay, write_report

    src = AuditSource.connect(url, Manifest.load(Path(manifest_path)), timeout=600)
    stats = ReplayStats()
    t0 = time.perf_counter()
    snap = replay(src, to_block, stats=stats)
    replay_s = time.perf_counter() - t0
    rss_replay = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t1 = time.perf_counter()
    digest = snap.digest()
    digest_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    report = check_consistency(src, snap, full_limit=10**9)
    consistency_s = time.perf_counter() - t2
    rss_checked = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t3 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        files = write_report(Path(tmp), snap, find(snap, consistency=report), report)
        html_kb = files.html.stat().st_size // 1024
    report_s = time.perf_counter() - t3
    return {
        "report_seconds": round(report_s, 3),
        "report_html_kb": html_kb,
        "events": snap.events,
        "batches": len(snap.batches),
        "replay_seconds": round(replay_s, 3),
        "events_per_s": round(snap.events / replay_s),
        "getlogs_requests": stats.fetch.requests if stats.fetch else None,
        "peak_rss_mb_after_replay": round(rss_replay, 1),
        "digest": digest,
        "digest_seconds": round(digest_s, 3),
        "consistency_seconds": round(consistency_s, 3),
        "consistency_calls": report.calls,
        "consistency_ok": report.ok,
        "consistency_sampled": report.sampled,
        "peak_rss_mb": round(rss_checked, 1),
        "peak_rss_mb_with_report": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _child(url: str, manifest: Path, block: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", url, str(manifest), str(block)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=100_000)
    ap.add_argument(
        "--small", type=int, default=25_000, help="Size of the smaller history measured for memory growth."
    )
    ap.add_argument("--measure", nargs=3, metavar=("URL", "MANIFEST", "BLOCK"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        url, manifest, block = args.measure
        print(json.dumps(measure(url, manifest, int(block))))
        return
    port = _free_port()
    node = LocalNode(port, "--accounts", "16", mnemonic=MNEMONIC).start()
    url = node.url
    try:
        b, small_block, big_block, build_s = build(url, args.batches, args.small)
        with tempfile.TemporaryDirectory() as tmp:
            manifest = Path(tmp) / "manifest.json"
            b.manifest.save(manifest)
            small = _child(url, manifest, small_block)
            big = _child(url, manifest, big_block)
            again = _child(url, manifest, big_block)
        version = subprocess.run(
            [str(find_anvil()), "--version"], capture_output=True, text=True
        ).stdout.split("\n")[0]
        print(
            json.dumps(
                {
                    "events": big["events"],
                    "events_per_s": big["events_per_s"],
                    "replay_seconds": big["replay_seconds"],
                    "consistency_seconds": big["consistency_seconds"],
                    "peak_rss_mb": big["peak_rss_mb"],
                    "batches": big["batches"],
                    "trust_changes": b.trust_changes,
                    "blocks": big_block - b.manifest.deploy_block + 1,
                    "consistency_calls": big["consistency_calls"],
                    "consistency_ok": big["consistency_ok"],
                    "consistency_full": not big["consistency_sampled"],
                    "digest_seconds": big["digest_seconds"],
                    "getlogs_requests": big["getlogs_requests"],
                    "report_seconds": big["report_seconds"],
                    "report_html_kb": big["report_html_kb"],
                    "peak_rss_mb_with_report": big["peak_rss_mb_with_report"],
                    "same_digest_on_second_replay": again["digest"] == big["digest"],
                    "second_replay_events_per_s": again["events_per_s"],
                    "memory_growth": [
                        {
                            "events": m["events"],
                            "peak_rss_mb_after_replay": m["peak_rss_mb_after_replay"],
                            "peak_rss_mb": m["peak_rss_mb"],
                        }
                        for m in (small, big)
                    ],
                    "small_history": {
                        k: small[k]
                        for k in ("events", "events_per_s", "replay_seconds", "consistency_seconds")
                    },
                    "build_seconds": round(build_s, 1),
                    "node": version,
                    "cores": os.cpu_count(),
                }
            )
        )
    finally:
        node.stop()


if __name__ == "__main__":
    main()
