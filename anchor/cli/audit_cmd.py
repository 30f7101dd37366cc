"""`trustanchor audit replay | state | diff | check | report`: rebuild, check and report the registries' history.

An auditor needs only the node's RPC endpoint and the deployment manifest:
``trustanchor --manifest deployment.json audit --rpc https://node.example check``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..audit import AuditError, Auditor, AuditQueryError, AuditSource, ReplayOutcome, ResumeStore
from ..audit.findings import DEFAULT_WINDOW, Finding
from ..audit.tables import Table
from ..checkpoint.audit import audit_checkpoints
from ..checkpoint.witness import Published
from ..config import home_dir
from ..deploy import Manifest
from ..errors import ConfigError
from ._common import Context, emit_json, fmt_time, json_option, parse_time, pass_ctx, table

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass
class _Settings:
    rpc: str | None
    depth: int | None


def _duration(text: str) -> int:
    m = _DURATION.match(text)
    if not m:
        raise click.BadParameter(f"{text!r} is not a duration (seconds, or a number with s, m, h or d)")
    return int(m.group(1)) * _UNITS[m.group(2)]


def _settings() -> _Settings:
    s: _Settings = click.get_current_context().meta["trustanchor.audit"]
    return s


def _standalone(ctx: Context, rpc: str | None) -> bool:
    """An auditor with only an endpoint and a manifest needs no chain config file."""
    return bool(
        rpc and ctx.manifest_override and not ctx.config_path and not os.environ.get("TRUSTANCHOR_CONFIG")
    )


def _source(ctx: Context) -> AuditSource:
    opts = _settings()
    if _standalone(ctx, opts.rpc):
        assert ctx.manifest_override is not None
        url, manifest = opts.rpc or "", Manifest.load(ctx.manifest_override)
    else:
        if opts.rpc is None and ctx.config.chain.backend == "embedded":
            raise ConfigError("the embedded chain lives inside one process: give --rpc URL of a node")
        url = opts.rpc or ctx.config.chain.url
        manifest = ctx.manifest()
    source = AuditSource.connect(url, manifest)
    source.verify()
    return source


def _depth(ctx: Context) -> int:
    opts = _settings()
    if opts.depth is not None:
        return opts.depth
    return 1 if _standalone(ctx, opts.rpc) else ctx.config.chain.confirmations


def _store(ctx: Context, source: AuditSource) -> ResumeStore:
    home = ctx.home or (home_dir() if _standalone(ctx, _settings().rpc) else ctx.config.home)
    return ResumeStore.for_manifest(home, source.manifest)


def _auditor(ctx: Context) -> Auditor:
    source = _source(ctx)
    return Auditor(source, _store(ctx, source), _depth(ctx))


def _usage(e: AuditError, param: str | None = None) -> click.ClickException:
    """A malformed question is a usage error (exit 64); a block the chain lacks is an error (exit 3)."""
    if isinstance(e, AuditQueryError):
        return click.BadParameter(str(e), param_hint=param) if param else click.UsageError(str(e))
    raise e


def _say_notices(outcome: ReplayOutcome) -> None:
    for n in outcome.notices:
        click.echo(f"{n.kind.upper()}: {n.message}", err=True)


@click.group("audit")
@click.option(
    "--rpc", metavar="URL", help="Node to audit (default: the chain config's). Env: TRUSTANCHOR_RPC_URL."
)
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    help="Confirmation depth: by default the audit stops this many blocks below the head "
    "(default: the chain config's confirmations, 1 without a config).",
)
@click.pass_context
def audit_group(click_ctx: click.Context, rpc: str | None, depth: int | None) -> None:
    """Rebuild the registries' history from the chain, check it against the contracts, and report it."""
    click_ctx.meta["trustanchor.audit"] = _Settings(rpc or os.environ.get("TRUSTANCHOR_RPC_URL"), depth)


# ---------------------------------------------------------------------- replay


@audit_group.command("replay")
@click.option(
    "--to-block", metavar="N", help="Block to replay to: a number or 'latest' (default: head minus depth)."
)
@click.option("--fresh", is_flag=True, help="Ignore saved checkpoints and replay from the deployment block.")
@json_option
@pass_ctx
def replay_cmd(ctx: Context, to_block: str | None, fresh: bool, as_json: bool) -> None:
    """Replay every registry event up to a block, resuming from (and saving) a checkpoint."""
    auditor = _auditor(ctx)
    try:
        block = auditor.block(to_block)
    except AuditError as e:
        raise _usage(e, "--to-block") from None
    store = auditor.store
    assert store is not None
    if fresh:
        for cp in store.checkpoints():
            store.discard(cp)
    outcome = auditor.replay(block, save=True)
    summary = outcome.summary()
    if as_json:
        emit_json(summary)
        return
    _say_notices(outcome)
    s = outcome.snapshot
    start = (
        f"checkpoint at block {outcome.resumed_from.block}"
        if outcome.resumed_from
        else "the deployment block"
    )
    click.echo(f"replayed from {start} to block {s.block} ({fmt_time(s.block_time)})")
    click.echo(
        f"  {outcome.stats.events:,} new events in {outcome.stats.seconds:.2f} s "
        f"({outcome.stats.events_per_s:,.0f}/s); {s.events:,} events in all"
    )
    click.echo(f"  block hash {s.block_hash}")
    click.echo(f"  digest     {summary['digest']}")
    if outcome.saved:
        click.echo(f"  checkpoint saved at block {outcome.saved.block} in {store.dir}")


