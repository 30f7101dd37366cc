"""`trustanchor checkpoint …` (witnesses), `trustanchor pack …` (trust packs) and `trustanchor bundle refresh`."""

from __future__ import annotations

import time
from pathlib import Path

import click
from eth_account.signers.local import LocalAccount

from ..audit.source import AuditSource
from ..bundle import Bundle
from ..checkpoint.note import Checkpoint
from ..checkpoint.pack import Pins, TrustPack, verify_pack
from ..checkpoint.publish import checkpointer_at, newest_pack, review
from ..checkpoint.state import Checkpointer
from ..checkpoint.status import refreshed
from ..checkpoint.witness import Published, WitnessLedger, witness
from ..errors import ConfigError
from ._common import Context, account_option, emit_json, json_option, pass_ctx, warn

dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where checkpoints are published and co-signed (default: HOME/checkpoints).",
)
pins_option = click.option(
    "--pins",
    "pins_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Pinned witness keys (default: HOME/offline/pins.json).",
)


def published(ctx: Context, directory: Path | None) -> Published:
    return Published(directory or ctx.config.home / "checkpoints")


def pins_file(ctx: Context, path: Path | None) -> Path:
    return path or ctx.config.home / "offline" / "pins.json"


def _source(ctx: Context) -> AuditSource:
    return AuditSource.from_chain(ctx.chain(), ctx.manifest())


def _summary(cp: Checkpoint) -> str:
    return f"checkpoint of {cp.size} events at block {cp.block} ({time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime(cp.block_time))})"


@click.group("checkpoint")
def checkpoint_group() -> None:
    """Registry checkpoints: compute, witness (co-sign) and list them."""


@checkpoint_group.command("show")
@click.option("--block", type=int, help="Block to checkpoint (default: the head).")
@pass_ctx
def show_cmd(ctx: Context, block: int | None) -> None:
    """Print the checkpoint this node's registries give at a block (the unsigned note body)."""
    source = _source(ctx)
    cp = Checkpointer(source).advance(source.head() if block is None else block)
    click.echo(cp.body(), nl=False)


@checkpoint_group.command("witness")
@account_option
@dir_option
@click.option(
    "--block", type=int, help="Checkpoint this block (default: a newer published one, else the head)."
)
@json_option
@pass_ctx
def witness_cmd(
    ctx: Context, account_spec: str | None, directory: Path | None, block: int | None, as_json: bool
) -> None:
    """Recompute the checkpoint from this node, check it extends the last one this witness signed, co-sign it.

    With no --block, co-signs the newest published checkpoint this witness has not signed (if this node
    agrees with it), else proposes one at the head. Exit 1 if a fork was found (evidence is written).
    """
    acct: LocalAccount = ctx.account(account_spec)
    pub = published(ctx, directory)
    source = _source(ctx)
    ledger = WitnessLedger.load(ctx.config.home / "witness" / f"{acct.address.lower()}.json")
    target = block
    if target is None:
        unsigned = [
            n.checkpoint.block
            for n in (pub.notes() if pub.dir.exists() else [])
            if n.checkpoint.size >= ledger.last_size and n.checkpoint.size not in ledger.signed
        ]
        target = max(unsigned, default=source.head())
    checkpointer = Checkpointer(source)
    cp = checkpointer.advance(target)
    party = checkpointer.snapshot.witness_party.get(acct.address.lower(), "")
    if not party:
        raise ConfigError(
            f"{acct.address} is not a witness account at block {target} (`trustanchor role grant-witness`)"
        )
    done = witness(checkpointer, party, bytes(acct.key), acct.address, ledger, pub)
    if as_json:
        emit_json(
            {
                "checkpoint": done.signed.text(),
                "file": str(done.path),
                "evidence": [str(p) for p in done.evidence],
            }
        )
    else:
        click.echo(f"{party} co-signed the {_summary(cp)}: {done.path}")
        click.echo(f"co-signed by {', '.join(sorted({c.party for c in done.signed.cosignatures}))}")
    for path in done.evidence:
        warn(f"FORK: another checkpoint for {cp.size} events is published; evidence written to {path}")
    if done.evidence:
        raise SystemExit(1)


@checkpoint_group.command("list")
@dir_option
@click.option(
    "--min-witnesses",
    type=click.IntRange(min=1),
    help="Co-signers needed (default: the governance threshold).",
)
@json_option
@pass_ctx
def list_cmd(ctx: Context, directory: Path | None, min_witnesses: int | None, as_json: bool) -> None:
    """Every published checkpoint, checked against this node: does it match, who co-signed it."""
    reviewed, _ = review(_source(ctx), published(ctx, directory), min_witnesses=min_witnesses)
    rows = [
        {
            "events": r.signed.checkpoint.size,
            "block": r.signed.checkpoint.block,
            "blockTime": r.signed.checkpoint.block_time,
            "matchesChain": r.matches_chain,
            "cosigners": list(r.cosigners),
            "threshold": r.threshold,
            "witnessed": r.witnessed,
        }
        for r in reviewed
    ]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no checkpoint published yet")
    for row in rows:
        state = (
            "witnessed"
            if row["witnessed"]
            else ("DISAGREES WITH THIS NODE" if not row["matchesChain"] else "not yet witnessed")
        )
        click.echo(
            f"{row['events']:>8} events  block {row['block']:>8}  {state:<24} co-signed by {', '.join(row['cosigners']) or 'nobody'}"  # type: ignore[arg-type]
        )


