"""The audit report: report.json, a self-contained report.html with inline SVG charts, and CSV tables.

The HTML page needs nothing but itself to render (styles and charts inline, no scripts, no network);
the CSV files next to it hold every row of every table, which the page only shows the start of.
"""

from __future__ import annotations

import csv
import html
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from string import Template
from typing import Any

from .consistency import ConsistencyReport
from .findings import EXPLANATIONS, Finding, counts, human_seconds
from .resume import Notice
from .snapshot import Snapshot
from .tables import Table, build_tables, fmt_time
from .views import state_at

TEMPLATE = Path(__file__).with_name("report_template.html")
HTML_ROWS = 200
IMPACT_ROWS = 50
HTML_FINDINGS = 300
# Columns kept in the CSV files and report.json for machines, left out of the page for people.
HTML_HIDDEN_COLUMNS = {"replaced by (issuer/root/leaf)"}
# Beyond this gap between the ledger's time and the time of generation, the page says which is which.
CLOCK_SKEW_NOTE = 60
# 2: registries v2 (issuer-keyed batches, consumers, endorsements, CA proofs). 3: use per leaf (shown for
# every batch naming it, with the batch it went through), removals ending recognitions and admin changes.
# 4: documents' "replaced by" in words, the successor's full ids in "replaced by (issuer/root/leaf)".
REPORT_VERSION = 4


@dataclass(frozen=True)
class ReportFiles:
    directory: Path
    json: Path
    html: Path
    csv: list[Path]


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: Any) -> str:
    text = _e(value)
    return f'<td class="mono">{text}</td>' if str(value).startswith("0x") else f"<td>{text}</td>"


def _table(t: Table, limit: int = HTML_ROWS, *, csv_link: bool = True) -> str:
    if not t.rows:
        return f"<h3>{_e(t.title)}</h3><p class='note'>None.</p>"
    shown = [n for n, c in enumerate(t.columns) if c not in HTML_HIDDEN_COLUMNS]
    head = "".join(f"<th>{_e(t.columns[n])}</th>" for n in shown)
    body = "".join("<tr>" + "".join(_cell(row[n]) for n in shown) + "</tr>" for row in t.rows[:limit])
    more = ""
    if len(t.rows) > limit:
        more = f"<p class='note'>Showing the first {limit:,} of {len(t.rows):,} rows; all of them are in csv/{t.name}.csv.</p>"
    elif csv_link:
        more = f"<p class='note'>Also in <a href='csv/{t.name}.csv'>csv/{t.name}.csv</a>.</p>"
    return f"<h3>{_e(t.title)}</h3><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _chart(svg: str, caption: str) -> str:
    return f"<figure class='chart'>{svg}<figcaption class='note'>{_e(caption)}</figcaption></figure>"


def _summary(s: Snapshot, consistency: ConsistencyReport | None, findings: list[Finding]) -> dict[str, Any]:
    docs = s.documents.values()
    return {
        "memberParties": sum(1 for p in s.parties.values() if p.member),
        "parties": len(s.parties),
        "certificateAuthorities": len(s.cas),
        "issuingAccounts": len(s.issuers),
        "batches": len(s.batches),
        "documents": sum(b.size for b in s.batches.values()),
        "batchesRevoked": sum(1 for b in s.batches.values() if b.revoked_at),
        "documentsRevoked": sum(1 for d in docs if d.revoked_at),
        "documentsSuperseded": sum(1 for d in docs if d.superseded_at),
        # Use is per document (leaf), whichever batches name it.
        "documentsConsumed": sum(1 for u in s.usage.values() if u.consumed_at),
        "documentsEndorsed": sum(1 for u in s.usage.values() if u.endorsements),
        "consumerAccounts": sum(len(p.consumers) for p in s.parties.values()),
        "proposals": len(s.proposals),
        "adminChanges": len(s.admin_proposals),
        "events": s.events,
        "consistent": None if consistency is None else consistency.ok,
        "findings": counts(findings),
    }


def _summary_html(summary: dict[str, Any], consistency: ConsistencyReport | None) -> str:
    cards = [
        ("member parties", summary["memberParties"]),
        ("certificate authorities", summary["certificateAuthorities"]),
        ("issuing accounts", summary["issuingAccounts"]),
        ("batches registered", summary["batches"]),
        ("documents registered", summary["documents"]),
        ("batches revoked", summary["batchesRevoked"]),
        ("documents revoked", summary["documentsRevoked"]),
        ("documents replaced", summary["documentsSuperseded"]),
        ("documents used up", summary["documentsConsumed"]),
        ("documents endorsed", summary["documentsEndorsed"]),
        ("consumer accounts", summary["consumerAccounts"]),
    ]
    out = (
        "<div class='cards'>"
        + "".join(f"<div class='card'><b>{v:,}</b>{_e(k)}</div>" for k, v in cards)
        + "</div>"
    )
    if consistency is None:
        out += "<p class='verdict bad'>The replay was not compared with the contracts for this report.</p>"
    elif consistency.ok:
        out += (
            "<p class='verdict ok'>The history rebuilt from the ledger's events agrees with what the registry "
            f"contracts themselves report ({consistency.calls:,} answers compared).</p>"
        )
    else:
        out += (
            f"<p class='verdict bad'>The rebuilt history DISAGREES with the contracts in {len(consistency.mismatches):,} "
            "answers: see the findings below.</p>"
        )
    c = summary["findings"]
    out += (
        f"<p>Findings: <b>{c['critical']}</b> critical (must be explained), <b>{c['warning']}</b> warnings "
        f"(worth a look), <b>{c['info']}</b> for information.</p>"
    )
    return out


