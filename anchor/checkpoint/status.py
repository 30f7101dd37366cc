"""Status proofs: one document's registry state at a checkpoint, provable offline.

A status proof holds, for the document's batch, the document itself and its leaf's use, the entity the
state map holds (or null) with its map proof — presence or absence — and the batch's ``Anchored``
event with its inclusion proof in the event log, which proves which transaction in which block
anchored the batch. Everything is checked against a checkpoint's state root and event root, so a proof
from an older checkpoint cannot pass for the current one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..audit.snapshot_codec import batch_key, document_key
from ..bundle import Bundle
from ..errors import CheckpointError
from .note import Checkpoint
from .smt import MapProof, verify
from .state import Checkpointer, map_key, value_hash
from .tlog import event_leaf, verify_inclusion

SECTIONS = ("batches", "documents", "usage")
_LOG_FIELDS = ("address", "topics", "data", "blockNumber", "blockHash", "transactionHash", "logIndex")
_HEX = re.compile(r"0x[0-9a-fA-F]*")


class StatusProofMismatch(CheckpointError):
    """A status proof does not hold against the checkpoint it names: the verdict is INVALID."""


@dataclass(frozen=True)
class ProvenStatus:
    """What a verified status proof establishes at its checkpoint."""

    entities: dict[str, str | None]  # section -> canonical entity text, or None (proven absent)
    anchored: bool  # the proof holds the batch's Anchored event from the trusted registry
    transaction: str | None
    block_number: int | None
    block_hash: str | None


def make_status_proof(checkpointer: Checkpointer, issuer: str, root: bytes, leaf: bytes) -> dict[str, Any]:
    """The status proof of one document at the checkpointer's current checkpoint (reads one log)."""
    cp = checkpointer.checkpoint
    if cp is None:
        raise CheckpointError("the checkpointer has not replayed the chain yet")
    entries = checkpointer.document_entries(issuer, root, leaf)
    out: dict[str, Any] = {
        "checkpoint": {"events": cp.size, "root": cp.root.hex(), "block": cp.block},
        "entries": {
            section: {
                "key": key,
                "value": text,
                "proof": checkpointer.state.prove(map_key(section, key)).to_json(),
            }
            for section, (key, text) in entries.items()
        },
        "anchoring": None,
    }
    where = checkpointer.anchorings.get((issuer.lower(), root))
    if where is not None:
        index, block, log_index = where
        source = checkpointer.source
        logs = source.rpc.call(
            "eth_getLogs",
            [
                {
                    "fromBlock": hex(block),
                    "toBlock": hex(block),
                    "address": source.document_address,
                    "topics": [checkpointer._anchored_topic, "0x" + root.hex()],
                }
            ],
        )
        log = next((lg for lg in logs if int(lg["logIndex"], 16) == log_index), None)
        if log is None:
            raise CheckpointError(
                f"the node no longer has the Anchored log of block {block}: a reorg? replay again"
            )
        header = source.require_header(block)
        out["anchoring"] = {
            "index": index,
            "time": header.time,
            "log": {k: log[k] for k in _LOG_FIELDS},
            "proof": [p.hex() for p in checkpointer.log.inclusion_proof(index, cp.size)],
        }
    return out


def refreshed(checkpointer: Checkpointer, bundle: Bundle) -> Bundle:
    """`bundle` carrying its status proof at the checkpointer's checkpoint (any earlier one replaced)."""
    return bundle.model_copy(update={"status": bundle_status(checkpointer, bundle)})


def bundle_status(checkpointer: Checkpointer, bundle: Bundle) -> dict[str, Any]:
    """The status proof of the document `bundle` speaks of, at the checkpointer's checkpoint."""
    return make_status_proof(
        checkpointer,
        bundle.anchor.issuer,
        bytes.fromhex(bundle.batch.root[2:]),
        bytes.fromhex(bundle.leaf.hash[2:]),
    )


