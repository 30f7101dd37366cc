"""`trustanchor chain up|down|status` and `trustanchor deploy`."""

from __future__ import annotations

import click

from .._internal import anvil
from ..deploy import Manifest, deploy_configured, verify_code
from ..errors import ConfigError
from ._common import Context, emit_json, json_option, pass_ctx


@click.group("chain")
def chain_group() -> None:
    """Run the local development chain (anvil, configured in chain/local.toml)."""


def _require_anvil(ctx: Context) -> None:
    if ctx.config.chain.backend != "anvil":
        raise ConfigError(
            f"chain backend is {ctx.config.chain.backend!r}: only the 'anvil' backend is started and stopped here"
        )


@chain_group.command("up")
@pass_ctx
def chain_up(ctx: Context) -> None:
    """Start this home's anvil with persisted state (idempotent: does nothing if it already runs).

    Refused, naming the owner, when the configured port is held by a node that is not this home's
    (another checkout's chain, say).
    """
    _require_anvil(ctx)
    before = anvil.status(ctx.config)
    st = anvil.up(ctx.config)
    verb = "already running" if before.running and before.mine else "started"
    click.echo(
        f"chain {verb} (this home): {st.url} (chain id {st.chain_id}, block {st.block}, pid {st.pid}, "
        f"state {ctx.config.state_path})"
    )


@chain_group.command("down")
@pass_ctx
def chain_down(ctx: Context) -> None:
    """Stop this home's anvil; its state is saved and comes back with `chain up`.

    Another home's node on the configured port is left alone and named.
    """
    _require_anvil(ctx)
    stopped = anvil.down(ctx.config)
    click.echo(
        "chain stopped, state saved" if stopped else f"chain was not running (this home: {ctx.config.home})"
    )


@chain_group.command("status")
@json_option
@pass_ctx
def chain_status(ctx: Context, as_json: bool) -> None:
    """Whether this home's node runs, its chain id and latest block, or whose node holds the port.

    Exit 0 only when this home's node answers (or, with backend rpc, the endpoint answers).
    """
    cfg = ctx.config
    st = anvil.status(cfg)
    managed = cfg.chain.backend == "anvil"
    ok = st.running and (st.mine or not managed)
    if as_json:
        used_by = None
        if st.foreign and st.owner is not None:
            used_by = {
                "home": str(st.owner.home) if st.owner.home else None,
                "pid": st.owner.pid,
                "chainId": st.chain_id,
                "block": st.block,
            }
        emit_json(
            {
                "running": ok,
                "home": str(cfg.home),
                "pid": st.pid,
                "url": st.url,
                "chainId": st.chain_id if ok else None,
                "block": st.block if ok else None,
                "usedBy": used_by,
            }
        )
    elif not managed and st.running:
        click.echo(
            f"running: {st.url} (chain id {st.chain_id}, block {st.block}; "
            f"backend {cfg.chain.backend}, not run by this home)"
        )
    elif ok:
        click.echo(f"running (this home): {st.url} (chain id {st.chain_id}, block {st.block}, pid {st.pid})")
    elif st.foreign and st.owner is not None:
        answers = f" (chain id {st.chain_id}, block {st.block})" if st.running else ""
        click.echo(f"not running for this home: {anvil.taken(cfg, st.owner)}{answers}")
    elif st.mine:
        click.echo(f"not answering: this home's anvil (pid {st.pid}) does not answer at {st.url}")
    else:
        click.echo(f"not running ({st.url})")
    if not ok:
        raise SystemExit(1)


@click.command("deploy")
@click.option("--force", is_flag=True, help="Deploy anew even if a manifest exists.")
@click.option("--account", "account_spec", metavar="ACCOUNT", help="Deployer (default: [deploy].deployer).")
@json_option
@pass_ctx
def deploy_cmd(ctx: Context, force: bool, account_spec: str | None, as_json: bool) -> None:
    """Deploy both registries with the founding parties from the config, or verify an existing deployment.

    With a manifest already present, the code at its addresses is checked against the committed build
    artifacts instead of deploying again.
    """
    # Never deploy to, nor verify a manifest against, another home's chain that happens to answer at
    # this home's port: the same deployer and nonce give the same addresses on every local chain.
    anvil.require_own(ctx.config, "deploy")
    chain = ctx.chain()
    path = ctx.manifest_path
    if path.exists() and not force:
        manifest = Manifest.load(path)
        verify_code(chain, manifest)
        if as_json:
            emit_json({"status": "verified", "manifest": str(path), **_summary(manifest)})
        else:
            click.echo(f"deployment verified: code at both addresses matches the build artifacts ({path})")
            _print(manifest)
        return
    dep = ctx.config.deploy
    if dep is None:
        raise ConfigError(f"{ctx.config.source}: no [deploy] section with founding parties")
    deployer = ctx.account(account_spec or dep.deployer)
    parties = [(p.id, _address(ctx, p.admin)) for p in dep.parties]
    manifest = deploy_configured(chain, deployer, parties, dep, ctx.config.chain.name)
    manifest.save(path)
    if as_json:
        emit_json({"status": "deployed", "manifest": str(path), **_summary(manifest)})
    else:
        click.echo(f"deployed; manifest written to {path}")
        _print(manifest)


def _address(ctx: Context, spec: str) -> str:
    """A founding admin: a bare address (key held elsewhere), dev:N or a key file."""
    if spec.startswith("0x") and len(spec) == 42:
        return spec
    return ctx.account(spec).address


def _summary(m: Manifest) -> dict[str, object]:
    return {
        "chainId": m.chain_id,
        "deployBlock": m.deploy_block,
        "trustRegistry": m.trust_registry.address,
        "documentRegistry": m.document_registry.address,
        "parties": [p["id"] for p in m.founding["parties"]],
        "threshold": m.founding["threshold"],
    }


def _print(m: Manifest) -> None:
    click.echo(f"  chain id          {m.chain_id}")
    click.echo(f"  deploy block      {m.deploy_block}")
    click.echo(f"  TrustRegistry     {m.trust_registry.address}")
    click.echo(f"  DocumentRegistry  {m.document_registry.address}")
    parties = ", ".join(f"{p['id']} ({p['admin']})" for p in m.founding["parties"])
    click.echo(f"  founding parties  {parties}; threshold {m.founding['threshold']}")