# ---------------------------------------------------------------------- state


def _print_state(view: dict[str, Any]) -> None:
    click.echo(
        f"State at {fmt_time(view['at'])} as known at block {view['knownAtBlock']} "
        f"({fmt_time(view['knownAtBlockTime'])}); approval threshold {view['threshold']}"
    )
    table(
        "Parties",
        ["party", "member", "admins"],
        [[p["party"], "yes" if p["member"] else "no", " ".join(p["admins"])] for p in view["parties"]],
    )
    table(
        "Certificate authorities",
        ["fingerprint", "party", "status", "document types", "registered", "revoked from"],
        [
            [
                c["fingerprint"][:18] + "…",
                c["party"],
                c["status"],
                ", ".join(c["docTypes"]),
                fmt_time(c["registeredAt"]),
                fmt_time(c["revokedAt"]),
            ]
            for c in view["cas"]
        ],
    )
    table(
        "Issuing accounts",
        ["account", "party", "status", "its CA", "document types", "authorized"],
        [
            [
                i["account"],
                i["party"],
                i["status"],
                i["caStatus"],
                ", ".join(i["docTypes"]),
                fmt_time(i["authorizedAt"]),
            ]
            for i in view["issuers"]
        ],
    )
    parties = [p["party"] for p in view["parties"]]
    table(
        "Recognition (row recognizes column)",
        ["", *parties],
        [
            [r, *[("self" if r == i else ", ".join(view["recognition"][r][i]) or "-") for i in parties]]
            for r in parties
        ],
    )
    table(
        "Anchored so far",
        ["party", "batches", "documents", "batches revoked"],
        [[p, t["batches"], t["documents"], t["batchesRevoked"]] for p, t in sorted(view["anchored"].items())],
    )
    d = view["documents"]
    click.echo(f"Documents revoked {d['revoked']}, superseded {d['superseded']}, consumed {d['consumed']}")
    if view["proposals"]:
        table(
            "Proposals",
            ["id", "kind", "party", "proposer", "approved by", "executed", "expired"],
            [
                [
                    q["id"],
                    q["kind"],
                    q["party"],
                    q["proposer"],
                    ", ".join(q["approvedBy"]),
                    q["executed"],
                    q["expired"],
                ]
                for q in view["proposals"]
            ],
        )


@audit_group.command("state")
@click.option("--at-block", metavar="N", help="The state as of this block (number or 'latest').")
@click.option("--at-time", metavar="T", help="The state at this time (unix seconds or ISO 8601).")
@click.option(
    "--known-at",
    metavar="N",
    help="Judge the time with the history known at this later block (shows later backdated changes).",
)
@click.option(
    "--full", is_flag=True, help="Also list every batch and every revoked/superseded/consumed document."
)
@json_option
@pass_ctx
def state_cmd(
    ctx: Context, at_block: str | None, at_time: str | None, known_at: str | None, full: bool, as_json: bool
) -> None:
    """Print the registries' state at a block or a point in time."""
    if at_block and at_time:
        raise click.UsageError("give --at-block or --at-time, not both")
    auditor = _auditor(ctx)
    try:
        view, outcome = auditor.state(
            block=at_block,
            time=parse_time(at_time) if at_time is not None else None,
            known_at=known_at,
            full=full,
        )
    except AuditError as e:
        raise _usage(e) from None
    _say_notices(outcome)
    if as_json:
        emit_json(view)
    else:
        _print_state(view)


# ---------------------------------------------------------------------- diff


@audit_group.command("diff")
@click.argument("block_a", metavar="A")
@click.argument("block_b", metavar="B")
@click.option("--limit", default=20, show_default=True, help="Entries shown per section (tables only).")
@json_option
@pass_ctx
def diff_cmd(ctx: Context, block_a: str, block_b: str, limit: int, as_json: bool) -> None:
    """What changed in the registries between block A and block B."""
    auditor = _auditor(ctx)
    try:
        result, outcome = auditor.diff(block_a, block_b)
    except AuditError as e:
        raise _usage(e) from None
    _say_notices(outcome)
    a, b, changes = result["from"]["block"], result["to"]["block"], result["changes"]
    if as_json:
        emit_json(result)
        return
    click.echo(f"blocks {a} -> {b}: {result['events']:,} events")
    if not changes:
        click.echo("nothing changed")
        return
    table(
        "Changes by kind",
        ["kind", "added", "changed", "removed"],
        [[k, len(v["added"]), len(v["changed"]), len(v["removed"])] for k, v in sorted(changes.items())],
    )
    for kind, v in sorted(changes.items()):
        rows = [["added", x["key"], "", _short(x["value"])] for x in v["added"][:limit]]
        rows += [
            ["changed", x["key"], *_changed_fields(x["before"], x["after"])] for x in v["changed"][:limit]
        ]
        rows += [["removed", k, "", ""] for k in v["removed"][:limit]]
        table(f"{kind}", ["", "key", "before", "after"], rows)


