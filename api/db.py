"""The service's local store: one SQLite file in WAL mode under TRUSTANCHOR_HOME.

Every thread gets its own connection; writers in this process take one lock (so they queue here rather
than spin on SQLITE_BUSY), and other processes (the `apikey` CLI) wait on the busy timeout. A write
commits before the caller returns: intake answers "accepted" only for rows already on disk.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

SCHEMA_VERSION = 2  # 2: documents.terms (leaf v2)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    party TEXT NOT NULL,
    doc_type INTEGER NOT NULL,
    digest BLOB NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    canonicalization TEXT NOT NULL,
    size INTEGER NOT NULL,
    submitted_at REAL NOT NULL,
    batch_id INTEGER REFERENCES batches(id),
    idx INTEGER,
    salt BLOB,
    path BLOB,
    revoked_at INTEGER,
    revoke_reason INTEGER,
    superseded_by INTEGER,
    supersedes INTEGER,
    terms BLOB,
    UNIQUE (party, doc_type, digest)
);
CREATE INDEX IF NOT EXISTS documents_pending ON documents (party, doc_type, id) WHERE batch_id IS NULL;
CREATE INDEX IF NOT EXISTS documents_batch ON documents (batch_id);
CREATE INDEX IF NOT EXISTS documents_digest ON documents (digest);

CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    party TEXT NOT NULL,
    account TEXT NOT NULL,
    doc_type INTEGER NOT NULL,
    root BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    sig_alg TEXT NOT NULL,
    signature BLOB NOT NULL,
    certificates TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('signed', 'sent', 'anchored', 'failed')),
    nonce INTEGER,
    raw_tx BLOB,
    tx_hash TEXT,
    block_number INTEGER,
    block_hash TEXT,
    block_time INTEGER,
    error_code TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_open ON batches (account, nonce) WHERE state IN ('signed', 'sent');
CREATE INDEX IF NOT EXISTS batches_block ON batches (block_number) WHERE state = 'anchored';

CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    key_hash BLOB NOT NULL,
    role TEXT NOT NULL,
    party TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
"""


class Database:
    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        self.path = path
        self.synchronous = synchronous
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self.write_lock = threading.Lock()
        with self.write_lock:
            c = self.conn()
            c.executescript(_SCHEMA)  # idempotent; commits on its own
            columns = {row[1] for row in c.execute("PRAGMA table_info(documents)")}
            if "terms" not in columns:  # a version 1 database: its documents keep open terms (NULL)
                c.execute("ALTER TABLE documents ADD COLUMN terms BLOB")
            c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (autocommit mode: transactions are explicit in `write`)."""
        c: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute(f"PRAGMA synchronous={self.synchronous}")
            c.execute("PRAGMA foreign_keys=ON")
            c.execute("PRAGMA busy_timeout=10000")
            self._local.conn = c
            with self._all_lock:
                self._all.append(c)
        return c

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One committed write transaction (BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error)."""
        c = self.conn()
        with self.write_lock:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot across several SELECTs."""
        c = self.conn()
        c.execute("BEGIN")
        try:
            yield c
        finally:
            c.execute("COMMIT")

    def close(self) -> None:
        with self._all_lock:
            for c in self._all:
                with suppress(sqlite3.Error):
                    c.close()
            self._all.clear()
        self._local = threading.local()
