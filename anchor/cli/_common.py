"""What every command shares: configuration, the chain connection, acting accounts, output helpers."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import click
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table

from .. import inputs
from ..accounts import resolve_account
from ..chain import Chain, connect
from ..config import Config, load_config
from ..deploy import Manifest
from ..errors import ConfigError
from ..registry import Registries


@dataclass
class Context:
    config_path: str | None
    home: Path | None
    manifest_override: Path | None = None
    _chain: Chain | None = field(default=None, repr=False)

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path, home=self.home)

    @property
    def manifest_path(self) -> Path:
        return self.manifest_override or self.config.manifest_path

    def chain(self) -> Chain:
        if self._chain is None:
            if self.config.chain.backend == "embedded":
                raise ConfigError(
                    "the embedded chain lives inside one process; CLI commands need a node "
                    "(backend = anvil or rpc in the chain config)"
                )
            self._chain = connect(self.config.chain)
        return self._chain

    def manifest(self) -> Manifest:
        return Manifest.load(self.manifest_path)

    def registries(self) -> Registries:
        return Registries.open(self.chain(), self.manifest(), source=str(self.manifest_path))

    def account(self, spec: str | None) -> LocalAccount:
        spec = spec or os.environ.get("TRUSTANCHOR_ACCOUNT")
        if not spec:
            raise click.UsageError("this command writes to the chain: give --account (dev:N or a key file)")
        return resolve_account(spec, self.config.chain.mnemonic)


pass_ctx = click.make_pass_decorator(Context)

account_option = click.option(
    "--account",
    "account_spec",
    metavar="ACCOUNT",
    help="Acting account: dev:N (local development account) or a key file. Env: TRUSTANCHOR_ACCOUNT.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, default=_jsonable))


def _jsonable(v: Any) -> Any:
    if isinstance(v, bytes):
        return "0x" + v.hex()
    if isinstance(v, Path):
        return str(v)
    raise TypeError(type(v).__name__)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """A table sized to the terminal; piped or redirected, every cell is printed whole on one line (a
    terminal-less console would squeeze the table into 80 columns, wrapping and cutting values)."""
    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*[str(x) for x in r])
    out = console() if is_tty() else Console(highlight=False, soft_wrap=True, width=_UNLIMITED)
    out.print(t)


_UNLIMITED = 1_000_000  # columns: a table never needs more, so none of its cells is wrapped or cut


def member_parties(reg: Registries) -> list[str]:
    """The parties that are members of the registry now (parties() also lists former members)."""
    return [p for p in reg.trust.parties() if reg.trust.is_member(p)]


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 document', '2 documents' ('1 batch', '3 batches' with many='batches')."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def article(word: str) -> str:
    """`word` with its indefinite article: 'an auditor', 'a verifier'."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def fmt_time(ts: int) -> str:
    if ts <= 0:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def parse_time(text: str | None) -> int:
    """'now' / empty -> 0 (the contracts read 0 as now), unix seconds, or an ISO 8601 time (UTC if naive)."""
    try:
        return inputs.parse_time(text) or 0
    except ConfigError as e:
        raise click.BadParameter(str(e)) from None


def parse_quantity(text: str, what: str) -> int:
    try:
        return inputs.parse_quantity(text, what)
    except ConfigError as e:
        raise click.BadParameter(str(e)) from None


def parse_fingerprint(text: str) -> bytes:
    try:
        return inputs.parse_fingerprint(text)
    except ConfigError as e:
        raise click.BadParameter(str(e)) from None


def done(message: str, receipt: Any) -> None:
    click.echo(f"{message} (tx {receipt.tx_hash}, block {receipt.block_number}, gas {receipt.gas_used})")


def warn(message: str) -> None:
    click.echo(message, err=True)


def is_tty() -> bool:
    return sys.stdout.isatty()
