"""Commands other installed code adds to `trustanchor`: the entry point group `trustanchor.commands`.

Each entry point names a click command or group (``serve = "api.cli:serve_cmd"``). A plugin is loaded
only when its command is run or the commands are listed (``--help``), so the agency service's FastAPI
costs nothing to the commands that do not need it, and a plugin that fails to load (its extra not
installed) is skipped with one line on stderr. Built-in commands win over a plugin of the same name.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

import click

GROUP = "trustanchor.commands"


def _load(ep: EntryPoint) -> click.Command | None:
    try:
        command = ep.load()
    except Exception as e:  # a plugin's import may fail any way; the CLI must still run
        problem = f"{type(e).__name__}: {e}".splitlines()[0]
        click.echo(f"warning: command {ep.name!r} ({ep.value}) not loaded: {problem}", err=True)
        return None
    if not isinstance(command, click.Command):
        kind = type(command).__name__
        click.echo(
            f"warning: command {ep.name!r} ({ep.value}) not loaded: not a click command ({kind})", err=True
        )
        return None
    return command


class PluginGroup(click.Group):
    """A click group that also offers the commands registered under `trustanchor.commands`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._broken: set[str] = set()  # warned about once, then left out

    def _plugins(self) -> dict[str, EntryPoint]:
        eps = entry_points(group=GROUP)
        return {ep.name: ep for ep in eps if ep.name not in self.commands and ep.name not in self._broken}

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(self.commands)
        names.update(name for name in self._plugins() if self.get_command(ctx, name))
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if (builtin := self.commands.get(cmd_name)) is not None:
            return builtin
        ep = self._plugins().get(cmd_name)
        if ep is None:
            return None
        command = _load(ep)
        if command is None:
            self._broken.add(cmd_name)
        else:
            self.add_command(command, cmd_name)  # loaded once per process
        return command
