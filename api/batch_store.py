"""Batch rows: a signed Merkle root and the signed raw transaction that anchors it, through its states.

    signed   -- persisted with its raw transaction (hash, nonce) but perhaps not sent yet
    sent     -- handed to the node; not yet mined (or its block was lost to a reorg)
    anchored -- mined with enough confirmations: bundles can be rendered
    failed   -- cannot be anchored (e.g. the issuer account lost its authorization)

Everything needed to rebuild the bundles and to resend the very same transaction is stored before
the transaction is sent, so a crash at any moment leaves a row that recovery can finish.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .db import Database

_COLUMNS = (
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


def _row(r: Sequence[Any]) -> BatchRow:
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
        r = self.db.conn().execute(f"SELECT {_COLUMNS} FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return _row(r) if r else None

    def open_batches(self) -> list[BatchRow]:
        """Batches signed or sent but not anchored, per account in nonce order."""
        rows = self.db.conn().execute(
            f"SELECT {_COLUMNS} FROM batches WHERE state IN ('signed', 'sent') ORDER BY account, nonce, id"
        )
        return [_row(r) for r in rows]

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
            f"SELECT {_COLUMNS} FROM batches WHERE state = 'anchored' AND block_number >= ? ORDER BY block_number",
            (block,),
        )
        return [_row(r) for r in rows]

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
