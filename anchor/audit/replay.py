"""Folding the registries' events, in (block, log index) order, into a :class:`Snapshot`.

Each handler applies one event exactly as the contract changed its storage when it emitted it, so the
folded state equals the contract state at the same block. Whatever only the state at that moment can
tell (was the consumer recognizing the issuer? did an event contradict the state it follows?) is
recorded as an observation then, because a later state can no longer answer it.
"""

from __future__ import annotations

import hashlib
import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from .errors import AuditError, ReorgDuringReplay
from .events import Event, EventDecoder
from .ids import hex32, party_raw
from .logs import FetchStats, LogFetcher
from .snapshot import (
    ACTIVE,
    CA,
    REVOKED,
    AccountChange,
    AdminApproval,
    AdminProposal,
    Approval,
    Batch,
    Document,
    Endorsement,
    Issuer,
    IssuerAuth,
    MembershipEntry,
    Observation,
    OneTimeChange,
    Party,
    Proposal,
    RecognitionEntry,
    Snapshot,
    StatusEntry,
    ThresholdChange,
    Usage,
)
from .source import AuditSource

# Observation kinds (see findings.py for what each means to an auditor).
OBS_INCONSISTENT = "event-inconsistency"
OBS_CONSUMED_UNRECOGNIZED = "consumed-without-recognition"
_PLURAL = {"admin": "admins", "consumer": "consumers", "witness": "witnesses"}


def ca_id(party: str, certificate_hash: bytes) -> bytes:
    """``caId``: keccak256(abi.encode(bytes8 party, bytes32 certificateHash))."""
    return keccak(party_raw(party).ljust(32, b"\x00") + bytes(certificate_hash))


