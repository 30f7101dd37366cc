"""The issuer's local journal (SQLite under TRUSTANCHOR_HOME): which digests it already anchored.

Re-running `issue` on documents already anchored by the same issuer must not anchor them again; the
journal answers that without touching the chain, and points at the bundle written the first time.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS issued (
    issuer TEXT NOT NULL,
    doc_type INTEGER NOT NULL,
    digest BLOB NOT NULL,
    name TEXT NOT NULL,
    bundle_path TEXT,
    root BLOB NOT NULL,
    leaf BLOB NOT NULL,
    tx_hash TEXT NOT NULL,
    block_number INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, doc_type, digest)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class JournalEntry:
    digest: bytes
    name: str
    bundle_path: str | None
    root: bytes
    leaf: bytes
    tx_hash: str
    block_number: int


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def known(self, issuer: str, doc_type: int, digests: Sequence[bytes]) -> dict[bytes, JournalEntry]:
        """Entries for those of `digests` this issuer already anchored for this document type."""
        found: dict[bytes, JournalEntry] = {}
        chunk = 500
        for i in range(0, len(digests), chunk):
            part = list(digests[i : i + chunk])
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                "SELECT digest, name, bundle_path, root, leaf, tx_hash, block_number FROM issued "
                f"WHERE issuer = ? AND doc_type = ? AND digest IN ({marks})",
                [issuer.lower(), doc_type, *part],
            )
            for row in rows:
                found[bytes(row[0])] = JournalEntry(
                    bytes(row[0]), row[1], row[2], bytes(row[3]), bytes(row[4]), row[5], row[6]
                )
        return found

    def record(self, issuer: str, doc_type: int, entries: Iterable[JournalEntry]) -> None:
        now = int(time.time())
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO issued VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    (
                        issuer.lower(),
                        doc_type,
                        e.digest,
                        e.name,
                        e.bundle_path,
                        e.root,
                        e.leaf,
                        e.tx_hash,
                        e.block_number,
                        now,
                    )
                    for e in entries
                ),
            )
