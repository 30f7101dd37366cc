#!/usr/bin/env python3
"""Gas used by the registries' main operations, on a fresh anvil started here. One JSON object on stdout."""

from __future__ import annotations

import json
import secrets
import sys

from benchlib import private_chain

from anchor.doctypes import ALL_TYPES_MASK
from anchor.merkle import MerkleTree
from anchor.registry import DocumentProof


def main() -> int:
    with private_chain() as bench:
        chain, reg, acct = bench.chain, bench.reg, bench.accounts
        manifest = reg.manifest
        deploy_gas = sum(
            int(chain.w3.eth.get_transaction_receipt(r.tx_hash)["gasUsed"])  # type: ignore[arg-type]
            for r in (manifest.trust_registry, manifest.document_registry)
        )
        ca = secrets.token_bytes(32)
        reg.trust.add_ca(acct[1], ca, 0, 2**40, ALL_TYPES_MASK)
        reg.trust.authorize_issuer(acct[1], acct[4].address, ca, ALL_TYPES_MASK)
        reg.trust.recognize(acct[2], "SG", ALL_TYPES_MASK)

        anchor_gas = reg.documents.anchor(acct[4], secrets.token_bytes(32), 0, 10_000).gas_used
        roots = [secrets.token_bytes(32) for _ in range(100)]
        many = reg.documents.anchor_many(acct[4], roots, [0] * 100, [10_000] * 100).gas_used

        leaves = [secrets.token_bytes(32) for _ in range(1000)]
        tree = MerkleTree(leaves)
        reg.documents.anchor(acct[4], tree.root, 0, tree.size)

        def proof(i: int) -> DocumentProof:
            return DocumentProof(tree.root, leaves[i], i, tuple(tree.inclusion_proof(i)))

        revoke_doc = reg.documents.revoke_document(acct[4], proof(1), 16).gas_used
        consume = reg.documents.consume(acct[2], proof(2)).gas_used
        supersede = reg.documents.supersede(acct[4], proof(3), proof(4)).gas_used
        revoke_batch = reg.documents.revoke_batch(acct[4], roots[0], 16).gas_used
        print(
            json.dumps(
                {
                    "anchor_root_gas": anchor_gas,
                    "anchor_many_100_gas_per_root": many // 100,
                    "anchor_root_gas_per_doc_at_10000": round(anchor_gas / 10_000, 2),
                    "revoke_document_gas": revoke_doc,
                    "revoke_batch_gas": revoke_batch,
                    "consume_gas": consume,
                    "supersede_gas": supersede,
                    "deploy_gas": deploy_gas,
                    "proof_depth": len(tree.inclusion_proof(1)),
                    "node": "anvil 1.7.1",
                    "evm_version": "paris",
                }
            )
        )
        return 0


if __name__ == "__main__":
    sys.exit(main())
