"""The service's local store: one SQLite file (WAL) under TRUSTANCHOR_HOME with the documents, their batches
and the API keys; and the crash points the recovery tests use to stop the process between its steps.

Every thread gets its own connection; writers in this process take one lock (so they queue here rather
than spin on SQLITE_BUSY), and other processes (the `apikey` CLI) wait on the busy timeout. A write
commits before the caller returns: intake answers "accepted" only for rows already on disk.

Documents. A document's public state follows from its batch: no batch or a batch not yet anchored ->
pending, an anchored batch -> anchored, a failed batch -> failed. A (party, type, digest) is stored once:
submitting it again returns the same id (a failed one is queued again), so a client may safely retry a
submission whose answer it never received.

Batches: a signed Merkle root and the signed raw transaction that anchors it, through its states

    signed   -- persisted with its raw transaction (hash, nonce) but perhaps not sent yet
    sent     -- handed to the node; not yet mined (or its block was lost to a reorg)
    anchored -- mined with enough confirmations: bundles can be rendered
    failed   -- cannot be anchored (e.g. the issuer account lost its authorization)

Everything needed to rebuild the bundles and to resend the very same transaction is stored before the
transaction is sent, so a crash at any moment leaves a row that recovery can finish.

Crash points (tests only): TRUSTANCHOR_CRASH_AT=point[,point...] makes the process SIGKILL itself there.
The crash-recovery tests start a real `trustanchor serve` with it to die at a precise moment of intake
or anchoring, then restart it without and check what recovery did. Unset, every `hit` is a set lookup
that finds nothing.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anchor.issuing.leaf import NO_TERMS, Terms

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


# ------------------------------------------------------------------ documents


_STATE_SQL = (
    "CASE WHEN b.state = 'anchored' THEN 'anchored' WHEN b.state = 'failed' THEN 'failed' ELSE 'pending' END"
)
_DOC_COLUMNS = (
    "d.id, d.party, d.doc_type, d.digest, d.name, d.media_type, d.canonicalization, d.size, d.submitted_at, "
    f"d.batch_id, d.idx, d.salt, d.path, d.revoked_at, d.revoke_reason, d.superseded_by, d.supersedes, "
    f"d.terms, {_STATE_SQL}, b.error_code, b.error"
)
_FROM = "documents d LEFT JOIN batches b ON b.id = d.batch_id"


@dataclass(frozen=True)
class NewDocument:
    digest: bytes
    name: str
    media_type: str
    canonicalization: str
    size: int
    terms: Terms = NO_TERMS


@dataclass(frozen=True)
class DocumentRow:
    id: int
    party: str
    doc_type: int
    digest: bytes
    name: str
    media_type: str
    canonicalization: str
    size: int
    submitted_at: float
    batch_id: int | None
    index: int | None
    salt: bytes | None
    path: bytes | None
    revoked_at: int | None
    revoke_reason: int | None
    superseded_by: int | None
    supersedes: int | None
    packed_terms: bytes | None
    state: str
    error_code: str | None
    error: str | None


def terms_of(doc: DocumentRow) -> Terms:
    """The terms the document's leaf commits to (NULL: open, as for documents of a version 1 store)."""
    return NO_TERMS if doc.packed_terms is None else Terms.unpack(doc.packed_terms)


def _doc_row(r: Sequence[object]) -> DocumentRow:
    return DocumentRow(*r)  # type: ignore[arg-type]


class DocumentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ intake

    def accept(
        self,
        party: str,
        doc_type: int,
        docs: Sequence[NewDocument],
        before_commit: Callable[[], None] | None = None,
    ) -> list[tuple[int, bool]]:
        """Store and commit; per input its id and whether it was new (or re-queued after failing)."""
        now = time.time()
        out: list[tuple[int, bool]] = []
        with self.db.write() as c:
            for d in docs:
                row = c.execute(
                    "INSERT INTO documents (party, doc_type, digest, name, media_type, canonicalization, size, "
                    "submitted_at, terms) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (party, doc_type, digest) DO UPDATE "
                    "SET batch_id = NULL, idx = NULL, salt = NULL, path = NULL, submitted_at = excluded.submitted_at, "
                    "terms = excluded.terms "
                    "WHERE documents.batch_id IN (SELECT id FROM batches WHERE state = 'failed') RETURNING id",
                    (
                        party,
                        doc_type,
                        d.digest,
                        d.name,
                        d.media_type,
                        d.canonicalization,
                        d.size,
                        now,
                        None if d.terms.open else d.terms.packed(),
                    ),
                ).fetchone()
                if row is None:  # an existing document, left as it is
                    found = c.execute(
                        "SELECT id FROM documents WHERE party = ? AND doc_type = ? AND digest = ?",
                        (party, doc_type, d.digest),
                    ).fetchone()
                    out.append((int(found[0]), False))
                else:
                    out.append((int(row[0]), True))
            if before_commit is not None:
                before_commit()
        return out

    # ------------------------------------------------------------------ reads

    def get(self, doc_id: int) -> DocumentRow | None:
        r = self.db.conn().execute(f"SELECT {_DOC_COLUMNS} FROM {_FROM} WHERE d.id = ?", (doc_id,)).fetchone()
        return _doc_row(r) if r else None

    def many(self, ids: Iterable[int]) -> dict[int, DocumentRow]:
        ids = list(ids)
        out: dict[int, DocumentRow] = {}
        c = self.db.conn()
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            for r in c.execute(f"SELECT {_DOC_COLUMNS} FROM {_FROM} WHERE d.id IN ({marks})", part):
                out[int(r[0])] = _doc_row(r)
        return out

    def by_digest(self, party: str, digest: bytes, doc_type: int | None = None) -> list[DocumentRow]:
        sql = f"SELECT {_DOC_COLUMNS} FROM {_FROM} WHERE d.digest = ? AND d.party = ?"
        args: list[object] = [digest, party]
        if doc_type is not None:
            sql += " AND d.doc_type = ?"
            args.append(doc_type)
        return [_doc_row(r) for r in self.db.conn().execute(sql + " ORDER BY d.id", args)]

    def page(
        self, party: str, *, state: str | None = None, after: int = 0, limit: int = 100
    ) -> list[DocumentRow]:
        sql = f"SELECT {_DOC_COLUMNS} FROM {_FROM} WHERE d.party = ? AND d.id > ?"
        args: list[object] = [party, after]
        if state is not None:
            sql += f" AND {_STATE_SQL} = ?"
            args.append(state)
        sql += " ORDER BY d.id LIMIT ?"
        args.append(limit)
        return [_doc_row(r) for r in self.db.conn().execute(sql, args)]

    def counts(self, party: str | None = None) -> dict[str, int]:
        sql = f"SELECT {_STATE_SQL}, COUNT(*) FROM {_FROM}"
        args: tuple[str, ...] = ()
        if party is not None:
            sql += " WHERE d.party = ?"
            args = (party,)
        got = dict(self.db.conn().execute(sql + " GROUP BY 1", args).fetchall())
        return {s: int(got.get(s, 0)) for s in ("pending", "anchored", "failed")}

    def backlog(self) -> int:
        """Accepted documents not yet anchored (nor failed)."""
        c = self.db.conn()
        unbatched = c.execute("SELECT COUNT(*) FROM documents WHERE batch_id IS NULL").fetchone()[0]
        open_ = c.execute(
            "SELECT COALESCE(SUM(size), 0) FROM batches WHERE state IN ('signed', 'sent')"
        ).fetchone()[0]
        return int(unbatched) + int(open_)

    # ------------------------------------------------------------------ lifecycle records

    def record_revocation(self, doc_id: int, when: int, reason: int) -> None:
        with self.db.write() as c:
            c.execute(
                "UPDATE documents SET revoked_at = ?, revoke_reason = ? WHERE id = ?", (when, reason, doc_id)
            )

    def record_supersession(self, old_id: int, new_id: int) -> None:
        with self.db.write() as c:
            c.execute("UPDATE documents SET superseded_by = ? WHERE id = ?", (new_id, old_id))
            c.execute("UPDATE documents SET supersedes = ? WHERE id = ?", (old_id, new_id))

    # ------------------------------------------------------------------ batching

    def pending_groups(self) -> list[tuple[str, int, int, float]]:
        """(party, doc_type, waiting count, oldest submission time) of documents not yet in a batch."""
        rows = self.db.conn().execute(
            "SELECT party, doc_type, COUNT(*), MIN(submitted_at) FROM documents "
            "WHERE batch_id IS NULL GROUP BY party, doc_type"
        )
        return [(str(p), int(t), int(n), float(o)) for p, t, n, o in rows]

    def take_pending(self, party: str, doc_type: int, limit: int) -> list[tuple[int, bytes, Terms]]:
        rows = self.db.conn().execute(
            "SELECT id, digest, terms FROM documents WHERE batch_id IS NULL AND party = ? AND doc_type = ? "
            "ORDER BY id LIMIT ?",
            (party, doc_type, limit),
        )
        return [(int(i), bytes(d), NO_TERMS if t is None else Terms.unpack(bytes(t))) for i, d, t in rows]

    @staticmethod
    def assign(
        c: sqlite3.Connection,
        batch_id: int,
        ids: Sequence[int],
        salts: Sequence[bytes],
        paths: Sequence[bytes],
    ) -> None:
        """Inside the batch's write transaction: bind each document to its leaf in the batch."""
        before = c.total_changes
        c.executemany(
            "UPDATE documents SET batch_id = ?, idx = ?, salt = ?, path = ? WHERE id = ? AND batch_id IS NULL",
            ((batch_id, i, salts[i], paths[i], ids[i]) for i in range(len(ids))),
        )
        if c.total_changes - before != len(ids):
            raise RuntimeError("a document of the batch was already in another batch")


