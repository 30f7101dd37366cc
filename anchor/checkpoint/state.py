"""What a checkpoint's two maps hold, and the checkpointer that keeps them in step with the chain.

Entries are the audit snapshot's canonical entities (``anchor.audit.snapshot_codec``): the audit's
replay already derives them from the events alone, and two independent replays agree on them byte for
byte. The trust map holds the trust sections — small, and carried whole in every trust pack so that a
verifier can recompute its root and knows it has all of it (a withheld revocation would change the
root). The state map holds batches, documents and uses — as many as there are documents — and travels
only as proofs. Audit observations are the auditor's opinions, not state: they are in neither.

Key = SHA-256("TrustAnchor/map-key/v1\\0" || section || 0x00 || entity key), value hash = SHA-256 of the
entity's canonical JSON text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..audit.events import EventDecoder
from ..audit.replay import Fold, empty_snapshot, replay
from ..audit.snapshot import Snapshot
from ..audit.snapshot_codec import (
    SECTIONS,
    batch_entity,
    batch_key,
    document_entity,
    document_key,
    dumps,
    from_canonical,
    section_strings,
    usage_entity,
)
from ..audit.source import AuditSource
from .note import Checkpoint
from .smt import SparseMap
from .tlog import EventLog, event_leaf

STATE_SECTIONS = ("batches", "documents", "usage")
# The audit's observations are its opinions, not registry state: in neither map.
TRUST_SECTIONS = tuple(name for name in SECTIONS if name not in (*STATE_SECTIONS, "observations"))
KEY_DOMAIN = b"TrustAnchor/map-key/v1\x00"

TrustState = dict[str, dict[str, str]]  # section -> entity key -> canonical JSON text


def map_key(section: str, key: str) -> bytes:
    return hashlib.sha256(KEY_DOMAIN + section.encode() + b"\x00" + key.encode()).digest()


def value_hash(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def trust_map(trust: Mapping[str, Mapping[str, str]]) -> SparseMap:
    return SparseMap(
        (map_key(section, key), value_hash(text))
        for section, entities in trust.items()
        for key, text in entities.items()
    )


def trust_snapshot(
    trust: Mapping[str, Mapping[str, str]], extra: Mapping[str, Mapping[str, str]] = {}
) -> Snapshot:
    """The snapshot a trust state (plus any proven batch, document and use entities) describes."""
    data: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    for source in (trust, extra):
        for section, entities in source.items():
            data[section] = {key: json.loads(text) for key, text in entities.items()}
    return from_canonical(data)


class Checkpointer:
    """Replays the registries from a node and keeps the event log and both maps, advancing block by block.

    Advancing costs one leaf append per new event and one map update per batch, document or use an
    event changed; the trust map is rebuilt at each checkpoint (it holds the trust entities only).
    """

    def __init__(self, source: AuditSource) -> None:
        self.source = source
        self.snapshot: Snapshot = empty_snapshot(source)
        self.log = EventLog()
        self.state = SparseMap()
        self.trust: TrustState = {}
        self.trust_root = b""
        # Where each batch's Anchored event sits in the log: (issuer, root) -> (index, block, log index).
        self.anchorings: dict[tuple[str, bytes], tuple[int, int, int]] = {}
        self.checkpoint: Checkpoint | None = None
        self._anchored_topic = "0x" + source.document_abi.event("Anchored").topic.hex()

    def advance(self, to_block: int) -> Checkpoint:
        """Replay up to `to_block` from the node and return the checkpoint there.

        ReorgDuringReplay (from the audit's replay) leaves this checkpointer unusable: start afresh.
        """
        touched: set[tuple[str, object]] = set()
        s = replay(self.source, to_block, start=self.snapshot, on_log=self._on_log, touched=touched)
        return self._checkpoint(s, touched)

    def ingest(
        self, logs: Iterable[tuple[dict[str, Any], int]], block: int, block_hash: str, block_time: int
    ) -> Checkpoint:
        """Fold raw registry logs (with their block times) the caller already holds, up to `block`.

        For logs read elsewhere (a benchmark's generated history, an archive); :meth:`advance` reads them
        from the node and checks the chain did not change underneath.
        """
        touched: set[tuple[str, object]] = set()
        fold = Fold(self.snapshot, touched)
        decode = EventDecoder(self.source).decode
        for lg, time in logs:
            self._on_log(lg, time)
            ev = decode(lg, time)
            if ev is not None:
                fold.apply(ev)
        fold.finish()
        s = self.snapshot
        s.block, s.block_hash, s.block_time = block, block_hash, block_time
        return self._checkpoint(s, touched)

    def _on_log(self, lg: dict[str, Any], time: int) -> None:
        topics = lg["topics"]
        if (
            topics
            and topics[0] == self._anchored_topic
            and lg["address"].lower() == self.source.document_address
        ):
            key = ("0x" + topics[2][26:].lower(), bytes.fromhex(topics[1][2:]))
            self.anchorings[key] = (self.log.size, int(lg["blockNumber"], 16), int(lg["logIndex"], 16))
        self.log.append(event_leaf(lg, time))

    def _checkpoint(self, s: Snapshot, touched: set[tuple[str, object]]) -> Checkpoint:
        for section, key in touched:
            entry = self._entry(section, key)
            if entry is not None:
                self.state.set(map_key(section, entry[0]), value_hash(entry[1]))
        self.trust = section_strings(s, TRUST_SECTIONS)
        self.trust_root = trust_map(self.trust).root()
        self.checkpoint = Checkpoint(
            s.chain_id,
            s.trust_registry.lower(),
            s.document_registry.lower(),
            self.log.size,
            self.log.root(),
            s.block,
            s.block_hash.lower(),
            s.block_time,
            self.trust_root,
            self.state.root(),
        )
        return self.checkpoint

    # ------------------------------------------------------------------ entities for proofs

    def document_entries(self, issuer: str, root: bytes, leaf: bytes) -> dict[str, tuple[str, str | None]]:
        """For one document: section -> (entity key, canonical JSON text now, or None if there is none)."""
        issuer = issuer.lower()
        out: dict[str, tuple[str, str | None]] = {}
        for section, key in (
            ("batches", (issuer, root)),
            ("documents", (issuer, root, leaf)),
            ("usage", leaf),
        ):
            entry = self._entry(section, key)
            out[section] = entry if entry is not None else (_entity_key(section, key), None)
        return out

    def _entry(self, section: str, key: object) -> tuple[str, str] | None:
        s = self.snapshot
        if section == "batches":
            b = s.batches.get(key)  # type: ignore[call-overload]
            return None if b is None else (_entity_key(section, key), dumps(batch_entity(b)))
        if section == "documents":
            d = s.documents.get(key)  # type: ignore[call-overload]
            return None if d is None else (_entity_key(section, key), dumps(document_entity(d)))
        u = s.usage.get(key)  # type: ignore[call-overload]
        return None if u is None else (_entity_key(section, key), dumps(usage_entity(u)))


def _entity_key(section: str, key: object) -> str:
    if section == "batches":
        return batch_key(*key)  # type: ignore[misc]
    if section == "documents":
        return document_key(*key)  # type: ignore[misc]
    assert isinstance(key, bytes)
    return "0x" + key.hex()
