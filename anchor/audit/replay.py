"""Folding the registries' events, in (block, log index) order, into a :class:`Snapshot`.

Each handler applies one event exactly as the contract changed its storage when it emitted it, so the
folded state equals the contract state at the same block. Whatever only the state at that moment can
tell (was the consumer recognizing the issuer? did an event contradict the state it follows?) is
recorded as an observation then, because a later state can no longer answer it.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import AuditError, ReorgDuringReplay
from .events import Event, EventDecoder
from .ids import hex32
from .logs import FetchStats, LogFetcher
from .snapshot import (
    ACTIVE,
    CA,
    REVOKED,
    AdminChange,
    Approval,
    Batch,
    Document,
    Issuer,
    IssuerAuth,
    MembershipEntry,
    Observation,
    Party,
    Proposal,
    RecognitionEntry,
    Snapshot,
    StatusEntry,
    ThresholdChange,
)
from .source import AuditSource

# Observation kinds (see findings.py for what each means to an auditor).
OBS_INCONSISTENT = "event-inconsistency"
OBS_CONSUMED_UNRECOGNIZED = "consumed-without-recognition"


class Fold:
    """Applies events to a snapshot; unknown events are counted and otherwise ignored."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.s = snapshot
        self._handlers: dict[str, Callable[[Event], None]] = {
            "PartyAdded": self._party_added,
            "PartyRemoved": self._party_removed,
            "AdminAdded": self._admin_added,
            "AdminRemoved": self._admin_removed,
            "ThresholdChanged": self._threshold_changed,
            "ProposalCreated": self._proposal_created,
            "ProposalApproved": self._proposal_approved,
            "ProposalExecuted": self._proposal_executed,
            "CARegistered": self._ca_registered,
            "CAStatusChanged": self._ca_status_changed,
            "IssuerAuthorized": self._issuer_authorized,
            "IssuerStatusChanged": self._issuer_status_changed,
            "RecognitionChanged": self._recognition_changed,
            "Anchored": self._anchored,
            "BatchRevocationRecorded": self._batch_revoked,
            "DocumentRevoked": self._document_revoked,
            "DocumentSuperseded": self._document_superseded,
            "DocumentConsumed": self._document_consumed,
            "IssuerSynced": self._issuer_synced,
        }

    def apply(self, ev: Event) -> None:
        s = self.s
        s.events += 1
        s.event_counts[ev.name] = s.event_counts.get(ev.name, 0) + 1
        handler = self._handlers.get(ev.name)
        if handler is not None:
            handler(ev)

    def apply_all(self, events: Iterable[Event]) -> None:
        for ev in events:
            self.apply(ev)

    # ------------------------------------------------------------------ helpers

    def _note(self, ev: Event, kind: str, **details: object) -> None:
        self.s.observations.append(Observation(kind, ev.block, ev.log_index, ev.time, ev.tx, dict(details)))

    def _inconsistent(self, ev: Event, message: str) -> None:
        self._note(ev, OBS_INCONSISTENT, event=ev.name, message=message)

    def _party(self, pid: str) -> Party:
        p = self.s.parties.get(pid)
        if p is None:
            p = self.s.parties[pid] = Party(pid)
        return p

    def _doc(self, root: bytes, leaf: bytes) -> Document:
        d = self.s.documents.get((root, leaf))
        if d is None:
            d = self.s.documents[(root, leaf)] = Document(root, leaf)
        return d

    # ------------------------------------------------------------------ governance

    def _party_added(self, ev: Event) -> None:
        pid, _admin, proposal = ev.args
        p = self.s.parties.get(pid)
        if p is None or not p.membership:
            # _admit pushes to _parties only on a party's first admission.
            self.s.party_order.append(pid)
        p = self._party(pid)
        if p.member:
            self._inconsistent(ev, f"party {pid} added while already a member")
        p.membership.append(MembershipEntry(True, ev.time, ev.block, proposal))
        self.s.member_count += 1

    def _party_removed(self, ev: Event) -> None:
        pid, proposal = ev.args
        p = self._party(pid)
        if not p.member:
            self._inconsistent(ev, f"party {pid} removed while not a member")
        p.membership.append(MembershipEntry(False, ev.time, ev.block, proposal))
        self.s.member_count -= 1

    def _admin_added(self, ev: Event) -> None:
        pid, admin = ev.args
        p = self._party(pid)
        p.admins.append(admin)
        p.admin_changes.append(AdminChange(True, ev.time, ev.block, admin))
        self.s.admin_party[admin] = pid

    def _admin_removed(self, ev: Event) -> None:
        pid, admin = ev.args
        admins = self._party(pid).admins
        # removeAdmin swaps the last entry into the removed one's place: keep the same order.
        if admin in admins:
            i = admins.index(admin)
            admins[i] = admins[-1]
            admins.pop()
        else:
            self._inconsistent(ev, f"admin {admin} removed from {pid} but never added")
        self._party(pid).admin_changes.append(AdminChange(False, ev.time, ev.block, admin))
        # adminParty(account) reads zero again: keep the account, with no party, so it is still checked.
        self.s.admin_party[admin] = ""

    def _threshold_changed(self, ev: Event) -> None:
        old, new, proposal = ev.args
        if old != self.s.threshold:
            self._inconsistent(ev, f"threshold said to change from {old}, replay had {self.s.threshold}")
        self.s.threshold = new
        self.s.threshold_history.append(ThresholdChange(old, new, proposal, ev.time, ev.block))

    def _proposal_created(self, ev: Event) -> None:
        pid, kind, proposer, party, account, threshold, expires_at = ev.args
        if pid in self.s.proposals:
            self._inconsistent(ev, f"proposal {pid} created twice")
        self.s.proposals[pid] = Proposal(
            pid, kind, party, account, threshold, proposer, ev.time, expires_at, ev.block, ev.tx
        )

    def _proposal_approved(self, ev: Event) -> None:
        pid, party = ev.args
        q = self.s.proposals.get(pid)
        if q is None:
            self._inconsistent(ev, f"approval of unknown proposal {pid}")
            return
        q.approvals.append(Approval(party, ev.time, ev.block))

    def _proposal_executed(self, ev: Event) -> None:
        pid, approvals = ev.args
        q = self.s.proposals.get(pid)
        if q is None:
            self._inconsistent(ev, f"execution of unknown proposal {pid}")
            return
        counted = [a.party for a in q.approvals if self.s.is_member(a.party)]
        if len(counted) != approvals:
            self._inconsistent(
                ev, f"proposal {pid} executed with {approvals} approvals, replay counts {len(counted)}"
            )
        if approvals < self.s.threshold:
            self._inconsistent(
                ev, f"proposal {pid} executed with {approvals} approvals below threshold {self.s.threshold}"
            )
        q.executed = True
        q.executed_at = ev.time
        q.executed_block = ev.block
        q.executed_approvals = approvals
        q.counted = counted
        q.threshold_at_execution = self.s.threshold

    # ------------------------------------------------------------------ CAs and issuers

    def _ca_registered(self, ev: Event) -> None:
        fp, pid, not_before, not_after, doc_types, effective = ev.args
        if fp in self.s.cas:
            self._inconsistent(ev, f"CA {hex32(fp)} registered twice")
        c = CA(fp, pid, not_before, not_after, doc_types, ACTIVE, effective, 0, ev.block)
        c.history.append(StatusEntry(ACTIVE, effective, ev.time, 0, ev.block, ev.tx))
        self.s.cas[fp] = c
        self._party(pid).cas.append(fp)

    def _ca_status_changed(self, ev: Event) -> None:
        fp, _pid, status, effective, reason = ev.args
        c = self.s.cas.get(fp)
        if c is None:
            self._inconsistent(ev, f"status change of unknown CA {hex32(fp)}")
            return
        if c.status == REVOKED:
            self._inconsistent(ev, f"CA {hex32(fp)} changed after its revocation")
        c.history.append(StatusEntry(status, effective, ev.time, reason, ev.block, ev.tx))
        c.status = status
        if status == REVOKED:
            c.revoked_at = effective

    def _issuer_authorized(self, ev: Event) -> None:
        account, pid, ca, doc_types, effective = ev.args
        if account in self.s.issuers:
            self._inconsistent(ev, f"issuer {account} authorized twice")
        i = Issuer(account, pid, ca, doc_types, ACTIVE, effective, 0, ev.block)
        i.history.append(StatusEntry(ACTIVE, effective, ev.time, 0, ev.block, ev.tx))
        self.s.issuers[account] = i
        self._party(pid).issuers.append(account)

    def _issuer_status_changed(self, ev: Event) -> None:
        account, _pid, status, effective, reason = ev.args
        i = self.s.issuers.get(account)
        if i is None:
            self._inconsistent(ev, f"status change of unknown issuer {account}")
            return
        i.history.append(StatusEntry(status, effective, ev.time, reason, ev.block, ev.tx))
        i.status = status
        if status == REVOKED:
            i.revoked_at = effective

    def _issuer_synced(self, ev: Event) -> None:
        account, pid, doc_types, active = ev.args
        self.s.issuer_auth[account] = IssuerAuth(pid, doc_types, active, ev.block)

    def _recognition_changed(self, ev: Event) -> None:
        recognizer, recognized, old, new, effective = ev.args
        history = self.s.recognition.setdefault((recognizer, recognized), [])
        current = history[-1].doc_types if history else 0
        if old != current:
            self._inconsistent(
                ev, f"{recognizer}->{recognized} recognition said to change from {old}, replay had {current}"
            )
        history.append(RecognitionEntry(new, old, effective, ev.time, ev.block))

    # ------------------------------------------------------------------ documents

    def _anchored(self, ev: Event) -> None:
        root, issuer, doc_type, size = ev.args
        auth = self.s.issuer_auth.get(issuer)
        if auth is None or not auth.active or not (auth.doc_types >> doc_type) & 1:
            self._inconsistent(
                ev, f"batch {hex32(root)} anchored by {issuer}, not an active issuer for type {doc_type}"
            )
        if root in self.s.batches:
            self._inconsistent(ev, f"batch {hex32(root)} anchored twice")
        party = auth.party if auth is not None else ""
        self.s.batches[root] = Batch(root, issuer, party, doc_type, size, ev.time, ev.block)

    def _batch_revoked(self, ev: Event) -> None:
        root, _party, reason = ev.args
        b = self.s.batches.get(root)
        if b is None:
            self._inconsistent(ev, f"revocation of unknown batch {hex32(root)}")
            return
        b.revoked_at = ev.time
        b.revoke_reason = reason
        b.revoked_block = ev.block

    def _document_revoked(self, ev: Event) -> None:
        root, leaf, _party, reason = ev.args
        d = self._doc(root, leaf)
        d.revoked_at = ev.time
        d.revoke_reason = reason
        d.revoked_block = ev.block

    def _document_superseded(self, ev: Event) -> None:
        root, leaf, _party, successor_root, successor_leaf = ev.args
        d = self._doc(root, leaf)
        d.superseded_at = ev.time
        d.successor_root = successor_root
        d.successor_leaf = successor_leaf
        d.superseded_block = ev.block

    def _document_consumed(self, ev: Event) -> None:
        root, leaf, consumer, account = ev.args
        s = self.s
        b = s.batches.get(root)
        # consume() checks all of this at that moment; seeing it fail here would mean the contract
        # (or the log stream) let through what it must refuse.
        problems = []
        if b is None:
            problems.append("unknown batch")
        else:
            if not s.recognizes_issuer_at(consumer, b.issuer, b.doc_type, ev.time):
                problems.append("consumer did not recognize the issuer for this document type")
            if not s.usable(root, leaf):
                problems.append("document was not usable (revoked, superseded or already consumed)")
            if not s.anchoring_valid_at(b.issuer, b.anchored_at):
                problems.append("its batch was anchored while the issuer or its CA was not active")
        if not s.is_member(consumer):
            problems.append("consumer was not a member party")
        if problems:
            self._note(
                ev,
                OBS_CONSUMED_UNRECOGNIZED,
                root=hex32(root),
                leaf=hex32(leaf),
                consumer=consumer,
                account=account,
                issuer=b.issuer if b else "",
                docType=b.doc_type if b else -1,
                problems=problems,
            )
        d = self._doc(root, leaf)
        d.consumed_at = ev.time
        d.consumed_by = consumer
        d.consumer_account = account
        d.consumed_block = ev.block


