"""Point-in-time views of a snapshot, and what changed between two snapshots.

``state_at(snapshot, T)`` answers "what did the registries say held at time T", using the history as
known at the snapshot's block: with a snapshot at the block of time T it is what anyone could read
then; with a later snapshot it includes what was recorded afterwards with effect at T (backdating).
"""

from __future__ import annotations

import json
from typing import Any

from ..doctypes import names_of, type_name
from ..reasons import reason_name
from .ids import ZERO_ADDRESS, hex32, party_raw
from .snapshot import NONE, REASON_PARTY_REMOVED, Batch, Snapshot, status_name
from .snapshot_codec import entity_strings

ZERO8 = b"\x00" * 8
ZERO32 = b"\x00" * 32


def document_view(s: Snapshot, issuer: str, root: bytes, leaf: bytes) -> dict[str, Any]:
    """What ``DocumentRegistry.document(issuer, root, leaf)`` returns, ABI-decoded, from the snapshot: the
    consistency check compares it with the contract's answer, the offline verifier reads it instead."""
    b = s.batches.get((issuer, root))
    d = s.documents.get((issuer, root, leaf))
    u = s.usage_of(leaf)  # use is the leaf's, whichever batch named it
    auth = s.issuer_auth.get(b.issuer) if b else None
    return {
        "batch": {
            "issuer": b.issuer if b else ZERO_ADDRESS,
            "anchoredAt": b.anchored_at if b else 0,
            "docType": b.doc_type if b else 0,
            "size": b.size if b else 0,
        },
        "party": party_raw(auth.party) if auth and auth.party else ZERO8,
        "batchRevocation": {"revokedAt": b.revoked_at if b else 0, "reason": b.revoke_reason if b else 0},
        "state": {
            "revokedAt": d.revoked_at if d else 0,
            "revokeReason": d.revoke_reason if d else 0,
            "supersededAt": d.superseded_at if d else 0,
            "consumedAt": u.consumed_at if u else 0,
            "consumedBy": party_raw(u.consumed_by) if u and u.consumed_by else ZERO8,
            "endorsed": u.endorsed if u else 0,
        },
        "successorIssuer": d.successor_issuer if d and d.successor_issuer else ZERO_ADDRESS,
        "successorRoot": d.successor_root if d and d.successor_root else ZERO32,
        "successorLeaf": d.successor_leaf if d and d.successor_leaf else ZERO32,
    }


def status_reason(code: int) -> str:
    """A status change's reason; 255 is what a party's removal records for its issuer accounts."""
    return "party-removed" if code == REASON_PARTY_REMOVED else reason_name(code)


def batch_row(b: Batch, **extra: Any) -> dict[str, Any]:
    """One anchored batch as plain data (state views, finding details), with `extra` fields last."""
    return {
        "root": hex32(b.root),
        "issuer": b.issuer,
        "party": b.party,
        "docType": type_name(b.doc_type),
        "size": b.size,
        "anchoredAt": b.anchored_at,
        "block": b.block,
        **extra,
    }


def _threshold_at(s: Snapshot, time: int) -> int:
    value = 0
    for t in s.threshold_history:
        if t.time <= time:
            value = t.new
    return value


