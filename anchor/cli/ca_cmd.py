"""`trustanchor ca ...`: a party's national certificate authorities and their time-effective status."""

from __future__ import annotations

from pathlib import Path

import click

from ..cacert import ca_id, load_ca_key, read_ca_certificate
from ..doctypes import mask_of, names_of
from ..errors import ConfigError
from ..reasons import reason_code, reason_name
from ..registry import Registries
from ._common import (
    Context,
    account_option,
    done,
    emit_json,
    fmt_time,
    json_option,
    parse_fingerprint,
    parse_time,
    pass_ctx,
    table,
)

doc_types_option = click.option(
    "--doc-types",
    default="all",
    show_default=True,
    help="Comma-separated document types (e.g. cites-permit,phytosanitary-certificate) or 'all'.",
)


def _fp(value: str, party: str) -> bytes:
    """A CA id, or the path of the CA certificate it is computed from for `party` (CA ids are bound to
    the registering party: the same certificate registered by two parties has two ids)."""
    path = Path(value)
    if path.exists():
        return ca_id(party, read_ca_certificate(path).fingerprint)
    return parse_fingerprint(value)


def _acting_party(reg: Registries, address: str) -> str:
    party = reg.trust.admin_party(address)
    if not party:
        raise ConfigError(f"account {address} is not an admin of any party")
    return party


def _registered_id(reg: Registries, value: str) -> bytes:
    """For read commands: a CA id, or the id under which some party registered this certificate."""
    path = Path(value)
    if not path.exists():
        return parse_fingerprint(value)
    cert_hash = read_ca_certificate(path).fingerprint
    ids = [ca_id(p, cert_hash) for p in reg.trust.parties()]
    found = [i for i in ids if reg.trust.ca(i).registered_at]
    if len(found) > 1:
        owners = ", ".join(reg.trust.ca(i).party for i in found)
        raise ConfigError(f"{path} is registered by several parties ({owners}): give the CA id instead")
    return found[0] if found else ids[0] if ids else cert_hash


@click.group("ca")
def ca_group() -> None:
    """National CAs: add, suspend, resume, revoke (with effective times), list, history."""


@ca_group.command("add")
@click.option(
    "--cert", "cert_path", required=True, type=click.Path(path_type=Path), help="CA certificate (PEM)."
)
@click.option(
    "--ca-key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The CA's private key (PEM; TRUSTANCHOR_KEY_PASSWORD if encrypted): signs the proof of "
    "possession that every audit checks. Without it the registration carries none and audits report it.",
)
@doc_types_option
@account_option
@pass_ctx
def ca_add(
    ctx: Context, cert_path: Path, key_path: Path | None, doc_types: str, account_spec: str | None
) -> None:
    """Register a CA of the acting party: its certificate and a proof that the party holds its key."""
    ca = read_ca_certificate(cert_path)
    key = load_ca_key(key_path) if key_path else None
    mask = mask_of(doc_types.split(","))
    reg = ctx.registries()
    fp, r = reg.trust.register_ca(ctx.account(account_spec), ca, mask, key)
    proof = "with proof of possession" if key else "WITHOUT proof of possession (audits will report it)"
    done(f"CA {ca.subject} registered as 0x{fp.hex()} for {', '.join(names_of(mask))}, {proof}", r)


def _status_command(name: str, help_text: str, with_reason: bool) -> None:
    def command(
        ctx: Context, ca: str, effective: str | None, account_spec: str | None, reason: str = "0"
    ) -> None:
        reg = ctx.registries()
        acct = ctx.account(account_spec)
        fp = _fp(ca, _acting_party(reg, acct.address))
        when = parse_time(effective)
        if name == "suspend":
            r = reg.trust.suspend_ca(acct, fp, when, reason_code(reason))
        elif name == "resume":
            r = reg.trust.resume_ca(acct, fp, when)
        else:
            r = reg.trust.revoke_ca(acct, fp, when, reason_code(reason))
        last = reg.trust.ca_history(fp)[-1]
        done(f"CA 0x{fp.hex()} {name}d, effective {fmt_time(last.effective_at)}", r)

    decorated = pass_ctx(command)
    decorated = account_option(decorated)
    if with_reason:
        decorated = click.option(
            "--reason", default="unspecified", show_default=True, help="Reason name or code."
        )(decorated)
    decorated = click.option(
        "--effective", help="Effective time: 'now' (default), unix seconds or ISO 8601."
    )(decorated)
    decorated = click.argument("ca")(decorated)
    ca_group.command(name, help=help_text + " CA is a CA id or the CA certificate file.")(decorated)


_status_command("suspend", "Suspend a CA (effective now or at a past time not before its last change).", True)
_status_command("resume", "Resume a suspended CA.", False)
_status_command(
    "revoke",
    "Revoke a CA for good. --effective may lie in the past (key compromise): documents anchored after it "
    "become invalid, earlier ones stay valid.",
    True,
)


@ca_group.command("list")
@click.option("--party", help="Only this party's CAs.")
@json_option
@pass_ctx
def ca_list(ctx: Context, party: str | None, as_json: bool) -> None:
    """Registered CAs and their current status."""
    reg = ctx.registries()
    parties = [party.upper()] if party else reg.trust.parties()
    cas = [reg.trust.ca(fp) for p in parties for fp in reg.trust.party_cas(p)]
    if as_json:
        emit_json(
            [
                {
                    "fingerprint": c.fingerprint,
                    "party": c.party,
                    "status": c.status.name.lower(),
                    "docTypes": names_of(c.doc_types),
                    "notBefore": c.not_before,
                    "notAfter": c.not_after,
                    "registeredAt": c.registered_at,
                    "revokedAt": c.revoked_at or None,
                }
                for c in cas
            ]
        )
        return
    table(
        "Certificate authorities",
        ["party", "fingerprint", "status", "document types", "valid", "registered"],
        [
            [
                c.party,
                "0x" + c.fingerprint.hex()[:16] + "…",
                c.status.name.lower() + (f" since {fmt_time(c.revoked_at)}" if c.revoked_at else ""),
                ", ".join(names_of(c.doc_types)),
                f"{fmt_time(c.not_before)} – {fmt_time(c.not_after)}",
                fmt_time(c.registered_at),
            ]
            for c in cas
        ],
    )


@ca_group.command("history")
@click.argument("ca")
@json_option
@pass_ctx
def ca_history(ctx: Context, ca: str, as_json: bool) -> None:
    """Every status change of a CA, with effective and recorded times."""
    reg = ctx.registries()
    fp = _registered_id(reg, ca)
    history = reg.trust.ca_history(fp)
    if not history:
        raise click.ClickException(f"CA 0x{fp.hex()} is not registered")
    if as_json:
        emit_json(
            [
                {
                    "status": h.status.name.lower(),
                    "effectiveAt": h.effective_at,
                    "recordedAt": h.recorded_at,
                    "reason": reason_name(h.reason),
                }
                for h in history
            ]
        )
        return
    table(
        f"History of CA 0x{fp.hex()}",
        ["status", "effective", "recorded", "reason"],
        [
            [
                h.status.name.lower(),
                fmt_time(h.effective_at),
                fmt_time(h.recorded_at) + (" (backdated)" if h.effective_at < h.recorded_at else ""),
                reason_name(h.reason),
            ]
            for h in history
        ],
    )
