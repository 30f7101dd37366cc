"""Does the replayed history agree with what the contracts themselves say at the same block?

For every entity of the snapshot (or, for very large registries, a reproducible random sample of the
batches and documents; the trust registry is always checked whole) the contracts' view functions are
called with eth_call pinned to the snapshot's block, and each answer is compared with what the replay
derives. Time views (caStatusAt, recognitionAt, documentStateAt, ...) are asked around every effective
time the history holds, where an off-by-one or a mishandled backdating would show. Any difference is a
mismatch: either the replay or the chain's own account is wrong, and an auditor must look.
"""

from __future__ import annotations

import random
import time as _time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from .._internal.abi import Function
from .ids import hex32, party_raw
from .snapshot import Snapshot, StatusEntry
from .source import CALL_BATCH, AuditSource
from .terms_check import check_uses
from .views import document_view

ZERO8 = b"\x00" * 8
ZERO32 = b"\x00" * 32
# Up to this many batches + documents are all checked unless a sample size is asked for.
DEFAULT_FULL_LIMIT = 20_000
_MAX_TIMES = 12


@dataclass(frozen=True)
class Mismatch:
    entity: str
    call: str
    expected: Any
    actual: Any


@dataclass
class ConsistencyReport:
    block: int
    digest: str
    calls: int = 0
    entities_total: int = 0
    entities_checked: int = 0
    document_entities_total: int = 0
    document_entities_checked: int = 0
    sampled: bool = False
    seed: int | None = None
    seconds: float = 0.0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        d["seconds"] = round(self.seconds, 3)
        return d

    def describe(self) -> str:
        scope = (
            f"a random sample of {self.document_entities_checked:,} of {self.document_entities_total:,} "
            f"batches/documents (seed {self.seed}) plus the whole trust registry"
            if self.sampled
            else f"all {self.entities_checked:,} entities"
        )
        verdict = "agree" if self.ok else f"DISAGREE in {len(self.mismatches)} answers"
        return f"replay and contract views at block {self.block} {verdict}: {self.calls:,} calls over {scope}"


