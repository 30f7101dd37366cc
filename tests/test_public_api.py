"""`anchor`'s public API: what the README lists, every name real, loaded lazily, and no FastAPI needed."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import anchor

README = Path(__file__).resolve().parent.parent / "README.md"
SERVICE_ONLY = ("fastapi", "fastapi_offline", "starlette", "uvicorn", "multipart", "python_multipart")


def documented_names() -> list[str]:
    text = README.read_text()
    start = text.index("## Library\n")
    section = text[start : text.index("\n## ", start + 1)]
    # The bullet list (with its continuation lines) names the API; the prose around it names commands.
    bullets = re.findall(r"(?m)^- .*(?:\n  .*)*", section)
    assert bullets, "README's Library section lists no names"
    return re.findall(r"`([A-Za-z_]\w*)`", "\n".join(bullets))


def test_all_is_exactly_what_the_readme_lists() -> None:
    names = documented_names()
    assert len(names) == len(set(names)), "a name is listed twice"
    assert sorted(names) == sorted(anchor.__all__)


@pytest.mark.parametrize("name", anchor.__all__)
def test_every_public_name_resolves_to_the_object_its_module_defines(name: str) -> None:
    value = getattr(anchor, name)
    module = importlib.import_module(value.__module__)
    assert getattr(module, value.__qualname__) is value
    # Defined inside the package (not re-exported from a dependency).
    assert value.__module__.startswith("anchor.")


def test_errors_are_trust_anchor_errors() -> None:
    for name in anchor.__all__:
        value = getattr(anchor, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, anchor.TrustAnchorError), name


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Verfier'"):
        _ = anchor.Verfier
    assert set(anchor.__all__) <= set(dir(anchor))


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_import_anchor_loads_nothing_else() -> None:
    # Counted in modules, not seconds: the chain stack (web3, py-evm) takes seconds to import.
    done = run_python(
        "import sys; before = set(sys.modules); import anchor; print(*sorted(set(sys.modules) - before))"
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    assert "anchor" in loaded
    assert [m for m in loaded if m != "anchor" and m.split(".")[0] not in sys.stdlib_module_names] == []


BLOCK_SERVICE = f"""
import importlib.abc, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SERVICE_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (service extra not installed)", name=name)
        return None

sys.meta_path.insert(0, Refuse())
"""


def test_the_library_and_cli_need_no_service_dependencies() -> None:
    refused = run_python(BLOCK_SERVICE + "import fastapi\n")
    assert "service extra not installed" in refused.stderr  # the guard itself works
    code = BLOCK_SERVICE + (
        "import importlib, pkgutil, anchor\n"
        "for n in anchor.__all__: getattr(anchor, n)\n"
        "mods = [m.name for m in pkgutil.walk_packages(anchor.__path__, 'anchor.')]\n"
        "for m in mods: importlib.import_module(m)\n"
        "print(len(mods))\n"
        "from anchor.cli.main import main\n"
        "main(['--help'])\n"
    )
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    count, *help_text = done.stdout.splitlines()
    assert int(count) > 60  # every module of the package, the CLI's included
    assert any(line.strip().startswith("verify ") for line in help_text)
    assert "Traceback" not in done.stderr
