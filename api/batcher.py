"""The batcher: pending documents -> signed Merkle batch -> one anchoring transaction -> anchored.

A (party, document type) group is batched when `batch_max_documents` are waiting or the oldest has
waited `batch_max_wait_ms`. For each batch, in this order:

1. salts, leaves, tree, root signature; under the account's lock the nonce (the node's pending count),
   the signed raw transaction;
2. ONE SQLite transaction stores the batch (root, signature, raw transaction, its hash and nonce) and
   binds the documents to their leaves (salt, index, proof path);
3. the raw transaction is sent; then the batch is marked 'sent'.

Every loop also advances the open batches (signed or sent) from what the chain says: a receipt with
enough confirmations -> anchored; a batch never sent -> sent now, unless its nonce no longer fits; a
transaction the node forgot (node restart, dropped) -> the same bytes again if its nonce is still next,
else the same root in a new transaction. Before any resubmission the registry is asked whether the root
is already anchored, and the contract refuses a root twice, so no document is ever anchored twice.
Anchored batches within `reorg_window_blocks` of the head are re-checked whenever the chain moved in a
way that is not a plain extension; a batch whose block is gone goes back to 'sent' (and so is mined
again or resubmitted), and its bundles, rendered from the batch row, follow.

The first loop after start-up runs the same steps over whatever a crash left behind: that is recovery.

The backlog (`Backlog`) counts documents accepted and not yet anchored (nor failed) in memory: intake
checks it on every submission, so it must not cost a COUNT(*) over the pending rows; the batcher
re-reads the true value from the store now and then, so any drift heals.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from anchor.deploy import party_id
from anchor.errors import ChainError, ChainUnavailable, ConfigError
from anchor.issuing.batch import SignedBatch
from anchor.issuing.leaf import Terms

from .identities import AccountLocks, Identities, IssuerIdentity
from .ledger import Anchoring, ChainGateway, SendResult, TxSender
from .settings import ServiceSettings
from .store import BatchRow, BatchStore, CrashPoints, Database, DocumentStore

log = logging.getLogger("trustanchor.api.batcher")
MAX_ATTEMPTS = 8


class Backlog:
    def __init__(self, limit: int, value: int = 0) -> None:
        self.limit = limit
        self._value = value
        self._lock = threading.Lock()

    @property
    def value(self) -> int:
        return self._value

    def add(self, n: int) -> None:
        with self._lock:
            self._value += n

    def sub(self, n: int) -> None:
        with self._lock:
            self._value = max(0, self._value - n)

    def set(self, n: int) -> None:
        with self._lock:
            self._value = n

    def room(self) -> int:
        return max(0, self.limit - self._value)


@dataclass
class BatcherStatus:
    running: bool = False
    leader: bool = False
    recovered: bool = False
    chain_ok: bool = False
    last_error: str | None = None
    batches_sent: int = 0
    batches_anchored: int = 0
    resubmissions: int = 0
    reorgs_seen: int = 0


class Batcher:
    def __init__(
        self,
        settings: ServiceSettings,
        db: Database,
        gateway: ChainGateway,
        identities: Identities,
        locks: AccountLocks,
        backlog: Backlog,
        crash: CrashPoints,
        confirmations: int,
    ) -> None:
        self.settings = settings
        self.docs = DocumentStore(db)
        self.batches = BatchStore(db)
        self.db = db
        self.gateway = gateway
        self.identities = identities
        self.locks = locks
        self.backlog = backlog
        self.crash = crash
        self.confirmations = confirmations
        self.status = BatcherStatus()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sender: TxSender | None = None
        self._last_head: tuple[int, str] | None = None
        self._backlog_synced = 0.0
        self._lock_file: IO[str] | None = None

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="batcher", daemon=True)
        self.status.running = True
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.status.running = False
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock
            self._lock_file = None

    def notify(self) -> None:
        """New documents arrived: look whether a batch is due."""
        self._wake.set()

    # ------------------------------------------------------------------ loop

    def _lead(self) -> bool:
        """Only one process per store batches (several workers, or a second service on the same
        TRUSTANCHOR_HOME): the one holding the lock file. The others keep their backlog count fresh."""
        if self._lock_file is None:
            path = self.db.path.parent / "batcher.lock"
            handle = open(path, "a+")  # noqa: SIM115 - held open for the life of the process
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                self.status.leader = False
                return False
            self._lock_file = handle
            self.status.leader = True
        return True

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            if not self._lead():
                self.backlog.set(self.docs.backlog())
                self._stop.wait(1.0)
                continue
            try:
                busy = self.step()
                self.status.chain_ok = True
                self.status.last_error = None
                backoff = 0.1
                if not busy:
                    self._wake.wait(self._idle_timeout())
                    self._wake.clear()
            except (ChainUnavailable, ConfigError) as e:
                self.status.chain_ok = not isinstance(e, ChainUnavailable)
                self.status.last_error = str(e)
                self._sender = None
                self._stop.wait(backoff)
                backoff = min(2.0, backoff * 2)
            except Exception as e:
                self.status.last_error = f"{type(e).__name__}: {str(e)[:200]}"
                log.error(
                    "batcher step failed: %s", self.status.last_error, exc_info=not isinstance(e, ChainError)
                )
                self._sender = None
                self._stop.wait(backoff)
                backoff = min(2.0, backoff * 2)

    def _idle_timeout(self) -> float:
        poll = self.settings.poll_interval_ms / 1000
        if self.batches.open_batches():
            return poll
        groups = self.docs.pending_groups()
        if not groups:  # documents may also come in through other worker processes
            return min(1.0, self.settings.batch_max_wait_ms / 1000)
        due = min(o + self.settings.batch_max_wait_ms / 1000 for _, _, _, o in groups) - time.time()
        return max(0.005, min(due, 1.0))

    def step(self) -> bool:
        """One pass: advance open batches, watch for reorgs, form due batches. True if it did work."""
        sender = self._get_sender()
        progressed = self._advance_open(sender)
        self._watch_reorgs(sender)
        self.status.recovered = True
        formed = self._form(sender)
        if time.monotonic() - self._backlog_synced > 5:
            self.backlog.set(self.docs.backlog())
            self._backlog_synced = time.monotonic()
        return formed or progressed

    def _get_sender(self) -> TxSender:
        if self._sender is None:
            self._sender = TxSender(self.gateway.registries(), self.settings.anchor_gas_limit)
        return self._sender

    # ------------------------------------------------------------------ forming

    def _form(self, sender: TxSender) -> bool:
        now = time.time()
        formed = False
        for party, tid, count, oldest in self.docs.pending_groups():
            if (
                count < self.settings.batch_max_documents
                and (now - oldest) * 1000 < self.settings.batch_max_wait_ms
            ):
                continue
            ident = self.identities.issuers.get(party)
            if ident is None:
                continue  # intake refuses such documents; rows from an earlier configuration wait
            if self.batches.count_open(ident.address) >= self.settings.max_in_flight_batches:
                continue
            rows = self.docs.take_pending(party, tid, self.settings.batch_max_documents)
            if rows:
                self._anchor_new(sender, ident, tid, rows)
                formed = True
        return formed

    def _anchor_new(
        self, sender: TxSender, ident: IssuerIdentity, tid: int, rows: Sequence[tuple[int, bytes, Terms]]
    ) -> None:
        ids = [r[0] for r in rows]
        signed = SignedBatch.sign(
            ident.signer,
            [r[1] for r in rows],
            tid,
            sender.chain.chain_id,
            sender.registry,
            ident.party,
            ident.address,
            [r[2] for r in rows],
        )
        tree, signature = signed.tree, signed.signature
        paths = [b"".join(p) for p in tree.iter_proofs()]
        refusal = self._authorization_problem(sender, ident, tid)
        with self.locks(ident.address):
            tx = None
            if refusal is None:
                nonce = sender.next_nonce(ident.address)
                tx = sender.sign_anchor(ident.account, tree.root, tid, tree.size, nonce)
            self.crash.hit("batch_signed")
            with self.db.write() as c:
                batch_id = BatchStore.insert(
                    c,
                    party=ident.party,
                    account=ident.address,
                    doc_type=tid,
                    root=tree.root,
                    size=tree.size,
                    sig_alg=signature.alg,
                    signature=signature.value,
                    certificates=ident.certificates_b64,
                    tx=tx,
                    failure=refusal,
                )
                DocumentStore.assign(c, batch_id, ids, signed.salts, paths)
            if tx is None:
                log.warning("batch %d of %d documents failed: %s", batch_id, len(ids), refusal)
                self.backlog.sub(len(ids))
                return
            self.crash.hit("batch_persisted")
            result = sender.send(tx.raw)
            self.crash.hit("after_send")
            if result is SendResult.NONCE_TAKEN:
                return  # left 'signed': the next pass resubmits it with a fresh nonce
            self.batches.mark_sent(batch_id)
        self.status.batches_sent += 1

    def _authorization_problem(
        self, sender: TxSender, ident: IssuerIdentity, tid: int
    ) -> tuple[str, str] | None:
        auth = sender.reg.documents.issuer_auth(ident.address)
        if not auth["active"]:
            return (
                "ISSUER_NOT_ACTIVE",
                f"issuer account {ident.address} is not an active issuer on the registry",
            )
        if bytes(auth["party"]) != party_id(ident.party):
            return "ISSUER_PARTY_MISMATCH", f"issuer account {ident.address} does not belong to {ident.party}"
        if not int(auth["docTypes"]) >> tid & 1:
            return "DOCUMENT_TYPE_NOT_ALLOWED", f"issuer account {ident.address} may not anchor type {tid}"
        return None

    # ------------------------------------------------------------------ open batches

    def _advance_open(self, sender: TxSender) -> bool:
        progressed = False
        head: int | None = None
        for b in self.batches.open_batches():
            receipt = sender.receipt(b.tx_hash) if b.tx_hash else None
            if receipt is not None:
                if int(receipt["status"]) == 1:
                    head = sender.head() if head is None else head
                    if head - int(receipt["blockNumber"]) + 1 < self.confirmations:
                        continue
                    found = sender.find_anchoring(b.account, b.root)
                    if found is None or found.tx_hash.lower() != str(b.tx_hash).lower():
                        continue  # the receipt's block was just reorged away: look again next pass
                    self.crash.hit("before_receipt_record")
                    self._anchored(b, found)
                else:
                    self._after_revert(sender, b)
                progressed = True
                continue
            if b.state == "signed":
                self._send_signed(sender, b)
                progressed = True
            elif not sender.known(str(b.tx_hash)) or self._stuck(sender, b):
                self._resubmit(sender, b)
                progressed = True
        return progressed

    def _stuck(self, sender: TxSender, b: BatchRow) -> bool:
        """Known to the node but queued behind a nonce gap (the account's nonce went back): never mined."""
        return b.nonce is not None and b.nonce > sender.next_nonce(b.account)

    def _anchored(self, b: BatchRow, a: Anchoring, sender: TxSender | None = None) -> None:
        """Record the anchoring (with `sender`: only once it has the configured confirmations)."""
        if sender is not None and sender.head() - a.block_number + 1 < self.confirmations:
            return
        self.batches.mark_anchored(b.id, a.tx_hash, a.block_number, a.block_hash, a.block_time)
        self.backlog.sub(b.size)
        self.status.batches_anchored += 1

    def _send_signed(self, sender: TxSender, b: BatchRow) -> None:
        with self.locks(b.account):
            if b.nonce != sender.next_nonce(b.account) or not b.raw_tx:
                self._resubmit(sender, b)
                return
            result = sender.send(b.raw_tx)
            self.crash.hit("after_send")
            if result is SendResult.NONCE_TAKEN:
                self._resubmit(sender, b)
                return
            self.batches.mark_sent(b.id)

    def _resubmit(self, sender: TxSender, b: BatchRow, *, fresh: bool = False) -> None:
        found = sender.find_anchoring(b.account, b.root)
        if found is not None:
            if found.issuer.lower() == b.account.lower():
                self._anchored(b, found, sender)
                return
            self._fail(b, "ROOT_ANCHORED_BY_ANOTHER", f"root anchored by {found.issuer}")
            return
        ident = self._identity(b)
        if ident is None:
            self.batches.note_error(
                b.id, "ISSUER_NOT_CONFIGURED", f"no issuer account configured for {b.party}"
            )
            return
        if b.attempts >= MAX_ATTEMPTS:
            self._fail(b, "ANCHORING_FAILED", f"not anchored after {b.attempts} attempts")
            return
        with self.locks(b.account):
            nonce = sender.next_nonce(b.account)
            if b.nonce == nonce and b.raw_tx and not fresh:
                result = sender.send(b.raw_tx)  # the very same bytes: same hash, no double anchoring
                if result is not SendResult.NONCE_TAKEN:
                    self.batches.mark_sent(b.id)
                    self.status.resubmissions += 1
                    return
                nonce = sender.next_nonce(b.account)
            tx = sender.sign_anchor(ident.account, b.root, b.doc_type, b.size, nonce)
            self.batches.resign(b.id, tx)
            log.info("batch %d: resubmitting its root in transaction %s (nonce %d)", b.id, tx.hash, nonce)
            if sender.send(tx.raw) is not SendResult.NONCE_TAKEN:
                self.batches.mark_sent(b.id)
            self.status.resubmissions += 1

    def _after_revert(self, sender: TxSender, b: BatchRow) -> None:
        found = sender.find_anchoring(b.account, b.root)
        if found is not None and found.issuer.lower() == b.account.lower():
            self._anchored(b, found, sender)
            return
        ident = self._identity(b)
        refusal = self._authorization_problem(sender, ident, b.doc_type) if ident else None
        if refusal is not None:
            self._fail(b, *refusal)
        elif b.attempts >= MAX_ATTEMPTS:
            self._fail(b, "TRANSACTION_REVERTED", f"anchoring transaction {b.tx_hash} reverted")
        else:
            self.batches.note_error(
                b.id, "TRANSACTION_REVERTED", f"transaction {b.tx_hash} reverted; retrying"
            )
            self._resubmit(sender, b, fresh=True)

    def _fail(self, b: BatchRow, code: str, message: str) -> None:
        log.warning("batch %d failed: %s", b.id, message)
        self.batches.mark_failed(b.id, code, message)
        self.backlog.sub(b.size)

    def _identity(self, b: BatchRow) -> IssuerIdentity | None:
        ident = self.identities.issuers.get(b.party)
        return ident if ident is not None and ident.address.lower() == b.account.lower() else None

    # ------------------------------------------------------------------ reorgs

    def _watch_reorgs(self, sender: TxSender) -> None:
        latest = sender.latest()
        last = self._last_head
        if last == latest:
            return
        extended = False
        if last is not None and last[0] < latest[0]:
            extended = sender.block_hashes([last[0]]).get(last[0]) == last[1]
        since = (
            last[0] + 1 if extended and last is not None else latest[0] - self.settings.reorg_window_blocks
        )
        rows = self.batches.anchored_since(max(0, since))
        if rows:
            hashes = sender.block_hashes(sorted({int(r.block_number or 0) for r in rows}))
            for b in rows:
                if hashes.get(int(b.block_number or 0)) != b.block_hash:
                    self._reanchor(sender, b)
        self._last_head = latest

    def _reanchor(self, sender: TxSender, b: BatchRow) -> None:
        found = sender.find_anchoring(b.account, b.root)
        self.status.reorgs_seen += 1
        if found is not None and found.issuer.lower() == b.account.lower():
            log.info("batch %d: its block changed in a reorg; now in block %d", b.id, found.block_number)
            self.batches.mark_anchored(
                b.id, found.tx_hash, found.block_number, found.block_hash, found.block_time
            )
        else:
            log.warning(
                "batch %d: its anchoring block %s left the chain; anchoring it again", b.id, b.block_number
            )
            self.batches.mark_unanchored(b.id)
            self.backlog.add(b.size)
