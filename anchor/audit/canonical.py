"""Canonical serialization of a snapshot, its digest, and the way back (for checkpoints).

The snapshot is written as sections of entities keyed by their on-chain identity; each entity is
compact JSON with sorted keys and no whitespace, and the digest is SHA-256 over every
"section, key, entity" line in sorted order. Nothing in it depends on how the replay ran (in one go,
from a checkpoint, with which chunk sizes), so two independent replays to the same block agree on the
digest exactly when they agree on the state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from .errors import CheckpointError
from .ids import hex32, unhex
from .snapshot import (
    CA,
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

FORMAT = 2  # 2: parties carry their admin changes
SECTIONS = (
    "meta",
    "parties",
    "admins",
    "proposals",
    "cas",
    "issuers",
    "issuerAuth",
    "recognition",
    "batches",
    "documents",
    "observations",
)


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _history(h: list[StatusEntry]) -> list[list[Any]]:
    return [[e.status, e.effective_at, e.recorded_at, e.reason, e.block, e.tx] for e in h]


def _unhistory(rows: list[list[Any]]) -> list[StatusEntry]:
    return [StatusEntry(*r) for r in rows]


def _meta(s: Snapshot) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "chainId": s.chain_id,
        "trustRegistry": s.trust_registry,
        "documentRegistry": s.document_registry,
        "deployBlock": s.deploy_block,
        "block": s.block,
        "blockHash": s.block_hash,
        "blockTime": s.block_time,
        "events": s.events,
        "eventCounts": s.event_counts,
        "threshold": s.threshold,
        "memberCount": s.member_count,
        "parties": s.party_order,
        "thresholdHistory": [[t.old, t.new, t.proposal, t.time, t.block] for t in s.threshold_history],
    }


def _section(s: Snapshot, name: str) -> Iterator[tuple[str, Any]]:
    """(key, entity) pairs of one section, unsorted."""
    if name == "meta":
        yield "registry", _meta(s)
    elif name == "parties":
        for pid, p in s.parties.items():
            yield (
                pid,
                {
                    "membership": [[m.member, m.at, m.block, m.proposal] for m in p.membership],
                    "admins": p.admins,
                    "cas": [hex32(c) for c in p.cas],
                    "issuers": p.issuers,
                    "adminChanges": [[c.added, c.at, c.block, c.account] for c in p.admin_changes],
                },
            )
    elif name == "admins":
        yield from s.admin_party.items()
    elif name == "proposals":
        for number, q in s.proposals.items():
            yield (
                str(number),
                {
                    "kind": q.kind,
                    "party": q.party,
                    "account": q.account,
                    "threshold": q.threshold,
                    "proposer": q.proposer,
                    "createdAt": q.created_at,
                    "expiresAt": q.expires_at,
                    "block": q.block,
                    "tx": q.tx,
                    "approvals": [[a.party, a.time, a.block] for a in q.approvals],
                    "executed": q.executed,
                    "executedAt": q.executed_at,
                    "executedBlock": q.executed_block,
                    "executedApprovals": q.executed_approvals,
                    "counted": q.counted,
                    "thresholdAtExecution": q.threshold_at_execution,
                },
            )
    elif name == "cas":
        for fp, c in s.cas.items():
            yield (
                hex32(fp),
                {
                    "party": c.party,
                    "notBefore": c.not_before,
                    "notAfter": c.not_after,
                    "docTypes": c.doc_types,
                    "status": c.status,
                    "registeredAt": c.registered_at,
                    "revokedAt": c.revoked_at,
                    "block": c.block,
                    "history": _history(c.history),
                },
            )
    elif name == "issuers":
        for acct, i in s.issuers.items():
            yield (
                acct,
                {
                    "party": i.party,
                    "ca": hex32(i.ca),
                    "docTypes": i.doc_types,
                    "status": i.status,
                    "authorizedAt": i.authorized_at,
                    "revokedAt": i.revoked_at,
                    "block": i.block,
                    "history": _history(i.history),
                },
            )
    elif name == "issuerAuth":
        for acct, a in s.issuer_auth.items():
            yield acct, [a.party, a.doc_types, a.active, a.block]
    elif name == "recognition":
        for (recognizer, recognized), h in s.recognition.items():
            yield (
                f"{recognizer}>{recognized}",
                [[e.doc_types, e.old_doc_types, e.effective_at, e.recorded_at, e.block] for e in h],
            )
    elif name == "batches":
        for root, b in s.batches.items():
            yield (
                hex32(root),
                [
                    b.issuer,
                    b.party,
                    b.doc_type,
                    b.size,
                    b.anchored_at,
                    b.block,
                    b.revoked_at,
                    b.revoke_reason,
                    b.revoked_block,
                ],
            )
    elif name == "documents":
        for (root, leaf), d in s.documents.items():
            yield (
                f"{hex32(root)}:{hex32(leaf)}",
                [
                    d.revoked_at,
                    d.revoke_reason,
                    d.revoked_block,
                    d.superseded_at,
                    hex32(d.successor_root) if d.successor_root else "",
                    hex32(d.successor_leaf) if d.successor_leaf else "",
                    d.superseded_block,
                    d.consumed_at,
                    d.consumed_by,
                    d.consumer_account,
                    d.consumed_block,
                ],
            )
    elif name == "observations":
        # One event can give several observations: a sequence number keeps their keys apart.
        seq, last = 0, (-1, -1)
        for o in s.observations:
            seq = seq + 1 if (o.block, o.log_index) == last else 0
            last = (o.block, o.log_index)
            yield (
                f"{o.block:012d}:{o.log_index:06d}:{seq:03d}:{o.kind}",
                {"time": o.time, "tx": o.tx, "details": o.details},
            )


def entity_strings(s: Snapshot) -> dict[str, dict[str, str]]:
    """Every entity as its canonical JSON text, by section and key (what diffs compare)."""
    return {name: {k: dumps(v) for k, v in _section(s, name)} for name in SECTIONS}


def to_canonical(s: Snapshot) -> dict[str, dict[str, Any]]:
    return {name: dict(_section(s, name)) for name in SECTIONS}


def digest(s: Snapshot) -> str:
    h = hashlib.sha256()
    for name in SECTIONS:
        for key, value in sorted(_section(s, name), key=lambda kv: kv[0]):
            h.update(f"{name}\x1f{key}\x1f{dumps(value)}\n".encode())
    return "sha256:" + h.hexdigest()


def from_canonical(data: dict[str, dict[str, Any]]) -> Snapshot:
    """Rebuild a snapshot from :func:`to_canonical` output; the caller checks the digest."""
    try:
        return _rebuild(data)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise CheckpointError(f"malformed snapshot data ({type(e).__name__}: {e})") from None


def _rebuild(data: dict[str, dict[str, Any]]) -> Snapshot:
    m = data["meta"]["registry"]
    if m.get("format") != FORMAT:
        raise CheckpointError(f"unsupported snapshot format {m.get('format')!r}")
    s = Snapshot(
        chain_id=m["chainId"],
        trust_registry=m["trustRegistry"],
        document_registry=m["documentRegistry"],
        deploy_block=m["deployBlock"],
        block=m["block"],
        block_hash=m["blockHash"],
        block_time=m["blockTime"],
        events=m["events"],
        event_counts=dict(m["eventCounts"]),
        threshold=m["threshold"],
        member_count=m["memberCount"],
        threshold_history=[ThresholdChange(*t) for t in m["thresholdHistory"]],
        party_order=list(m["parties"]),
    )
    for pid, p in data["parties"].items():
        s.parties[pid] = Party(
            pid,
            [MembershipEntry(*x) for x in p["membership"]],
            list(p["admins"]),
            [unhex(c) for c in p["cas"]],
            list(p["issuers"]),
            [AdminChange(*x) for x in p["adminChanges"]],
        )
    s.admin_party = dict(data["admins"])
    for key, q in data["proposals"].items():
        s.proposals[int(key)] = Proposal(
            int(key),
            q["kind"],
            q["party"],
            q["account"],
            q["threshold"],
            q["proposer"],
            q["createdAt"],
            q["expiresAt"],
            q["block"],
            q["tx"],
            [Approval(*a) for a in q["approvals"]],
            q["executed"],
            q["executedAt"],
            q["executedBlock"],
            q["executedApprovals"],
            list(q["counted"]),
            q["thresholdAtExecution"],
        )
    for key, c in data["cas"].items():
        fp = unhex(key)
        s.cas[fp] = CA(
            fp,
            c["party"],
            c["notBefore"],
            c["notAfter"],
            c["docTypes"],
            c["status"],
            c["registeredAt"],
            c["revokedAt"],
            c["block"],
            _unhistory(c["history"]),
        )
    for acct, i in data["issuers"].items():
        s.issuers[acct] = Issuer(
            acct,
            i["party"],
            unhex(i["ca"]),
            i["docTypes"],
            i["status"],
            i["authorizedAt"],
            i["revokedAt"],
            i["block"],
            _unhistory(i["history"]),
        )
    for acct, a in data["issuerAuth"].items():
        s.issuer_auth[acct] = IssuerAuth(*a)
    for key, rows in data["recognition"].items():
        r, i = key.split(">")
        s.recognition[(r, i)] = [RecognitionEntry(*e) for e in rows]
    for key, b in data["batches"].items():
        root = unhex(key)
        s.batches[root] = Batch(root, *b)
    for key, d in data["documents"].items():
        root_hex, leaf_hex = key.split(":")
        root, leaf = unhex(root_hex), unhex(leaf_hex)
        s.documents[(root, leaf)] = Document(
            root,
            leaf,
            d[0],
            d[1],
            d[2],
            d[3],
            unhex(d[4]) if d[4] else b"",
            unhex(d[5]) if d[5] else b"",
            d[6],
            d[7],
            d[8],
            d[9],
            d[10],
        )
    for key, o in sorted(data["observations"].items()):
        block, index, _seq, kind = key.split(":", 3)
        s.observations.append(Observation(kind, int(block), int(index), o["time"], o["tx"], o["details"]))
    return s
