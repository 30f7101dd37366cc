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

from .errors import ResumePointError
from .ids import hex32, unhex
from .snapshot import (
    CA,
    AccountChange,
    AdminApproval,
    AdminProposal,
    Approval,
    Batch,
    BatchKey,
    DocKey,
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

# 2: parties carry their admin changes. 3: registries v2 (batches and documents keyed by issuer
# account, consumer accounts, admin changes, one-time types, CA certificates, endorsements).
# 4: use (consumption, endorsements) per leaf in its own section, each use naming the batch it went
# through; recognition changes say which party's removal ended them.
# 5: witness accounts (a role beside admin, issuer and consumer).
FORMAT = 5
SECTIONS = (
    "meta",
    "parties",
    "admins",
    "consumers",
    "witnesses",
    "proposals",
    "adminChanges",
    "cas",
    "issuers",
    "issuerAuth",
    "recognition",
    "batches",
    "documents",
    "usage",
    "observations",
)


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _history(h: list[StatusEntry]) -> list[list[Any]]:
    return [[e.status, e.effective_at, e.recorded_at, e.reason, e.block, e.tx] for e in h]


def _unhistory(rows: list[list[Any]]) -> list[StatusEntry]:
    return [StatusEntry(*r) for r in rows]


def _hex_or_empty(value: bytes) -> str:
    return hex32(value) if value else ""


def _unhex_or_empty(text: str) -> bytes:
    return unhex(text) if text else b""


def batch_key(issuer: str, root: bytes) -> str:
    """A batch's canonical key: its issuer account and root."""
    return f"{issuer}:{hex32(root)}"


def document_key(issuer: str, root: bytes, leaf: bytes) -> str:
    """A document's canonical key: its batch's issuer account and root, and its leaf."""
    return f"{issuer}:{hex32(root)}:{hex32(leaf)}"


def batch_entity(b: Batch) -> list[Any]:
    """A batch's canonical entity (what the checkpoint map and the snapshot digest commit to)."""
    return [
        b.party,
        b.doc_type,
        b.size,
        b.anchored_at,
        b.block,
        b.revoked_at,
        b.revoke_reason,
        b.revoked_block,
        b.revoked_by,
        b.log_index,
    ]


def document_entity(d: Document) -> dict[str, Any]:
    """A document's canonical entity: its revocation and supersession (use is the leaf's: usage_entity)."""
    return {
        "revoked": [d.revoked_at, d.revoke_reason, d.revoked_block, d.revoked_by],
        "superseded": [
            d.superseded_at,
            d.successor_issuer,
            _hex_or_empty(d.successor_root),
            _hex_or_empty(d.successor_leaf),
            d.superseded_block,
            d.superseded_by,
        ],
    }


def usage_entity(u: Usage) -> dict[str, Any]:
    """A leaf's canonical use entity: consumption and endorsements, whichever batch they went through."""
    return {
        "consumed": [
            u.consumed_at,
            u.consumed_by,
            u.consumer_account,
            u.consumed_block,
            u.consumed_issuer,
            _hex_or_empty(u.consumed_root),
        ],
        "endorsed": u.endorsed,
        "quantity": u.quantity,
        "endorsements": [
            [
                e.consumer,
                e.account,
                e.amount,
                e.endorsed,
                e.quantity,
                e.time,
                e.block,
                e.tx,
                e.issuer,
                _hex_or_empty(e.root),
            ]
            for e in u.endorsements
        ],
    }


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
        "oneTimeTypes": s.one_time_types,
        "oneTimeHistory": [[t.old, t.new, t.proposal, t.time, t.block] for t in s.one_time_history],
    }


