"""`trustanchor demo`: play the cross-border scenario on the local chain and report every step."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from ..config import DEFAULT_CONFIG, home_dir
from ..demo import DemoResult, HandCommand, Step, run_demo
from ._common import Context, console, pass_ctx
from .verify_cmd import print_verdict

INDENT = "       "


class RichReporter:
    def __init__(self, out: Console, verbose: bool) -> None:
        self.c = out
        self.verbose = verbose

    def section(self, title: str, intro: str = "") -> None:
        self.c.print()
        self.c.print(f"[bold]{escape(title)}[/]")
        if intro:
            self.c.print(f"[dim]{escape(intro)}[/]")

    def step(self, step: Step) -> None:
        mark = "[green]✓[/]" if step.ok else "[bold red]✗[/]"
        self.c.print(f" {mark} {step.number:<5} {escape(step.title)}")
        self.c.print(f"{INDENT}expected: {escape(step.expected)}")
        style = "green" if step.ok else "bold red"
        self.c.print(f"{INDENT}actual:   [{style}]{escape(step.actual)}[/]")
        for d in step.details:
            self.c.print(f"{INDENT}[dim]{escape(d)}[/]")
        if self.verbose and step.verdict is not None:
            print_verdict(step.verdict)

    def note(self, text: str) -> None:
        self.c.print(f"[dim]{escape(text)}[/]")


def _shown(path: Path | str) -> str:
    """Relative to the working directory when below it (shorter to type), else absolute."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def _program() -> str:
    argv0 = sys.argv[0] if sys.argv else ""
    if Path(argv0).name != "trustanchor":
        return "trustanchor"
    found = shutil.which("trustanchor")
    if found and Path(found).resolve() == Path(argv0).resolve():
        return "trustanchor"
    return _shown(argv0)


def command_prefix(ctx: Context) -> list[str]:
    """`trustanchor` plus the global options needed to reach the same chain, home and manifest."""
    parts = [_program()]
    cfg = ctx.config
    default_config = Path(os.environ.get("TRUSTANCHOR_CONFIG") or DEFAULT_CONFIG).resolve()
    if cfg.source is not None and cfg.source.resolve() != default_config:
        parts += ["--config", _shown(cfg.source)]
    if cfg.home.resolve() != home_dir():
        parts += ["--home", _shown(cfg.home)]
    if ctx.manifest_override is not None:
        parts += ["--manifest", _shown(ctx.manifest_override)]
    return parts


def hand_command(ctx: Context, cmd: HandCommand) -> str:
    args = [
        *command_prefix(ctx),
        "verify",
        _shown(cmd.document),
        "--bundle",
        _shown(cmd.bundle),
        "--as",
        cmd.as_party,
        *cmd.options,
    ]
    return " ".join(shlex.quote(a) for a in args)


def _summary(ctx: Context, result: DemoResult, out: Console) -> None:
    out.print()
    total = len(result.steps)
    if result.ok:
        out.print(f"[bold green]All {total} steps had the expected outcome.[/]")
    else:
        failed = result.failed
        out.print(
            f"[bold red]{len(failed)} of {total} steps did not have the expected outcome"
            + (", and the demo stopped early" if result.aborted else "")
            + ":[/]"
        )
        for s in failed:
            out.print(f"  [red]✗ {s.number} {escape(s.title)}[/]")
            out.print(f"      expected: {escape(s.expected)}")
            out.print(f"      actual:   {escape(s.actual)}")
    demo_dir = ctx.config.home / "demo"
    out.print()
    out.print(
        f"PKIs, documents and bundles are in {escape(_shown(demo_dir))}/ (pki/, documents/, bundles/); the "
        "chain keeps running with its state persisted."
    )
    if result.commands:
        out.print()
        out.print("[bold]Verify by hand[/] (exit code 0 VALID, 1 INVALID):")
        for cmd in result.commands:
            out.print(f"  [dim]# {escape(cmd.description)}: {escape(cmd.expected)}[/]")
            out.print(f"  {escape(hand_command(ctx, cmd))}")


@click.command("demo")
@click.option("-v", "--verbose", is_flag=True, help="Also print every check of every verification.")
@pass_ctx
def demo_cmd(ctx: Context, verbose: bool) -> None:
    """Play a cross-border trade scenario end to end on the local chain and report every step.

    Starts the local chain if needed and deploys the registries if there is no manifest. SG, TH and MY
    (the founding parties of the config, acting with their admin accounts) set up PKIs, register CAs,
    authorize issuing agencies and agree on recognition; SG issues CITES permits, an ePhyto certificate,
    a certificate of origin and a veterinary certificate; TH verifies them at its border, consumes a
    permit, rejects a tampered copy and an unrecognized document type; MY revokes its CA with a
    backdated effective time; SG supersedes a certificate by its amendment.

    Everything is left under TRUSTANCHOR_HOME/demo/ and the chain keeps running. Running it again works:
    earlier registrations are reused where they still fit. Note that the demo moves the local chain's
    clock forward for good (evm_increaseTime). Exit 0 only if every step had its expected outcome, else 1.
    """
    out = console()
    out.print("[bold]Trust Anchor demo[/]: cross-border trust for SG, TH and MY on the local chain")
    result = run_demo(ctx.config, ctx.manifest_path, RichReporter(out, verbose))
    _summary(ctx, result, out)
    raise SystemExit(0 if result.ok else 1)