def plain(value: Any) -> Any:
    """ABI-decoded values in one comparable, JSON-able form."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _p(party: str) -> str:
    return "0x" + (party_raw(party) if party else ZERO8).hex()


def _times(base: int, *points: int) -> list[int]:
    ts = {base}
    for t in points:
        if t > 0:
            ts.update((t - 1, t))
    return sorted(ts)[-_MAX_TIMES:]


def _history(h: list[StatusEntry]) -> list[dict[str, int]]:
    return [
        {"status": e.status, "effectiveAt": e.effective_at, "recordedAt": e.recorded_at, "reason": e.reason}
        for e in h
    ]


Check = tuple[str, str, Function, tuple[Any, ...], Any]


def _membership_points(s: Snapshot, *parties: str) -> list[int]:
    return [m.at for pid in parties if (p := s.parties.get(pid)) is not None for m in p.membership]


class _Checks:
    def __init__(self, source: AuditSource, s: Snapshot) -> None:
        self.s = s
        self.trust = source.trust_address
        self.docs = source.document_address
        self.tf = source.trust_abi.functions
        self.df = source.document_abi.functions

    def trust_registry(self) -> Iterator[Check]:
        s, t, f = self.s, self.trust, self.tf
        yield "registry", t, f["threshold"], (), s.threshold
        yield "registry", t, f["memberCount"], (), s.member_count
        yield "registry", t, f["parties"], (), [_p(p) for p in s.party_order]
        yield "registry", t, f["proposalCount"], (), s.proposal_count
        yield "registry", t, f["adminChangeCount"], (), s.admin_change_count
        yield "registry", t, f["oneTimeDocTypes"], (), s.one_time_types
        for pid, p in s.parties.items():
            e = f"party {pid}"
            raw = party_raw(pid)
            yield e, t, f["isMember"], (raw,), p.member
            yield (
                e,
                t,
                f["membershipHistory"],
                (raw,),
                [{"member": m.member, "at": m.at} for m in p.membership],
            )
            yield e, t, f["admins"], (raw,), p.admins
            yield e, t, f["consumers"], (raw,), p.consumers
            yield e, t, f["witnesses"], (raw,), p.witnesses
            yield e, t, f["partyCAs"], (raw,), [hex32(c) for c in p.cas]
            yield e, t, f["partyIssuers"], (raw,), p.issuers
            for when in _times(s.block_time, *(m.at for m in p.membership)):
                yield e, t, f["isMemberAt"], (raw, when), s.is_member_at(pid, when)
        for account, pid in s.admin_party.items():
            yield f"admin {account}", t, f["adminParty"], (account,), _p(pid)
        for account, pid in s.consumer_party.items():
            yield f"consumer {account}", t, f["consumerParty"], (account,), _p(pid)
        for account, pid in s.witness_party.items():
            yield f"witness {account}", t, f["witnessParty"], (account,), _p(pid)
        accounts = dict.fromkeys([*s.admin_party, *s.issuers, *s.consumer_party, *s.witness_party])
        for account in accounts:
            role, pid = s.role_of(account)
            yield f"account {account}", t, f["roleOf"], (account,), [role, _p(pid)]
        for q in s.proposals.values():
            e = f"proposal {q.id}"
            yield (
                e,
                t,
                f["proposal"],
                (q.id,),
                {
                    "kind": q.kind,
                    "party": _p(q.party),
                    "account": q.account,
                    "threshold": q.threshold,
                    "docTypes": q.doc_types,
                    "proposer": _p(q.proposer),
                    "createdAt": q.created_at,
                    "expiresAt": q.expires_at,
                    "executed": q.executed,
                    "approvals": s.current_approvals(q),
                },
            )
            approvers = {a.party for a in q.approvals}
            for pid in s.party_order:
                yield e, t, f["hasApproved"], (q.id, party_raw(pid)), pid in approvers
        for ac in s.admin_proposals.values():
            yield (
                f"admin change {ac.id}",
                t,
                f["adminChange"],
                (ac.id,),
                {
                    "party": _p(ac.party),
                    "account": ac.account,
                    "add": ac.add,
                    "proposer": ac.proposer,
                    "createdAt": ac.created_at,
                    "readyAt": ac.ready_at,
                    "expiresAt": ac.expires_at,
                    "executed": ac.executed,
                    "cancelled": ac.cancelled,
                    "approvals": ac.executed_approvals if ac.executed else s.admin_approvals(ac),
                },
            )
        for fp, c in s.cas.items():
            e = f"CA {hex32(fp)}"
            yield (
                e,
                t,
                f["ca"],
                (fp,),
                {
                    "party": _p(c.party),
                    "notBefore": c.not_before,
                    "notAfter": c.not_after,
                    "docTypes": c.doc_types,
                    "status": c.status,
                    "registeredAt": c.registered_at,
                    "revokedAt": c.revoked_at,
                },
            )
            if c.certificate_hash:
                yield e, t, f["caId"], (party_raw(c.party), c.certificate_hash), hex32(fp)
            yield e, t, f["caHistory"], (fp,), _history(c.history)
            points = [x for h in c.history for x in (h.effective_at, h.recorded_at)]
            for when in _times(s.block_time, *points):
                yield e, t, f["caStatusAt"], (fp, when), s.ca_status_at(fp, when)
        for account, iss in s.issuers.items():
            e = f"issuer {account}"
            yield (
                e,
                t,
                f["issuer"],
                (account,),
                {
                    "party": _p(iss.party),
                    "ca": hex32(iss.ca),
                    "docTypes": iss.doc_types,
                    "status": iss.status,
                    "authorizedAt": iss.authorized_at,
                    "revokedAt": iss.revoked_at,
                },
            )
            yield e, t, f["issuerHistory"], (account,), _history(iss.history)
            points = [x for h in iss.history for x in (h.effective_at, h.recorded_at)]
            for when in _times(s.block_time, *points, *_membership_points(s, iss.party)):
                yield e, t, f["issuerStatusAt"], (account, when), s.issuer_status_at(account, when)
            for when in _times(s.block_time, iss.authorized_at, *_membership_points(s, iss.party)):
                yield e, t, f["anchoringValidAt"], (account, when), s.anchoring_valid_at(account, when)
        for account, a in s.issuer_auth.items():
            yield (
                f"issuer {account}",
                self.docs,
                self.df["issuerAuth"],
                (account,),
                {
                    "party": _p(a.party),
                    "docTypes": a.doc_types,
                    "active": a.active,
                },
            )
        for r in s.party_order:
            for i in s.party_order:
                if r == i:
                    continue
                e = f"recognition {r}->{i}"
                h = s.recognition.get((r, i), [])
                yield (
                    e,
                    t,
                    f["recognitionHistory"],
                    (party_raw(r), party_raw(i)),
                    [{"docTypes": x.doc_types, "effectiveAt": x.effective_at} for x in h],
                )
                if not h:
                    continue
                # A plain history lookup: a removal's ending of the recognition is a change of its own.
                for when in _times(s.block_time, *(x.effective_at for x in h)):
                    yield (
                        e,
                        t,
                        f["recognitionAt"],
                        (party_raw(r), party_raw(i), when),
                        s.recognition_at(r, i, when),
                    )

    def batch(self, key: tuple[str, bytes]) -> Iterator[Check]:
        s = self.s
        b = s.batches[key]
        issuer, root = key
        e = f"batch {issuer}/{hex32(root)}"
        yield (
            e,
            self.docs,
            self.df["batch"],
            (issuer, root),
            {
                "issuer": b.issuer,
                "anchoredAt": b.anchored_at,
                "docType": b.doc_type,
                "size": b.size,
            },
        )
        yield (
            e,
            self.trust,
            self.tf["anchoringValidAt"],
            (b.issuer, b.anchored_at),
            s.anchoring_valid_at(b.issuer, b.anchored_at),
        )
        if b.revoked_at:
            yield from self._document(issuer, root, ZERO32, e)

    def document(self, key: tuple[str, bytes, bytes]) -> Iterator[Check]:
        issuer, root, leaf = key
        e = f"document {issuer}/{hex32(root)}/{hex32(leaf)}"
        yield from self._document(issuer, root, leaf, e)
        s = self.s
        d = s.documents.get(key)
        u = s.usage_of(leaf)
        b = s.batches.get((issuer, root))
        points = [d.revoked_at, d.superseded_at] if d else []
        points.append(b.revoked_at if b else 0)
        if u is not None:
            # The leaf's use, whichever batch it went through.
            points.append(u.consumed_at)
            points += [x.time for x in u.endorsements]
        for when in _times(s.block_time, *points):
            yield (
                e,
                self.docs,
                self.df["documentStateAt"],
                (issuer, root, leaf, when),
                list(s.document_state_at(issuer, root, leaf, when)),
            )
        if b is None or u is None:
            return
        # What consume() and endorse() checked of the uses made through this batch.
        for consumer, when in sorted(set(u.uses_through((issuer, root)))):
            args = (party_raw(consumer), b.issuer, b.doc_type, when)
            expected = s.recognizes_issuer_at(consumer, b.issuer, b.doc_type, when)
            yield e, self.trust, self.tf["recognizesIssuerAt"], args, expected

    def _document(self, issuer: str, root: bytes, leaf: bytes, e: str) -> Iterator[Check]:
        yield (
            e,
            self.docs,
            self.df["document"],
            (issuer, root, leaf),
            plain(document_view(self.s, issuer, root, leaf)),
        )


def check_consistency(
    source: AuditSource,
    snapshot: Snapshot,
    *,
    sample: int | None = None,
    seed: int | None = None,
    full_limit: int = DEFAULT_FULL_LIMIT,
) -> ConsistencyReport:
    """Compare the snapshot with the contracts' views at ``snapshot.block``.

    `sample`: how many batches/documents to check (None: all of them up to `full_limit`, else a
    sample of `full_limit`). The sample is drawn with `seed` (default: derived from the snapshot's
    digest), so the same snapshot and seed always check the same entities.
    """
    t0 = _time.perf_counter()
    s = snapshot
    dig = s.digest()
    report = ConsistencyReport(block=s.block, digest=dig)
    checks = _Checks(source, s)
    roots = sorted(s.batches)
    # Every document the history names, and the same leaf in the other batches of its root: use is
    # per leaf, so a copy shows the use made through the original (and the other way round).
    docs = sorted(s.known_documents())
    doc_total = len(roots) + len(docs)
    want = sample if sample is not None else (doc_total if doc_total <= full_limit else full_limit)
    want = max(0, min(want, doc_total))
    picked: list[int]
    if want < doc_total:
        report.sampled = True
        report.seed = seed if seed is not None else int(dig.split(":")[1][:12], 16)
        picked = sorted(random.Random(report.seed).sample(range(doc_total), want))
    else:
        picked = list(range(doc_total))
    accounts = len((set(s.admin_party) | set(s.consumer_party)) - set(s.issuers))
    trust_entities = (
        len(s.parties) + len(s.proposals) + len(s.admin_proposals) + len(s.cas) + len(s.issuers) + accounts
    )
    report.document_entities_total = doc_total
    report.document_entities_checked = len(picked)
    report.entities_total = trust_entities + doc_total
    report.entities_checked = trust_entities + len(picked)

    def doc_checks() -> Iterator[Check]:
        for i in picked:
            if i < len(roots):
                yield from checks.batch(roots[i])
            else:
                yield from checks.document(docs[i - len(roots)])

    # While the node answers one batch of calls, the next is encoded and the previous compared.
    pool = ThreadPoolExecutor(max_workers=1) if source.prefetch else None
    in_flight: tuple[list[Check], Future[list[bytes]]] | None = None
    try:
        for chunk in _batches(_chain(checks.trust_registry(), doc_checks())):
            calls = [(to, fn.encode(*args)) for _, to, fn, args, _ in chunk]
            fut: Future[list[bytes]]
            if pool is not None:
                fut = pool.submit(source.eth_calls, calls, s.block)
            else:
                fut = Future()
                fut.set_result(source.eth_calls(calls, s.block))
            if in_flight is not None:
                _compare(*in_flight, report)
            in_flight = (chunk, fut)
        if in_flight is not None:
            _compare(*in_flight, report)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    # Uses of one-time documents against the terms they were used under (read from call data).
    checked, problems = check_uses(source, s.block, {k: b.doc_type for k, b in s.batches.items()})
    report.calls += checked
    for p in problems:
        report.mismatches.append(
            Mismatch(f"use of leaf {hex32(p.leaf)} in {p.tx}", "terms", "within its terms", p.problem)
        )
    report.seconds = _time.perf_counter() - t0
    return report


def _chain(*its: Iterator[Check]) -> Iterator[Check]:
    for it in its:
        yield from it


def _batches(checks: Iterator[Check]) -> Iterator[list[Check]]:
    chunk: list[Check] = []
    for c in checks:
        chunk.append(c)
        if len(chunk) >= CALL_BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _compare(checks: list[Check], answers: Future[list[bytes]], report: ConsistencyReport) -> None:
    report.calls += len(checks)
    for (entity, _to, fn, args, expected), raw in zip(checks, answers.result(), strict=True):
        actual = plain(fn.decode(raw))
        want = plain(expected)
        if actual != want:
            shown = ", ".join(str(plain(a)) for a in args)
            report.mismatches.append(Mismatch(entity, f"{fn.name}({shown})", want, actual))
