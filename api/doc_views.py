"""Document rows -> the API's document views, with the proof bundle once anchored."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from anchor.bundle import DocumentTerms
from anchor.deploy import Manifest
from anchor.doctypes import type_name
from anchor.reasons import reason_name

from .batch_store import BatchRow, BatchStore
from .bundles import BundleRenderer, leaf_of
from .doc_store import DocumentRow, DocumentStore, terms_of

_STATES = {"anchored": "anchored", "failed": "failed"}


class DocumentViews:
    def __init__(self, docs: DocumentStore, batches: BatchStore, manifest: Manifest) -> None:
        self.docs = docs
        self.batches = batches
        self.renderer = BundleRenderer(manifest)

    def bundle_text(self, doc: DocumentRow) -> str | None:
        if doc.state != "anchored" or doc.batch_id is None:
            return None
        batch = self.batches.get(doc.batch_id)
        if batch is None or batch.state != "anchored":
            return None
        return self.renderer.render(doc, batch, self._supersedes(doc))

    def _supersedes(self, doc: DocumentRow) -> tuple[str, bytes, bytes] | None:
        if doc.supersedes is None:
            return None
        old = self.docs.get(doc.supersedes)
        if old is None or old.batch_id is None or old.salt is None:
            return None
        old_batch = self.batches.get(old.batch_id)
        return (old_batch.account, old_batch.root, leaf_of(old)) if old_batch else None

    def views(self, rows: Iterable[DocumentRow], *, bundles: bool = True) -> list[dict[str, Any]]:
        batches: dict[int, BatchRow | None] = {}
        out = []
        for doc in rows:
            batch = None
            if doc.batch_id is not None:
                if doc.batch_id not in batches:
                    batches[doc.batch_id] = self.batches.get(doc.batch_id)
                batch = batches[doc.batch_id]
            out.append(self._view(doc, batch, bundles))
        return out

    def _view(self, doc: DocumentRow, batch: BatchRow | None, with_bundle: bool) -> dict[str, Any]:
        # The state follows the batch row read here (the document row may be a moment older).
        state = "pending" if batch is None else _STATES.get(batch.state, "pending")
        view: dict[str, Any] = {
            "id": doc.id,
            "party": doc.party,
            "name": doc.name,
            "documentType": type_name(doc.doc_type),
            "documentTypeId": doc.doc_type,
            "digest": "0x" + doc.digest.hex(),
            "mediaType": doc.media_type,
            "canonicalization": doc.canonicalization,
            "size": doc.size,
            "submittedAt": round(doc.submitted_at, 3),
            "state": state,
            "batch": None,
            "error": None,
            "revokedAt": doc.revoked_at,
            "revokeReason": reason_name(doc.revoke_reason) if doc.revoke_reason is not None else None,
            "supersededBy": doc.superseded_by,
            "supersedes": doc.supersedes,
            "terms": DocumentTerms.of(terms_of(doc)).model_dump(by_alias=True),
            "bundle": None,
        }
        if batch is not None and state != "failed":
            view["batch"] = {
                "root": "0x" + batch.root.hex(),
                "transactionHash": batch.tx_hash if batch.state == "anchored" else None,
                "blockNumber": batch.block_number,
                "blockHash": batch.block_hash,
                "blockTime": batch.block_time,
            }
        if state == "failed" and batch is not None:
            view["error"] = {
                "code": batch.error_code or "FAILED",
                "message": batch.error or "anchoring failed",
            }
        if with_bundle and state == "anchored" and batch is not None:
            view["bundle"] = json.loads(self.renderer.render(doc, batch, self._supersedes(doc)))
        return view
