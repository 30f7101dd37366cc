"""The replayed state of both registries at one block, and the time queries the contracts answer.

The model keeps what the events say, in the contracts' own order (admins, a party's CAs and issuers
are arrays on chain, so their order is part of the state), plus the block of every change, so the
state can be asked "at time T" exactly like the contracts' ``...At`` views answer it. The query
methods here deliberately copy the contracts' logic line for line: the consistency check then
compares two independent derivations of the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..registry import ProposalKind, Status

NONE, ACTIVE, SUSPENDED, REVOKED = (int(s) for s in Status)
MAX_DOC_TYPE = 63


@dataclass(slots=True)
class StatusEntry:
    status: int
    effective_at: int
    recorded_at: int
    reason: int
    block: int
    tx: str


@dataclass(slots=True)
class MembershipEntry:
    member: bool
    at: int
    block: int
    proposal: int


@dataclass(slots=True)
class AdminChange:
    """An admin account added to or removed from a party, at a block (effective at once)."""

    added: bool
    at: int
    block: int
    account: str


@dataclass(slots=True)
class Party:
    id: str
    membership: list[MembershipEntry] = field(default_factory=list)
    admins: list[str] = field(default_factory=list)
    cas: list[bytes] = field(default_factory=list)
    issuers: list[str] = field(default_factory=list)
    admin_changes: list[AdminChange] = field(default_factory=list)

    def admins_at(self, time: int) -> list[str]:
        """The party's admin accounts at `time`, in the order they were added."""
        current: list[str] = []
        for c in self.admin_changes:
            if c.at > time:
                break
            if c.added:
                current.append(c.account)
            elif c.account in current:
                current.remove(c.account)
        return current

    @property
    def member(self) -> bool:
        return bool(self.membership) and self.membership[-1].member


@dataclass(slots=True)
class Approval:
    party: str
    time: int
    block: int


@dataclass(slots=True)
class Proposal:
    id: int
    kind: int
    party: str
    account: str
    threshold: int
    proposer: str
    created_at: int
    expires_at: int
    block: int
    tx: str
    approvals: list[Approval] = field(default_factory=list)
    executed: bool = False
    executed_at: int = 0
    executed_block: int = 0
    executed_approvals: int = 0
    # Which approvals counted at execution (approvers still members then) and the threshold they met.
    counted: list[str] = field(default_factory=list)
    threshold_at_execution: int = 0

    @property
    def kind_name(self) -> str:
        return ProposalKind(self.kind).name.lower().replace("_", "-")


@dataclass(slots=True)
class CA:
    fingerprint: bytes
    party: str
    not_before: int
    not_after: int
    doc_types: int
    status: int
    registered_at: int
    revoked_at: int
    block: int
    history: list[StatusEntry] = field(default_factory=list)


@dataclass(slots=True)
class Issuer:
    account: str
    party: str
    ca: bytes
    doc_types: int
    status: int
    authorized_at: int
    revoked_at: int
    block: int
    history: list[StatusEntry] = field(default_factory=list)


@dataclass(slots=True)
class IssuerAuth:
    """The document registry's mirror of an issuer's authorization (what anchoring actually checks)."""

    party: str
    doc_types: int
    active: bool
    block: int


@dataclass(slots=True)
class RecognitionEntry:
    doc_types: int
    old_doc_types: int
    effective_at: int
    recorded_at: int
    block: int


@dataclass(slots=True)
class Batch:
    root: bytes
    issuer: str
    party: str
    doc_type: int
    size: int
    anchored_at: int
    block: int
    revoked_at: int = 0
    revoke_reason: int = 0
    revoked_block: int = 0


@dataclass(slots=True)
class Document:
    """A document some event named (revoked, superseded or consumed); all others are implicit."""

    root: bytes
    leaf: bytes
    revoked_at: int = 0
    revoke_reason: int = 0
    revoked_block: int = 0
    superseded_at: int = 0
    successor_root: bytes = b""
    successor_leaf: bytes = b""
    superseded_block: int = 0
    consumed_at: int = 0
    consumed_by: str = ""
    consumer_account: str = ""
    consumed_block: int = 0


@dataclass(slots=True)
class ThresholdChange:
    old: int
    new: int
    proposal: int
    time: int
    block: int


@dataclass(slots=True)
class Observation:
    """Something the fold noticed that only the state at that moment can tell (see findings)."""

    kind: str
    block: int
    log_index: int
    time: int
    tx: str
    details: dict[str, Any]


