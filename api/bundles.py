"""Proof bundles: rendered on demand from the stored rows (and the API's document views that carry them), and
parsed from requests.

Rendering. Nothing bundle-shaped is stored: the batch row holds the root, signature, certificates and
(once anchored) the anchoring block, the document row its salt, index and proof path. So when a reorg
moves a batch to another block, every bundle of it follows without rewriting anything. One
`BundleWriter` per batch and anchoring is cached (it checks the batch signature once when made).

Parsing, with the library's models and the batch-wide parts cached. Every document of a batch carries
the same `batch` (root, signature, certificates) and `anchor` sections, and validating them (DER
certificates, address checksums) is most of a bundle's validation cost. Their validation depends on
nothing but their content, so a validated `Batch`/`Anchor` is reused for an identical section; the
bundle itself (document, terms, leaf, proof and the cross-checks) is validated every time. Anything that
does not validate takes the library's `Bundle.from_json` path, so errors read exactly as `trustanchor
verify` reports them.

The parser must accept exactly what `Bundle.from_json(json.dumps(obj))` accepts and read it the same
(tests/test_bundle_fuzz.py checks this against mutated bundles). Two things the library's JSON path
sees that model validation of parsed data does not are checked here first: the library's parser refuses
a lone surrogate (Python's json module lets one through in a string), and the library counts every '{'
and '[' of the text, also those inside strings, against its limit on nested objects and arrays.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from anchor.bundle import (
    MEDIA_TYPE,
    Anchor,
    Batch,
    BatchSignature,
    Bundle,
    BundleWriter,
    DocumentTerms,
    Supersedes,
    to_checksum_address,
)
from anchor.bundle.parse import MAX_CONTAINERS as _MAX_CONTAINERS
from anchor.deploy import Manifest
from anchor.doctypes import type_name
from anchor.errors import BundleError
from anchor.issuing.leaf import leaf_hash
from anchor.reasons import reason_name

from .models import AnchorInfo, DocState, DocumentView, ErrorInfo
from .problems import ApiError
from .store import BatchRow, BatchStore, DocumentRow, DocumentStore, terms_of

# ------------------------------------------------------------------ rendering


_HASH = 32


def leaf_of(doc: DocumentRow) -> bytes:
    assert doc.salt is not None
    return leaf_hash(doc.doc_type, doc.salt, doc.digest, terms_of(doc))


class BundleRenderer:
    def __init__(self, manifest: Manifest, cache_size: int = 256) -> None:
        self.manifest = manifest
        self._writers: OrderedDict[tuple[int, str, str], BundleWriter] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def writer(self, batch: BatchRow) -> BundleWriter:
        if batch.state != "anchored" or batch.block_hash is None or batch.tx_hash is None:
            raise ValueError(f"batch {batch.id} is not anchored")
        key = (batch.id, batch.tx_hash, batch.block_hash)
        with self._lock:
            w = self._writers.get(key)
            if w is not None:
                self._writers.move_to_end(key)
                return w
        w = BundleWriter(
            batch=Batch(
                root="0x" + batch.root.hex(),
                signature=BatchSignature(alg=batch.sig_alg, value=base64.b64encode(batch.signature).decode()),
                certificates=batch.certificates,
            ),
            anchor=Anchor.create(
                chain_id=self.manifest.chain_id,
                registry=self.manifest.document_registry.address,
                transaction_hash=batch.tx_hash,
                block_number=int(batch.block_number or 0),
                block_hash=batch.block_hash,
                block_time=int(batch.block_time or 0),
                issuer=batch.account,
                party=batch.party,
            ),
            tree_size=batch.size,
            doc_type_id=batch.doc_type,
        )
        with self._lock:
            self._writers[key] = w
            if len(self._writers) > self._cache_size:
                self._writers.popitem(last=False)
        return w

    def render(
        self, doc: DocumentRow, batch: BatchRow, supersedes: tuple[str, bytes, bytes] | None = None
    ) -> str:
        """The bundle JSON text of an anchored document (`supersedes`: the replaced issuer, root, leaf)."""
        assert doc.salt is not None and doc.path is not None and doc.index is not None
        path = [doc.path[i : i + _HASH] for i in range(0, len(doc.path), _HASH)]
        return self.writer(batch).render(
            name=doc.name,
            media_type=doc.media_type,
            canonicalization=doc.canonicalization,
            digest=doc.digest,
            salt=doc.salt,
            index=doc.index,
            path=path,
            terms=terms_of(doc),
            supersedes=(
                Supersedes(
                    issuer=to_checksum_address(supersedes[0]),
                    root="0x" + supersedes[1].hex(),
                    leaf="0x" + supersedes[2].hex(),
                )
                if supersedes
                else None
            ),
        )


# ------------------------------------------------------------------ document views


_STATES: dict[str, DocState] = {"anchored": "anchored", "failed": "failed"}


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

    def views(self, rows: Iterable[DocumentRow], *, bundles: bool = True) -> list[DocumentView]:
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

    def _view(self, doc: DocumentRow, batch: BatchRow | None, with_bundle: bool) -> DocumentView:
        # The state follows the batch row read here (the document row may be a moment older).
        state: DocState = "pending" if batch is None else _STATES.get(batch.state, "pending")
        anchor = error = bundle = None
        if batch is not None and state != "failed":
            anchor = AnchorInfo(
                root="0x" + batch.root.hex(),
                transactionHash=batch.tx_hash if batch.state == "anchored" else None,
                blockNumber=batch.block_number,
                blockHash=batch.block_hash,
                blockTime=batch.block_time,
            )
        if state == "failed" and batch is not None:
            error = ErrorInfo(code=batch.error_code or "FAILED", message=batch.error or "anchoring failed")
        if with_bundle and state == "anchored" and batch is not None:
            bundle = json.loads(self.renderer.render(doc, batch, self._supersedes(doc)))
        return DocumentView(
            id=doc.id,
            party=doc.party,
            name=doc.name,
            documentType=type_name(doc.doc_type),
            documentTypeId=doc.doc_type,
            digest="0x" + doc.digest.hex(),
            mediaType=doc.media_type,
            canonicalization=doc.canonicalization,
            size=doc.size,
            submittedAt=round(doc.submitted_at, 3),
            state=state,
            batch=anchor,
            error=error,
            revokedAt=doc.revoked_at,
            revokeReason=reason_name(doc.revoke_reason) if doc.revoke_reason is not None else None,
            supersededBy=doc.superseded_by,
            supersedes=doc.supersedes,
            terms=DocumentTerms.of(terms_of(doc)).model_dump(by_alias=True),
            bundle=bundle,
        )


# ------------------------------------------------------------------ parsing


class _Invalid(Exception):
    pass


_SURROGATE = re.compile("[\ud800-\udfff]")


def _as_the_library_reads_it(obj: dict[str, Any]) -> bool:
    """Would `Bundle.from_json(json.dumps(obj))` get past its JSON pre-checks with the same strings?

    Walks the parsed value as json.dumps writes it: every object and array counts as one container, and
    so does every '{' and '[' inside a string (keys included), as `anchor.bundle._precheck` counts
    characters of the text; a surrogate code point in any string means the library reads another
    string, or none at all.
    """
    containers = 0
    stack: list[Any] = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            containers += 1
            for key, item in value.items():
                stack.append(key)
                stack.append(item)
        elif isinstance(value, list):
            containers += 1
            stack.extend(value)
        elif isinstance(value, str):
            if not value.isascii() and _SURROGATE.search(value):
                return False
            if "{" in value or "[" in value:
                containers += value.count("{") + value.count("[")
        if containers > _MAX_CONTAINERS:
            return False
    return True


class BundleParser:
    def __init__(self, cache_size: int = 2048) -> None:
        self._cache: OrderedDict[tuple[str, str], BaseModel] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def _section(self, model: type[BaseModel], value: Any) -> BaseModel:
        if not isinstance(value, dict):
            raise _Invalid
        # repr of JSON-parsed data (str, int, float, bool, None, list, dict) determines it exactly.
        key = (model.__name__, repr(value))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        try:
            parsed = model.model_validate(value, by_alias=True, by_name=False)
        except ValidationError:
            raise _Invalid from None
        with self._lock:
            self._cache[key] = parsed
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return parsed

    def parse(self, obj: Any, field: str = "bundle") -> Bundle:
        try:
            if not isinstance(obj, dict) or obj.get("mediaType") != MEDIA_TYPE:
                raise _Invalid
            if not _as_the_library_reads_it(obj):
                raise _Invalid
            data = dict(obj)
            data["batch"] = self._section(Batch, obj.get("batch"))
            data["anchor"] = self._section(Anchor, obj.get("anchor"))
            return Bundle.model_validate(data, by_alias=True, by_name=False)
        except (_Invalid, ValidationError, TypeError, ValueError):
            return load_bundle(obj, field)


def load_bundle(data: bytes | str | dict[str, Any], field: str = "bundle") -> Bundle:
    """The library's own parsing and messages (so they match `trustanchor verify`)."""
    text = json.dumps(data) if isinstance(data, dict) else data
    try:
        return Bundle.from_json(text)
    except BundleError as e:
        raise ApiError(422, "INVALID_BUNDLE", str(e), field=field) from None
