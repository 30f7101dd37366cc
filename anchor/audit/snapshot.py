"""The replayed state of both registries at one block, and the time queries the contracts answer.

The model keeps what the events say, in the contracts' own order (admins, consumers, a party's CAs and
issuers are arrays on chain, so their order is part of the state), plus the block of every change, so
the state can be asked "at time T" exactly like the contracts' ``...At`` views answer it. The query
methods here deliberately copy the contracts' logic line for line: the consistency check then
compares two independent derivations of the same answer.

Batches are addressed by (issuer account, root) and documents by (issuer account, root, leaf), like
the DocumentRegistry addresses them: two accounts anchoring the same root make two batches, and a
revocation or supersession belongs to one of them. Use (consumption and endorsement) belongs to the leaf
alone, as the DocumentRegistry keeps it: a leaf used through one batch is used in every batch naming it
(a copied root gives no second use).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..registry import ProposalKind, Status

NONE, ACTIVE, SUSPENDED, REVOKED = (int(s) for s in Status)
MAX_DOC_TYPE = 63
# _memberSince's "not a member": type(uint40).max.
NOT_MEMBER = (1 << 40) - 1
# TrustRegistry.REASON_PARTY_REMOVED: the reason of the issuer revocations a party's removal records.
REASON_PARTY_REMOVED = 255
# Role enum of the TrustRegistry (roleOf).
ROLE_NONE, ROLE_ADMIN, ROLE_ISSUER, ROLE_CONSUMER, ROLE_WITNESS = 0, 1, 2, 3, 4

BatchKey = tuple[str, bytes]  # (issuer account, root)
DocKey = tuple[str, bytes, bytes]  # (issuer account, root, leaf)
NO_BATCH: BatchKey = ("", b"")


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
class AccountChange:
    """An admin or consumer account added to or removed from a party, at a block (effective at once)."""

    added: bool
    at: int
    block: int
    account: str


# The name the admin history had before consumer accounts shared it.
AdminChange = AccountChange


def _accounts_at(changes: list[AccountChange], time: int) -> list[str]:
    current: list[str] = []
    for c in changes:
        if c.at > time:
            break
        if c.added:
            current.append(c.account)
        elif c.account in current:
            current.remove(c.account)
    return current


@dataclass(slots=True)
class Party:
    id: str
    membership: list[MembershipEntry] = field(default_factory=list)
    admins: list[str] = field(default_factory=list)
    cas: list[bytes] = field(default_factory=list)
    issuers: list[str] = field(default_factory=list)
    admin_changes: list[AccountChange] = field(default_factory=list)
    consumers: list[str] = field(default_factory=list)
    consumer_changes: list[AccountChange] = field(default_factory=list)
    witnesses: list[str] = field(default_factory=list)
    witness_changes: list[AccountChange] = field(default_factory=list)

    def admins_at(self, time: int) -> list[str]:
        """The party's admin accounts at `time`, in the order they were added."""
        return _accounts_at(self.admin_changes, time)

    def consumers_at(self, time: int) -> list[str]:
        """The party's consumer accounts at `time`, in the order they were granted."""
        return _accounts_at(self.consumer_changes, time)

    @property
    def member(self) -> bool:
        return bool(self.membership) and self.membership[-1].member

    @property
    def epoch(self) -> int:
        """The contract's membership epoch: the length of the membership history."""
        return len(self.membership)


@dataclass(slots=True)
class Approval:
    party: str
    time: int
    block: int
    # The approver's membership epoch then: an approval counts only in the membership it was given in.
    epoch: int = 0


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
    # Which approvals counted at execution (approvers members then, in the same membership) and the
    # threshold they met.
    counted: list[str] = field(default_factory=list)
    threshold_at_execution: int = 0
    doc_types: int = 0

    @property
    def kind_name(self) -> str:
        return ProposalKind(self.kind).name.lower().replace("_", "-")

    def counts(self, a: Approval) -> bool:
        """Was approval `a` one of those counted at execution (the party's last one, if it counted)?"""
        if not self.executed or a.party not in self.counted:
            return False
        return a is [x for x in self.approvals if x.party == a.party][-1]


@dataclass(slots=True)
class AdminApproval:
    admin: str
    time: int
    block: int


