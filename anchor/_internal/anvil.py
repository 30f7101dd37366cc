"""Run anvil from node_modules: the configured local chain (`up`/`down`) and throwaway nodes (`LocalNode`).

Anvil keeps the last 500 block states in memory and writes older ones as JSON files to a cache
directory (by default `~/.foundry/anvil/tmp/<random>`), which it never deletes, not even on SIGTERM.
Each file holds the whole state, so a long chain leaves gigabytes behind; a day of test runs filled
the disk. Every anvil we start therefore gets a cache directory of ours, removed once it has stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..config import REPO_ROOT, Config
from ..errors import ChainError

ANVIL = REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


@dataclass(frozen=True)
class NodeStatus:
    running: bool
    pid: int | None
    url: str
    chain_id: int | None = None
    block: int | None = None


def rpc(url: str, method: str, params: list[object] | None = None, timeout: float = 2.0) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        answer = json.loads(resp.read())
    if "error" in answer:
        raise ChainError(f"{method}: {answer['error'].get('message')}")
    return answer["result"]


def _paths(cfg: Config) -> tuple[Path, Path, Path]:
    base = cfg.home / "chain"
    return base / "anvil.pid", base / "anvil.log", cfg.state_path


def _cache_dir(cfg: Config) -> Path:
    """Where the configured node spills old block states; emptied before `up` and after `down`."""
    return cfg.home / "chain" / "state-cache"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists": ask /proc whether it is really running.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        return state != "Z"
    except OSError:
        return True


def _read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def status(cfg: Config) -> NodeStatus:
    pid_file, _, _ = _paths(cfg)
    pid = _read_pid(pid_file)
    url = cfg.chain.url
    try:
        chain_id = int(str(rpc(url, "eth_chainId", timeout=1.0)), 16)
        block = int(str(rpc(url, "eth_blockNumber", timeout=1.0)), 16)
    except (OSError, ChainError, ValueError):
        return NodeStatus(False, pid, url)
    return NodeStatus(True, pid, url, chain_id, block)


def up(cfg: Config, timeout: float = 15.0) -> NodeStatus:
    """Start anvil unless it already answers; idempotent."""
    current = status(cfg)
    if current.running:
        if current.chain_id != cfg.chain.chain_id:
            raise ChainError(
                f"another chain (id {current.chain_id}) already answers at {current.url}; "
                f"expected chain id {cfg.chain.chain_id}"
            )
        return current
    if not ANVIL.exists():
        raise ChainError(f"anvil not found at {ANVIL}: run the setup (npm ci) first")
    pid_file, log_file, state = _paths(cfg)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    state.parent.mkdir(parents=True, exist_ok=True)
    # Nothing answers, so no node of ours uses it: whatever is there was left by a killed node.
    shutil.rmtree(_cache_dir(cfg), ignore_errors=True)
    c = cfg.chain
    args = [
        str(ANVIL),
        "--host", c.host,
        "--port", str(c.port),
        "--chain-id", str(c.chain_id),
        "--mnemonic", c.mnemonic,
        "--accounts", str(c.accounts),
        "--balance", str(c.balance_eth),
        "--state", str(state),
        # A kill -9 loses at most this many seconds of history (SIGTERM saves everything).
        "--state-interval", str(c.state_interval),
        "--cache-path", str(_cache_dir(cfg)),
    ]  # fmt: skip
    if c.historical_states:
        # Keep past blocks' states across restarts: auditors call views at historical blocks.
        args.append("--preserve-historical-states")
    if c.block_time:
        args += ["--block-time", str(c.block_time)]
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    pid_file.write_text(str(proc.pid))
    try:
        _wait_ready(c.url, proc, timeout)
    except ChainError as e:
        if proc.poll() is None:
            proc.terminate()
        raise ChainError(f"{e}; see {log_file}") from None
    st = status(cfg)
    if not st.running:
        raise ChainError(f"anvil stopped answering at {c.url} right after it started; see {log_file}")
    return NodeStatus(True, proc.pid, st.url, st.chain_id, st.block)


def down(cfg: Config, timeout: float = 15.0) -> bool:
    """Stop the node started by `up` (SIGTERM makes anvil save its state). True if one was stopped."""
    pid_file, _, _ = _paths(cfg)
    pid = _read_pid(pid_file)
    pid_file.unlink(missing_ok=True)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
    shutil.rmtree(_cache_dir(cfg), ignore_errors=True)
    return True


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ChainError(f"anvil exited with code {proc.returncode} before answering at {url}")
        try:
            rpc(url, "eth_chainId", timeout=0.5)
            return
        except (OSError, ChainError):
            time.sleep(0.05)
    raise ChainError(f"anvil did not answer at {url} within {timeout:.0f} s")


class LocalNode:
    """A throwaway anvil on 127.0.0.1 (tests, benchmarks) that leaves nothing behind once stopped.

    `args` are extra anvil arguments. The node can be stopped and started again (with `--state FILE`
    among the args it keeps its chain across restarts); each run gets a fresh spill directory.
    """

    def __init__(self, port: int, *args: str, mnemonic: str | None = None, timeout: float = 15.0) -> None:
        self.port = port
        self.args = list(args) + (["--mnemonic", mnemonic] if mnemonic else [])
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.cache: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalNode:
        if self.proc is not None:
            raise ChainError(f"the node at {self.url} is already running")
        if not ANVIL.exists():
            raise ChainError(f"anvil not found at {ANVIL}: run the setup (npm ci) first")
        # Otherwise the node already listening there would answer for the one that failed to bind.
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise ChainError(f"port {self.port} is already in use")
        self.cache = Path(tempfile.mkdtemp(prefix="trustanchor-anvil-"))
        args = [str(ANVIL), "--port", str(self.port), "--silent", "--cache-path", str(self.cache), *self.args]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_ready(self.url, self.proc, self.timeout)
        except ChainError:
            self.stop(kill=True)
            raise
        return self

    def stop(self, *, kill: bool = False) -> None:
        """SIGTERM (anvil then writes its `--state` file) or, with `kill`, SIGKILL; then clean up."""
        proc, self.proc = self.proc, None
        if proc is not None:
            if kill:
                proc.kill()
            else:
                proc.terminate()
            try:
                proc.wait(self.timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(self.timeout)
        if self.cache is not None:
            shutil.rmtree(self.cache, ignore_errors=True)
            self.cache = None

    def __enter__(self) -> LocalNode:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