def _finding_html(n: int, f: Finding) -> str:
    details = "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(', '.join(map(str, v)) if isinstance(v, list) else v)}</td></tr>"
        for k, v in f.details.items()
    )
    impact = ""
    if f.impact:
        cols = list(f.impact[0].keys())
        rows = [[r.get(c, "") for c in cols] for r in f.impact]
        t = Table(f"finding-{n}", f"Records concerned ({len(rows):,})", cols, rows)
        impact = f"<details><summary>Records concerned ({len(rows):,})</summary>{_table(t, IMPACT_ROWS, csv_link=False)}"
        if len(rows) > IMPACT_ROWS:
            impact += "<p class='note'>All of them are in csv/finding_records.csv.</p>"
        impact += "</details>"
    # The explanation is the kind's, said once under "What the kinds of finding mean"; the finding links to it.
    return (
        f"<div class='finding {f.severity}'><p><span class='sev {f.severity}'>{_e(f.severity)}</span> "
        f"<b>{_e(f.title)}</b> <a class='kind' href='#{_kind_id(f.kind)}'>{_e(f.kind)}: what this means</a></p>"
        f"<details><summary>Details (block {f.block}{', ledger time ' + _e(fmt_time(f.time)) if f.time else ''})</summary>"
        f"<table>{details}</table></details>{impact}</div>"
    )


def _kind_id(kind: str) -> str:
    return "kind-" + "".join(c if c.isalnum() or c == "-" else "_" for c in kind)


def _findings_html(findings: list[Finding]) -> str:
    if not findings:
        return "<p class='verdict ok'>Nothing needs attention.</p>"
    out = "".join(_finding_html(n, f) for n, f in enumerate(findings[:HTML_FINDINGS], 1))
    if len(findings) > HTML_FINDINGS:
        out += f"<p class='note'>{len(findings) - HTML_FINDINGS:,} more findings are in csv/findings.csv.</p>"
    kinds = sorted({f.kind for f in findings})
    out += "<h3>What the kinds of finding mean</h3><dl class='glossary'>" + "".join(
        f"<dt id='{_kind_id(k)}'>{_e(k)}</dt><dd>{_e(EXPLANATIONS.get(k, ''))}</dd>" for k in kinds
    )
    return out + "</dl>"


def _method_html(
    s: Snapshot, consistency: ConsistencyReport | None, notices: list[Notice], digest: str
) -> str:
    parts = [
        f"<p>The audit read every event the two registry contracts emitted from block {s.deploy_block} (their "
        f"deployment) to block {s.block} (ledger time {_e(fmt_time(s.block_time))}) — {s.events:,} events in all — and rebuilt "
        "the registries' state from those events alone, in the order they happened.</p>",
        f"<p>The rebuilt state has the digest <span class='mono'>{_e(digest)}</span>. Anyone replaying the same "
        "ledger to the same block obtains the same digest, so it identifies exactly what this report describes.</p>",
    ]
    if consistency is not None:
        scope = (
            f"a reproducible random sample of {consistency.document_entities_checked:,} of the "
            f"{consistency.document_entities_total:,} batches and documents (seed {consistency.seed}), and every "
            "party, authority, account, proposal and recognition"
            if consistency.sampled
            else f"every one of the {consistency.entities_checked:,} records"
        )
        parts.append(
            f"<p>It then asked the contracts themselves, as of the same block, about {scope}: "
            f"{consistency.calls:,} questions, each compared with the rebuilt answer.</p>"
        )
    if notices:
        parts.append(
            f"<p>While auditing over time, {len(notices)} reorganisation(s) or gap(s) of the ledger were noticed; "
            "they are listed among the findings.</p>"
        )
    parts.append(
        f"<p class='note'>Chain id {s.chain_id}; TrustRegistry <span class='mono'>{_e(s.trust_registry)}</span>; "
        f"DocumentRegistry <span class='mono'>{_e(s.document_registry)}</span>; block hash "
        f"<span class='mono'>{_e(s.block_hash)}</span>.</p>"
    )
    return "".join(parts)


def _subtitle_html(s: Snapshot, generated_at: int) -> str:
    """When the state is from (the ledger's clock) and when the page was made (this computer's clock)."""
    out = (
        f"<p>The state of the registries at block {s.block}, ledger time {_e(fmt_time(s.block_time))}, "
        f"on chain {s.chain_id}.</p><p>Generated {_e(fmt_time(generated_at))} (this computer's clock).</p>"
    )
    skew = s.block_time - generated_at
    if abs(skew) > CLOCK_SKEW_NOTE:
        way = "ahead of" if skew > 0 else "behind"
        out += (
            f"<p class='clock-note'>The ledger's clock is {_e(human_seconds(abs(skew)))} {way} the time this report "
            "was generated (a test or demo chain's clock can be moved forward). Every time in this report, in its "
            "tables and charts, is ledger time: the time of the block that recorded it.</p>"
        )
    return out