@dataclass(slots=True)
class AdminProposal:
    """A party's pending or closed change of its own admins (proposeAdminChange and what followed)."""

    id: int
    party: str
    account: str
    add: bool
    proposer: str
    created_at: int
    ready_at: int
    expires_at: int
    block: int
    tx: str
    approvals: list[AdminApproval] = field(default_factory=list)
    cancelled: bool = False
    cancelled_by: str = ""
    cancelled_at: int = 0
    cancelled_block: int = 0
    executed: bool = False
    executed_at: int = 0
    executed_block: int = 0
    executed_approvals: int = 0
    # Approvals a majority needed at execution (half the admins then, plus one).
    needed: int = 0

    @property
    def by_delay(self) -> bool:
        """Executed without a majority of the party's admins, because its delay had passed."""
        return self.executed and self.executed_approvals < self.needed


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
    # From CACertificatePublished: SHA-256 of the DER certificate, the certificate, the proof of possession.
    certificate_hash: bytes = b""
    certificate: bytes = b""
    proof: bytes = b""
    tx: str = ""


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
    # The party whose removal ended this recognition (its removal's own RecognitionChanged to 0), if so.
    ended_by: str = ""


@dataclass(slots=True)
class OneTimeChange:
    old: int
    new: int
    proposal: int
    time: int
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
    revoked_by: str = ""
    # Orders batches anchored in one block (the transaction is not kept: one per batch would weigh).
    log_index: int = 0

    @property
    def key(self) -> BatchKey:
        return (self.issuer, self.root)


@dataclass(slots=True)
class Endorsement:
    """One DocumentEndorsed: `amount` used by `consumer`'s `account`; `endorsed` of `quantity` so far.

    `issuer` and `root` name the batch the endorsement went through (the leaf's use is shared by all)."""

    consumer: str
    account: str
    amount: int
    endorsed: int
    quantity: int
    time: int
    block: int
    tx: str
    issuer: str = ""
    root: bytes = b""

    @property
    def batch(self) -> BatchKey:
        return (self.issuer, self.root)


@dataclass(slots=True)
class Document:
    """A document some revocation or supersession named: those belong to one issuer's batch.

    Its use is not here but in the snapshot's per-leaf :class:`Usage` (``Snapshot.usage_of``)."""

    issuer: str
    root: bytes
    leaf: bytes
    revoked_at: int = 0
    revoke_reason: int = 0
    revoked_block: int = 0
    revoked_by: str = ""
    superseded_at: int = 0
    successor_issuer: str = ""
    successor_root: bytes = b""
    successor_leaf: bytes = b""
    superseded_block: int = 0
    superseded_by: str = ""

    @property
    def key(self) -> DocKey:
        return (self.issuer, self.root, self.leaf)


