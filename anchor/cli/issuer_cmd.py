"""`trustanchor issuer ...`: a party's issuing agencies' accounts, each bound to one of its CAs."""

from __future__ import annotations

import click
from eth_utils import is_address

from ..doctypes import mask_of, names_of
from ..reasons import reason_code
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
from .ca_cmd import _acting_party, _fp


def _addr(value: str) -> str:
    if not is_address(value):
        raise click.BadParameter(f"{value!r} is not an account address")
    return value


@click.group("issuer")
def issuer_group() -> None:
    """Issuing agencies' accounts: add, suspend, resume, revoke, list."""


@issuer_group.command("add")
@click.argument("issuer_account")
@click.option(
    "--ca", "ca", required=True, help="The party's CA (fingerprint or certificate file) it signs under."
)
@click.option("--doc-types", default="all", show_default=True, help="Document types it may anchor, or 'all'.")
@account_option
@pass_ctx
def issuer_add(ctx: Context, issuer_account: str, ca: str, doc_types: str, account_spec: str | None) -> None:
    """Authorize ISSUER_ACCOUNT (address) to anchor documents of the given types."""
    reg = ctx.registries()
    acct = ctx.account(account_spec)
    fp = _fp(ca, _acting_party(reg, acct.address))
    mask = mask_of(doc_types.split(","))
    if mask == mask_of(["all"]):
        mask = reg.trust.ca(fp).doc_types  # "all" means all the CA may sign
    r = reg.trust.authorize_issuer(acct, _addr(issuer_account), fp, mask)
    done(f"issuer {issuer_account} authorized for {', '.join(names_of(mask))}", r)


@issuer_group.command("suspend")
@click.argument("issuer_account")
@click.option("--effective", help="'now' (default), unix seconds or ISO 8601 (not in the future).")
@click.option("--reason", default="unspecified", show_default=True)
@account_option
@pass_ctx
def issuer_suspend(
    ctx: Context, issuer_account: str, effective: str | None, reason: str, account_spec: str | None
) -> None:
    """Suspend an issuer account: it can no longer anchor."""
    reg = ctx.registries()
    r = reg.trust.suspend_issuer(
        ctx.account(account_spec), _addr(issuer_account), parse_time(effective), reason_code(reason)
    )
    done(f"issuer {issuer_account} suspended", r)


@issuer_group.command("resume")
@click.argument("issuer_account")
@click.option("--effective", help="'now' (default), unix seconds or ISO 8601.")
@account_option
@pass_ctx
def issuer_resume(ctx: Context, issuer_account: str, effective: str | None, account_spec: str | None) -> None:
    """Resume a suspended issuer account."""
    reg = ctx.registries()
    r = reg.trust.resume_issuer(ctx.account(account_spec), _addr(issuer_account), parse_time(effective))
    done(f"issuer {issuer_account} resumed", r)


@issuer_group.command("revoke")
@click.argument("issuer_account")
@click.option("--effective", help="'now' (default), or a past time: anchors after it become invalid.")
@click.option("--reason", default="unspecified", show_default=True)
@account_option
@pass_ctx
def issuer_revoke(
    ctx: Context, issuer_account: str, effective: str | None, reason: str, account_spec: str | None
) -> None:
    """Revoke an issuer account for good."""
    reg = ctx.registries()
    r = reg.trust.revoke_issuer(
        ctx.account(account_spec), _addr(issuer_account), parse_time(effective), reason_code(reason)
    )
    done(f"issuer {issuer_account} revoked", r)


@issuer_group.command("list")
@click.option("--party", help="Only this party's issuers.")
@json_option
@pass_ctx
def issuer_list(ctx: Context, party: str | None, as_json: bool) -> None:
    """Issuer accounts with their party, CA, document types and status."""
    reg = ctx.registries()
    parties = [party.upper()] if party else reg.trust.parties()
    issuers = [reg.trust.issuer(a) for p in parties for a in reg.trust.party_issuers(p)]
    if as_json:
        emit_json(
            [
                {
                    "account": i.account,
                    "party": i.party,
                    "ca": i.ca,
                    "docTypes": names_of(i.doc_types),
                    "status": i.status.name.lower(),
                    "authorizedAt": i.authorized_at,
                    "revokedAt": i.revoked_at or None,
                }
                for i in issuers
            ]
        )
        return
    table(
        "Issuer accounts",
        ["party", "account", "CA", "document types", "status", "authorized"],
        [
            [
                i.party,
                i.account,
                "0x" + i.ca.hex()[:16] + "…",
                ", ".join(names_of(i.doc_types)),
                i.status.name.lower(),
                fmt_time(i.authorized_at),
            ]
            for i in issuers
        ],
    )
