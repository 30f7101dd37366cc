"""Where the anvil binary is: TRUSTANCHOR_ANVIL, else a checkout's node_modules, else PATH.

A checkout pins anvil in node_modules (npm ci), and its pinned version wins over whatever anvil is on
PATH; an installed package has no node_modules and finds anvil on PATH (Foundry's installer puts it
there) or where TRUSTANCHOR_ANVIL says.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..config import REPO_ROOT
from ..errors import ChainError

ENV = "TRUSTANCHOR_ANVIL"
CHECKOUT_ANVIL = REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


def find_anvil() -> Path:
    """The anvil to run; ChainError, in one line naming every place looked at, when there is none."""
    named = os.environ.get(ENV)
    if named:
        path = Path(named).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ChainError(f"{ENV}={named} is not an executable file")
        # The running-node registry recognizes its nodes by the program name on their command line.
        if path.name != "anvil":
            raise ChainError(f"{ENV}={named} must name the anvil binary itself (a file named anvil)")
        return path
    if CHECKOUT_ANVIL.is_file():
        return CHECKOUT_ANVIL
    if found := shutil.which("anvil"):
        return Path(found)
    raise ChainError(
        f"anvil not found: not in {ENV}, not in {CHECKOUT_ANVIL.parents[3]} (run `npm ci` in a checkout), "
        "not on PATH (install Foundry: https://getfoundry.sh)"
    )
