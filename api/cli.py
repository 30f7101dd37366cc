"""The service's commands of the `trustanchor` CLI: `serve` (the agency service) and `apikey create|revoke|list`.

They reach the CLI through the `trustanchor.commands` entry point group (pyproject.toml), so the library
(anchor/) never imports the service.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from anchor.cli._common import (
    Context,
    article,
    emit_json,
    fmt_time,
    json_option,
    member_parties,
    pass_ctx,
    table,
)
from anchor.deploy import party_id
from anchor.errors import ConfigError, TrustAnchorError
from anchor.inputs import parse_duration

if TYPE_CHECKING:
    from .auth import ApiKeys
    from .settings import ServiceSettings

# Every `trustanchor` command loads this module (through the entry point); the service's own modules
# (FastAPI, uvicorn, pydantic-settings) are imported only by the commands that use them.

service_config_option = click.option(
    "--service-config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Service settings (TOML). Env: TRUSTANCHOR_API_CONFIG; single settings: TRUSTANCHOR_API_*.",
)


def _settings(ctx: Context, service_config: Path | None, **overrides: Any) -> ServiceSettings:
    from .settings import load_settings

    return load_settings(
        service_config,
        home=ctx.config.home,
        chain_config=ctx.config.source,
        manifest=ctx.manifest_path,
        **overrides,
    )


@click.command("serve")
@service_config_option
@click.option("--host", help="Listen address (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Listen port (default 8080).")
@click.option(
    "--workers", type=click.IntRange(1, 32), help="Worker processes (default 1; one of them anchors)."
)
@click.option(
    "--public-verification/--no-public-verification",
    default=None,
    help="Verification and registry reads without an API key.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@click.option(
    "--offline",
    is_flag=True,
    default=None,
    help="No node: verify from the trust pack only (a border post's laptop). Page and verification API.",
)
@click.option(
    "--trust-pack",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The witnessed trust pack to publish at /v1/trust-pack (and, --offline, to verify from). "
    "Default HOME/offline/trust-pack.json.",
)
@click.option(
    "--pins",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Pinned witness keys for --offline (default HOME/offline/pins.json; `trustanchor pack pin`).",
)
@click.option("--max-age", help="Oldest checkpoint accepted offline, e.g. 24h (default 24h).")
@pass_ctx
def serve_cmd(
    ctx: Context,
    service_config: Path | None,
    host: str | None,
    port: int | None,
    workers: int | None,
    public_verification: bool | None,
    log_level: str,
    offline: bool | None,
    trust_pack: Path | None,
    pins: Path | None,
    max_age: str | None,
) -> None:
    """Run the agency service: issuing with durable intake and batching, verification, registry reads,
    and the verification page at /. API under /v1 (OpenAPI at /v1/openapi.json).

    With --offline it needs no node at all: the page and the verification API answer from a witnessed
    trust pack, each verdict "as of" its checkpoint (docs/checkpoints.md)."""
    from .server import serve  # uvicorn and the app: only when serving

    settings = _settings(
        ctx,
        service_config,
        host=host,
        port=port,
        workers=workers,
        public_verification=public_verification,
        offline=offline,
        trust_pack=trust_pack,
        pins=pins,
        offline_max_age_seconds=None if max_age is None else parse_duration(max_age, "--max-age"),
    )
    serve(settings, log_level=log_level)


@click.group("apikey")
def apikey_group() -> None:
    """API keys of the agency service: one role and one party each; only their SHA-256 is stored."""


def _keys(ctx: Context, service_config: Path | None) -> ApiKeys:
    from .auth import ApiKeys
    from .store import Database

    return ApiKeys(Database(_settings(ctx, service_config).db_path))


@apikey_group.command("create")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["issuer", "verifier", "auditor", "registry-admin"]),
    help="What the key may do.",
)
@click.option("--party", required=True, help="The party the key acts for, e.g. SG.")
@click.option("--label", default="", help="A note: who or what holds the key.")
@service_config_option
@json_option
@pass_ctx
def apikey_create(
    ctx: Context, role: str, party: str, label: str, service_config: Path | None, as_json: bool
) -> None:
    """Create a key; it is printed once and cannot be shown again.

    PARTY must be a member party of the registry (the chain must be reachable to check that)."""
    from .auth import parse_role

    parsed = parse_role(role)
    party_id(party)  # a malformed code is refused before the chain is asked
    code = party.strip().upper()
    try:
        members = member_parties(ctx.registries())
    except TrustAnchorError as e:
        raise ConfigError(
            f"cannot check that {code} is a member party, so no key is created: {e} "
            "(the chain and the deployment the service uses must be reachable)"
        ) from None
    if code not in members:
        raise click.BadParameter(
            f"{code} is not a member party of the registry (members: {', '.join(members) or 'none'})",
            param_hint="'--party'",
        )
    key, info = _keys(ctx, service_config).create(parsed, code, label)
    if as_json:
        emit_json({**info.to_dict(), "key": key})
        return
    click.echo(
        f"created {article(info.role.value)} key {info.id} for {info.party}; store it now, it is not shown again:"
    )
    click.echo(key)


@apikey_group.command("revoke")
@click.argument("key_id")
@service_config_option
@pass_ctx
def apikey_revoke(ctx: Context, key_id: str, service_config: Path | None) -> None:
    """Revoke the key with id KEY_ID (a running service refuses it within a second)."""
    info = _keys(ctx, service_config).revoke(key_id)
    click.echo(f"revoked {info.role.value} key {info.id} of {info.party}")


@apikey_group.command("list")
@click.option("--party", help="Only this party's keys.")
@service_config_option
@json_option
@pass_ctx
def apikey_list(ctx: Context, party: str | None, service_config: Path | None, as_json: bool) -> None:
    """Every key (never the keys themselves): id, role, party, label, created, revoked."""
    keys = _keys(ctx, service_config).all(party)
    if as_json:
        emit_json({"keys": [k.to_dict() for k in keys]})
        return
    table(
        "API keys",
        ["id", "role", "party", "label", "created", "revoked"],
        [
            [k.id, k.role.value, k.party, k.label, fmt_time(k.created_at), fmt_time(k.revoked_at or 0)]
            for k in keys
        ],
    )
