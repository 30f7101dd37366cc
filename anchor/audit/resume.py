"""Resume points of replayed snapshots, and replays that resume from the newest one still on the chain.

(The audit's own saved progress; registry checkpoints for offline verification are anchor.checkpoint.)

A checkpoint is (block, block hash, snapshot digest) plus the snapshot itself, kept under
TRUSTANCHOR_HOME/audit/<chain>-<registry>-<deploy block>/. Before resuming, the checkpoint's block hash
is compared with the chain's: if it changed, the history the checkpoint summarizes was rewritten (a
reorg), so that checkpoint is dropped, the event is recorded as a notice, and the replay resumes from
the newest older checkpoint that is still on the chain (or from the deployment block).
"""

from __future__ import annotations

import gzip
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..deploy import Manifest
from .errors import AuditError, ReorgDuringReplay, ResumePointError
from .replay import ReplayStats, replay
from .snapshot import Snapshot
from .snapshot_codec import digest, from_canonical, to_canonical
from .source import AuditSource

VERSION = 5  # follows the canonical snapshot format (3: registries v2; 4: use per leaf; 5: witnesses)


@dataclass(frozen=True)
class ResumePoint:
    block: int
    block_hash: str
    digest: str
    events: int
    saved_at: int
    path: Path


@dataclass(frozen=True)
class Notice:
    """A reorg or gap noticed between checkpoints (or during a replay)."""

    kind: str  # "reorg" | "gap"
    block: int
    seen_hash: str
    now_hash: str | None
    detected_at: int
    head: int
    message: str


def audit_dir(home: Path, manifest: Manifest) -> Path:
    return (
        home
        / "audit"
        / f"{manifest.chain_id}-{manifest.trust_registry.address.lower()}-{manifest.deploy_block}"
    )