# ---------------------------------------------------------------------- driving a replay


@dataclass
class ReplayStats:
    events: int = 0
    seconds: float = 0.0
    from_block: int = 0
    to_block: int = 0
    fetch: FetchStats | None = None

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def empty_snapshot(source: AuditSource) -> Snapshot:
    m = source.manifest
    return Snapshot(m.chain_id, source.trust_address, source.document_address, m.deploy_block)


def replay(
    source: AuditSource,
    to_block: int,
    *,
    start: Snapshot | None = None,
    fetcher: LogFetcher | None = None,
    stats: ReplayStats | None = None,
) -> Snapshot:
    """Fold every registry event up to `to_block` into `start` (mutated) or a fresh snapshot.

    Raises ReorgDuringReplay if a block read during the replay is no longer on the chain at the end.
    """
    s = start if start is not None else empty_snapshot(source)
    first = s.block + 1 if s.block >= 0 else source.deploy_block
    if to_block < first - 1:
        raise AuditError(f"cannot replay backwards: the snapshot is at block {s.block}, asked for {to_block}")
    target = source.require_header(to_block)
    t0 = _time.perf_counter()
    before = s.events
    fold = Fold(s)
    decoder = EventDecoder(source)
    fetcher = fetcher or LogFetcher(source)
    # One remembered (block, hash) per chunk: enough to notice the chain changing under the replay.
    marks: dict[int, str] = {}
    decode = decoder.decode
    apply = fold.apply
    for chunk in fetcher.chunks(first, to_block):
        times = chunk.times
        for lg in chunk.logs:
            ev = decode(lg, times[int(lg["blockNumber"], 16)])
            if ev is not None:
                apply(ev)
        if chunk.hashes:
            last = max(chunk.hashes)
            marks[last] = chunk.hashes[last]
    marks[to_block] = target.hash
    now = source.headers(sorted(marks))
    for n, h in marks.items():
        hdr = now.get(n)
        if hdr is None or hdr.hash != h:
            raise ReorgDuringReplay(n, h, hdr.hash if hdr else None)
    s.block, s.block_hash, s.block_time = to_block, target.hash, target.time
    if stats is not None:
        stats.events += s.events - before
        stats.seconds += _time.perf_counter() - t0
        stats.from_block = first
        stats.to_block = to_block
        stats.fetch = fetcher.stats
    return s


__all__ = ["OBS_CONSUMED_UNRECOGNIZED", "OBS_INCONSISTENT", "Fold", "ReplayStats", "empty_snapshot", "replay"]
