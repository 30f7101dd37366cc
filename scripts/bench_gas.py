#!/usr/bin/env python3
"""Gas used by the registries' main operations, on a fresh anvil started here. One JSON object on stdout.

Registries v2: anchoring (the hot path, target <= 50,000 gas per root with authorization), the lifecycle
acts, consuming and endorsing one-time documents (the leaf is recomputed from its opening on chain), and
the role changes (consumer accounts, admin changes, CA registration with a published certificate and
proof of possession).
"""

from __future__ import annotations

import json
import secrets
import sys

from benchlib import private_chain
from cryptography.hazmat.primitives.serialization import Encoding

from anchor.cacert import read_ca_certificate
from anchor.doctypes import ALL_TYPES_MASK, DOCUMENT_TYPES
from anchor.issuing.leaf import Terms, commitment, leaf_hash, new_salts
from anchor.issuing.merkle import MerkleTree
from anchor.pki import init_pki, load_ca
from anchor.registry import DocumentProof, Opening

PERMIT = DOCUMENT_TYPES["cites-permit"]


def main() -> int:
    with private_chain() as bench:
        chain, reg, acct = bench.chain, bench.reg, bench.accounts
        manifest = reg.manifest
        deploy_gas = sum(
            int(chain.w3.eth.get_transaction_receipt(r.tx_hash)["gasUsed"])  # type: ignore[arg-type]
            for r in (manifest.trust_registry, manifest.document_registry)
        )
        # A real root CA with its proof of possession: what `trustanchor ca add --ca-key` sends.
        pki = init_pki("SG", bench.tmp / "pki-sg")
        ca = read_ca_certificate(pki.root_ca)
        _, root_key = load_ca(pki.root_ca, pki.root_ca_key)
        ca_id, r = reg.trust.register_ca(acct[1], ca, ALL_TYPES_MASK, root_key)
        add_ca_gas = r.gas_used
        authorize_gas = reg.trust.authorize_issuer(acct[1], acct[4].address, ca_id, ALL_TYPES_MASK).gas_used
        reg.trust.recognize(acct[2], "SG", ALL_TYPES_MASK)
        grant_gas = reg.trust.grant_consumer(acct[2], acct[6].address).gas_used

        anchor_gas = reg.documents.anchor(acct[4], secrets.token_bytes(32), 0, 10_000).gas_used
        roots = [secrets.token_bytes(32) for _ in range(100)]
        many = reg.documents.anchor_many(acct[4], roots, [0] * 100, [10_000] * 100).gas_used

        # 1,000 permits destined to TH (two with a quantity), as an issuer's batch would hold them.
        n = 1000
        salts, digests = new_salts(n), [secrets.token_bytes(32) for _ in range(n)]
        terms = [Terms(destination="TH", valid_until=2**39) for _ in range(n)]
        terms[5] = Terms(destination="TH", valid_until=2**39, quantity=5000, unit="pieces")
        leaves = [leaf_hash(PERMIT, s, d, t) for s, d, t in zip(salts, digests, terms, strict=True)]
        tree = MerkleTree(leaves)
        reg.documents.anchor(acct[4], tree.root, PERMIT, tree.size)

        def proof(i: int) -> DocumentProof:
            return DocumentProof(acct[4].address, tree.root, leaves[i], i, tuple(tree.inclusion_proof(i)))

        def opening(i: int) -> Opening:
            return Opening(commitment(salts[i], digests[i]), terms[i])

        revoke_doc = reg.documents.revoke_document(acct[4], proof(1), 16).gas_used
        consume = reg.documents.consume(acct[6], proof(2), opening(2)).gas_used
        endorse_first = reg.documents.endorse(acct[6], proof(5), opening(5), 2000).gas_used
        endorse_next = reg.documents.endorse(acct[6], proof(5), opening(5), 2000).gas_used
        endorse_last = reg.documents.endorse(acct[6], proof(5), opening(5), 1000).gas_used
        supersede = reg.documents.supersede(acct[4], proof(3), proof(4)).gas_used
        revoke_batch = reg.documents.revoke_batch(acct[4], acct[4].address, roots[0], 16).gas_used

        change, r = reg.trust.propose_admin_change(acct[1], acct[7].address, True)
        propose_admin_gas = r.gas_used
        execute_admin_gas = reg.trust.execute_admin_change(acct[1], change).gas_used  # 1 of 1: a majority
        print(
            json.dumps(
                {
                    "anchor_root_gas": anchor_gas,
                    "anchor_many_100_gas_per_root": many // 100,
                    "anchor_root_gas_per_doc_at_10000": round(anchor_gas / 10_000, 2),
                    "revoke_document_gas": revoke_doc,
                    "revoke_batch_gas": revoke_batch,
                    "supersede_gas": supersede,
                    "consume_gas": consume,
                    "endorse_first_gas": endorse_first,
                    "endorse_next_gas": endorse_next,
                    "endorse_last_gas": endorse_last,
                    "add_ca_with_certificate_and_pop_gas": add_ca_gas,
                    "ca_certificate_bytes": len(ca.certificate.public_bytes(Encoding.DER)),
                    "authorize_issuer_gas": authorize_gas,
                    "grant_consumer_gas": grant_gas,
                    "propose_admin_change_gas": propose_admin_gas,
                    "execute_admin_change_gas": execute_admin_gas,
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
