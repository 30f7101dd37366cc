"""`trustanchor role ...` and `trustanchor admin ...`: least-privilege accounts of a party.

An account holds one role for one party: admin (party governance), issuer (anchors; acts on its own
batches) or consumer (a border service's key: consumes and endorses one-time documents, nothing else).
Admins change only with a majority of the party's admins, or after a delay the other admins can use to
cancel, so one stolen admin key cannot evict the rest.
"""

from __future__ import annotations

import click
from eth_utils import is_address, to_checksum_address

from ..registry import Role
from ._common import Context, account_option, done, emit_json, fmt_time, json_option, pass_ctx, table


def _address(value: str) -> str:
    if not is_address(value):
        raise click.BadParameter(f"{value!r} is not an account address")
    return to_checksum_address(value)


@click.group("role")
def role_group() -> None:
    """Consumer and witness accounts (grant, revoke) and what role an account holds."""


@role_group.command("grant-consumer")
@click.argument("consumer_account")
@account_option
@pass_ctx
def grant_consumer(ctx: Context, consumer_account: str, account_spec: str | None) -> None:
    """Let CONSUMER_ACCOUNT consume one-time documents destined to the acting admin's party."""
    reg = ctx.registries()
    acct = ctx.account(account_spec)
    r = reg.trust.grant_consumer(acct, _address(consumer_account))
    done(f"{consumer_account} is now a consumer account of {reg.trust.admin_party(acct.address)}", r)


@role_group.command("revoke-consumer")
@click.argument("consumer_account")
@account_option
@pass_ctx
def revoke_consumer(ctx: Context, consumer_account: str, account_spec: str | None) -> None:
    """Withdraw CONSUMER_ACCOUNT's consumer role."""
    reg = ctx.registries()
    r = reg.trust.revoke_consumer(ctx.account(account_spec), _address(consumer_account))
    done(f"{consumer_account} is no longer a consumer account", r)


@role_group.command("grant-witness")
@click.argument("witness_account")
@account_option
@pass_ctx
def grant_witness(ctx: Context, witness_account: str, account_spec: str | None) -> None:
    """Let WITNESS_ACCOUNT co-sign registry checkpoints for the acting admin's party."""
    reg = ctx.registries()
    acct = ctx.account(account_spec)
    r = reg.trust.grant_witness(acct, _address(witness_account))
    done(f"{witness_account} is now a witness account of {reg.trust.admin_party(acct.address)}", r)


@role_group.command("revoke-witness")
@click.argument("witness_account")
@account_option
@pass_ctx
def revoke_witness(ctx: Context, witness_account: str, account_spec: str | None) -> None:
    """Withdraw WITNESS_ACCOUNT's witness role: its co-signatures stop counting from the next checkpoint."""
    reg = ctx.registries()
    r = reg.trust.revoke_witness(ctx.account(account_spec), _address(witness_account))
    done(f"{witness_account} is no longer a witness account", r)


@role_group.command("show")
@click.argument("account")
@json_option
@pass_ctx
def show(ctx: Context, account: str, as_json: bool) -> None:
    """The role ACCOUNT holds, and for which party."""
    role, party = ctx.registries().trust.role_of(_address(account))
    if as_json:
        emit_json({"account": _address(account), "role": role.name.lower(), "party": party or None})
    elif role is Role.NONE:
        click.echo(f"{account} holds no role")
    else:
        click.echo(f"{account} is {role.name.lower()} of {party}")


@click.group("admin")
def admin_group() -> None:
    """A party's own admin accounts: propose, approve, cancel, execute, list changes."""


@admin_group.command("propose")
@click.option("--add", "add", metavar="ADDRESS", help="Make ADDRESS an admin of the acting party.")
@click.option("--remove", "remove", metavar="ADDRESS", help="Remove admin ADDRESS of the acting party.")
@account_option
@pass_ctx
def propose(ctx: Context, add: str | None, remove: str | None, account_spec: str | None) -> None:
    """Propose an admin change; it runs with a majority of the party's admins, or after the delay."""
    if (add is None) == (remove is None):
        raise click.UsageError("give exactly one of --add ADDRESS, --remove ADDRESS")
    reg = ctx.registries()
    target = _address(add or remove or "")
    cid, r = reg.trust.propose_admin_change(ctx.account(account_spec), target, add is not None)
    c = reg.trust.admin_change(cid)
    done(
        f"admin change {cid} proposed ({'add' if c.add else 'remove'} {target}); {c.approvals} approval(s) "
        f"of {len(reg.trust.admins(c.party)) // 2 + 1}, or uncancelled after {fmt_time(c.ready_at)}",
        r,
    )


@admin_group.command("approve")
@click.argument("change_id", type=int)
@account_option
@pass_ctx
def approve(ctx: Context, change_id: int, account_spec: str | None) -> None:
    """Approve an admin change of the acting admin's party."""
    reg = ctx.registries()
    r = reg.trust.approve_admin_change(ctx.account(account_spec), change_id)
    done(f"admin change {change_id} approved; {reg.trust.admin_change(change_id).approvals} approval(s)", r)


@admin_group.command("cancel")
@click.argument("change_id", type=int)
@account_option
@pass_ctx
def cancel(ctx: Context, change_id: int, account_spec: str | None) -> None:
    """Cancel an admin change (any admin of the party except the one it removes)."""
    r = ctx.registries().trust.cancel_admin_change(ctx.account(account_spec), change_id)
    done(f"admin change {change_id} cancelled", r)


@admin_group.command("execute")
@click.argument("change_id", type=int)
@account_option
@pass_ctx
def execute(ctx: Context, change_id: int, account_spec: str | None) -> None:
    """Carry out an admin change that has a majority, or whose delay passed uncancelled."""
    r = ctx.registries().trust.execute_admin_change(ctx.account(account_spec), change_id)
    done(f"admin change {change_id} executed", r)


@admin_group.command("changes")
@json_option
@pass_ctx
def changes(ctx: Context, as_json: bool) -> None:
    """Every admin change with its state."""
    reg = ctx.registries()
    rows = [reg.trust.admin_change(i) for i in range(1, reg.trust.admin_change_count() + 1)]

    def state(c: object) -> str:
        return "executed" if c.executed else "cancelled" if c.cancelled else "open"  # type: ignore[attr-defined]

    if as_json:
        emit_json(
            [
                {
                    "id": c.id,
                    "party": c.party,
                    "account": c.account,
                    "add": c.add,
                    "proposer": c.proposer,
                    "readyAt": c.ready_at,
                    "expiresAt": c.expires_at,
                    "approvals": c.approvals,
                    "state": state(c),
                }
                for c in rows
            ]
        )
        return
    table(
        "Admin changes",
        ["id", "party", "change", "approvals", "ready", "state"],
        [
            [
                c.id,
                c.party,
                f"{'add' if c.add else 'remove'} {c.account}",
                c.approvals,
                fmt_time(c.ready_at),
                state(c),
            ]
            for c in rows
        ],
    )
