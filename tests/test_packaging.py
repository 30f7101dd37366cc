"""The package as a user gets it: built and installed (not editable) into a fresh environment, run
outside the checkout; and the `trustanchor.commands` entry points that add commands to the CLI.

The fresh environment has no pip and no packages of its own: a .pth file lends it the project
environment's third-party packages (never `anchor`, which that environment has only as an editable
install, whose hook a .pth-added directory does not run), so nothing is downloaded.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

import anchor
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / "node_modules" / ".bin"
# What building the package reads: the sources of its two packages, their data, and the metadata.
BUILD_INPUTS = ("pyproject.toml", "README.md", "anchor", "api")


def clean_env(path: str, **extra: str) -> dict[str, str]:
    """The environment minus anything that would point a command back at the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTANCHOR_")}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = path
    env.update(extra)
    return env


def system_path() -> str:
    """PATH without the project's environment (its `trustanchor` is the checkout's) nor node_modules."""
    skip = {str(ROOT / ".venv" / "bin"), str(NODE_BIN)}
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p not in skip)


def run(
    args: list[str | Path], cwd: Path, env: Mapping[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout
    )


@dataclass(frozen=True)
class Installed:
    venv: Path
    site_packages: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def trustanchor(self) -> Path:
        return self.venv / "bin" / "trustanchor"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, src / name)
    venv = base / "venv"
    made = run([sys.executable, "-m", "venv", "--without-pip", venv], base, os.environ)
    assert made.returncode == 0, made.stderr
    purelib = sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    site_packages = Path(purelib)
    lent = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (site_packages / "trustanchor-deps.pth").write_text("".join(f"{p}\n" for p in lent))
    # --ignore-installed: pip must not touch the project environment's editable trustanchor it can see.
    pip = run(
        [venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--ignore-installed", "--no-index", "--disable-pip-version-check", "--quiet", src],
        base,
        clean_env(system_path()),
    )  # fmt: skip
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return Installed(venv, site_packages)


def test_the_installed_package_is_not_the_checkout_and_carries_its_data(
    installed: Installed, tmp_path: Path
) -> None:
    code = (
        "import anchor, anchor.config as c, anchor._internal.abi as abi\n"
        "print(anchor.__file__)\n"
        "print(c.load_config().source)\n"
        "print(*sorted(p.name for p in abi.ARTIFACTS.glob('*.json')))\n"
        "print(len(anchor.__all__), all(getattr(anchor, n) for n in anchor.__all__))\n"
    )
    done = run([installed.python, "-c", code], tmp_path, clean_env(system_path()))
    assert done.returncode == 0, done.stderr
    module, config, artifacts, api = done.stdout.splitlines()
    package = installed.site_packages / "anchor"
    assert Path(module) == package / "__init__.py"
    assert not Path(module).is_relative_to(ROOT)
    assert Path(config) == package / "chains" / "local.toml"  # no checkout: the packaged default
    assert artifacts == "DocumentRegistry.json TrustRegistry.json"
    assert api == f"{len(anchor.__all__)} True"  # the same public API, every name resolving


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory outside the checkout, with the packaged default config on a port of its own
    (another checkout's chain may hold the default port)."""
    work = tmp_path / "work"
    work.mkdir()
    default = (ROOT / "anchor" / "chains" / "local.toml").read_text()
    text, n = re.subn(r"(?m)^port = \d+", f"port = {free_port()}", default)
    assert n == 1
    (work / "chain.toml").write_text(text)
    return work


@pytest.fixture
def up_deployed_demoed(installed: Installed, workdir: Path) -> Iterator[dict[str, str]]:
    env = clean_env(f"{NODE_BIN}{os.pathsep}{system_path()}", TRUSTANCHOR_CONFIG=str(workdir / "chain.toml"))
    try:
        for step in (["chain", "up"], ["deploy"], ["demo"]):
            done = run([installed.trustanchor, *step], workdir, env)
            assert done.returncode == 0, f"trustanchor {' '.join(step)}:\n{done.stdout}\n{done.stderr}"
        yield env
    finally:
        run([installed.trustanchor, "chain", "down"], workdir, env)


def test_chain_up_deploy_and_demo_run_outside_the_repo(
    installed: Installed, workdir: Path, up_deployed_demoed: dict[str, str]
) -> None:
    home = workdir / ".trustanchor"
    assert (home / "deployments" / "local.json").is_file()
    assert len(list((home / "demo" / "bundles").glob("*.bundle.json"))) >= 10
    # The README's library example, run by the installed package in the same directory.
    text = (ROOT / "README.md").read_text()
    start = text.index("## Library\n")
    (example,) = re.findall(r"```python\n(.*?)```", text[start : text.index("\n## ", start + 1)], re.S)
    (workdir / "example.py").write_text(example)
    done = run([installed.python, "example.py"], workdir, up_deployed_demoed)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["VALID"]


def test_a_missing_anvil_is_one_clear_line(installed: Installed, workdir: Path) -> None:
    config = {"TRUSTANCHOR_CONFIG": str(workdir / "chain.toml")}
    missing = run([installed.trustanchor, "chain", "up"], workdir, clean_env(system_path(), **config))
    assert missing.returncode == 3
    assert missing.stderr.startswith("error: anvil not found: not in TRUSTANCHOR_ANVIL")
    assert "not on PATH" in missing.stderr and len(missing.stderr.splitlines()) == 1
    named = clean_env(system_path(), TRUSTANCHOR_ANVIL=str(workdir / "anvil"), **config)
    wrong = run([installed.trustanchor, "chain", "up"], workdir, named)
    assert wrong.returncode == 3
    assert wrong.stderr == f"error: TRUSTANCHOR_ANVIL={workdir / 'anvil'} is not an executable file\n"
    assert not (workdir / ".trustanchor" / "chain" / "anvil.pid").exists()


PLUGINS = """
import click

@click.command()
@click.argument("who")
def hello(who):
    \"\"\"Say hello.\"\"\"
    click.echo(f"hello {who}")

not_a_command = 42
"""

ENTRY_POINTS = """
[trustanchor.commands]
hello = plugmod:hello
broken = plugmod_missing:cmd
notcmd = plugmod:not_a_command
verify = plugmod:hello
"""


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    """A distribution on sys.path registering commands, as an installed one does (a .dist-info)."""
    (tmp_path / "plugmod.py").write_text(PLUGINS)
    info = tmp_path / "plugdist-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugdist\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return tmp_path


def cli(plugin_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(os.environ.get("PATH", ""), PYTHONPATH=str(plugin_path))
    return run([sys.executable, "-m", "anchor.cli.main", *args], ROOT, env, timeout=120)


def test_a_plugin_command_runs_without_loading_the_others(plugin_path: Path) -> None:
    done = cli(plugin_path, "hello", "TH")
    assert (done.returncode, done.stdout, done.stderr) == (0, "hello TH\n", "")


def test_broken_plugins_are_one_line_warnings_and_builtins_win(plugin_path: Path) -> None:
    done = cli(plugin_path, "--help")
    assert done.returncode == 0, done.stderr
    warnings = done.stderr.splitlines()
    assert len(warnings) == 2, done.stderr
    assert warnings[0].startswith(
        "warning: command 'broken' (plugmod_missing:cmd) not loaded: ModuleNotFoundError"
    )
    assert warnings[1] == (
        "warning: command 'notcmd' (plugmod:not_a_command) not loaded: not a click command (int)"
    )
    listed = [line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ")]
    assert "hello" in listed and "broken" not in listed and "notcmd" not in listed
    builtin = cli(plugin_path, "verify", "--help")  # the built-in verify, not the plugin's hello
    assert builtin.returncode == 0 and "--bundle" in builtin.stdout
    unknown = cli(plugin_path, "broken")
    assert unknown.returncode == 64
    assert (
        "not loaded: ModuleNotFoundError" in unknown.stderr and "No such command 'broken'" in unknown.stderr
    )
