"""Document rows: accepting submissions durably, and reading them back with their batch's state.

A document's public state follows from its batch: no batch or a batch not yet anchored -> pending,
an anchored batch -> anchored, a failed batch -> failed. A (party, type, digest) is stored once:
submitting it again returns the same id (a failed one is queued again), so a client may safely retry
a submission whose answer it never received.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from anchor.issuing.leaf import NO_TERMS, Terms

from .db import Database

_STATE_SQL = (
    "CASE WHEN b.state = 'anchored' THEN 'anchored' WHEN b.state = 'failed' THEN 'failed' ELSE 'pending' END"
)
_COLUMNS = (
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


def _row(r: Sequence[object]) -> DocumentRow:
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
        r = self.db.conn().execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE d.id = ?", (doc_id,)).fetchone()
        return _row(r) if r else None

    def many(self, ids: Iterable[int]) -> dict[int, DocumentRow]:
        ids = list(ids)
        out: dict[int, DocumentRow] = {}
        c = self.db.conn()
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            for r in c.execute(f"SELECT {_COLUMNS} FROM {_FROM} WHERE d.id IN ({marks})", part):
                out[int(r[0])] = _row(r)
        return out

    def by_digest(self, party: str, digest: bytes, doc_type: int | None = None) -> list[DocumentRow]:
        sql = f"SELECT {_COLUMNS} FROM {_FROM} WHERE d.digest = ? AND d.party = ?"
        args: list[object] = [digest, party]
        if doc_type is not None:
            sql += " AND d.doc_type = ?"
            args.append(doc_type)
        return [_row(r) for r in self.db.conn().execute(sql + " ORDER BY d.id", args)]

    def page(
        self, party: str, *, state: str | None = None, after: int = 0, limit: int = 100
    ) -> list[DocumentRow]:
        sql = f"SELECT {_COLUMNS} FROM {_FROM} WHERE d.party = ? AND d.id > ?"
        args: list[object] = [party, after]
        if state is not None:
            sql += f" AND {_STATE_SQL} = ?"
            args.append(state)
        sql += " ORDER BY d.id LIMIT ?"
        args.append(limit)
        return [_row(r) for r in self.db.conn().execute(sql, args)]

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