@dataclass
class Snapshot:
    chain_id: int
    trust_registry: str
    document_registry: str
    deploy_block: int
    block: int = -1
    block_hash: str = ""
    block_time: int = 0
    events: int = 0
    event_counts: dict[str, int] = field(default_factory=dict)
    threshold: int = 0
    member_count: int = 0
    threshold_history: list[ThresholdChange] = field(default_factory=list)
    party_order: list[str] = field(default_factory=list)
    parties: dict[str, Party] = field(default_factory=dict)
    admin_party: dict[str, str] = field(default_factory=dict)
    proposals: dict[int, Proposal] = field(default_factory=dict)
    cas: dict[bytes, CA] = field(default_factory=dict)
    issuers: dict[str, Issuer] = field(default_factory=dict)
    issuer_auth: dict[str, IssuerAuth] = field(default_factory=dict)
    recognition: dict[tuple[str, str], list[RecognitionEntry]] = field(default_factory=dict)
    batches: dict[bytes, Batch] = field(default_factory=dict)
    documents: dict[tuple[bytes, bytes], Document] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)

    # ------------------------------------------------------------------ identity

    def digest(self) -> str:
        from .canonical import digest

        return digest(self)

    @property
    def proposal_count(self) -> int:
        return max(self.proposals, default=0)

    # ------------------------------------------------------------------ membership

    def is_member(self, party: str) -> bool:
        p = self.parties.get(party)
        return p is not None and p.member

    def is_member_at(self, party: str, time: int) -> bool:
        p = self.parties.get(party)
        if p is None:
            return False
        for e in reversed(p.membership):
            if e.at <= time:
                return e.member
        return False

    def current_approvals(self, proposal: Proposal) -> int:
        """What ``proposal(id).approvals`` reports: executed count, else approvers who are members now."""
        if proposal.executed:
            return proposal.executed_approvals
        return sum(1 for a in proposal.approvals if self.is_member(a.party))

    # ------------------------------------------------------------------ statuses

    def ca_status_at(self, fingerprint: bytes, time: int) -> int:
        c = self.cas.get(fingerprint)
        return NONE if c is None else status_at(c.history, c.status == REVOKED, c.revoked_at, time)

    def issuer_status_at(self, account: str, time: int) -> int:
        i = self.issuers.get(account)
        return NONE if i is None else status_at(i.history, i.status == REVOKED, i.revoked_at, time)

    def anchoring_valid_at(self, account: str, time: int) -> bool:
        """``anchoringValidAt``: issuer and its CA active at `time` and its party a member then."""
        i = self.issuers.get(account)
        if i is None:
            return False
        return (
            self.issuer_status_at(account, time) == ACTIVE
            and self.ca_status_at(i.ca, time) == ACTIVE
            and self.is_member_at(i.party, time)
        )

    # ------------------------------------------------------------------ recognition

    def recognition_at(self, recognizer: str, recognized: str, time: int) -> int:
        for e in reversed(self.recognition.get((recognizer, recognized), ())):
            if e.effective_at <= time:
                return e.doc_types
        return 0

    def recognizes_ca_at(self, recognizer: str, fingerprint: bytes, doc_type: int, time: int) -> bool:
        c = self.cas.get(fingerprint)
        if c is None or doc_type > MAX_DOC_TYPE:
            return False
        bit = 1 << doc_type
        if c.doc_types & bit == 0:
            return False
        if not self.is_member_at(recognizer, time) or not self.is_member_at(c.party, time):
            return False
        if c.party == recognizer:
            return True
        return self.recognition_at(recognizer, c.party, time) & bit != 0

    def recognizes_issuer_at(self, recognizer: str, account: str, doc_type: int, time: int) -> bool:
        i = self.issuers.get(account)
        return i is not None and self.recognizes_ca_at(recognizer, i.ca, doc_type, time)

    # ------------------------------------------------------------------ documents

    def document_state_at(self, root: bytes, leaf: bytes, time: int) -> tuple[bool, bool, bool]:
        """(revoked, superseded, consumed) at `time`, like ``documentStateAt``."""
        d = self.documents.get((root, leaf))
        b = self.batches.get(root)
        batch_revoked = b is not None and b.revoked_at != 0 and b.revoked_at <= time
        if d is None:
            return batch_revoked, False, False
        revoked = (d.revoked_at != 0 and d.revoked_at <= time) or batch_revoked
        return (
            revoked,
            d.superseded_at != 0 and d.superseded_at <= time,
            d.consumed_at != 0 and d.consumed_at <= time,
        )

    def usable(self, root: bytes, leaf: bytes) -> bool:
        """Neither the batch nor the document revoked, superseded or consumed (``_requireUsable``)."""
        b = self.batches.get(root)
        if b is not None and b.revoked_at:
            return False
        d = self.documents.get((root, leaf))
        return d is None or not (d.revoked_at or d.superseded_at or d.consumed_at)


def status_at(history: list[StatusEntry], revoked: bool, revoked_at: int, time: int) -> int:
    """``StatusHistory.statusAt``: a revocation overrides everything from its (maybe backdated) time."""
    # Before registration nothing applies, not even a revocation backdated further than that.
    if not history or time < history[0].effective_at:
        return NONE
    if revoked and time >= revoked_at:
        return REVOKED
    for e in reversed(history):
        if e.status != REVOKED and e.effective_at <= time:
            return e.status
    return NONE


def status_name(status: int) -> str:
    return Status(status).name.lower()