def state_at(s: Snapshot, time: int, *, full: bool = False) -> dict[str, Any]:
    parties = list(s.party_order)
    members = [p for p in parties if s.is_member_at(p, time)]
    cas = []
    for c in s.cas.values():
        st = s.ca_status_at(c.fingerprint, time)
        if st == NONE:
            continue
        cas.append(
            {
                "fingerprint": hex32(c.fingerprint),
                "party": c.party,
                "status": status_name(st),
                "docTypes": names_of(c.doc_types),
                "registeredAt": c.registered_at,
                "revokedAt": c.revoked_at if c.revoked_at and c.revoked_at <= time else 0,
                "notBefore": c.not_before,
                "notAfter": c.not_after,
                "certificateHash": hex32(c.certificate_hash) if c.certificate_hash else "",
            }
        )
    issuers = []
    for i in s.issuers.values():
        st = s.issuer_status_at(i.account, time)
        if st == NONE:
            continue
        issuers.append(
            {
                "account": i.account,
                "party": i.party,
                "ca": hex32(i.ca),
                "status": status_name(st),
                "caStatus": status_name(s.ca_status_at(i.ca, time)),
                "docTypes": names_of(i.doc_types),
                "authorizedAt": i.authorized_at,
            }
        )
    matrix = {r: {i: names_of(s.recognition_at(r, i, time)) for i in parties if i != r} for r in parties}
    totals: dict[str, dict[str, int]] = {}
    batches = []
    for b in s.batches.values():
        if b.anchored_at > time:
            continue
        t = totals.setdefault(
            b.party, {"batches": 0, "documents": 0, "batchesRevoked": 0, "documentsInRevokedBatches": 0}
        )
        t["batches"] += 1
        t["documents"] += b.size
        revoked = bool(b.revoked_at) and b.revoked_at <= time
        if revoked:
            t["batchesRevoked"] += 1
            t["documentsInRevokedBatches"] += b.size
        if full:
            batches.append(batch_row(b, revokedAt=b.revoked_at if revoked else 0))
    # Revocation and supersession are counted per (batch, leaf); use per leaf, once however many batches
    # name it (a copied root shares the use of the original's documents).
    documents = {"revoked": 0, "superseded": 0, "consumed": 0, "endorsed": 0}
    for use in s.usage.values():
        documents["consumed"] += use.consumed_at != 0 and use.consumed_at <= time
        documents["endorsed"] += use.endorsed_at(time) > 0
    doc_rows = []
    for issuer, root, leaf in s.known_documents():
        d = s.documents.get((issuer, root, leaf))
        u = s.usage_of(leaf)
        revoked, superseded, consumed = s.document_state_at(issuer, root, leaf, time)
        endorsed = u.endorsed_at(time) if u is not None else 0
        if d is not None:
            documents["revoked"] += revoked and bool(d.revoked_at)
            documents["superseded"] += superseded
        if full and (revoked or superseded or consumed or endorsed):
            through = (
                [f"{i}/{hex32(r)}" for i, r in u.batches_by(time) if (i, r) != (issuer, root)]
                if u is not None
                else []
            )
            doc_rows.append(
                {
                    "issuer": issuer,
                    "root": hex32(root),
                    "leaf": hex32(leaf),
                    "revoked": revoked,
                    "revokeReason": reason_name(d.revoke_reason) if d is not None and d.revoked_at else "",
                    "superseded": superseded,
                    "successor": (
                        f"{d.successor_issuer}/{hex32(d.successor_root)}/{hex32(d.successor_leaf)}"
                        if d is not None and superseded
                        else ""
                    ),
                    "consumed": consumed,
                    "consumedBy": u.consumed_by if u is not None and consumed else "",
                    "endorsed": endorsed,
                    "quantity": u.quantity if u is not None and endorsed else 0,
                    # The use (of the leaf) went through other batches too: the same document elsewhere.
                    "usedThroughOtherBatches": through,
                }
            )
    proposals = [
        {
            "id": q.id,
            "kind": q.kind_name,
            "party": q.party,
            "threshold": q.threshold,
            "docTypes": names_of(q.doc_types) if q.kind_name == "set-one-time-types" else [],
            "proposer": q.proposer,
            "createdAt": q.created_at,
            "approvedBy": [a.party for a in q.approvals if a.time <= time],
            "executed": q.executed and q.executed_at <= time,
            "expired": not (q.executed and q.executed_at <= time) and q.expires_at < time,
        }
        for q in s.proposals.values()
        if q.created_at <= time
    ]
    admin_changes = [
        {
            "id": c.id,
            "party": c.party,
            "account": c.account,
            "change": "add" if c.add else "remove",
            "proposer": c.proposer,
            "createdAt": c.created_at,
            "readyAt": c.ready_at,
            "approvedBy": [a.admin for a in c.approvals if a.time <= time],
            "cancelled": c.cancelled and c.cancelled_at <= time,
            "executed": c.executed and c.executed_at <= time,
            "expired": not (c.executed and c.executed_at <= time)
            and not (c.cancelled and c.cancelled_at <= time)
            and c.expires_at < time,
            # Proposed before the party's membership at `time` began: its removal closed it for good.
            "closedByRemoval": not (c.executed and c.executed_at <= time)
            and not (c.cancelled and c.cancelled_at <= time)
            and s.admin_change_closed_by_removal(c, time),
        }
        for c in s.admin_proposals.values()
        if c.created_at <= time
    ]
    out: dict[str, Any] = {
        "at": time,
        "knownAtBlock": s.block,
        "knownAtBlockTime": s.block_time,
        "blockHash": s.block_hash,
        "threshold": _threshold_at(s, time),
        "oneTimeTypes": names_of(s.one_time_types_at(time)),
        "members": members,
        "parties": [
            {
                "party": p,
                "member": p in members,
                "admins": s.parties[p].admins_at(time),
                "adminsAtKnownBlock": s.parties[p].admins,
                "consumers": s.parties[p].consumers_at(time),
            }
            for p in parties
        ],
        "cas": cas,
        "issuers": issuers,
        "recognition": matrix,
        "proposals": proposals,
        "adminChanges": admin_changes,
        "anchored": totals,
        "documents": documents,
    }
    if full:
        out["batches"] = batches
        out["documentStates"] = doc_rows
    return out


def diff(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Per section: keys added, removed, and changed (with both canonical values)."""
    out: dict[str, Any] = {}
    for section in after.keys() | before.keys():
        a, b = before.get(section, {}), after.get(section, {})
        added = sorted(b.keys() - a.keys())
        removed = sorted(a.keys() - b.keys())
        changed = [
            {"key": k, "before": json.loads(a[k]), "after": json.loads(b[k])}
            for k in sorted(a.keys() & b.keys())
            if a[k] != b[k]
        ]
        if added or removed or changed:
            out[section] = {
                "added": [{"key": k, "value": json.loads(b[k])} for k in added],
                "removed": removed,
                "changed": changed,
            }
    return out


def snapshot_strings(s: Snapshot) -> dict[str, dict[str, str]]:
    return entity_strings(s)