def build_report(
    s: Snapshot,
    findings: list[Finding],
    consistency: ConsistencyReport | None,
    notices: list[Notice] | None = None,
    *,
    generated_at: int | None = None,
    extra_tables: Sequence[Table] = (),
) -> dict[str, Any]:
    """Everything report.json holds. `generated_at` (unix seconds) defaults to this computer's clock now.
    `extra_tables` come from checks made outside the replay (published registry checkpoints)."""
    tables = [*build_tables(s, findings, consistency), *extra_tables]
    return {
        "reportVersion": REPORT_VERSION,
        "generatedAt": int(time.time()) if generated_at is None else generated_at,
        "chainId": s.chain_id,
        "trustRegistry": s.trust_registry,
        "documentRegistry": s.document_registry,
        "deployBlock": s.deploy_block,
        "block": s.block,
        "blockHash": s.block_hash,
        "blockTime": s.block_time,
        "digest": s.digest(),
        "events": s.events,
        "eventCounts": dict(sorted(s.event_counts.items())),
        "summary": _summary(s, consistency, findings),
        "consistency": consistency.to_dict() if consistency is not None else None,
        "findings": [f.to_dict() for f in findings],
        "notices": [asdict(n) for n in notices or []],
        "state": state_at(s, s.block_time),
        "tables": {t.name: {"title": t.title, "columns": t.columns, "rows": t.rows} for t in tables},
    }


def write_report(
    out_dir: Path,
    s: Snapshot,
    findings: list[Finding],
    consistency: ConsistencyReport | None,
    notices: list[Notice] | None = None,
    *,
    generated_at: int | None = None,
    extra_tables: Sequence[Table] = (),
) -> ReportFiles:
    notices = notices or []
    out_dir.mkdir(parents=True, exist_ok=True)
    data = build_report(
        s, findings, consistency, notices, generated_at=generated_at, extra_tables=extra_tables
    )
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(data, indent=1, default=str) + "\n")
    tables = {name: Table(name, t["title"], t["columns"], t["rows"]) for name, t in data["tables"].items()}
    csv_dir = out_dir / "csv"
    csv_dir.mkdir(exist_ok=True)
    csv_paths = []
    for t in tables.values():
        p = csv_dir / f"{t.name}.csv"
        with p.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(t.columns)
            w.writerows(t.rows)
        csv_paths.append(p)
    # matplotlib is imported here, not at module level: every CLI command imports this package.
    from . import charts

    page = Template(TEMPLATE.read_text()).substitute(
        title="Audit of the Trust Anchor registries",
        subtitle=_subtitle_html(s, data["generatedAt"]),
        summary=_summary_html(data["summary"], consistency),
        findings=_findings_html(findings),
        parties=_table(tables["parties"])
        + _table(tables["membership_changes"])
        + _table(tables["admin_changes"])
        + _table(tables["admin_change_requests"])
        + _table(tables["consumer_accounts"])
        + _table(tables["proposals"])
        + _table(tables["one_time_types"]),
        authorities=_chart(
            charts.status_timeline(s),
            "Each line is one certificate authority or issuing account; colours show its status over time. "
            "An arrow points from when a change was recorded back to when it took effect.",
        )
        + _table(tables["cas"])
        + _table(tables["issuers"])
        + _table(tables["ca_status_changes"])
        + _table(tables["issuer_status_changes"]),
        recognition=_chart(
            charts.recognition_grid(s),
            "Each square says which document types the row's party accepts from the column's party today.",
        )
        + _chart(
            charts.recognition_history(s),
            "How many document types each party has recognized of another, over time. Each pair has its own "
            "colour, dash and marker, and is shifted a little up or down so that equal lines stay visible.",
        )
        + _table(tables["recognition_changes"]),
        documents=_chart(
            charts.anchored_over_time(s),
            "Documents registered per minute, hour, day or week (whichever fits the span of the history), "
            "stacked by the party that issued them.",
        )
        + _table(tables["batches"]),
        lifecycle=_table(tables["documents"])
        + _table(tables["endorsements"])
        + "".join(_table(tables[t.name]) for t in extra_tables),
        method=_method_html(s, consistency, notices, data["digest"]),
        files="<ul>"
        + "".join(
            f"<li><a href='csv/{p.name}'>csv/{_e(p.name)}</a> — {_e(tables[p.stem].title)}</li>"
            for p in csv_paths
        )
        + "<li><a href='report.json'>report.json</a> — everything, machine-readable</li></ul>",
        generated=f"Trust Anchor audit report, format {REPORT_VERSION}.",
    )
    html_path = out_dir / "report.html"
    html_path.write_text(page)
    return ReportFiles(out_dir, json_path, html_path, csv_paths)