class Fold:
    """Applies events to a snapshot; unknown events are counted and otherwise ignored."""

    def __init__(self, snapshot: Snapshot, touched: set[tuple[str, object]] | None = None) -> None:
        self.s = snapshot
        # When given, collects the (section, key) of every batch, document and use an event changed:
        # what a checkpoint's map must update (see anchor.checkpoint).
        self.touched = touched
        # The document a DocumentEndorsed of this transaction used up just before its DocumentConsumed:
        # consume() checked the use once, so it is judged once.
        self._endorsed_in: tuple[str, tuple[str, bytes, bytes]] | None = None
        # The last PartyRemoved and its party: the recognitions its removal ends follow it in the same
        # transaction, and once that transaction is over none to or from it may be left. With it, the
        # last event of that transaction so far (where a left-over recognition is noted, in log order).
        self._removed_in: tuple[Event, str] | None = None
        self._removal_last: Event | None = None
        self._handlers: dict[str, Callable[[Event], None]] = {
            "PartyAdded": self._party_added,
            "PartyRemoved": self._party_removed,
            "AdminAdded": self._admin_added,
            "AdminRemoved": self._admin_removed,
            "ThresholdChanged": self._threshold_changed,
            "ProposalCreated": self._proposal_created,
            "ProposalApproved": self._proposal_approved,
            "ProposalExecuted": self._proposal_executed,
            "AdminChangeProposed": self._admin_change_proposed,
            "AdminChangeApproved": self._admin_change_approved,
            "AdminChangeCancelled": self._admin_change_cancelled,
            "AdminChangeExecuted": self._admin_change_executed,
            "ConsumerGranted": self._consumer_granted,
            "ConsumerRevoked": self._consumer_revoked,
            "WitnessGranted": self._witness_granted,
            "WitnessRevoked": self._witness_revoked,
            "OneTimeTypesChanged": self._one_time_types_changed,
            "CARegistered": self._ca_registered,
            "CACertificatePublished": self._ca_certificate_published,
            "CAStatusChanged": self._ca_status_changed,
            "IssuerAuthorized": self._issuer_authorized,
            "IssuerStatusChanged": self._issuer_status_changed,
            "RecognitionChanged": self._recognition_changed,
            "Anchored": self._anchored,
            "BatchRevocationRecorded": self._batch_revoked,
            "DocumentRevoked": self._document_revoked,
            "DocumentSuperseded": self._document_superseded,
            "DocumentEndorsed": self._document_endorsed,
            "DocumentConsumed": self._document_consumed,
            "IssuerSynced": self._issuer_synced,
        }

    def apply(self, ev: Event) -> None:
        s = self.s
        if self._removed_in is not None:
            if ev.tx != self._removed_in[0].tx:
                self.finish()
            else:
                self._removal_last = ev
        s.events += 1
        s.event_counts[ev.name] = s.event_counts.get(ev.name, 0) + 1
        handler = self._handlers.get(ev.name)
        if handler is not None:
            handler(ev)

    def apply_all(self, events: Iterable[Event]) -> None:
        for ev in events:
            self.apply(ev)
        self.finish()

    def finish(self) -> None:
        """Checks that wait for the end of a transaction: a removal must have ended its recognitions."""
        if self._removed_in is None:
            return
        removal, pid = self._removed_in
        last = self._removal_last or removal
        self._removed_in = self._removal_last = None
        left = [
            f"{r}->{i}"
            for (r, i), h in self.s.recognition.items()
            if pid in (r, i) and h and h[-1].doc_types != 0
        ]
        if left:
            # Noted at the transaction's last event (observations stay in log order), about the removal.
            message = (
                f"the removal of {pid} left recognitions it should have ended: {', '.join(sorted(left))}"
            )
            self.s.observations.append(
                Observation(
                    OBS_INCONSISTENT,
                    last.block,
                    last.log_index,
                    last.time,
                    last.tx,
                    {"event": removal.name, "message": message},
                )
            )

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

    def _doc(self, issuer: str, root: bytes, leaf: bytes) -> Document:
        if self.touched is not None:
            self.touched.add(("documents", (issuer, root, leaf)))
        d = self.s.documents.get((issuer, root, leaf))
        if d is None:
            d = self.s.documents[(issuer, root, leaf)] = Document(issuer, root, leaf)
        return d

    def _usage(self, leaf: bytes) -> Usage:
        if self.touched is not None:
            self.touched.add(("usage", leaf))
        u = self.s.usage.get(leaf)
        if u is None:
            u = self.s.usage[leaf] = Usage(leaf)
        return u

    def _batch(self, ev: Event, issuer: str, root: bytes) -> Batch | None:
        if self.touched is not None:
            self.touched.add(("batches", (issuer, root)))
        b = self.s.batches.get((issuer, root))
        if b is None:
            self._inconsistent(
                ev, f"{ev.name} names batch {hex32(root)} of {issuer}, which was never anchored"
            )
        return b

    @staticmethod
    def _drop(accounts: list[str], account: str) -> bool:
        """``_removeFrom``: the last entry takes the removed one's place (the on-chain order)."""
        if account not in accounts:
            return False
        i = accounts.index(account)
        accounts[i] = accounts[-1]
        accounts.pop()
        return True

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
        if self._removed_in is not None:
            self.finish()  # another removal in the same transaction (none on chain): the first one's check
        p = self._party(pid)
        if not p.member:
            self._inconsistent(ev, f"party {pid} removed while not a member")
        p.membership.append(MembershipEntry(False, ev.time, ev.block, proposal))
        self.s.member_count -= 1
        self._removed_in = (ev, pid)
        self._removal_last = ev

    def _admin_added(self, ev: Event) -> None:
        self._account_added(ev, "admin")

    def _admin_removed(self, ev: Event) -> None:
        self._account_removed(ev, "admin")

    def _consumer_granted(self, ev: Event) -> None:
        self._account_added(ev, "consumer")

    def _consumer_revoked(self, ev: Event) -> None:
        self._account_removed(ev, "consumer")

    def _witness_granted(self, ev: Event) -> None:
        self._account_added(ev, "witness")

    def _witness_revoked(self, ev: Event) -> None:
        self._account_removed(ev, "witness")

    # Admins, consumers and witnesses are kept alike: a list per party, its history, and account -> party.
    def _account_added(self, ev: Event, role: str) -> None:
        pid, account = ev.args
        p = self._party(pid)
        if self.s.role_of(account)[0]:
            self._inconsistent(ev, f"{role} {account} added to {pid} while it holds another role")
        getattr(p, _PLURAL[role]).append(account)
        getattr(p, f"{role}_changes").append(AccountChange(True, ev.time, ev.block, account))
        getattr(self.s, f"{role}_party")[account] = pid

    def _account_removed(self, ev: Event, role: str) -> None:
        pid, account = ev.args
        p = self._party(pid)
        if not self._drop(getattr(p, _PLURAL[role]), account):
            self._inconsistent(ev, f"{role} {account} removed from {pid} but never added")
        getattr(p, f"{role}_changes").append(AccountChange(False, ev.time, ev.block, account))
        # adminParty/consumerParty(account) reads zero again: keep the account, with no party, so it is
        # still checked.
        getattr(self.s, f"{role}_party")[account] = ""

    def _threshold_changed(self, ev: Event) -> None:
        old, new, proposal = ev.args
        if old != self.s.threshold:
            self._inconsistent(ev, f"threshold said to change from {old}, replay had {self.s.threshold}")
        self.s.threshold = new
        self.s.threshold_history.append(ThresholdChange(old, new, proposal, ev.time, ev.block))

    def _one_time_types_changed(self, ev: Event) -> None:
        old, new, proposal = ev.args
        if old != self.s.one_time_types:
            self._inconsistent(
                ev, f"one-time types said to change from {old}, replay had {self.s.one_time_types}"
            )
        self.s.one_time_types = new
        self.s.one_time_history.append(OneTimeChange(old, new, proposal, ev.time, ev.block))

    def _proposal_created(self, ev: Event) -> None:
        pid, kind, proposer, party, account, threshold, doc_types, expires_at = ev.args
        if pid in self.s.proposals:
            self._inconsistent(ev, f"proposal {pid} created twice")
        self.s.proposals[pid] = Proposal(
            pid, kind, party, account, threshold, proposer, ev.time, expires_at, ev.block, ev.tx,
            doc_types=doc_types,
        )  # fmt: skip

    def _proposal_approved(self, ev: Event) -> None:
        pid, party = ev.args
        q = self.s.proposals.get(pid)
        if q is None:
            self._inconsistent(ev, f"approval of unknown proposal {pid}")
            return
        epoch = self.s.epoch(party)
        if not self.s.is_member(party):
            self._inconsistent(ev, f"proposal {pid} approved by {party}, not a member")
        elif any(a.party == party and a.epoch == epoch for a in q.approvals):
            self._inconsistent(ev, f"proposal {pid} approved twice by {party} in one membership")
        q.approvals.append(Approval(party, ev.time, ev.block, epoch))

    def _proposal_executed(self, ev: Event) -> None:
        pid, approvals = ev.args
        q = self.s.proposals.get(pid)
        if q is None:
            self._inconsistent(ev, f"execution of unknown proposal {pid}")
            return
        counted = self.s.counted_approvals(q)
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

    # ------------------------------------------------------------------ a party's own admins

    def _admin_change_proposed(self, ev: Event) -> None:
        cid, party, account, add, proposer, ready_at, expires_at = ev.args
        if cid in self.s.admin_proposals:
            self._inconsistent(ev, f"admin change {cid} proposed twice")
        if self.s.admin_party.get(proposer) != party:
            self._inconsistent(ev, f"admin change {cid} proposed by {proposer}, not an admin of {party}")
        self.s.admin_proposals[cid] = AdminProposal(
            cid, party, account, add, proposer, ev.time, ready_at, expires_at, ev.block, ev.tx
        )

    def _admin_change(self, ev: Event, cid: int) -> AdminProposal | None:
        c = self.s.admin_proposals.get(cid)
        if c is None:
            self._inconsistent(ev, f"{ev.name} of unknown admin change {cid}")
        return c

    def _require_open(self, ev: Event, c: AdminProposal, action: str) -> None:
        """``_openAdminChange``: not executed, cancelled or expired, and proposed in the party's current
        membership (a removal closes every change proposed before it)."""
        s = self.s
        if c.executed or c.cancelled or ev.time > c.expires_at:
            self._inconsistent(ev, f"admin change {c.id} {action} after it was closed or expired")
        elif s.admin_change_closed_by_removal(c, ev.time):
            self._inconsistent(
                ev,
                f"admin change {c.id} {action}, but it was proposed before {c.party}'s current membership "
                "(closed by its removal)",
            )

    def _admin_change_approved(self, ev: Event) -> None:
        cid, admin = ev.args
        c = self._admin_change(ev, cid)
        if c is None:
            return
        if any(a.admin == admin for a in c.approvals):
            self._inconsistent(ev, f"admin change {cid} approved twice by {admin}")
        self._require_open(ev, c, "approved")
        c.approvals.append(AdminApproval(admin, ev.time, ev.block))

    def _admin_change_cancelled(self, ev: Event) -> None:
        cid, admin = ev.args
        c = self._admin_change(ev, cid)
        if c is None:
            return
        self._require_open(ev, c, "cancelled")
        c.cancelled = True
        c.cancelled_by = admin
        c.cancelled_at = ev.time
        c.cancelled_block = ev.block

    def _admin_change_executed(self, ev: Event) -> None:
        cid, approvals = ev.args
        c = self._admin_change(ev, cid)
        if c is None:
            return
        s = self.s
        # AdminAdded / AdminRemoved came first: count as the contract did, before that change.
        admins = len(s.parties[c.party].admins) if c.party in s.parties else 0
        counted = s.admin_approvals(c)
        if c.add:
            admins -= 1
        else:
            admins += 1
            counted += any(a.admin == c.account for a in c.approvals)
        needed = admins // 2 + 1
        if counted != approvals:
            self._inconsistent(
                ev, f"admin change {cid} executed with {approvals} approvals, replay counts {counted}"
            )
        self._require_open(ev, c, "executed")
        if approvals < needed and ev.time < c.ready_at:
            self._inconsistent(
                ev, f"admin change {cid} executed with {approvals} of {needed} approvals before its delay"
            )
        c.executed = True
        c.executed_at = ev.time
        c.executed_block = ev.block
        c.executed_approvals = approvals
        c.needed = needed

    # ------------------------------------------------------------------ CAs and issuers

    def _ca_registered(self, ev: Event) -> None:
        fp, pid, not_before, not_after, doc_types, effective = ev.args
        if fp in self.s.cas:
            self._inconsistent(ev, f"CA {hex32(fp)} registered twice")
        c = CA(fp, pid, not_before, not_after, doc_types, ACTIVE, effective, 0, ev.block, tx=ev.tx)
        c.history.append(StatusEntry(ACTIVE, effective, ev.time, 0, ev.block, ev.tx))
        self.s.cas[fp] = c
        self._party(pid).cas.append(fp)

    def _ca_certificate_published(self, ev: Event) -> None:
        fp, pid, certificate_hash, certificate, proof = ev.args
        c = self.s.cas.get(fp)
        if c is None or c.party != pid:
            self._inconsistent(ev, f"certificate published for CA {hex32(fp)}, not registered by {pid}")
            return
        if c.certificate_hash:
            self._inconsistent(ev, f"certificate of CA {hex32(fp)} published twice")
        if hashlib.sha256(certificate).digest() != certificate_hash:
            self._inconsistent(
                ev, f"certificate of CA {hex32(fp)} does not hash to {hex32(certificate_hash)}"
            )
        if ca_id(pid, certificate_hash) != fp:
            self._inconsistent(ev, f"CA id {hex32(fp)} is not caId({pid}, {hex32(certificate_hash)})")
        c.certificate_hash = certificate_hash
        c.certificate = certificate
        c.proof = proof

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
        if i.status == REVOKED:
            self._inconsistent(ev, f"issuer {account} changed after its revocation")
        i.history.append(StatusEntry(status, effective, ev.time, reason, ev.block, ev.tx))
        i.status = status
        if status == REVOKED:
            i.revoked_at = effective

    def _issuer_synced(self, ev: Event) -> None:
        account, pid, doc_types, active = ev.args
        self.s.issuer_auth[account] = IssuerAuth(pid, doc_types, active, ev.block)

    def _recognition_changed(self, ev: Event) -> None:
        recognizer, recognized, old, new, effective = ev.args
        s = self.s
        history = s.recognition.setdefault((recognizer, recognized), [])
        current = history[-1].doc_types if history else 0
        if old != current:
            self._inconsistent(
                ev, f"{recognizer}->{recognized} recognition said to change from {old}, replay had {current}"
            )
        ended_by = ""
        if self._removed_in is not None and self._removed_in[0].tx == ev.tx:
            removed = self._removed_in[1]
            if removed in (recognizer, recognized):
                # _expel's own ending: to 0, effective at once, of a recognition that was not 0.
                ended_by = removed
                if new != 0 or effective != ev.time or old == 0:
                    self._inconsistent(
                        ev,
                        f"{recognizer}->{recognized} recognition ended by the removal of {removed} "
                        f"from {old} to {new} effective {effective}, not to 0 at once",
                    )
        if not ended_by:
            # _setRecognition: both parties members, effective no later than now and not before either
            # party's admission nor before the last change.
            if not (s.is_member(recognizer) and s.is_member(recognized)):
                self._inconsistent(
                    ev, f"{recognizer}->{recognized} recognition changed while one of them was not a member"
                )
            else:
                admitted = max(s.member_since(recognizer, ev.time), s.member_since(recognized, ev.time))
                if effective < admitted:
                    self._inconsistent(
                        ev,
                        f"{recognizer}->{recognized} recognition effective {effective}, before the admission "
                        f"at {admitted}",
                    )
            if effective > ev.time or (history and effective < history[-1].effective_at):
                self._inconsistent(
                    ev, f"{recognizer}->{recognized} recognition effective {effective} out of order"
                )
        history.append(RecognitionEntry(new, old, effective, ev.time, ev.block, ended_by))

    # ------------------------------------------------------------------ documents

    def _anchored(self, ev: Event) -> None:
        root, issuer, doc_type, size = ev.args
        auth = self.s.issuer_auth.get(issuer)
        if auth is None or not auth.active or not (auth.doc_types >> doc_type) & 1:
            self._inconsistent(
                ev, f"batch {hex32(root)} anchored by {issuer}, not an active issuer for type {doc_type}"
            )
        if (issuer, root) in self.s.batches:
            self._inconsistent(ev, f"batch {hex32(root)} anchored twice by {issuer}")
        party = auth.party if auth is not None else ""
        if self.touched is not None:
            self.touched.add(("batches", (issuer, root)))
        # Positional: the hottest constructor of a replay (one per anchored root).
        self.s.batches[(issuer, root)] = Batch(
            root, issuer, party, doc_type, size, ev.time, ev.block, 0, 0, 0, "", ev.log_index
        )

    def _batch_revoked(self, ev: Event) -> None:
        root, issuer, _party, reason, account = ev.args
        b = self._batch(ev, issuer, root)
        if b is None:
            return
        if b.revoked_at:
            self._inconsistent(ev, f"batch {hex32(root)} of {issuer} revoked twice")
        b.revoked_at = ev.time
        b.revoke_reason = reason
        b.revoked_block = ev.block
        b.revoked_by = account

    def _document_revoked(self, ev: Event) -> None:
        root, leaf, _party, issuer, reason, account = ev.args
        self._batch(ev, issuer, root)
        d = self._doc(issuer, root, leaf)
        d.revoked_at = ev.time
        d.revoke_reason = reason
        d.revoked_block = ev.block
        d.revoked_by = account

    def _document_superseded(self, ev: Event) -> None:
        root, leaf, _party, issuer, successor_issuer, successor_root, successor_leaf, account = ev.args
        self._batch(ev, issuer, root)
        self._batch(ev, successor_issuer, successor_root)
        d = self._doc(issuer, root, leaf)
        d.superseded_at = ev.time
        d.successor_issuer = successor_issuer
        d.successor_root = successor_root
        d.successor_leaf = successor_leaf
        d.superseded_block = ev.block
        d.superseded_by = account

    def _judge_use(
        self, ev: Event, action: str, issuer: str, root: bytes, leaf: bytes, consumer: str, account: str
    ) -> None:
        """consume() and endorse() check all of this at that moment; seeing it fail here would mean the
        contract (or the log stream) let through what it must refuse."""
        s = self.s
        b = s.batches.get((issuer, root))
        problems = []
        if b is None:
            problems.append("unknown batch")
        else:
            if not s.recognizes_issuer_at(consumer, b.issuer, b.doc_type, ev.time):
                problems.append("consumer did not recognize the issuer for this document type")
            if not s.usable(issuer, root, leaf):
                problems.append(
                    "document was not usable (revoked, superseded, or already consumed through any batch)"
                )
            if not s.anchoring_valid_at(b.issuer, b.anchored_at):
                problems.append("its batch was anchored while the issuer or its CA was not active")
            if not (s.one_time_types >> b.doc_type) & 1:
                problems.append("its document type was not a one-time type")
        if not s.is_member(consumer):
            problems.append("consumer was not a member party")
        if s.consumer_party.get(account) != consumer:
            problems.append(f"account {account} was not a consumer account of {consumer}")
        if problems:
            self._note(
                ev,
                OBS_CONSUMED_UNRECOGNIZED,
                action=action,
                root=hex32(root),
                leaf=hex32(leaf),
                issuer=issuer,
                consumer=consumer,
                account=account,
                docType=b.doc_type if b else -1,
                problems=problems,
            )

    def _document_endorsed(self, ev: Event) -> None:
        root, leaf, consumer, issuer, account, amount, endorsed, quantity = ev.args
        self._judge_use(ev, "endorsed", issuer, root, leaf, consumer, account)
        # The endorsed amount is the leaf's, whichever batch named it before.
        u = self._usage(leaf)
        if endorsed != u.endorsed + amount or endorsed > quantity or amount == 0:
            self._inconsistent(
                ev,
                f"endorsement of {amount} brings {u.endorsed} to {endorsed} of {quantity}: it does not add up",
            )
        if u.quantity and u.quantity != quantity:
            self._inconsistent(ev, f"document quantity said to be {quantity}, earlier {u.quantity}")
        u.endorsed = endorsed
        u.quantity = quantity
        u.endorsements.append(
            Endorsement(consumer, account, amount, endorsed, quantity, ev.time, ev.block, ev.tx, issuer, root)
        )
        self._endorsed_in = (ev.tx, (issuer, root, leaf))

    def _document_consumed(self, ev: Event) -> None:
        root, leaf, consumer, issuer, account = ev.args
        if self._endorsed_in != (ev.tx, (issuer, root, leaf)):
            self._judge_use(ev, "consumed", issuer, root, leaf, consumer, account)
        self._endorsed_in = None
        u = self._usage(leaf)
        if u.quantity and u.endorsed != u.quantity:
            self._inconsistent(
                ev, f"document used up with {u.endorsed} of its quantity {u.quantity} endorsed"
            )
        u.consumed_at = ev.time
        u.consumed_by = consumer
        u.consumer_account = account
        u.consumed_block = ev.block
        u.consumed_issuer = issuer
        u.consumed_root = root


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
    on_log: Callable[[dict[str, Any], int], None] | None = None,
    touched: set[tuple[str, object]] | None = None,
) -> Snapshot:
    """Fold every registry event up to `to_block` into `start` (mutated) or a fresh snapshot.

    `on_log(log, block_time)` sees every registry log in order, raw (a checkpoint's event log hashes
    them); `touched` collects the batches, documents and uses that changed (see :class:`Fold`).

    Raises ReorgDuringReplay if a block read during the replay is no longer on the chain at the end.
    """
    s = start if start is not None else empty_snapshot(source)
    first = s.block + 1 if s.block >= 0 else source.deploy_block
    if to_block < first - 1:
        raise AuditError(f"cannot replay backwards: the snapshot is at block {s.block}, asked for {to_block}")
    target = source.require_header(to_block)
    t0 = _time.perf_counter()
    before = s.events
    fold = Fold(s, touched)
    decoder = EventDecoder(source)
    fetcher = fetcher or LogFetcher(source)
    # One remembered (block, hash) per chunk: enough to notice the chain changing under the replay.
    marks: dict[int, str] = {}
    decode = decoder.decode
    apply = fold.apply
    for chunk in fetcher.chunks(first, to_block):
        times = chunk.times
        for lg in chunk.logs:
            time = times[int(lg["blockNumber"], 16)]
            if on_log is not None:
                on_log(lg, time)
            ev = decode(lg, time)
            if ev is not None:
                apply(ev)
        if chunk.hashes:
            last = max(chunk.hashes)
            marks[last] = chunk.hashes[last]
    fold.finish()
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


__all__ = [
    "OBS_CONSUMED_UNRECOGNIZED",
    "OBS_INCONSISTENT",
    "Fold",
    "ReplayStats",
    "ca_id",
    "empty_snapshot",
    "replay",
]
