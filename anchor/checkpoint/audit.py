"""The auditor's view of published checkpoints: each recomputed from the chain at its block.

A checkpoint that does not match the chain is a finding (critical when enough member parties' witnesses
co-signed it, so offline verifiers could accept it); two different checkpoints for one event count are a
fork, with both signed notes as evidence. The table lists every checkpoint and who co-signed it.
"""

from __future__ import annotations

import json
from collections import defaultdict

from ..audit.findings import CRITICAL, WARNING, Finding
from ..audit.source import AuditSource
from ..audit.tables import Table, fmt_time
from .publish import review
from .witness import Published


def audit_checkpoints(source: AuditSource, published: Published) -> tuple[list[Finding], Table]:
    reviewed, _ = review(source, published)
    findings: list[Finding] = []
    rows = []
    for r in reviewed:
        cp = r.signed.checkpoint
        rows.append(
            [
                cp.size,
                cp.block,
                fmt_time(cp.block_time),
                "yes" if r.matches_chain else "NO",
                ", ".join(r.cosigners) or "nobody",
                r.threshold,
                "yes" if r.witnessed else "no",
            ]
        )
        if not r.matches_chain:
            enough = len(r.cosigners) >= r.threshold > 0
            findings.append(
                Finding(
                    "checkpoint-disagrees",
                    CRITICAL if enough else WARNING,
                    f"checkpoint of {cp.size} events at block {cp.block} does not match the chain"
                    + (f" (co-signed by {', '.join(r.cosigners)})" if r.cosigners else ""),
                    f"checkpoint {cp.size}",
                    cp.block,
                    cp.block_time,
                    {"checkpoint": r.signed.text(), "cosigners": list(r.cosigners)},
                )
            )
    by_size = defaultdict(list)
    for r in reviewed:
        by_size[r.signed.checkpoint.size].append(r)
    for size, group in sorted(by_size.items()):
        if len({r.signed.checkpoint for r in group}) > 1:
            first = group[0].signed.checkpoint
            findings.append(
                Finding(
                    "checkpoint-fork",
                    CRITICAL,
                    f"{len(group)} different checkpoints published for {size} registry events",
                    f"checkpoint {size}",
                    first.block,
                    first.block_time,
                    {"checkpoints": [r.signed.text() for r in group]},
                )
            )
    for path in sorted(published.dir.glob("evidence-*.json")) if published.dir.exists() else []:
        try:
            evidence = json.loads(path.read_text(encoding="utf-8"))
            size = int(evidence["events"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if size not in by_size or len({r.signed.checkpoint for r in by_size[size]}) < 2:
            findings.append(
                Finding(
                    "checkpoint-fork",
                    CRITICAL,
                    f"a witness published evidence of a fork at {size} registry events",
                    f"checkpoint {size}",
                    0,
                    0,
                    {"evidence": str(path), "checkpoints": evidence.get("checkpoints", [])},
                )
            )
    table = Table(
        "checkpoints",
        "Published registry checkpoints (for offline verification), recomputed from the chain",
        ["events", "block", "block time", "matches the chain", "co-signed by", "needed", "witnessed"],
        rows,
    )
    return findings, table
