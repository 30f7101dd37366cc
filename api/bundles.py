"""Proof bundles rendered on demand from the stored batch and document rows.

Nothing bundle-shaped is stored: the batch row holds the root, signature, certificates and (once
anchored) the anchoring block, the document row its salt, index and proof path. So when a reorg moves
a batch to another block, every bundle of it follows without rewriting anything. One `BundleWriter` per
batch and anchoring is cached (it checks the batch signature once when made).
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict

from anchor.bundle import Anchor, Batch, BatchSignature, BundleWriter, Supersedes, to_checksum_address
from anchor.deploy import Manifest
from anchor.issuing.leaf import leaf_hash

from .batch_store import BatchRow
from .doc_store import DocumentRow, terms_of

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
