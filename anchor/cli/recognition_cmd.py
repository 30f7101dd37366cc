"""`trustanchor recognize | unrecognize | recognitions`: who recognizes whom for which document types."""

from __future__ import annotations

from typing import Any

import click

from ..doctypes import mask_of, names_of
from ..inputs import MAX_TIME
from ._common import (
    Context,
    account_option,
    done,
    emit_json,
    fmt_time,
    json_option,
    parse_time,
    pass_ctx,
    table,
)


@click.command("recognize")
@click.argument("party")
@click.option(
    "--doc-types", default="all", show_default=True, help="Document types, comma-separated, or 'all'."
)
@click.option("--effective", help="'now' (default), unix seconds or ISO 8601 (not before the last change).")
@account_option
@pass_ctx
def recognize(
    ctx: Context, party: str, doc_types: str, effective: str | None, account_spec: str | None
) -> None:
    """The acting party starts recognizing PARTY's CAs for the given document types."""
    reg = ctx.registries()
    acct = ctx.account(account_spec)
    r = reg.trust.recognize(acct, party, mask_of(doc_types.split(",")), parse_time(effective))
    me = reg.trust.admin_party(acct.address)
    now = reg.trust.recognition_at(me, party.upper(), MAX_TIME)
    done(f"{me} now recognizes {party.upper()} for {', '.join(names_of(now)) or 'nothing'}", r)


@click.command("unrecognize")
@click.argument("party")
@click.option("--doc-types", default="all", show_default=True, help="Document types to withdraw, or 'all'.")
@click.option("--effective", help="'now' (default), unix seconds or ISO 8601.")
@account_option
@pass_ctx
def unrecognize(
    ctx: Context, party: str, doc_types: str, effective: str | None, account_spec: str | None
) -> None:
    """The acting party withdraws recognition of PARTY's CAs for the given document types."""
    reg = ctx.registries()
    acct = ctx.account(account_spec)
    r = reg.trust.unrecognize(acct, party, mask_of(doc_types.split(",")), parse_time(effective))
    me = reg.trust.admin_party(acct.address)
    now = reg.trust.recognition_at(me, party.upper(), MAX_TIME)
    done(f"{me} now recognizes {party.upper()} for {', '.join(names_of(now)) or 'nothing'}", r)


@click.command("recognitions")
@click.option("--at", "at", help="Point in time (unix seconds or ISO 8601); default now.")
@click.option("--history", is_flag=True, help="Every change, not just the matrix.")
@json_option
@pass_ctx
def recognitions(ctx: Context, at: str | None, history: bool, as_json: bool) -> None:
    """The recognition matrix: which party recognizes which other party's CAs for which document types."""
    reg = ctx.registries()
    when = parse_time(at) or int(reg.chain.block("latest")["timestamp"])
    parties = reg.trust.parties()
    pairs = [(r, i) for r in parties for i in parties if r != i]
    if history:
        rows: list[dict[str, Any]] = [
            {"recognizer": r, "recognized": i, "docTypes": names_of(mask), "effectiveAt": eff}
            for r, i in pairs
            for mask, eff in reg.trust.recognition_history(r, i)
        ]
        if as_json:
            emit_json(rows)
        else:
            table(
                "Recognition changes",
                ["recognizer", "recognized", "document types from then on", "effective"],
                [
                    [
                        x["recognizer"],
                        x["recognized"],
                        ", ".join(x["docTypes"]) or "none",
                        fmt_time(x["effectiveAt"]),
                    ]
                    for x in rows
                ],
            )
        return
    matrix = {
        r: {i: names_of(reg.trust.recognition_at(r, i, when)) for i in parties if i != r} for r in parties
    }
    if as_json:
        emit_json({"at": when, "matrix": matrix})
        return
    table(
        f"Recognition matrix at {fmt_time(when)} (row recognizes column)",
        ["", *parties],
        [[r, *[("self" if r == i else ", ".join(matrix[r][i]) or "-") for i in parties]] for r in parties],
    )
