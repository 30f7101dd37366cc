"""`trustanchor party ...`: membership governance (m-of-n proposals) and party admins."""

from __future__ import annotations

from typing import Any

import click

from ..doctypes import mask_of
from ..registry import ProposalKind
from ._common import Context, account_option, done, emit_json, fmt_time, json_option, pass_ctx, table


@click.group("party")
def party_group() -> None:
    """Member parties and m-of-n governance: propose, approve, execute, list."""


@party_group.command("propose")
@click.option("--add", "add", metavar="PARTY", help="Admit a new party (needs --admin).")
@click.option("--admin", metavar="ADDRESS", help="First admin account of the party to admit.")
@click.option("--remove", "remove", metavar="PARTY", help="Remove a member party.")
@click.option("--threshold", type=int, help="Change the approval threshold m.")
@click.option(
    "--one-time-types", metavar="TYPES", help="Set the consumable document types (comma-separated)."
)
@account_option
@pass_ctx
def propose(
    ctx: Context,
    add: str | None,
    admin: str | None,
    remove: str | None,
    threshold: int | None,
    one_time_types: str | None,
    account_spec: str | None,
) -> None:
    """Propose one change; the proposing party's approval is counted at once."""
    chosen = [x for x in (add, remove, threshold, one_time_types) if x is not None]
    if len(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --add PARTY, --remove PARTY, --threshold N, --one-time-types TYPES"
        )
    reg = ctx.registries()
    acct = ctx.account(account_spec)
    if add is not None:
        if not admin:
            raise click.UsageError("--add needs --admin ADDRESS (the new party's first admin)")
        pid, r = reg.trust.propose(acct, ProposalKind.ADD_PARTY, add, admin)
    elif remove is not None:
        pid, r = reg.trust.propose(acct, ProposalKind.REMOVE_PARTY, remove)
    elif threshold is not None:
        pid, r = reg.trust.propose(acct, ProposalKind.SET_THRESHOLD, threshold=threshold)
    else:
        mask = mask_of((one_time_types or "").split(","))
        pid, r = reg.trust.propose(acct, ProposalKind.SET_ONE_TIME_TYPES, doc_types=mask)
    p = reg.trust.proposal(pid)
    done(f"proposal {pid} created, expires {fmt_time(p.expires_at)}; approvals {p.approvals}", r)


@party_group.command("approve")
@click.argument("proposal_id", type=int)
@account_option
@pass_ctx
def approve(ctx: Context, proposal_id: int, account_spec: str | None) -> None:
    """Approve a proposal on behalf of the acting account's party."""
    reg = ctx.registries()
    r = reg.trust.approve(ctx.account(account_spec), proposal_id)
    p = reg.trust.proposal(proposal_id)
    done(f"proposal {proposal_id} approved; {p.approvals} of {reg.trust.threshold()} needed", r)


@party_group.command("execute")
@click.argument("proposal_id", type=int)
@account_option
@pass_ctx
def execute(ctx: Context, proposal_id: int, account_spec: str | None) -> None:
    """Execute a proposal that has enough approvals."""
    reg = ctx.registries()
    r = reg.trust.execute(ctx.account(account_spec), proposal_id)
    done(f"proposal {proposal_id} executed", r)


@party_group.command("list")
@json_option
@pass_ctx
def list_parties(ctx: Context, as_json: bool) -> None:
    """Parties with their admins, the threshold and the proposals."""
    reg = ctx.registries()
    parties: list[dict[str, Any]] = [
        {"id": p, "member": reg.trust.is_member(p), "admins": reg.trust.admins(p)}
        for p in reg.trust.parties()
    ]
    proposals = [reg.trust.proposal(i) for i in range(1, reg.trust.proposal_count() + 1)]
    if as_json:
        emit_json(
            {
                "threshold": reg.trust.threshold(),
                "parties": parties,
                "proposals": [
                    {
                        "id": p.id,
                        "kind": p.kind.name.lower(),
                        "party": p.party,
                        "account": p.account,
                        "threshold": p.threshold,
                        "proposer": p.proposer,
                        "expiresAt": p.expires_at,
                        "executed": p.executed,
                        "approvals": p.approvals,
                    }
                    for p in proposals
                ],
            }
        )
        return
    table(
        f"Parties (threshold {reg.trust.threshold()})",
        ["party", "member", "admins"],
        [[p["id"], "yes" if p["member"] else "no", ", ".join(p["admins"])] for p in parties],
    )
    if proposals:
        table(
            "Proposals",
            ["id", "kind", "target", "proposer", "approvals", "expires", "executed"],
            [
                [
                    p.id,
                    p.kind.name.lower(),
                    p.party or (p.threshold if p.kind == ProposalKind.SET_THRESHOLD else "-"),
                    p.proposer,
                    p.approvals,
                    fmt_time(p.expires_at),
                    "yes" if p.executed else "no",
                ]
                for p in proposals
            ],
        )
