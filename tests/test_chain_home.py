"""Two homes (checkouts) configured with the same port: each home knows its own node (issue #12).

The second home's `chain up`, `status`, `down`, `deploy` and `demo` are refused or say so, naming the
first home, and leave the first home's node as it was; once that node is gone (even by SIGKILL, leaving
its record behind), the second home starts its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anchor._internal import anvil
from anchor._internal.anvil import LocalNode, rpc
from anchor.accounts import dev_account
from anchor.cli.main import main
from anchor.config import load_config
from anchor.errors import ChainError
from tests.conftest import MNEMONIC, free_port

DEPLOYER = dev_account(MNEMONIC, 0).address


@dataclass
class Homes:
    port: int
    config: Path
    a: Path
    b: Path
    registry: Path

    def base(self, home: Path) -> list[str]:
        return ["--config", str(self.config), "--home", str(home)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def record(self) -> Path:
        return self.registry / f"{self.port}.json"


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Homes]:
    """One chain config on a free port, two homes, a registry of running nodes of the test's own."""
    for var in ("TRUSTANCHOR_HOME", "TRUSTANCHOR_CONFIG", "TRUSTANCHOR_RPC_URL", "TRUSTANCHOR_ACCOUNT"):
        monkeypatch.delenv(var, raising=False)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    port = free_port()
    config = tmp_path / "local.toml"
    config.write_text(
        f'[chain]\nname = "t"\nbackend = "anvil"\nport = {port}\nmnemonic = "{MNEMONIC}"\n'
        '[deploy]\nthreshold = 1\nparties = [{ id = "SG", admin = "dev:1" }]\n'
    )
    h = Homes(port, config, (tmp_path / "a").resolve(), (tmp_path / "b").resolve(), anvil.nodes_dir())
    assert h.registry == runtime / "trustanchor-nodes"
    yield h
    for home in (h.a, h.b):  # each stops only its own node and refuses the other's
        with contextlib.suppress(ChainError):
            anvil.down(load_config(config, home=home))


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    out = capsys.readouterr()
    return int(e.value.code or 0), out.out, out.err


def _snapshot(url: str) -> tuple[object, ...]:
    """What would show any change to a chain: its head block (hash, so also time) and the deployer's nonce."""
    head = rpc(url, "eth_getBlockByNumber", ["latest", False])
    assert isinstance(head, dict)
    return (
        head["number"],
        head["hash"],
        head["timestamp"],
        rpc(url, "eth_getTransactionCount", [DEPLOYER, "latest"]),
    )


def _reap(pid: int) -> None:
    """Wait for a killed node of this process's to be gone (a bounded wait: it has been sent SIGKILL)."""
    with contextlib.suppress(ChildProcessError):  # already reaped
        os.waitpid(pid, 0)


