"""The report's tables (also its CSV exports), built from a snapshot, its findings and consistency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..doctypes import names_of, type_name
from ..reasons import reason_name
from .cacerts import check_ca
from .consistency import ConsistencyReport
from .findings import Finding
from .ids import display_address, hex32
from .snapshot import AdminProposal, BatchKey, DocKey, Document, Snapshot, status_name
from .views import status_reason


@dataclass(frozen=True)
class Table:
    name: str  # CSV file stem
    title: str
    columns: list[str]
    rows: list[list[Any]]


def fmt_time(ts: int) -> str:
    if ts <= 0:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _types(mask: int) -> str:
    return ", ".join(names_of(mask)) or "none"


def _through(batch: BatchKey, own: BatchKey) -> str:
    """The batch a use went through, as seen from the row of batch `own`."""
    if batch == own:
        return "this batch"
    issuer, root = batch
    if root == own[1]:
        return f"batch of {display_address(issuer)}"  # the same root anchored by another account
    return f"{display_address(issuer)}/{hex32(root)}"


def short_hex(value: bytes) -> str:
    """0x12345678…cdef: enough of a hash to tell it from its neighbours in a table."""
    text = value.hex()
    return "0x" + text if len(text) <= 12 else f"0x{text[:8]}…{text[-4:]}"


def _successor(s: Snapshot, d: Document, rows: dict[DocKey, int]) -> str:
    """Where the document that replaced `d` is, in words: its leaf, its batch, and its row if listed."""
    issuer, root, leaf = d.successor_issuer, d.successor_root, d.successor_leaf
    text = f"leaf {short_hex(leaf)}"
    if (issuer, root) == (d.issuer, d.root):
        text += " in the same batch"
    else:
        text += f" of batch {short_hex(root)}"
        b = s.batches.get((issuer, root))
        who = [b.party] if b is not None and b.party else []
        if issuer.lower() != d.issuer.lower():
            who.append(f"account {display_address(issuer)[:10]}…")
        if b is not None:
            who.append(f"anchored {fmt_time(b.anchored_at)}")
        if who:
            text += f" ({', '.join(who)})"
    row = rows.get((issuer, root, leaf))
    return text + (f"; row {row} of this table" if row is not None else "")


def _admin_outcome(s: Snapshot, c: AdminProposal) -> str:
    outcome = s.admin_change_outcome(c, s.block_time)
    if outcome == "executed":
        return "executed after its waiting period" if c.by_delay else "executed"
    if outcome == "cancelled":
        return f"cancelled by {c.cancelled_by}"
    if outcome == "closed-by-removal":
        return f"closed: {c.party} was removed after it was proposed"
    return outcome


def build_tables(s: Snapshot, findings: list[Finding], consistency: ConsistencyReport | None) -> list[Table]:
    known = s.known_documents()
    # The documents table's rows (1-based), so that a replaced document can point at its successor's.
    listed = [
        k
        for k in known
        if k in s.documents or ((u := s.usage_of(k[2])) is not None and (u.consumed_at or u.endorsements))
    ]
    doc_rows = {k: n for n, k in enumerate(listed, 1)}
    per_party: dict[str, list[int]] = {}
    per_issuer: dict[str, list[int]] = {}
    for b in s.batches.values():
        p = per_party.setdefault(b.party, [0, 0])
        p[0] += 1
        p[1] += b.size
        i = per_issuer.setdefault(b.issuer, [0, 0])
        i[0] += 1
        i[1] += b.size
    tables = [
        Table(
            "parties",
            "Member parties",
            [
                "party",
                "member now",
                "first joined",
                "left",
                "admin accounts",
                "consumer accounts",
                "CAs",
                "issuing accounts",
                "batches",
                "documents",
            ],
            [
                [
                    pid,
                    "yes" if p.member else "no",
                    fmt_time(next((m.at for m in p.membership if m.member), 0)),
                    fmt_time(p.membership[-1].at if p.membership and not p.member else 0),
                    " ".join(display_address(a) for a in p.admins),
                    " ".join(display_address(a) for a in p.consumers),
                    len(p.cas),
                    len(p.issuers),
                    per_party.get(pid, [0, 0])[0],
                    per_party.get(pid, [0, 0])[1],
                ]
                for pid in s.party_order
                for p in [s.parties[pid]]
            ],
        ),
        Table(
            "membership_changes",
            "Membership changes",
            ["party", "change", "time", "block", "decided by proposal"],
            [
                [pid, "joined" if m.member else "left", fmt_time(m.at), m.block, m.proposal or "founding"]
                for pid in s.party_order
                for m in s.parties[pid].membership
            ],
        ),
        Table(
            "admin_changes",
            "Admin account changes (each party names the accounts that act for it)",
            ["party", "change", "account", "time", "block"],
            [
                [pid, "added" if c.added else "removed", c.account, fmt_time(c.at), c.block]
                for pid in s.party_order
                for c in s.parties[pid].admin_changes
            ],
        ),
        Table(
            "admin_change_requests",
            "Admin change requests (a majority of the party's admins, or a waiting period nobody cancelled)",
            [
                "id",
                "party",
                "change",
                "account",
                "proposed by",
                "created",
                "ready (without majority) from",
                "expires",
                "approved by",
                "outcome",
                "when",
                "approvals counted",
                "majority needed",
            ],
            [
                [
                    c.id,
                    c.party,
                    "add" if c.add else "remove",
                    c.account,
                    c.proposer,
                    fmt_time(c.created_at),
                    fmt_time(c.ready_at),
                    fmt_time(c.expires_at),
                    " ".join(a.admin for a in c.approvals),
                    _admin_outcome(s, c),
                    fmt_time(c.executed_at or c.cancelled_at),
                    c.executed_approvals if c.executed else "",
                    c.needed if c.executed else "",
                ]
                for c in sorted(s.admin_proposals.values(), key=lambda c: c.id)
            ],
        ),
        Table(
            "consumer_accounts",
            "Consumer accounts (the keys a party's border services use to use up one-time documents)",
            [
                "party",
                "account",
                "granted",
                "granted in block",
                "revoked",
                "revoked in block",
                "consumer now",
            ],
            [
                [
                    pid,
                    display_address(c.account),
                    fmt_time(c.at),
                    c.block,
                    fmt_time(end.at) if end else "",
                    end.block if end else "",
                    "yes" if end is None and c.account in s.parties[pid].consumers else "no",
                ]
                for pid in s.party_order
                for n, c in enumerate(s.parties[pid].consumer_changes)
                if c.added
                for end in [
                    next(
                        (
                            x
                            for x in s.parties[pid].consumer_changes[n + 1 :]
                            if not x.added and x.account == c.account
                        ),
                        None,
                    )
                ]
            ],
        ),
        Table(
            "one_time_types",
            "One-time (consumable) document types over time",
            ["from", "block", "before", "after", "decided by proposal"],
            [
                [fmt_time(c.time), c.block, _types(c.old), _types(c.new), c.proposal or "deployment"]
                for c in s.one_time_history
            ],
        ),
        Table(
            "proposals",
            "Governance proposals",
            [
                "id",
                "proposal",
                "party",
                "account",
                "threshold",
                "one-time types",
                "proposed by",
                "created",
                "expires",
                "approved by",
                "executed",
                "approvals counted",
                "threshold then",
            ],
            [
                [
                    q.id,
                    q.kind_name,
                    q.party if q.kind_name in ("add-party", "remove-party") else "",
                    display_address(q.account) if q.kind_name == "add-party" else "",
                    q.threshold if q.kind_name == "set-threshold" else "",
                    _types(q.doc_types) if q.kind_name == "set-one-time-types" else "",
                    q.proposer,
                    fmt_time(q.created_at),
                    fmt_time(q.expires_at),
                    ", ".join(a.party for a in q.approvals),
                    fmt_time(q.executed_at) if q.executed else "no",
                    ", ".join(q.counted) if q.executed else "",
                    q.threshold_at_execution if q.executed else "",
                ]
                for q in sorted(s.proposals.values(), key=lambda q: q.id)
            ],
        ),
        Table(
            "cas",
            "Certificate authorities",
            [
                "CA id",
                "party",
                "subject",
                "certificate SHA-256",
                "proof of possession",
                "status now",
                "document types",
                "registered",
                "revoked from",
                "valid from",
                "valid until",
            ],
            [
                [
                    hex32(c.fingerprint),
                    c.party,
                    check.subject,
                    hex32(c.certificate_hash) if c.certificate_hash else "",
                    check.pop,
                    status_name(c.status),
                    _types(c.doc_types),
                    fmt_time(c.registered_at),
                    fmt_time(c.revoked_at),
                    fmt_time(c.not_before),
                    fmt_time(c.not_after),
                ]
                for c in s.cas.values()
                for check in [check_ca(s, c)]
            ],
        ),
    ]
    for name, title, entities in (
        (
            "ca_status_changes",
            "Certificate authority status changes",
            [(hex32(c.fingerprint), c.party, c.history) for c in s.cas.values()],
        ),
        (
            "issuer_status_changes",
            "Issuing account status changes",
            [(display_address(i.account), i.party, i.history) for i in s.issuers.values()],
        ),
    ):
        tables.append(
            Table(
                name,
                title,
                [
                    "who",
                    "party",
                    "new status",
                    "effective from",
                    "recorded",
                    "backdated by (s)",
                    "reason",
                    "block",
                    "transaction",
                ],
                [
                    [
                        who,
                        party,
                        status_name(e.status),
                        fmt_time(e.effective_at),
                        fmt_time(e.recorded_at),
                        max(0, e.recorded_at - e.effective_at),
                        status_reason(e.reason) if e.status in (2, 3) else "",
                        e.block,
                        e.tx,
                    ]
                    for who, party, history in entities
                    for e in history
                ],
            )
        )
    tables += [
        Table(
            "issuers",
            "Issuing accounts",
            [
                "account",
                "party",
                "CA",
                "status now",
                "document types",
                "authorized",
                "revoked from",
                "can anchor now",
                "batches",
                "documents",
            ],
            [
                [
                    display_address(i.account),
                    i.party,
                    hex32(i.ca),
                    status_name(i.status),
                    _types(i.doc_types),
                    fmt_time(i.authorized_at),
                    fmt_time(i.revoked_at),
                    "yes" if (a := s.issuer_auth.get(i.account)) is not None and a.active else "no",
                    per_issuer.get(i.account, [0, 0])[0],
                    per_issuer.get(i.account, [0, 0])[1],
                ]
                for i in s.issuers.values()
            ],
        ),
        Table(
            "recognition_matrix",
            "Recognition now",
            ["recognizing party", "recognized party", "document types"],
            [
                [r, i, _types(s.recognition_at(r, i, s.block_time))]
                for r in s.party_order
                for i in s.party_order
                if r != i
            ],
        ),
        Table(
            "recognition_changes",
            "Recognition changes",
            [
                "recognizing party",
                "recognized party",
                "before",
                "after",
                "effective from",
                "recorded",
                "block",
                "because",
            ],
            [
                [
                    r,
                    i,
                    _types(e.old_doc_types),
                    _types(e.doc_types),
                    fmt_time(e.effective_at),
                    fmt_time(e.recorded_at),
                    e.block,
                    f"{e.ended_by} was removed" if e.ended_by else "",
                ]
                for (r, i), h in sorted(s.recognition.items())
                for e in h
            ],
        ),
        Table(
            "batches",
            "Anchored batches",
            [
                "root",
                "party",
                "issuing account",
                "document type",
                "documents",
                "anchored",
                "block",
                "batch revoked",
                "reason",
                "revoked by",
            ],
            [
                [
                    hex32(b.root),
                    b.party,
                    display_address(b.issuer),
                    type_name(b.doc_type),
                    b.size,
                    fmt_time(b.anchored_at),
                    b.block,
                    fmt_time(b.revoked_at),
                    reason_name(b.revoke_reason) if b.revoked_at else "",
                    display_address(b.revoked_by) if b.revoked_by else "",
                ]
                for b in s.batches.values()
            ],
        ),
        Table(
            "documents",
            "Revoked, replaced and used documents (use belongs to the document, whichever batch names it)",
            [
                "issuing account",
                "batch root",
                "document (leaf)",
                "revoked",
                "reason",
                "revoked by",
                "replaced",
                "replaced by",
                "replaced by (issuer/root/leaf)",
                "used up",
                "used by",
                "used through account",
                "used through batch",
                "endorsed",
                "quantity",
            ],
            [
                [
                    display_address(issuer),
                    hex32(root),
                    hex32(leaf),
                    fmt_time(d.revoked_at) if d else "",
                    reason_name(d.revoke_reason) if d and d.revoked_at else "",
                    display_address(d.revoked_by) if d and d.revoked_by else "",
                    fmt_time(d.superseded_at) if d else "",
                    _successor(s, d, doc_rows) if d and d.superseded_at else "",
                    (
                        f"{display_address(d.successor_issuer)}/{hex32(d.successor_root)}/{hex32(d.successor_leaf)}"
                        if d and d.superseded_at
                        else ""
                    ),
                    fmt_time(u.consumed_at) if u else "",
                    u.consumed_by if u else "",
                    display_address(u.consumer_account) if u and u.consumer_account else "",
                    _through(u.consumed_batch, (issuer, root)) if u and u.consumed_at else "",
                    u.endorsed if u and u.endorsements else "",
                    u.quantity if u and u.endorsements else "",
                ]
                for issuer, root, leaf in listed
                for d in [s.documents.get((issuer, root, leaf))]
                for u in [s.usage_of(leaf)]
            ],
        ),
        Table(
            "endorsements",
            "Endorsements (partial use of a document's committed quantity, shared by every batch naming it)",
            [
                "issuing account",
                "batch root",
                "document (leaf)",
                "consumer",
                "through account",
                "through batch",
                "endorsements",
                "amounts",
                "endorsed so far",
                "quantity",
                "remaining",
                "last endorsed",
                "used up",
            ],
            [
                [
                    display_address(issuer),
                    hex32(root),
                    hex32(leaf),
                    ", ".join(dict.fromkeys(e.consumer for e in u.endorsements)),
                    " ".join(dict.fromkeys(display_address(e.account) for e in u.endorsements)),
                    ", ".join(dict.fromkeys(_through(e.batch, (issuer, root)) for e in u.endorsements)),
                    len(u.endorsements),
                    " + ".join(str(e.amount) for e in u.endorsements),
                    u.endorsed,
                    u.quantity,
                    u.quantity - u.endorsed,
                    fmt_time(u.endorsements[-1].time),
                    fmt_time(u.consumed_at) if u.consumed_at else "no",
                ]
                for issuer, root, leaf in known
                for u in [s.usage_of(leaf)]
                if u is not None and u.endorsements
            ],
        ),
        Table(
            "findings",
            "Findings",
            ["#", "severity", "kind", "what", "concerning", "block", "time", "affected records"],
            [
                [n, f.severity, f.kind, f.title, f.subject, f.block, fmt_time(f.time), len(f.impact)]
                for n, f in enumerate(findings, 1)
            ],
        ),
        Table(
            "finding_records",
            "Records concerned by each finding",
            ["finding #", "kind", "record"],
            [[n, f.kind, _flat(row)] for n, f in enumerate(findings, 1) for row in f.impact],
        ),
    ]
    if consistency is not None:
        tables.append(
            Table(
                "consistency_mismatches",
                "Differences between the replay and the contracts",
                ["entity", "contract call", "replayed", "on chain"],
                [[m.entity, m.call, m.expected, m.actual] for m in consistency.mismatches],
            )
        )
    return tables


def _flat(row: dict[str, Any]) -> str:
    return "; ".join(f"{k}={v}" for k, v in row.items())