@dataclass(slots=True)
class Usage:
    """The use of one leaf (``_usage[leaf]``): consumed and endorsed whichever batch named it then.

    `consumed_issuer` / `consumed_root` (and each endorsement's) name the batch the use went through."""

    leaf: bytes
    consumed_at: int = 0
    consumed_by: str = ""
    consumer_account: str = ""
    consumed_block: int = 0
    consumed_issuer: str = ""
    consumed_root: bytes = b""
    endorsed: int = 0
    quantity: int = 0
    endorsements: list[Endorsement] = field(default_factory=list)

    @property
    def consumed_batch(self) -> BatchKey:
        return (self.consumed_issuer, self.consumed_root) if self.consumed_at else NO_BATCH

    @property
    def batches(self) -> list[BatchKey]:
        """The batches the leaf was used through, first use first."""
        keys = [e.batch for e in self.endorsements]
        if self.consumed_at:
            keys.append(self.consumed_batch)
        return list(dict.fromkeys(keys))

    def batches_by(self, time: int) -> list[BatchKey]:
        """The batches the leaf was used through by `time`, first use first."""
        keys = [e.batch for e in self.endorsements if e.time <= time]
        if self.consumed_at and self.consumed_at <= time:
            keys.append(self.consumed_batch)
        return list(dict.fromkeys(keys))

    def endorsed_at(self, time: int) -> int:
        value = 0
        for e in self.endorsements:
            if e.time <= time:
                value = e.endorsed
        return value

    def uses_through(self, batch: BatchKey) -> list[tuple[str, int]]:
        """(consumer, time) of every use made through `batch` (what recognizesIssuerAt judged)."""
        uses = [(e.consumer, e.time) for e in self.endorsements if e.batch == batch]
        if self.consumed_at and self.consumed_batch == batch:
            uses.append((self.consumed_by, self.consumed_at))
        return uses


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
    one_time_types: int = 0
    one_time_history: list[OneTimeChange] = field(default_factory=list)
    party_order: list[str] = field(default_factory=list)
    parties: dict[str, Party] = field(default_factory=dict)
    admin_party: dict[str, str] = field(default_factory=dict)
    consumer_party: dict[str, str] = field(default_factory=dict)
    witness_party: dict[str, str] = field(default_factory=dict)
    proposals: dict[int, Proposal] = field(default_factory=dict)
    admin_proposals: dict[int, AdminProposal] = field(default_factory=dict)
    cas: dict[bytes, CA] = field(default_factory=dict)
    issuers: dict[str, Issuer] = field(default_factory=dict)
    issuer_auth: dict[str, IssuerAuth] = field(default_factory=dict)
    recognition: dict[tuple[str, str], list[RecognitionEntry]] = field(default_factory=dict)
    batches: dict[BatchKey, Batch] = field(default_factory=dict)
    documents: dict[DocKey, Document] = field(default_factory=dict)
    usage: dict[bytes, Usage] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)

    # ------------------------------------------------------------------ identity

    def digest(self) -> str:
        from .snapshot_codec import digest

        return digest(self)

    @property
    def proposal_count(self) -> int:
        return max(self.proposals, default=0)

    @property
    def admin_change_count(self) -> int:
        return max(self.admin_proposals, default=0)

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

    def member_since(self, party: str, time: int) -> int:
        """``_memberSince``: when the membership covering `time` began; NOT_MEMBER if none does."""
        p = self.parties.get(party)
        if p is None:
            return NOT_MEMBER
        for e in reversed(p.membership):
            if e.at <= time:
                return e.at if e.member else NOT_MEMBER
        return NOT_MEMBER

    def epoch(self, party: str) -> int:
        p = self.parties.get(party)
        return 0 if p is None else p.epoch

    def counted_approvals(self, proposal: Proposal) -> list[str]:
        """``_currentApprovals``: approvers that are members now and approved in their current membership."""
        last: dict[str, Approval] = {}
        for a in proposal.approvals:
            last[a.party] = a  # the contract keeps each party once, with its latest approval's epoch
        return [p for p, a in last.items() if self.is_member(p) and a.epoch == self.epoch(p)]

    def current_approvals(self, proposal: Proposal) -> int:
        """What ``proposal(id).approvals`` reports: the executed count, else the approvals that count now."""
        if proposal.executed:
            return proposal.executed_approvals
        return len(self.counted_approvals(proposal))

    def admin_change_closed_by_removal(self, change: AdminProposal, time: int) -> bool:
        """``_openAdminChange``'s membership rule: a change proposed before the party's membership at
        `time` began (or while the party is not a member) is closed; its admins then are not its admins now."""
        return change.created_at < self.member_since(change.party, time)

    def admin_change_open(self, change: AdminProposal, time: int) -> bool:
        """Could the change still be approved, cancelled or executed at `time` (``_openAdminChange``)?"""
        return not (
            change.executed
            or change.cancelled
            or time > change.expires_at
            or self.admin_change_closed_by_removal(change, time)
        )

    def admin_change_outcome(self, change: AdminProposal, time: int) -> str:
        """executed / cancelled / closed-by-removal / expired / pending, as the contract would see it at `time`
        (executed and cancelled as the snapshot knows them, whatever `time`)."""
        if change.executed:
            return "executed"
        if change.cancelled:
            return "cancelled"
        if self.admin_change_closed_by_removal(change, time):
            return "closed-by-removal"
        if time > change.expires_at:
            return "expired"
        return "pending"

    def admin_approvals(self, change: AdminProposal) -> int:
        """``_currentAdminApprovals``: approvers that are still admins of the change's party."""
        return sum(1 for a in change.approvals if self.admin_party.get(a.admin) == change.party)

    def role_of(self, account: str) -> tuple[int, str]:
        """``roleOf``: admin, else issuer (bound to its party for good, even once revoked), else consumer,
        else witness."""
        if party := self.admin_party.get(account, ""):
            return ROLE_ADMIN, party
        if (i := self.issuers.get(account)) is not None and i.party:
            return ROLE_ISSUER, i.party
        if party := self.consumer_party.get(account, ""):
            return ROLE_CONSUMER, party
        if party := self.witness_party.get(account, ""):
            return ROLE_WITNESS, party
        return ROLE_NONE, ""

    def one_time_types_at(self, time: int) -> int:
        value = 0
        for c in self.one_time_history:
            if c.time <= time:
                value = c.new
        return value

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
        """``recognitionAt``: the latest change effective by `time` (a plain history lookup). A party's
        removal ends every recognition given to it and by it with a change to 0 in the history, so no
        membership filter is needed: rejoining restores nothing because the history says so."""
        for e in reversed(self.recognition.get((recognizer, recognized), ())):
            if e.effective_at <= time:
                return e.doc_types
        return 0

    def last_recognition(self, recognizer: str, recognized: str) -> int:
        """The last recorded mask, whatever its effective time: what recognize/unrecognize start from."""
        h = self.recognition.get((recognizer, recognized))
        return h[-1].doc_types if h else 0

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

    def usage_of(self, leaf: bytes) -> Usage | None:
        """The leaf's use (``_usage[leaf]``), shared by every batch that names the leaf; None if unused."""
        return self.usage.get(leaf)

    def document_state_at(self, issuer: str, root: bytes, leaf: bytes, time: int) -> tuple[bool, bool, bool]:
        """(revoked, superseded, consumed) at `time`, like ``documentStateAt(issuer, root, leaf, time)``:
        revocation and supersession of this batch's document, use of the leaf whichever batch it went through."""
        d = self.documents.get((issuer, root, leaf))
        b = self.batches.get((issuer, root))
        u = self.usage.get(leaf)
        batch_revoked = b is not None and b.revoked_at != 0 and b.revoked_at <= time
        consumed = u is not None and u.consumed_at != 0 and u.consumed_at <= time
        if d is None:
            return batch_revoked, False, consumed
        revoked = (d.revoked_at != 0 and d.revoked_at <= time) or batch_revoked
        return revoked, d.superseded_at != 0 and d.superseded_at <= time, consumed

    def usable(self, issuer: str, root: bytes, leaf: bytes) -> bool:
        """Neither the batch nor the document revoked or superseded, nor the leaf consumed (``_requireUsable``)."""
        b = self.batches.get((issuer, root))
        if b is not None and b.revoked_at:
            return False
        u = self.usage.get(leaf)
        if u is not None and u.consumed_at:
            return False
        d = self.documents.get((issuer, root, leaf))
        return d is None or not (d.revoked_at or d.superseded_at)

    def known_documents(self) -> list[DocKey]:
        """Every (issuer, root, leaf) the history tells of: the documents an event named (revoked,
        superseded, or used through that batch), and the same leaf in every other batch anchoring the
        same root (a copied root names the same documents; their use is shared). In history order."""
        named: dict[DocKey, None] = dict.fromkeys(self.documents)
        for leaf, u in self.usage.items():
            for issuer, root in u.batches:
                named[(issuer, root, leaf)] = None
        roots = {root for _, root, _ in named}
        carriers: dict[bytes, list[str]] = {}
        for issuer, root in self.batches:
            if root in roots:
                carriers.setdefault(root, []).append(issuer)
        out: dict[DocKey, None] = {}
        for issuer, root, leaf in named:
            out[(issuer, root, leaf)] = None
            for other in carriers.get(root, ()):
                out.setdefault((other, root, leaf), None)
        return list(out)

    def batches_by_root(self) -> dict[bytes, list[Batch]]:
        """Every root with the batches (one per anchoring account) that carry it, in anchoring order."""
        out: dict[bytes, list[Batch]] = {}
        for b in self.batches.values():
            out.setdefault(b.root, []).append(b)
        return out


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