def _exited_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_the_second_home_is_refused_everything_and_told_whose_chain_it_is(
    homes: Homes, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = homes.base(homes.a), homes.base(homes.b)
    code, out, err = run([*a, "chain", "up"], capsys)
    assert code == 0, err
    assert "chain started (this home)" in out
    code, out, err = run([*a, "deploy", "--json"], capsys)
    assert code == 0, err
    deployed = json.loads(out)
    pid = anvil.status(load_config(homes.config, home=homes.a)).pid
    assert pid is not None
    assert json.loads(homes.record.read_text()) | {"state": None} == {
        "port": homes.port,
        "host": "127.0.0.1",
        "pid": pid,
        "home": str(homes.a),
        "state": None,
    }
    before = _snapshot(homes.url)
    owner = f"the chain of home {homes.a} (pid {pid})"
    taken = f"port {homes.port} is used by {owner}, not by this home's chain ({homes.b})"

    code, out, err = run([*b, "chain", "up"], capsys)
    assert code == 3 and out == ""
    assert err.startswith(f"error: {taken}: not started; ") and err.count("\n") == 1
    assert f"trustanchor --home {homes.a} chain down" in err and str(homes.config) in err

    code, out, _ = run([*b, "chain", "status"], capsys)
    assert code == 1
    assert out.startswith(f"not running for this home: {taken} (chain id 31337, block ")

    code, out, _ = run([*b, "chain", "status", "--json"], capsys)
    assert code == 1
    status = json.loads(out)
    assert status["running"] is False and status["pid"] is None and status["chainId"] is None
    assert status["home"] == str(homes.b)
    assert status["usedBy"]["home"] == str(homes.a) and status["usedBy"]["pid"] == pid

    code, out, err = run([*b, "chain", "down"], capsys)
    assert code == 3 and out == ""
    assert err.startswith(f"error: {taken}: not stopped, this home's chain is not running; ")

    code, out, err = run([*b, "deploy"], capsys)
    assert code == 3 and out == ""
    assert err.startswith(f"error: {taken}: deploy refused; ")

    # The demo would move the chain's clock: it goes no further than starting the chain.
    code, out, err = run([*b, "demo"], capsys)
    assert code == 3
    assert f"error: {taken}: not started" in err

    # The first home's node is untouched, and still its own.
    assert _snapshot(homes.url) == before
    assert not (homes.b / "deployments").exists() and not (homes.b / "chain" / "state.json").exists()
    code, out, _ = run([*a, "chain", "status"], capsys)
    assert code == 0
    assert (
        out.startswith(f"running (this home): {homes.url} (chain id 31337, block ") and f"pid {pid})" in out
    )
    code, out, err = run([*a, "chain", "up"], capsys)
    assert code == 0 and out.startswith("chain already running (this home)"), err
    code, out, err = run([*a, "deploy", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["status"] == "verified"
    assert json.loads(out)["trustRegistry"] == deployed["trustRegistry"]
    assert _snapshot(homes.url) == before

    code, out, _ = run([*a, "chain", "down"], capsys)
    assert code == 0 and "state saved" in out
    assert not homes.record.exists()
    code, out, _ = run([*b, "chain", "status"], capsys)
    assert code == 1 and out == f"not running ({homes.url})\n"
    code, out, _ = run([*b, "chain", "down"], capsys)
    assert code == 0 and out == f"chain was not running (this home: {homes.b})\n"


def test_a_node_killed_by_sigkill_leaves_a_stale_record_that_the_other_home_cleans(
    homes: Homes, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = homes.base(homes.a), homes.base(homes.b)
    assert run([*a, "chain", "up"], capsys)[0] == 0
    first = anvil.status(load_config(homes.config, home=homes.a)).pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    _reap(first)
    assert json.loads(homes.record.read_text())["pid"] == first  # left behind by the killed node

    code, out, err = run([*b, "chain", "up"], capsys)
    assert code == 0, err
    assert out.startswith(f"chain started (this home): {homes.url}")
    second = anvil.status(load_config(homes.config, home=homes.b)).pid
    assert second is not None and second != first
    record = json.loads(homes.record.read_text())
    assert record["pid"] == second and record["home"] == str(homes.b)

    # Now the first home is the one told whose chain answers at its port.
    taken = (
        f"port {homes.port} is used by the chain of home {homes.b} (pid {second}), not by this home's chain"
    )
    code, out, _ = run([*a, "chain", "status"], capsys)
    assert code == 1 and out.startswith(f"not running for this home: {taken} ({homes.a})")
    code, _, err = run([*a, "chain", "up"], capsys)
    assert code == 3 and err.startswith(f"error: {taken} ({homes.a}): not started")
    code, _, err = run([*a, "chain", "down"], capsys)
    assert code == 3 and err.startswith(f"error: {taken} ({homes.a}): not stopped")
    assert int(str(rpc(homes.url, "eth_chainId")), 16) == 31337

    code, out, _ = run([*b, "chain", "down"], capsys)
    assert code == 0 and "state saved" in out
    assert not homes.record.exists()


def test_a_home_knows_its_node_without_the_record_and_the_other_home_still_names_it(
    homes: Homes, capsys: pytest.CaptureFixture[str]
) -> None:
    # A node started before nodes were recorded, or whose record was lost (another XDG_RUNTIME_DIR): the
    # home finds it through its pid file, the other home through the node's command line.
    a, b = homes.base(homes.a), homes.base(homes.b)
    assert run([*a, "chain", "up"], capsys)[0] == 0
    pid = anvil.status(load_config(homes.config, home=homes.a)).pid

    homes.record.unlink()
    code, out, _ = run([*b, "chain", "status"], capsys)
    assert code == 1 and f"port {homes.port} is used by the chain of home {homes.a} (pid {pid})" in out
    code, _, err = run([*b, "chain", "up"], capsys)
    assert code == 3 and f"is used by the chain of home {homes.a} (pid {pid})" in err

    homes.record.unlink(missing_ok=True)
    code, out, _ = run([*a, "chain", "status"], capsys)
    assert code == 0 and out.startswith("running (this home)")
    assert json.loads(homes.record.read_text())["home"] == str(homes.a)  # recorded again


@pytest.mark.parametrize("stale", ["pid-reused", "pid-gone", "garbled"])
def test_a_stale_record_is_removed_and_the_port_used(
    homes: Homes, capsys: pytest.CaptureFixture[str], stale: str
) -> None:
    homes.registry.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stale == "garbled":
        homes.record.write_text("{")
    else:
        # A live process that is no anvil (this one), or one that has exited and been reaped.
        pid = os.getpid() if stale == "pid-reused" else _exited_pid()
        homes.record.write_text(json.dumps({"port": homes.port, "pid": pid, "home": str(homes.b)}))
    code, out, _ = run([*homes.base(homes.b), "chain", "status"], capsys)
    assert code == 1 and out == f"not running ({homes.url})\n"
    assert not homes.record.exists()
    code, out, err = run([*homes.base(homes.a), "chain", "up"], capsys)
    assert code == 0, err
    assert json.loads(homes.record.read_text())["home"] == str(homes.a)


def test_a_node_no_home_started_is_named_and_left_alone(
    homes: Homes, capsys: pytest.CaptureFixture[str]
) -> None:
    a = homes.base(homes.a)
    with LocalNode(homes.port, mnemonic=MNEMONIC) as node:
        assert node.proc is not None
        owner = (
            f"port {homes.port} is used by an anvil that no Trust Anchor home started (pid {node.proc.pid})"
        )
        code, _, err = run([*a, "chain", "up"], capsys)
        assert code == 3 and err.startswith(
            f"error: {owner}, not by this home's chain ({homes.a}): not started"
        )
        code, out, _ = run([*a, "chain", "status"], capsys)
        assert code == 1 and owner in out
        code, _, err = run([*a, "chain", "down"], capsys)
        assert code == 3 and owner in err
        code, _, err = run([*a, "deploy"], capsys)
        assert code == 3 and owner in err
        assert rpc(node.url, "eth_getTransactionCount", [DEPLOYER, "latest"]) == "0x0"
        assert not homes.record.exists()
