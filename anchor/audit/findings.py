"""What an auditor should look at, derived from a replayed snapshot (and the consistency check).

Each finding carries a one-line title and a plain-language explanation, so the report can show it to
someone who has never read the contracts, plus the machine-readable details and impact list.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from ..doctypes import type_name
from ..reasons import reason_name
from .checkpoint import Notice
from .consistency import ConsistencyReport
from .ids import hex32
from .replay import OBS_CONSUMED_UNRECOGNIZED, OBS_INCONSISTENT
from .snapshot import REVOKED, SUSPENDED, Batch, Snapshot, StatusEntry, status_name
from .views import batch_row

CRITICAL, WARNING, INFO = "critical", "warning", "info"
_RANK = {CRITICAL: 0, WARNING: 1, INFO: 2}
DEFAULT_WINDOW = 86_400

# What each kind of finding means, for readers who do not know the system.
EXPLANATIONS: dict[str, str] = {
    "backdated-revocation": (
        "A certificate authority or issuing account was revoked with an effective time in the past. "
        "Everything it issued from that time on is no longer valid, including documents that looked "
        "valid when they were issued because the revocation was only recorded later. The list shows "
        "the affected batches; those inside the backdated window are the ones people may already have "
        "relied on."
    ),
    "backdated-suspension": (
        "A certificate authority or issuing account was suspended with an effective time in the past. "
        "Documents issued during the suspension are not valid; those issued before the suspension was "
        "recorded may already have been accepted."
    ),
    "consumed-without-recognition": (
        "A one-time document (for example a permit) was used by a party that, according to the "
        "history, did not recognize the issuing authority for that kind of document at that moment, "
        "or the document could not be used any more. The registry is built to refuse this, so it "
        "should never be seen: it points to a defect or to tampered data."
    ),
    "governance-execution": (
        "A membership or voting-rule change decided by the member parties. The finding lists whose "
        "approvals counted, so that anyone can confirm the decision had the required support."
    ),
    "anchored-before-suspension": (
        "An issuing account registered documents shortly before it was itself suspended or revoked. "
        "This can be harmless, but it is also what a compromised or misused account looks like, so "
        "these documents deserve a second look."
    ),
    "reorg": (
        "Part of the ledger's history that an earlier audit had read was later replaced. The audit "
        "discarded what it had derived from the replaced blocks and read the history again."
    ),
    "gap": (
        "The ledger no longer contains blocks an earlier audit had read (it was reset or rewound). "
        "Earlier audit results for those blocks cannot be confirmed any more."
    ),
    "event-inconsistency": (
        "An event in the history contradicts the state built from the events before it. The contracts "
        "should never produce this; it points to a defect, a wrong node, or tampered data."
    ),
    "consistency-mismatch": (
        "The state rebuilt from the history differs from what the registry contracts themselves "
        "report for the same block. One of the two accounts is wrong; the audit cannot vouch for the "
        "affected entries until the difference is explained."
    ),
}


@dataclass
class Finding:
    kind: str
    severity: str
    title: str
    subject: str
    block: int
    time: int
    details: dict[str, Any] = field(default_factory=dict)
    impact: list[dict[str, Any]] = field(default_factory=list)

    @property
    def explanation(self) -> str:
        return EXPLANATIONS.get(self.kind, "")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["explanation"] = self.explanation
        return d


def human_seconds(seconds: int) -> str:
    """'400 seconds', '3 minutes', '24 hours', 'about 2.5 hours': readable, and exact when it can be."""
    for unit, size in (("day", 86_400), ("hour", 3_600)):
        if seconds >= size and seconds % size == 0:
            return _n(seconds // size, unit, unit + "s")
    if seconds >= 7_200:
        return f"about {seconds / 3_600:.1f} hours"
    if seconds >= 60 and seconds % 60 == 0:
        return _n(seconds // 60, "minute", "minutes")
    if seconds >= 600:
        return f"about {round(seconds / 60)} minutes"
    return _n(seconds, "second", "seconds")


def _n(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


class _Index:
    """Batches by issuer, in anchoring order (replay order is block order)."""

    def __init__(self, s: Snapshot) -> None:
        self.by_issuer: dict[str, list[Batch]] = defaultdict(list)
        for b in s.batches.values():
            self.by_issuer[b.issuer].append(b)
        self.issuers_of_ca: dict[bytes, list[str]] = defaultdict(list)
        for i in s.issuers.values():
            self.issuers_of_ca[i.ca].append(i.account)

    def between(self, issuers: list[str], start: int, end: int | None) -> list[Batch]:
        out = [
            b
            for a in issuers
            for b in self.by_issuer.get(a, ())
            if b.anchored_at >= start and (end is None or b.anchored_at < end)
        ]
        return sorted(out, key=lambda b: (b.block, b.anchored_at, b.root))


def _next_effective(history: list[StatusEntry], i: int) -> int | None:
    for e in history[i + 1 :]:
        if e.status != REVOKED:
            return e.effective_at
    return None


def _backdated(s: Snapshot, idx: _Index) -> list[Finding]:
    out = []
    subjects: list[tuple[str, str, list[StatusEntry], list[str], str]] = [
        ("CA", hex32(c.fingerprint), c.history, idx.issuers_of_ca.get(c.fingerprint, []), c.party)
        for c in s.cas.values()
    ]
    subjects += [("issuing account", i.account, i.history, [i.account], i.party) for i in s.issuers.values()]
    for what, ident, history, issuers, party in subjects:
        for n, e in enumerate(history):
            if e.status not in (SUSPENDED, REVOKED) or e.effective_at >= e.recorded_at:
                continue
            end = None if e.status == REVOKED else _next_effective(history, n)
            hit = idx.between(issuers, e.effective_at, end)
            kind = "backdated-revocation" if e.status == REVOKED else "backdated-suspension"
            verb = "revoked" if e.status == REVOKED else "suspended"
            # "Inside the window": anchored no later than the block that recorded the change, i.e. while
            # the registry still showed the entity as fine.
            inside = sum(1 for b in hit if b.block <= e.block)
            out.append(
                Finding(
                    kind,
                    WARNING,
                    f"{what} {ident[:18]}… of {party} was {verb} with effect {human_seconds(e.recorded_at - e.effective_at)} "
                    f"before it was recorded; {_n(len(hit), 'batch', 'batches')} affected, {inside} of them "
                    "anchored before the change was recorded",
                    ident,
                    e.block,
                    e.recorded_at,
                    {
                        "entity": what,
                        "party": party,
                        "status": status_name(e.status),
                        "effectiveAt": e.effective_at,
                        "recordedAt": e.recorded_at,
                        "backdatedSeconds": e.recorded_at - e.effective_at,
                        "reason": reason_name(e.reason),
                        "tx": e.tx,
                        "affectedBatches": len(hit),
                        "affectedDocuments": sum(b.size for b in hit),
                        "inBackdatedWindow": inside,
                    },
                    [batch_row(b, inBackdatedWindow=b.block <= e.block) for b in hit],
                )
            )
    return out


def _anchored_before_suspension(s: Snapshot, idx: _Index, window: int) -> list[Finding]:
    out = []
    for i in s.issuers.values():
        previous = i.history[0].status if i.history else 0
        for e in i.history[1:]:
            stopped = e.status in (SUSPENDED, REVOKED) and previous not in (SUSPENDED, REVOKED)
            previous = e.status
            if not stopped:
                continue
            start = min(e.effective_at, e.recorded_at - window)
            hit = [b for b in idx.between([i.account], start, e.recorded_at + 1) if b.block <= e.block]
            if not hit:
                continue
            verb = "suspended" if e.status == SUSPENDED else "revoked"
            out.append(
                Finding(
                    "anchored-before-suspension",
                    WARNING,
                    f"issuing account {i.account} of {i.party} anchored {_n(len(hit), 'batch', 'batches')} "
                    f"({sum(b.size for b in hit):,} documents) in the {human_seconds(window)} before it was {verb}",
                    i.account,
                    e.block,
                    e.recorded_at,
                    {
                        "party": i.party,
                        "status": status_name(e.status),
                        "recordedAt": e.recorded_at,
                        "effectiveAt": e.effective_at,
                        "windowSeconds": window,
                        "reason": reason_name(e.reason),
                        "tx": e.tx,
                    },
                    [batch_row(b, secondsBefore=e.recorded_at - b.anchored_at) for b in hit],
                )
            )
    return out


def _governance(s: Snapshot) -> list[Finding]:
    out = []
    for q in sorted(s.proposals.values(), key=lambda q: q.id):
        if not q.executed:
            continue
        target = {
            "add-party": f"admit {q.party} (first admin {q.account})",
            "remove-party": f"remove {q.party}",
            "set-threshold": f"set the approval threshold to {q.threshold}",
        }[q.kind_name]
        lapsed = [a.party for a in q.approvals if a.party not in q.counted]
        out.append(
            Finding(
                "governance-execution",
                INFO,
                f"proposal {q.id} by {q.proposer} to {target} was executed on the approvals of "
                f"{', '.join(q.counted)} ({len(q.counted)} counted, {q.threshold_at_execution} required"
                + (f"; the approval of {', '.join(lapsed)} lapsed when it left" if lapsed else "")
                + ")",
                f"proposal {q.id}",
                q.executed_block,
                q.executed_at,
                {
                    "proposal": q.id,
                    "kind": q.kind_name,
                    "party": q.party,
                    "account": q.account,
                    "threshold": q.threshold,
                    "proposer": q.proposer,
                    "createdAt": q.created_at,
                    "executedAt": q.executed_at,
                    "approvalsCounted": q.counted,
                    "approvalsLapsed": lapsed,
                    "thresholdAtExecution": q.threshold_at_execution,
                },
                [
                    {
                        "party": a.party,
                        "approvedAt": a.time,
                        "block": a.block,
                        "counted": a.party in q.counted,
                    }
                    for a in q.approvals
                ],
            )
        )
    return out


def _observations(s: Snapshot) -> list[Finding]:
    out = []
    for o in s.observations:
        if o.kind == OBS_CONSUMED_UNRECOGNIZED:
            d = o.details
            out.append(
                Finding(
                    o.kind,
                    CRITICAL,
                    f"document {d['leaf'][:18]}… of batch {d['root'][:18]}… was consumed by {d['consumer']} "
                    f"although {'; '.join(d['problems'])}",
                    f"{d['root']}/{d['leaf']}",
                    o.block,
                    o.time,
                    {**d, "tx": o.tx, "docType": type_name(d["docType"]) if d["docType"] >= 0 else ""},
                )
            )
        elif o.kind == OBS_INCONSISTENT:
            out.append(
                Finding(
                    o.kind,
                    CRITICAL,
                    f"{o.details['event']} in block {o.block}: {o.details['message']}",
                    o.details["event"],
                    o.block,
                    o.time,
                    {**o.details, "tx": o.tx, "logIndex": o.log_index},
                )
            )
    return out


def _notices(notices: list[Notice]) -> list[Finding]:
    return [
        Finding(
            n.kind,
            WARNING,
            n.message,
            f"block {n.block}",
            n.block,
            n.detected_at,
            {"seenHash": n.seen_hash, "nowHash": n.now_hash, "head": n.head, "detectedAt": n.detected_at},
        )
        for n in notices
    ]


def _mismatches(report: ConsistencyReport) -> list[Finding]:
    if report.ok:
        return []
    by_entity: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in report.mismatches:
        by_entity[m.entity].append({"call": m.call, "replayed": m.expected, "onChain": m.actual})
    return [
        Finding(
            "consistency-mismatch",
            CRITICAL,
            f"{entity}: {len(rows)} contract answers differ from the replayed history at block {report.block}",
            entity,
            report.block,
            0,
            {"calls": len(rows)},
            rows,
        )
        for entity, rows in by_entity.items()
    ]


def find(
    snapshot: Snapshot,
    *,
    consistency: ConsistencyReport | None = None,
    notices: list[Notice] | None = None,
    window: int = DEFAULT_WINDOW,
) -> list[Finding]:
    """Every finding, most severe first, then in chain order."""
    idx = _Index(snapshot)
    found = [
        *_observations(snapshot),
        *(_mismatches(consistency) if consistency is not None else []),
        *_backdated(snapshot, idx),
        *_anchored_before_suspension(snapshot, idx, window),
        *_notices(notices or []),
        *_governance(snapshot),
    ]
    return sorted(found, key=lambda f: (_RANK[f.severity], f.block, f.kind, f.subject))


def counts(findings: list[Finding]) -> dict[str, int]:
    out = {CRITICAL: 0, WARNING: 0, INFO: 0}
    for f in findings:
        out[f.severity] += 1
    return out


__all__ = ["CRITICAL", "EXPLANATIONS", "INFO", "WARNING", "Finding", "counts", "find"]