def _changes(changes: list[AccountChange]) -> list[list[Any]]:
    return [[c.added, c.at, c.block, c.account] for c in changes]


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
                    "adminChanges": _changes(p.admin_changes),
                    "consumers": p.consumers,
                    "consumerChanges": _changes(p.consumer_changes),
                    "witnesses": p.witnesses,
                    "witnessChanges": _changes(p.witness_changes),
                },
            )
    elif name == "admins":
        yield from s.admin_party.items()
    elif name == "consumers":
        yield from s.consumer_party.items()
    elif name == "witnesses":
        yield from s.witness_party.items()
    elif name == "proposals":
        for number, q in s.proposals.items():
            yield (
                str(number),
                {
                    "kind": q.kind,
                    "party": q.party,
                    "account": q.account,
                    "threshold": q.threshold,
                    "docTypes": q.doc_types,
                    "proposer": q.proposer,
                    "createdAt": q.created_at,
                    "expiresAt": q.expires_at,
                    "block": q.block,
                    "tx": q.tx,
                    "approvals": [[a.party, a.time, a.block, a.epoch] for a in q.approvals],
                    "executed": q.executed,
                    "executedAt": q.executed_at,
                    "executedBlock": q.executed_block,
                    "executedApprovals": q.executed_approvals,
                    "counted": q.counted,
                    "thresholdAtExecution": q.threshold_at_execution,
                },
            )
    elif name == "adminChanges":
        for number, ac in s.admin_proposals.items():
            yield (
                str(number),
                {
                    "party": ac.party,
                    "account": ac.account,
                    "add": ac.add,
                    "proposer": ac.proposer,
                    "createdAt": ac.created_at,
                    "readyAt": ac.ready_at,
                    "expiresAt": ac.expires_at,
                    "block": ac.block,
                    "tx": ac.tx,
                    "approvals": [[a.admin, a.time, a.block] for a in ac.approvals],
                    "cancelled": [ac.cancelled, ac.cancelled_by, ac.cancelled_at, ac.cancelled_block],
                    "executed": [
                        ac.executed,
                        ac.executed_at,
                        ac.executed_block,
                        ac.executed_approvals,
                        ac.needed,
                    ],
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
                    "tx": c.tx,
                    "history": _history(c.history),
                    "certificateHash": _hex_or_empty(c.certificate_hash),
                    "certificate": _hex_or_empty(c.certificate),
                    "proofOfPossession": _hex_or_empty(c.proof),
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
                [
                    [e.doc_types, e.old_doc_types, e.effective_at, e.recorded_at, e.block, e.ended_by]
                    for e in h
                ],
            )
    elif name == "batches":
        for (issuer, root), b in s.batches.items():
            yield batch_key(issuer, root), batch_entity(b)
    elif name == "documents":
        for (issuer, root, leaf), d in s.documents.items():
            yield document_key(issuer, root, leaf), document_entity(d)
    elif name == "usage":
        for leaf, u in s.usage.items():
            yield hex32(leaf), usage_entity(u)
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


def section_strings(s: Snapshot, names: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """The entities of the named sections only, as canonical JSON text."""
    return {name: {k: dumps(v) for k, v in _section(s, name)} for name in names}


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
        raise ResumePointError(f"malformed snapshot data ({type(e).__name__}: {e})") from None


def _rebuild(data: dict[str, dict[str, Any]]) -> Snapshot:
    m = data["meta"]["registry"]
    if m.get("format") != FORMAT:
        raise ResumePointError(f"unsupported snapshot format {m.get('format')!r}")
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
        one_time_types=m["oneTimeTypes"],
        one_time_history=[OneTimeChange(*t) for t in m["oneTimeHistory"]],
        party_order=list(m["parties"]),
    )
    for pid, p in data["parties"].items():
        s.parties[pid] = Party(
            pid,
            [MembershipEntry(*x) for x in p["membership"]],
            list(p["admins"]),
            [unhex(c) for c in p["cas"]],
            list(p["issuers"]),
            [AccountChange(*x) for x in p["adminChanges"]],
            list(p["consumers"]),
            [AccountChange(*x) for x in p["consumerChanges"]],
            list(p["witnesses"]),
            [AccountChange(*x) for x in p["witnessChanges"]],
        )
    s.admin_party = dict(data["admins"])
    s.consumer_party = dict(data["consumers"])
    s.witness_party = dict(data["witnesses"])
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
            q["docTypes"],
        )
    for key, c in data["adminChanges"].items():
        cancelled, by, cancelled_at, cancelled_block = c["cancelled"]
        executed, executed_at, executed_block, executed_approvals, needed = c["executed"]
        s.admin_proposals[int(key)] = AdminProposal(
            int(key),
            c["party"],
            c["account"],
            c["add"],
            c["proposer"],
            c["createdAt"],
            c["readyAt"],
            c["expiresAt"],
            c["block"],
            c["tx"],
            [AdminApproval(*a) for a in c["approvals"]],
            cancelled,
            by,
            cancelled_at,
            cancelled_block,
            executed,
            executed_at,
            executed_block,
            executed_approvals,
            needed,
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
            _unhex_or_empty(c["certificateHash"]),
            _unhex_or_empty(c["certificate"]),
            _unhex_or_empty(c["proofOfPossession"]),
            c["tx"],
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
    s.batches, s.documents, s.usage = decode_state(data["batches"], data["documents"], data["usage"])
    for key, o in sorted(data["observations"].items()):
        block, index, _seq, kind = key.split(":", 3)
        s.observations.append(Observation(kind, int(block), int(index), o["time"], o["tx"], o["details"]))
    return s


def decode_state(
    batches: dict[str, Any], documents: dict[str, Any], usage: dict[str, Any]
) -> tuple[dict[BatchKey, Batch], dict[DocKey, Document], dict[bytes, Usage]]:
    """Batch, document and use entities (parsed canonical JSON, by canonical key) back into objects."""
    out_b: dict[BatchKey, Batch] = {}
    out_d: dict[DocKey, Document] = {}
    out_u: dict[bytes, Usage] = {}
    for key, b in batches.items():
        issuer, root_hex = key.split(":")
        root = unhex(root_hex)
        out_b[(issuer, root)] = Batch(root, issuer, *b)
    for key, d in documents.items():
        issuer, root_hex, leaf_hex = key.split(":")
        root, leaf = unhex(root_hex), unhex(leaf_hex)
        revoked_at, reason, revoked_block, revoked_by = d["revoked"]
        sup_at, sup_issuer, sup_root, sup_leaf, sup_block, sup_by = d["superseded"]
        out_d[(issuer, root, leaf)] = Document(
            issuer,
            root,
            leaf,
            revoked_at,
            reason,
            revoked_block,
            revoked_by,
            sup_at,
            sup_issuer,
            _unhex_or_empty(sup_root),
            _unhex_or_empty(sup_leaf),
            sup_block,
            sup_by,
        )
    for key, u in usage.items():
        leaf = unhex(key)
        consumed_at, consumed_by, consumer_account, consumed_block, consumed_issuer, consumed_root = u[
            "consumed"
        ]
        out_u[leaf] = Usage(
            leaf,
            consumed_at,
            consumed_by,
            consumer_account,
            consumed_block,
            consumed_issuer,
            _unhex_or_empty(consumed_root),
            u["endorsed"],
            u["quantity"],
            [
                Endorsement(c, a, amount, endorsed, quantity, t, block, tx, i, _unhex_or_empty(r))
                for c, a, amount, endorsed, quantity, t, block, tx, i, r in u["endorsements"]
            ],
        )
    return out_b, out_d, out_u