def _changed_fields(before: Any, after: Any) -> list[str]:
    """Only the fields that differ, when the entity is a record."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in sorted(before.keys() | after.keys()) if before.get(k) != after.get(k)]
        before = {k: before.get(k) for k in keys}
        after = {k: after.get(k) for k in keys}
    return [_short(before), _short(after)]


def _short(value: Any, width: int = 120) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------------- check


_sample_option = click.option(
    "--sample",
    type=click.IntRange(min=0),
    help="Check only this many batches/documents, drawn at random (default: all up to 20,000).",
)
_seed_option = click.option(
    "--seed", type=int, help="Seed of the random sample (default: from the snapshot digest)."
)
_window_option = click.option(
    "--window",
    default=str(DEFAULT_WINDOW),
    show_default=True,
    help="How shortly before a suspension anchoring is flagged (seconds, or e.g. 6h, 2d).",
)


_checkpoints_option = click.option(
    "--checkpoints",
    "checkpoints_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Published registry checkpoints to recompute from the chain (default: HOME/checkpoints, if any).",
)


def _checkpoint_audit(ctx: Context, directory: Path | None) -> tuple[list[Finding], list[Table]]:
    directory = directory or ctx.config.home / "checkpoints"
    if not directory.is_dir():
        return [], []
    findings, table = audit_checkpoints(_source(ctx), Published(directory))
    return findings, [table]


@audit_group.command("check")
@click.option(
    "--at-block", metavar="N", help="Block to check (number or 'latest'; default: head minus depth)."
)
@_sample_option
@_seed_option
@_window_option
@_checkpoints_option
@json_option
@pass_ctx
def check_cmd(
    ctx: Context,
    at_block: str | None,
    sample: int | None,
    seed: int | None,
    window: str,
    checkpoints_dir: Path | None,
    as_json: bool,
) -> None:
    """Compare the replay with the contracts' own views, recompute the published checkpoints, and list the
    findings. Exit 1 if anything is critical."""
    window_s = _duration(window)
    extra, _ = _checkpoint_audit(ctx, checkpoints_dir)
    try:
        result = _auditor(ctx).check(
            at_block, sample=sample, seed=seed, window=window_s, extra_findings=extra
        )
    except AuditError as e:
        raise _usage(e, "--at-block") from None
    outcome, consistency, findings, s = (
        result.outcome,
        result.consistency,
        result.findings,
        result.outcome.snapshot,
    )
    if as_json:
        emit_json(result.to_dict())
    else:
        _say_notices(outcome)
        click.echo(consistency.describe())
        click.echo(f"digest {s.digest()}")
        for m in consistency.mismatches[:20]:
            click.echo(f"  MISMATCH {m.entity}: {m.call} replayed {m.expected!r}, on chain {m.actual!r}")
        if findings:
            table(
                "Findings",
                ["severity", "kind", "what"],
                [[f.severity, f.kind, f.title] for f in findings],
            )
        else:
            click.echo("no findings")
    raise SystemExit(0 if result.ok else 1)


# ---------------------------------------------------------------------- report


@audit_group.command("report")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory.",
)
@click.option(
    "--at-block", metavar="N", help="Block to report on (number or 'latest'; default: head minus depth)."
)
@_sample_option
@_seed_option
@_window_option
@_checkpoints_option
@json_option
@pass_ctx
def report_cmd(
    ctx: Context,
    out_dir: Path,
    at_block: str | None,
    sample: int | None,
    seed: int | None,
    window: str,
    checkpoints_dir: Path | None,
    as_json: bool,
) -> None:
    """Write report.json, a self-contained report.html with charts, and CSV tables to --out."""
    window_s = _duration(window)
    extra, tables = _checkpoint_audit(ctx, checkpoints_dir)
    try:
        report = _auditor(ctx).report(
            out_dir,
            at_block,
            sample=sample,
            seed=seed,
            window=window_s,
            extra_findings=extra,
            extra_tables=tables,
        )
    except AuditError as e:
        raise _usage(e, "--at-block") from None
    if as_json:
        emit_json(report.to_dict())
        return
    for n in report.notices:
        click.echo(f"{n.kind.upper()}: {n.message}", err=True)
    c = report.finding_counts
    click.echo(report.consistency.describe())
    click.echo(f"findings: {c['critical']} critical, {c['warning']} warnings, {c['info']} for information")
    files = report.files
    click.echo(
        f"report written to {files.html} (+ report.json, {len(files.csv)} CSV files in {files.directory / 'csv'})"
    )
