"""Document lifecycle on chain: revoke, supersede (by the issuing party), consume (by a receiving party).

Each is one transaction from an account the service holds, sent under that account's lock so that it
never races the batcher for a nonce. A revert comes back as 409 with the contract's error as the code.
"""

from __future__ import annotations

import time

from anchor.bundle import Bundle
from anchor.chain import Receipt
from anchor.registry import DocumentProof, Opening

from .bundles import leaf_of
from .identities import AccountLocks, Identities, IssuerIdentity
from .ledger import ChainGateway, chain_call
from .problems import ApiError
from .store import BatchStore, DocumentRow, DocumentStore


class LifecycleService:
    def __init__(
        self,
        gateway: ChainGateway,
        identities: Identities,
        locks: AccountLocks,
        docs: DocumentStore,
        batches: BatchStore,
    ) -> None:
        self.gateway = gateway
        self.identities = identities
        self.locks = locks
        self.docs = docs
        self.batches = batches

    def _proof(self, doc: DocumentRow) -> DocumentProof:
        if doc.state != "anchored" or doc.batch_id is None:
            raise ApiError(409, "DOCUMENT_NOT_ANCHORED", f"document {doc.id} is {doc.state}, not anchored")
        batch = self.batches.get(doc.batch_id)
        assert batch is not None and doc.path is not None and doc.index is not None
        path = tuple(doc.path[i : i + 32] for i in range(0, len(doc.path), 32))
        return DocumentProof(batch.account, batch.root, leaf_of(doc), doc.index, path)

    def _issuer(self, party: str) -> IssuerIdentity:
        ident = self.identities.issuers.get(party)
        if ident is None:
            raise ApiError(409, "ISSUER_NOT_CONFIGURED", f"this service holds no issuing account for {party}")
        return ident

    def revoke(self, doc: DocumentRow, reason: int, whole_batch: bool) -> Receipt:
        proof = self._proof(doc)
        ident = self._issuer(doc.party)

        def send() -> Receipt:
            reg = self.gateway.registries()
            with self.locks(ident.address):
                if whole_batch:
                    return reg.documents.revoke_batch(ident.account, proof.issuer, proof.root, reason)
                return reg.documents.revoke_document(ident.account, proof, reason)

        receipt = chain_call(send)
        self.docs.record_revocation(doc.id, int(time.time()), reason)
        return receipt

    def supersede(self, old: DocumentRow, new: DocumentRow) -> Receipt:
        if old.id == new.id:
            raise ApiError(
                422, "SUPERSEDE_BY_SELF", "a document cannot supersede itself", field="successorId"
            )
        old_proof, new_proof = self._proof(old), self._proof(new)
        ident = self._issuer(old.party)

        def send() -> Receipt:
            reg = self.gateway.registries()
            with self.locks(ident.address):
                return reg.documents.supersede(ident.account, old_proof, new_proof)

        receipt = chain_call(send)
        self.docs.record_supersession(old.id, new.id)
        return receipt

    def consume(self, party: str, bundle: Bundle, amount: int | None = None) -> tuple[Receipt, int]:
        """Consume (or, with `amount`, endorse) as `party`'s consumer account; the receipt and the
        quantity endorsed so far."""
        account = self.identities.consumers.get(party)
        if account is None:
            raise ApiError(
                409,
                "CONSUMER_NOT_CONFIGURED",
                f"this service holds no account to consume documents for {party}",
            )
        proof, opening = DocumentProof.of(bundle), Opening.of(bundle)

        if bundle.terms.destination != party:
            raise ApiError(
                409,
                "NOT_DESTINATION",
                f"{bundle.document.name} is destined to {bundle.terms.destination or 'no party'}, "
                f"so {party} cannot use it",
            )

        def send() -> tuple[Receipt, int]:
            reg = self.gateway.registries()
            with self.locks(account.address):
                if amount is None:
                    r = reg.documents.consume(account, proof, opening)
                else:
                    r = reg.documents.endorse(account, proof, opening, amount)
            state = reg.documents.document(proof.issuer, proof.root, proof.leaf)["state"]
            return r, int(state["endorsed"])

        return chain_call(send)
