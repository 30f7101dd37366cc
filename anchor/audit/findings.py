"""What an auditor should look at, derived from a replayed snapshot (and the consistency check).

Each finding carries a one-line title and a plain-language explanation, so the report can show it to
someone who has never read the contracts, plus the machine-readable details and impact list.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from ..doctypes import names_of, type_name
from ..reasons import reason_name
from .cacerts import INVALID, VALID, CertCheck, check_ca
from .consistency import ConsistencyReport
from .ids import hex32
from .replay import OBS_CONSUMED_UNRECOGNIZED, OBS_INCONSISTENT
from .resume import Notice
from .snapshot import (
    REASON_PARTY_REMOVED,
    REVOKED,
    SUSPENDED,
    Batch,
    Snapshot,
    StatusEntry,
    status_name,
)
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
        "A one-time document (for example a permit) was used up or endorsed by a party that, according "
        "to the history, did not recognize the issuing authority for that kind of document at that "
        "moment, or through an account that was not its consumer account, or the document could not be "
        "used any more. The registry is built to refuse this, so it should never be seen: it points to a "
        "defect or to tampered data."
    ),
    "ca-pop-invalid": (
        "A party registered a certificate authority with a proof of possession that does not check out: "
        "the proof is not the signature of that authority's key over this registry's message for this "
        "party. The ledger cannot check such signatures itself, so the audit does. Without a valid proof "
        "nothing shows that the party controls the authority it registered (it may have copied someone "
        "else's certificate); documents relying on it deserve scrutiny."
    ),
    "ca-pop-missing": (
        "A party registered a certificate authority without any proof of possession, so nothing on the "
        "ledger shows that the party holds the authority's key. It may be an older tool or a copied "
        "certificate; the party should register the authority again with a proof."
    ),
    "ca-key-shared": (
        "The same certificate authority key (the same public key, whichever certificate carries it) is "
        "registered by more than one party. Each party's registration is separate on the ledger, but "
        "one key should vouch for one party only: either the parties share a key, or one of them "
        "registered another party's authority. Compare their proofs of possession."
    ),
    "root-anchored-twice": (
        "The same batch fingerprint (Merkle root) was registered by more than one issuing account. "
        "Each registration is a separate batch on the ledger and cannot block or take over the other, "
        "but the same root from two accounts is what copying a pending registration from the network "
        "looks like (front-running). Only the account whose signed batch names it is the rightful one. "
        "A document is used (consumed or endorsed) once, whichever of these batches the use went through: "
        "a use through the copy uses up the original too."
    ),
    "admin-change": (
        "A party changed its own administrator accounts. A change normally takes effect on the approval "
        "of a majority of the party's administrators; one that took effect only because its waiting "
        "period passed without anyone cancelling it is shown as a warning, since that is also what a "
        "single stolen administrator key can do."
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
    "checkpoint-disagrees": (
        "A registry checkpoint published for the border posts' offline verification commits to a state "
        "that the ledger does not hold at the checkpoint's block. If enough member parties' witnesses "
        "co-signed it, offline verifiers may accept it: the witnesses who signed it vouched for a history "
        "that is not the ledger's. The evidence is the signed checkpoint itself."
    ),
    "checkpoint-fork": (
        "Two different registry checkpoints were published for the same number of registry events. The "
        "registries have one history, so at most one of them is right; whoever signed the other vouched "
        "for a forked history. The evidence is both signed checkpoints."
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
            "set-one-time-types": "make "
            + (", ".join(names_of(q.doc_types)) or "no document types")
            + " the one-time (consumable) document types",
        }[q.kind_name]
        lapsed = list(dict.fromkeys(a.party for a in q.approvals if not q.counts(a)))
        extra: dict[str, Any] = {}
        if q.kind_name == "remove-party":
            removed = s.parties.get(q.party)
            extra["issuersRevoked"] = [
                i
                for i in (removed.issuers if removed else [])
                if any(
                    e.block == q.executed_block and e.reason == REASON_PARTY_REMOVED and e.status == REVOKED
                    for e in s.issuers[i].history
                )
            ]
            extra["consumersRevoked"] = [
                c.account
                for c in (removed.consumer_changes if removed else [])
                if not c.added and c.block == q.executed_block
            ]
            # The recognitions given to it and by it that its removal ended (RecognitionChanged to 0).
            extra["recognitionsEnded"] = [
                f"{r}->{i}"
                for (r, i), h in s.recognition.items()
                for e in h
                if e.ended_by == q.party and e.block == q.executed_block
            ]
            # Its admin changes still open then: closed for good (its admins then are not its admins now).
            extra["adminChangesClosed"] = [
                c.id
                for c in sorted(s.admin_proposals.values(), key=lambda c: c.id)
                if c.party == q.party
                and c.block <= q.executed_block
                and not (c.executed and c.executed_block <= q.executed_block)
                and not (c.cancelled and c.cancelled_block <= q.executed_block)
                and c.expires_at >= q.executed_at
            ]
        out.append(
            Finding(
                "governance-execution",
                INFO,
                f"proposal {q.id} by {q.proposer} to {target} was executed on the approvals of "
                f"{', '.join(q.counted)} ({len(q.counted)} counted, {q.threshold_at_execution} required"
                + (f"; an approval of {', '.join(lapsed)} lapsed when it left" if lapsed else "")
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
                    "docTypes": names_of(q.doc_types) if q.kind_name == "set-one-time-types" else [],
                    "approvalsCounted": q.counted,
                    "approvalsLapsed": lapsed,
                    "thresholdAtExecution": q.threshold_at_execution,
                    **extra,
                },
                [
                    {
                        "party": a.party,
                        "approvedAt": a.time,
                        "block": a.block,
                        "counted": q.counts(a),
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
            action = d.get("action", "consumed")
            out.append(
                Finding(
                    o.kind,
                    CRITICAL,
                    f"document {d['leaf'][:18]}… of batch {d['root'][:18]}… (issuer {d.get('issuer', '')}) was "
                    f"{action} by {d['consumer']} although {'; '.join(d['problems'])}",
                    f"{d.get('issuer', '')}/{d['root']}/{d['leaf']}",
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


def _ca_proofs(s: Snapshot, idx: _Index, checks: dict[bytes, CertCheck]) -> list[Finding]:
    out = []
    for c in s.cas.values():
        check = checks[c.fingerprint]
        if check.pop == VALID:
            continue
        fp = hex32(c.fingerprint)
        who = f"CA {fp[:18]}… of {c.party}" + (f" ({check.subject})" if check.subject else "")
        hit = idx.between(idx.issuers_of_ca.get(c.fingerprint, []), 0, None)
        if check.pop == INVALID:
            kind, severity = "ca-pop-invalid", CRITICAL
            title = f"{who} was registered with a proof of possession that does not verify: {check.reason}"
        else:
            kind, severity = "ca-pop-missing", WARNING
            title = f"{who} was registered without a proof of possession"
        out.append(
            Finding(
                kind,
                severity,
                title + f"; {_n(len(hit), 'batch', 'batches')} anchored under it",
                fp,
                c.block,
                c.registered_at,
                {
                    "party": c.party,
                    "subject": check.subject,
                    "certificateHash": hex32(c.certificate_hash) if c.certificate_hash else "",
                    "keyHash": check.key_hash,
                    "proofOfPossession": check.pop,
                    "reason": check.reason,
                    "registeredAt": c.registered_at,
                    "status": status_name(c.status),
                    "issuers": idx.issuers_of_ca.get(c.fingerprint, []),
                    "tx": c.tx,
                },
                [batch_row(b) for b in hit],
            )
        )
    return out


def _shared_keys(s: Snapshot, checks: dict[bytes, CertCheck]) -> list[Finding]:
    by_key: dict[bytes, list[bytes]] = defaultdict(list)
    for c in s.cas.values():
        spki = checks[c.fingerprint].spki
        if spki:
            by_key[spki].append(c.fingerprint)
    out = []
    for fps in by_key.values():
        cas = [s.cas[fp] for fp in fps]
        parties = list(dict.fromkeys(c.party for c in cas))
        if len(parties) < 2:
            continue
        check = checks[fps[0]]
        latest = max(cas, key=lambda c: (c.block, c.registered_at))
        hashes = {c.certificate_hash for c in cas}
        proofs = {c.party: [checks[x.fingerprint].pop for x in cas if x.party == c.party] for c in cas}
        holders = [p for p, verdicts in proofs.items() if VALID in verdicts]
        out.append(
            Finding(
                "ca-key-shared",
                WARNING,
                f"the same CA public key is registered by {_and(parties)}"
                + (" with the same certificate" if len(hashes) == 1 else f" in {len(hashes)} certificates")
                + (
                    f"; only {_and(holders)} proved possession of it"
                    if holders and len(holders) < len(parties)
                    else (
                        "; none of them proved possession of it"
                        if not holders
                        else "; each proved possession"
                    )
                ),
                check.key_hash,
                latest.block,
                latest.registered_at,
                {
                    "keyHash": check.key_hash,
                    "parties": parties,
                    "cas": [hex32(c.fingerprint) for c in cas],
                    "sameCertificate": len(hashes) == 1,
                    "provedPossession": holders,
                },
                [
                    {
                        "fingerprint": hex32(c.fingerprint),
                        "party": c.party,
                        "subject": checks[c.fingerprint].subject,
                        "certificateHash": hex32(c.certificate_hash) if c.certificate_hash else "",
                        "proofOfPossession": checks[c.fingerprint].pop,
                        "registeredAt": c.registered_at,
                        "block": c.block,
                        "status": status_name(c.status),
                    }
                    for c in sorted(cas, key=lambda c: (c.block, c.registered_at))
                ],
            )
        )
    return out


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _shared_roots(s: Snapshot) -> list[Finding]:
    shared = {root: batches for root, batches in s.batches_by_root().items() if len(batches) > 1}
    # Leaves of a shared root used through each of its batches (the use is the leaf's, shared by all).
    used: dict[bytes, dict[str, set[bytes]]] = defaultdict(lambda: defaultdict(set))
    for leaf, u in s.usage.items():
        for issuer, root in u.batches:
            if root in shared:
                used[root][issuer].add(leaf)
    out = []
    for root, batches in shared.items():
        ordered = sorted(batches, key=lambda b: (b.block, b.log_index))
        first, later = ordered[0], ordered[1:]
        named = [f"{b.issuer} of {b.party or 'no party'} (block {b.block})" for b in ordered]
        through = used.get(root, {})
        leaves = set().union(*through.values()) if through else set()
        uses = ""
        if leaves:
            accounts = [b.issuer for b in ordered if through.get(b.issuer)]
            uses = (
                f"; {_n(len(leaves), 'document was', 'documents were')} used through the batch of "
                + _and(accounts)
                + ", which uses {} up in every batch of this root".format(
                    "it" if len(leaves) == 1 else "them"
                )
            )
        out.append(
            Finding(
                "root-anchored-twice",
                WARNING,
                f"batch root {hex32(root)[:18]}… was anchored by {len(ordered)} issuing accounts: "
                + ", then ".join(named)
                + ("; in the same block" if first.block == later[0].block else "")
                + " — one may have copied the other's pending registration"
                + uses,
                hex32(root),
                later[0].block,
                later[0].anchored_at,
                {
                    "root": hex32(root),
                    "accounts": [b.issuer for b in ordered],
                    "parties": [b.party for b in ordered],
                    "blocks": [b.block for b in ordered],
                    "firstAnchoredBy": first.issuer,
                    "documentsUsed": len(leaves),
                    "usedThrough": {
                        b.issuer: len(through[b.issuer]) for b in ordered if through.get(b.issuer)
                    },
                },
                [
                    batch_row(b, order=n, documentsUsedThrough=len(through.get(b.issuer, ())))
                    for n, b in enumerate(ordered, 1)
                ],
            )
        )
    return out


def _admin_changes(s: Snapshot) -> list[Finding]:
    out = []
    for c in sorted(s.admin_proposals.values(), key=lambda c: c.id):
        if not c.executed:
            continue
        verb = f"add {c.account} as an admin" if c.add else f"remove admin {c.account}"
        how = (
            f"after its waiting period with {c.executed_approvals} of the {c.needed} approvals a majority needs"
            if c.by_delay
            else f"on the approval of {c.executed_approvals} admins ({c.needed} needed)"
        )
        out.append(
            Finding(
                "admin-change",
                WARNING if c.by_delay else INFO,
                f"admin change {c.id} of {c.party} by {c.proposer} to {verb} was executed {how}",
                f"admin change {c.id}",
                c.executed_block,
                c.executed_at,
                {
                    "change": c.id,
                    "party": c.party,
                    "account": c.account,
                    "add": c.add,
                    "proposer": c.proposer,
                    "createdAt": c.created_at,
                    "readyAt": c.ready_at,
                    "executedAt": c.executed_at,
                    "approvals": c.executed_approvals,
                    "needed": c.needed,
                    "byDelay": c.by_delay,
                },
                [{"admin": a.admin, "approvedAt": a.time, "block": a.block} for a in c.approvals],
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
    checks = {c.fingerprint: check_ca(snapshot, c) for c in snapshot.cas.values()}
    found = [
        *_observations(snapshot),
        *(_mismatches(consistency) if consistency is not None else []),
        *_ca_proofs(snapshot, idx, checks),
        *_shared_keys(snapshot, checks),
        *_shared_roots(snapshot),
        *_backdated(snapshot, idx),
        *_anchored_before_suspension(snapshot, idx, window),
        *_notices(notices or []),
        *_governance(snapshot),
        *_admin_changes(snapshot),
    ]
    return sort_findings(found)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then in chain order."""
    return sorted(findings, key=lambda f: (_RANK[f.severity], f.block, f.kind, f.subject))


def counts(findings: list[Finding]) -> dict[str, int]:
    out = {CRITICAL: 0, WARNING: 0, INFO: 0}
    for f in findings:
        out[f.severity] += 1
    return out


__all__ = ["CRITICAL", "EXPLANATIONS", "INFO", "WARNING", "Finding", "counts", "find", "sort_findings"]