# ------------------------------------------------------------------ batches


_BATCH_COLUMNS = (
    "id, party, account, doc_type, root, size, sig_alg, signature, certificates, state, nonce, raw_tx, "
    "tx_hash, block_number, block_hash, block_time, error_code, error, attempts, created_at"
)


@dataclass(frozen=True)
class BatchRow:
    id: int
    party: str
    account: str
    doc_type: int
    root: bytes
    size: int
    sig_alg: str
    signature: bytes
    certificates: tuple[str, ...]
    state: str
    nonce: int | None
    raw_tx: bytes | None
    tx_hash: str | None
    block_number: int | None
    block_hash: str | None
    block_time: int | None
    error_code: str | None
    error: str | None
    attempts: int
    created_at: float


def _batch_row(r: Sequence[Any]) -> BatchRow:
    values = list(r)
    values[4] = bytes(values[4])
    values[7] = bytes(values[7])
    values[8] = tuple(json.loads(str(values[8])))
    if values[11] is not None:
        values[11] = bytes(values[11])
    return BatchRow(*values)


@dataclass(frozen=True)
class SignedTx:
    nonce: int
    raw: bytes
    hash: str


class BatchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def insert(
        c: sqlite3.Connection,
        *,
        party: str,
        account: str,
        doc_type: int,
        root: bytes,
        size: int,
        sig_alg: str,
        signature: bytes,
        certificates: Sequence[str],
        tx: SignedTx | None,
        failure: tuple[str, str] | None = None,
    ) -> int:
        """Inside the caller's write transaction (the documents are assigned in the same one).

        Without a transaction the batch is recorded as failed with `failure` (code, message).
        """
        now = time.time()
        state = "signed" if tx is not None else "failed"
        code, error = failure or (None, None)
        cur = c.execute(
            "INSERT INTO batches (party, account, doc_type, root, size, sig_alg, signature, certificates, "
            "state, nonce, raw_tx, tx_hash, error_code, error, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                party,
                account,
                doc_type,
                root,
                size,
                sig_alg,
                signature,
                json.dumps(list(certificates)),
                state,
                tx.nonce if tx else None,
                tx.raw if tx else None,
                tx.hash if tx else None,
                code,
                error,
                now,
                now,
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def get(self, batch_id: int) -> BatchRow | None:
        r = (
            self.db.conn()
            .execute(f"SELECT {_BATCH_COLUMNS} FROM batches WHERE id = ?", (batch_id,))
            .fetchone()
        )
        return _batch_row(r) if r else None

    def open_batches(self) -> list[BatchRow]:
        """Batches signed or sent but not anchored, per account in nonce order."""
        rows = self.db.conn().execute(
            f"SELECT {_BATCH_COLUMNS} FROM batches WHERE state IN ('signed', 'sent') ORDER BY account, nonce, id"
        )
        return [_batch_row(r) for r in rows]

    def count_open(self, account: str) -> int:
        return int(
            self.db.conn()
            .execute(
                "SELECT COUNT(*) FROM batches WHERE account = ? AND state IN ('signed', 'sent')", (account,)
            )
            .fetchone()[0]
        )

    def anchored_since(self, block: int) -> list[BatchRow]:
        rows = self.db.conn().execute(
            f"SELECT {_BATCH_COLUMNS} FROM batches WHERE state = 'anchored' AND block_number >= ? ORDER BY block_number",
            (block,),
        )
        return [_batch_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        got = dict(self.db.conn().execute("SELECT state, COUNT(*) FROM batches GROUP BY state").fetchall())
        return {s: int(got.get(s, 0)) for s in ("signed", "sent", "anchored", "failed")}

    # ------------------------------------------------------------------ transitions

    def _update(self, batch_id: int, sql: str, args: Sequence[object]) -> None:
        with self.db.write() as c:
            c.execute(
                f"UPDATE batches SET {sql}, updated_at = ? WHERE id = ?", (*args, time.time(), batch_id)
            )

    def mark_sent(self, batch_id: int) -> None:
        self._update(batch_id, "state = 'sent', attempts = attempts + 1", ())

    def resign(self, batch_id: int, tx: SignedTx) -> None:
        """A new transaction for the same root (the old one was dropped or its nonce taken)."""
        self._update(
            batch_id,
            "state = 'signed', nonce = ?, raw_tx = ?, tx_hash = ?, block_number = NULL, block_hash = NULL, "
            "block_time = NULL",
            (tx.nonce, tx.raw, tx.hash),
        )

    def mark_anchored(
        self, batch_id: int, tx_hash: str, block_number: int, block_hash: str, block_time: int
    ) -> None:
        self._update(
            batch_id,
            "state = 'anchored', tx_hash = ?, block_number = ?, block_hash = ?, block_time = ?, "
            "error_code = NULL, error = NULL",
            (tx_hash, block_number, block_hash, block_time),
        )

    def mark_unanchored(self, batch_id: int) -> None:
        """Its block left the canonical chain: back to 'sent' until it is mined again or resubmitted."""
        self._update(
            batch_id, "state = 'sent', block_number = NULL, block_hash = NULL, block_time = NULL", ()
        )

    def mark_failed(self, batch_id: int, code: str, error: str) -> None:
        self._update(batch_id, "state = 'failed', error_code = ?, error = ?", (code, error))

    def note_error(self, batch_id: int, code: str, error: str) -> None:
        """A transient problem worth showing (the batch stays open and is retried)."""
        self._update(batch_id, "error_code = ?, error = ?", (code, error))


# ------------------------------------------------------------------ crash points (tests)


ENV = "TRUSTANCHOR_CRASH_AT"

POINTS = frozenset(
    {
        "intake_before_commit",  # documents digested, not yet committed: the client gets no answer
        "intake_after_commit",  # committed, response not yet sent
        "batch_signed",  # root signed and transaction signed, batch not yet persisted
        "batch_persisted",  # batch and raw transaction persisted, not yet sent
        "after_send",  # transaction sent, not yet recorded as sent
        "before_receipt_record",  # receipt seen, anchoring not yet recorded
    }
)


class CrashPoints:
    def __init__(self, spec: str | None) -> None:
        names = {p.strip() for p in (spec or "").split(",") if p.strip()}
        unknown = names - POINTS
        if unknown:
            raise ValueError(f"{ENV}: unknown crash point(s) {', '.join(sorted(unknown))}")
        self._armed = frozenset(names)

    @classmethod
    def from_env(cls) -> CrashPoints:
        return cls(os.environ.get(ENV))

    @property
    def armed(self) -> frozenset[str]:
        return self._armed

    def hit(self, point: str) -> None:
        if point in self._armed:
            os.kill(os.getpid(), signal.SIGKILL)
