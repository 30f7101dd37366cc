"""A party's witness: recompute the checkpoint from its own node, check it extends what it signed, co-sign.

Checkpoints are exchanged as files in a shared directory (a git repository, a web folder, a mounted
share: any transport will do, since everything in them is signed): ``<events>-<digest>.note`` holds a
signed checkpoint and gathers the co-signatures of every witness that recomputed the same body. Two
different bodies for one event count are a fork: a witness never signs both, and when it finds one it
did not sign next to one it did, it writes the pair as ``evidence-<events>.json`` for everyone to see.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CheckpointError
from .note import Checkpoint, Cosignature, SignedCheckpoint, cosign
from .state import Checkpointer
from .tlog import verify_consistency


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Published:
    """The directory where signed checkpoints are published and co-signed."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def path_for(self, checkpoint: Checkpoint) -> Path:
        return self.dir / f"{checkpoint.size:012d}-{checkpoint.digest()[:6].hex()}.note"

    def notes(self) -> list[SignedCheckpoint]:
        """Every published checkpoint, oldest first; an unreadable file is an error naming it."""
        out = []
        for path in sorted(self.dir.glob("*.note")):
            try:
                out.append(SignedCheckpoint.parse(path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError, CheckpointError) as e:
                raise CheckpointError(f"{path}: {e}") from None
        return out

    def merge(self, signed: SignedCheckpoint) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.path_for(signed.checkpoint)
        if path.exists():
            current = SignedCheckpoint.parse(path.read_text(encoding="utf-8"))
            if current.checkpoint != signed.checkpoint:
                raise CheckpointError(f"{path} holds another checkpoint with the same digest prefix")
            for c in signed.cosignatures:
                current = current.with_cosignature(c)
            signed = current
        _write_atomic(path, signed.text())
        return path

    def write_evidence(self, mine: SignedCheckpoint, other: SignedCheckpoint) -> Path:
        path = self.dir / f"evidence-{mine.checkpoint.size:012d}-{other.checkpoint.digest()[:6].hex()}.json"
        _write_atomic(
            path,
            json.dumps(
                {
                    "kind": "checkpoint-fork",
                    "events": mine.checkpoint.size,
                    "checkpoints": [mine.text(), other.text()],
                },
                indent=2,
            )
            + "\n",
        )
        return path


@dataclass
class WitnessLedger:
    """What one witness account signed: one checkpoint digest per event count, and the newest."""

    path: Path
    signed: dict[int, str] = field(default_factory=dict)
    last_size: int = 0
    last_root: str = ""

    @classmethod
    def load(cls, path: Path) -> WitnessLedger:
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                path,
                {int(k): str(v) for k, v in data["signed"].items()},
                int(data["lastSize"]),
                str(data["lastRoot"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise CheckpointError(f"witness ledger {path} is unreadable: restore it from backup") from None

    def record(self, checkpoint: Checkpoint) -> None:
        self.signed[checkpoint.size] = checkpoint.digest().hex()
        if checkpoint.size >= self.last_size:
            self.last_size, self.last_root = checkpoint.size, checkpoint.root.hex()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "signed": {str(k): v for k, v in sorted(self.signed.items())},
            "lastSize": self.last_size,
            "lastRoot": self.last_root,
        }
        _write_atomic(self.path, json.dumps(data, indent=1) + "\n")


@dataclass(frozen=True)
class Witnessed:
    signed: SignedCheckpoint
    cosignature: Cosignature
    path: Path
    evidence: tuple[Path, ...]


def witness(
    checkpointer: Checkpointer,
    party: str,
    private_key: bytes,
    address: str,
    ledger: WitnessLedger,
    published: Published,
) -> Witnessed:
    """Co-sign the checkpoint `checkpointer` computed, or raise CheckpointError saying why not."""
    cp = checkpointer.checkpoint
    if cp is None:
        raise CheckpointError("nothing to witness: the checkpointer has not replayed the chain yet")
    holder = checkpointer.snapshot.witness_party.get(address.lower(), "")
    if holder != party:
        raise CheckpointError(
            f"account {address} is not a witness account of {party} at block {cp.block}"
            + (f" (it witnesses for {holder})" if holder else "")
        )
    prior = ledger.signed.get(cp.size)
    if prior is not None and prior != cp.digest().hex():
        raise CheckpointError(
            f"refusing to sign a second, different checkpoint for {cp.size} events: this witness already "
            f"signed {prior[:12]}…; the chain it reads has changed its history"
        )
    if ledger.last_size:
        if cp.size < ledger.last_size:
            raise CheckpointError(
                f"the chain shows {cp.size} registry events, fewer than the {ledger.last_size} of the checkpoint "
                "this witness signed last: another chain, or history rewritten beyond finality"
            )
        proof = checkpointer.log.consistency_proof(ledger.last_size, cp.size)
        if not verify_consistency(ledger.last_size, cp.size, bytes.fromhex(ledger.last_root), cp.root, proof):
            raise CheckpointError(
                f"the event log at {cp.size} events does not extend the one this witness signed at "
                f"{ledger.last_size}: the chain's history was rewritten"
            )
    mine = cosign(cp, party, private_key)
    signed = SignedCheckpoint(cp, (mine,))
    path = published.merge(signed)
    signed = SignedCheckpoint.parse(path.read_text(encoding="utf-8"))
    ledger.record(cp)
    evidence = tuple(
        published.write_evidence(signed, other)
        for other in published.notes()
        if other.checkpoint.size == cp.size and other.checkpoint != cp and other.cosignatures
    )
    return Witnessed(signed, mine, path, evidence)