class ResumeStore:
    def __init__(self, directory: Path, *, keep: int = 3) -> None:
        if keep < 1:
            raise AuditError("keep at least one checkpoint")
        self.dir = directory
        self.keep = keep

    @classmethod
    def for_manifest(cls, home: Path, manifest: Manifest, *, keep: int = 3) -> ResumeStore:
        return cls(audit_dir(home, manifest), keep=keep)

    # ------------------------------------------------------------------ checkpoints

    def checkpoints(self) -> list[ResumePoint]:
        """Saved checkpoints, newest first (unreadable index files are skipped, not trusted)."""
        out = []
        for meta in self.dir.glob("checkpoint-*.json"):
            try:
                d = json.loads(meta.read_text())
                out.append(
                    ResumePoint(
                        int(d["block"]),
                        str(d["blockHash"]),
                        str(d["digest"]),
                        int(d["events"]),
                        int(d["savedAt"]),
                        meta.with_name(meta.name.removesuffix(".json") + ".snapshot.json.gz"),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return sorted(out, key=lambda c: c.block, reverse=True)

    def save(self, snapshot: Snapshot) -> ResumePoint:
        self.dir.mkdir(parents=True, exist_ok=True)
        stem = f"checkpoint-{snapshot.block:012d}"
        data = to_canonical(snapshot)
        snap_path = self.dir / f"{stem}.snapshot.json.gz"
        tmp = snap_path.with_name(snap_path.name + ".tmp")
        with gzip.open(tmp, "wt", compresslevel=3) as f:
            json.dump({"version": VERSION, "snapshot": data}, f, separators=(",", ":"))
        tmp.replace(snap_path)
        cp = ResumePoint(
            snapshot.block,
            snapshot.block_hash,
            digest(snapshot),
            snapshot.events,
            int(time.time()),
            snap_path,
        )
        meta = self.dir / f"{stem}.json"
        tmp_meta = meta.with_name(meta.name + ".tmp")
        tmp_meta.write_text(
            json.dumps(
                {
                    "version": VERSION,
                    "block": cp.block,
                    "blockHash": cp.block_hash,
                    "digest": cp.digest,
                    "events": cp.events,
                    "savedAt": cp.saved_at,
                },
                indent=2,
            )
        )
        tmp_meta.replace(meta)
        for old in self.checkpoints()[self.keep :]:
            self.discard(old)
        return cp

    def load(self, cp: ResumePoint) -> Snapshot:
        try:
            with gzip.open(cp.path, "rt") as f:
                raw = json.load(f)
        except (OSError, EOFError, ValueError) as e:
            raise ResumePointError(f"checkpoint {cp.path} is unreadable: {e}") from None
        if not isinstance(raw, dict) or raw.get("version") != VERSION:
            raise ResumePointError(f"checkpoint {cp.path} has an unsupported format")
        snapshot = from_canonical(raw["snapshot"])
        got = digest(snapshot)
        if got != cp.digest or snapshot.block != cp.block or snapshot.block_hash != cp.block_hash:
            raise ResumePointError(
                f"checkpoint {cp.path} does not match its recorded digest (edited or corrupt)"
            )
        return snapshot

    def discard(self, cp: ResumePoint) -> None:
        cp.path.unlink(missing_ok=True)
        cp.path.with_name(cp.path.name.removesuffix(".snapshot.json.gz") + ".json").unlink(missing_ok=True)

    # ------------------------------------------------------------------ notices

    @property
    def _notices_path(self) -> Path:
        return self.dir / "notices.jsonl"

    def add_notice(self, notice: Notice) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        with self._notices_path.open("a") as f:
            f.write(json.dumps(asdict(notice)) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def notices(self) -> list[Notice]:
        try:
            lines = self._notices_path.read_text().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                out.append(Notice(**json.loads(line)))
            except (ValueError, TypeError):
                continue
        return out


# ---------------------------------------------------------------------- resuming


@dataclass
class ReplayOutcome:
    snapshot: Snapshot
    resumed_from: ResumePoint | None
    saved: ResumePoint | None
    notices: list[Notice] = field(default_factory=list)
    stats: ReplayStats = field(default_factory=ReplayStats)

    def summary(self) -> dict[str, Any]:
        s = self.snapshot
        return {
            "block": s.block,
            "blockHash": s.block_hash,
            "blockTime": s.block_time,
            "digest": s.digest(),
            "events": s.events,
            "eventsReplayed": self.stats.events,
            "replaySeconds": round(self.stats.seconds, 3),
            "resumedFrom": self.resumed_from.block if self.resumed_from else None,
            "checkpointSaved": self.saved.block if self.saved else None,
            "notices": [asdict(n) for n in self.notices],
        }


def _resume_point(
    source: AuditSource, store: ResumeStore, to_block: int, notices: list[Notice]
) -> tuple[Snapshot | None, ResumePoint | None]:
    head: int | None = None
    found: tuple[Snapshot | None, ResumePoint | None] = (None, None)
    # Every checkpoint is checked, even those past the target: each is a witness of the chain as it
    # was, and a changed or missing block is worth reporting whichever replay notices it.
    for cp in store.checkpoints():
        hdr = source.header(cp.block)
        if hdr is not None and hdr.hash == cp.block_hash:
            if cp.block > to_block or found[1] is not None:
                continue
            try:
                found = (store.load(cp), cp)
            except ResumePointError:
                store.discard(cp)
            continue
        head = head if head is not None else source.head()
        if hdr is None:
            kind = "gap"
            message = (
                f"checkpoint block {cp.block} no longer exists (chain head is {head}): the chain was reset "
                "or rewound below it"
            )
        else:
            kind = "reorg"
            message = (
                f"block {cp.block} was replaced since the checkpoint (hash {cp.block_hash[:18]}… is now "
                f"{hdr.hash[:18]}…): history after an earlier point was rewritten"
            )
        notices.append(
            Notice(kind, cp.block, cp.block_hash, hdr.hash if hdr else None, int(time.time()), head, message)
        )
        store.discard(cp)
    return found


def replay_incremental(
    source: AuditSource,
    store: ResumeStore | None,
    to_block: int,
    *,
    save: bool = True,
    max_restarts: int = 3,
) -> ReplayOutcome:
    """Replay to `to_block`, resuming from the newest valid checkpoint and saving a new one."""
    notices: list[Notice] = []
    stats = ReplayStats()
    for _ in range(max_restarts + 1):
        start, cp = _resume_point(source, store, to_block, notices) if store is not None else (None, None)
        try:
            snapshot = replay(source, to_block, start=start, stats=stats)
        except ReorgDuringReplay as e:
            notices.append(
                Notice(
                    "reorg",
                    e.block,
                    e.seen,
                    e.now,
                    int(time.time()),
                    source.head(),
                    f"during the replay: {e}",
                )
            )
            continue
        break
    else:
        raise AuditError(
            f"the chain reorganized during {max_restarts + 1} replay attempts; try a deeper --depth"
        )
    if notices:
        last_safe = cp.block if cp is not None else source.deploy_block
        for i, n in enumerate(notices):
            notices[i] = Notice(
                **{
                    **asdict(n),
                    "message": f"{n.message}; the replay resumed from the last safe point, block {last_safe}",
                }
            )
    saved = None
    if store is not None:
        for n in notices:
            store.add_notice(n)
        if save and (cp is None or cp.block < snapshot.block):
            saved = store.save(snapshot)
    return ReplayOutcome(snapshot, cp, saved, notices, stats)