@click.group("pack")
def pack_group() -> None:
    """Trust packs for verifying offline: create, pin witness keys, show."""


@pack_group.command("create")
@dir_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here (default: HOME/offline/trust-pack.json).",
)
@click.option(
    "--min-witnesses",
    type=click.IntRange(min=1),
    help="Co-signers needed (default: the governance threshold).",
)
@pass_ctx
def pack_create(ctx: Context, directory: Path | None, output: Path | None, min_witnesses: int | None) -> None:
    """The trust pack of the newest witnessed checkpoint (recomputed from this node)."""
    pack = newest_pack(_source(ctx), published(ctx, directory), min_witnesses=min_witnesses)
    out = output or ctx.config.home / "offline" / "trust-pack.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = pack.to_json()
    out.write_text(text, encoding="utf-8")
    cosigners = sorted({c.party for c in pack.signed.cosignatures})
    click.echo(
        f"{out}: {_summary(pack.checkpoint)}, co-signed by {', '.join(cosigners)}; {len(text):,} bytes"
    )


@pack_group.command("pin")
@click.option(
    "--trust-pack",
    "pack_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Pin at this pack's checkpoint (checked against this node).",
)
@pins_option
@pass_ctx
def pack_pin(ctx: Context, pack_path: Path | None, pins_path: Path | None) -> None:
    """While connected: pin the member parties' witness keys and the threshold, read from this node."""
    source = _source(ctx)
    if pack_path is not None:
        pack = TrustPack.load(pack_path)
        checkpointer = checkpointer_at(source, pack.checkpoint)
        pins = Pins.of(checkpointer.snapshot, pack.checkpoint)
    else:
        checkpointer = Checkpointer(source)
        cp = checkpointer.advance(source.head())
        pins = Pins.of(checkpointer.snapshot, cp, accepted=False)
    path = pins_file(ctx, pins_path)
    pins.save(path)
    keys = sum(len(w) for w in pins.witnesses.values())
    click.echo(
        f"{path}: {keys} witness keys of {len(pins.witnesses)} member parties, threshold {pins.threshold}"
    )
    missing = sorted(p for p, w in pins.witnesses.items() if not w)
    if missing:
        warn(f"note: {', '.join(missing)} have no witness account yet")


@pack_group.command("show")
@click.argument("pack_path", type=click.Path(dir_okay=False, path_type=Path))
@pins_option
@json_option
@pass_ctx
def pack_show(ctx: Context, pack_path: Path, pins_path: Path | None, as_json: bool) -> None:
    """What a trust pack holds, and whether the pinned witness keys accept it (no connection needed)."""
    pack = TrustPack.load(pack_path)
    cp = pack.checkpoint
    verdict = verify_pack(pack, Pins.load(pins_file(ctx, pins_path)))
    if as_json:
        emit_json(
            {
                "events": cp.size,
                "block": cp.block,
                "blockHash": cp.block_hash,
                "blockTime": cp.block_time,
                "accepted": verdict.ok,
                "code": verdict.code,
                "message": verdict.message,
                "ageSeconds": max(0, int(time.time()) - cp.block_time),
            }
        )
        return
    click.echo(f"{_summary(cp)} on {cp.origin}")
    click.echo(f"{'accepted' if verdict.ok else 'NOT ACCEPTED'} ({verdict.code}): {verdict.message}")


@click.group("bundle")
def bundle_group() -> None:
    """Proof bundles: refresh their status proofs for offline verification."""


@bundle_group.command("refresh")
@click.argument("bundles", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--trust-pack",
    "pack_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Prove the status at this pack's checkpoint.",
)
@pass_ctx
def bundle_refresh(ctx: Context, bundles: tuple[Path, ...], pack_path: Path) -> None:
    """Add (or replace) each bundle's status proof at the pack's checkpoint, so it verifies offline."""
    pack = TrustPack.load(pack_path)
    checkpointer = checkpointer_at(_source(ctx), pack.checkpoint)
    for path in bundles:
        path.write_text(refreshed(checkpointer, Bundle.load(path)).to_json(), encoding="ascii")
    click.echo(
        f"refreshed {len(bundles)} bundle{'s' if len(bundles) != 1 else ''} at the {_summary(pack.checkpoint)}"
    )


__all__ = ["bundle_group", "checkpoint_group", "pack_group"]