def check_status_proof(
    proof: Any, checkpoint: Checkpoint, issuer: str, root: bytes, leaf: bytes, anchored_topic: str
) -> ProvenStatus:
    """Verify `proof` for one document against `checkpoint`.

    CheckpointError if it is not a status proof or is for another checkpoint (nothing can be said);
    StatusProofMismatch if it claims this checkpoint and does not hold (a forged or stale proof).
    """
    if not isinstance(proof, dict) or set(proof) != {"checkpoint", "entries", "anchoring"}:
        raise CheckpointError("a status proof has exactly checkpoint, entries and anchoring")
    at = proof["checkpoint"]
    if not isinstance(at, dict) or set(at) != {"events", "root", "block"}:
        raise CheckpointError("a status proof's checkpoint is {events, root, block}")
    if at["events"] != checkpoint.size or at["root"] != checkpoint.root.hex():
        raise CheckpointError(
            f"the status proof is for the checkpoint of {at['events']} events, not the trusted one of "
            f"{checkpoint.size}: refresh the bundle (`trustanchor bundle refresh`)"
        )
    issuer = issuer.lower()
    wanted = {
        "batches": batch_key(issuer, root),
        "documents": document_key(issuer, root, leaf),
        "usage": "0x" + leaf.hex(),
    }
    entries = proof["entries"]
    if not isinstance(entries, dict) or set(entries) != set(SECTIONS):
        raise CheckpointError("a status proof's entries are batches, documents and usage")
    entities: dict[str, str | None] = {}
    for section in SECTIONS:
        e = entries[section]
        if not isinstance(e, dict) or set(e) != {"key", "value", "proof"}:
            raise CheckpointError(f"status proof entry {section} is {{key, value, proof}}")
        if e["key"] != wanted[section]:
            raise StatusProofMismatch(f"the status proof's {section} entry is about another document")
        value = e["value"]
        if value is not None and not isinstance(value, str):
            raise CheckpointError(f"status proof entry {section} value must be text or null")
        try:
            map_proof = MapProof.from_json(e["proof"])
        except ValueError as exc:
            raise CheckpointError(f"status proof entry {section}: {exc}") from None
        vh = None if value is None else value_hash(value)
        if not verify(checkpoint.state_root, map_key(section, e["key"]), vh, map_proof):
            raise StatusProofMismatch(
                f"the status proof's {section} entry does not match the checkpoint's state root"
            )
        entities[section] = value
    anchoring = proof["anchoring"]
    if anchoring is None:
        if entities["batches"] is not None:
            raise StatusProofMismatch("the status proof leaves out the Anchored event of an anchored batch")
        return ProvenStatus(entities, False, None, None, None)
    if not isinstance(anchoring, dict) or set(anchoring) != {"index", "time", "log", "proof"}:
        raise CheckpointError("a status proof's anchoring is {index, time, log, proof}")
    log = anchoring["log"]
    try:
        if not isinstance(log, dict) or set(log) != set(_LOG_FIELDS):
            raise ValueError
        if not all(isinstance(log[k], str) and _HEX.fullmatch(log[k]) for k in _LOG_FIELDS if k != "topics"):
            raise ValueError
        if not isinstance(log["topics"], list) or not all(
            isinstance(t, str) and _HEX.fullmatch(t) for t in log["topics"]
        ):
            raise ValueError
        index, time = anchoring["index"], anchoring["time"]
        if not isinstance(index, int) or not isinstance(time, int) or index < 0 or time < 0:
            raise ValueError
        path = [bytes.fromhex(p) for p in anchoring["proof"]]
        leaf_hash = event_leaf(log, time)
    except (ValueError, TypeError, KeyError, OverflowError):
        raise CheckpointError("the status proof's anchoring event is malformed") from None
    if not verify_inclusion(leaf_hash, index, checkpoint.size, path, checkpoint.root):
        raise StatusProofMismatch("the status proof's Anchored event is not in the checkpoint's event log")
    topics = [t.lower() for t in log["topics"]]
    anchored = (
        len(topics) >= 3
        and log["address"].lower() == checkpoint.document_registry
        and topics[0] == anchored_topic
        and topics[1] == "0x" + root.hex()
        and topics[2] == "0x" + issuer[2:].rjust(64, "0")
    )
    return ProvenStatus(
        entities,
        anchored,
        log["transactionHash"].lower(),
        int(log["blockNumber"], 16),
        log["blockHash"].lower(),
    )
