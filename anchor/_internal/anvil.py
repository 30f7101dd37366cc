"""Run anvil (anvil_binary finds it): the configured local chain (`up`/`down`) and throwaway nodes (`LocalNode`).

Anvil keeps the last 500 block states in memory and writes older ones as JSON files to a cache
directory (by default `~/.foundry/anvil/tmp/<random>`), which it never deletes, not even on SIGTERM.
Each file holds the whole state, so a long chain leaves gigabytes behind; a day of test runs filled
the disk. Every anvil we start therefore gets a cache directory of ours, removed once it has stopped.

A home knows its own node. Several checkouts (homes) on one machine may be configured with the same
port, and a node answering there says nothing about whose it is (`web3_clientVersion` knows no homes).
So `up` records every node it starts in a registry of running nodes, one `<port>.json` per node
(`nodes_dir()`: per user, under `$XDG_RUNTIME_DIR` or the temp directory), naming the owning home and
the pid; a record counts only while that pid is alive and is the anvil of that home on that port (its
command line, which carries the home's `--cache-path`), and stale ones are removed. A node no record
names is looked up among the running anvils by its `--port`. `up`, `down` and `status` refuse or say
so when the port is taken by a node that is not this home's, naming the home it belongs to.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..errors import ChainError
from .anvil_binary import find_anvil
from .jsonrpc import JsonRpc

ANVIL_DEFAULT_PORT = 8545


@dataclass(frozen=True)
class Owner:
    """Who runs the node on a port: a Trust Anchor home, or an anvil (or other node) no home started."""

    home: Path | None
    pid: int | None

    def __str__(self) -> str:
        pid = f" (pid {self.pid})" if self.pid is not None else ""
        if self.home is not None:
            return f"the chain of home {self.home}{pid}"
        if self.pid is not None:
            return f"an anvil that no Trust Anchor home started{pid}"
        return "a node that no Trust Anchor home on this machine started"


@dataclass(frozen=True)
class NodeStatus:
    """The configured node. `running`: something answers at `url`; `mine`: it is this home's node.

    `pid` is this home's node's; `owner` says whose node holds the configured port (backend anvil),
    None when nothing does.
    """

    running: bool
    pid: int | None
    url: str
    chain_id: int | None = None
    block: int | None = None
    owner: Owner | None = None
    mine: bool = False

    @property
    def foreign(self) -> bool:
        """The configured port is held by a node that is not this home's."""
        return self.owner is not None and not self.mine


def rpc(url: str, method: str, params: list[object] | None = None, timeout: float = 2.0) -> object:
    """One request on a connection of its own (probes, test and tool helpers; not for hot paths)."""
    client = JsonRpc(url, timeout=timeout)
    try:
        return client.call(method, list(params or []))
    finally:
        client.close()


def _paths(cfg: Config) -> tuple[Path, Path, Path]:
    base = cfg.home / "chain"
    return base / "anvil.pid", base / "anvil.log", cfg.state_path


def _home(cfg: Config) -> Path:
    return cfg.home.resolve()


def _cache_dir_of(home: Path) -> Path:
    return home / "chain" / "state-cache"


def _cache_dir(cfg: Config) -> Path:
    """Where the configured node spills old block states; emptied before `up` and after `down`.

    Always absolute: it is also the mark of the owning home on the node's command line.
    """
    return _cache_dir_of(_home(cfg))


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


# --- whose node is it --------------------------------------------------------------------------------


def _cmdline(pid: int) -> list[str] | None:
    """The process's arguments; None where /proc cannot tell (then a live pid is taken on trust)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return [] if Path("/proc/self/cmdline").exists() else None
    except OSError:
        return None
    return [a.decode(errors="replace") for a in raw.split(b"\0")[:-1]]


def _option(argv: list[str], *names: str) -> str | None:
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg[len(name) + 1 :]
    return None


def _anvil_port(argv: list[str]) -> int | None:
    if not argv or Path(argv[0]).name != "anvil":
        return None
    port = _option(argv, "--port", "-p")
    try:
        return int(port) if port is not None else ANVIL_DEFAULT_PORT
    except ValueError:
        return None


def _home_of(argv: list[str]) -> Path | None:
    """The home whose node this is: `up` passes `--cache-path HOME/chain/state-cache`."""
    cache = _option(argv, "--cache-path")
    if cache is None:
        return None
    path = Path(cache)
    return path.parent.parent if path.is_absolute() and path.parts[-2:] == ("chain", "state-cache") else None


def _is_node_of(pid: int, home: Path, port: int | None) -> bool:
    """`pid` is alive and is the anvil `up` started for `home` (on `port`, unless None)."""
    if not _alive(pid):
        return False
    argv = _cmdline(pid)
    if argv is None:
        return True
    if _home_of(argv) != home or _anvil_port(argv) is None:
        return False
    return port is None or _anvil_port(argv) == port


def _own_pid(cfg: Config) -> int | None:
    """This home's running node, from its pid file (checked: a reused pid is not ours)."""
    pid = _read_pid(_paths(cfg)[0])
    return pid if pid is not None and _is_node_of(pid, _home(cfg), None) else None


def _anvil_on(port: int) -> Owner | None:
    """A running anvil configured for `port` that no record names, and its home if `up` started it."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        argv = _cmdline(pid)
        if argv and _anvil_port(argv) == port and _alive(pid):
            return Owner(_home_of(argv), pid)
    return None


def nodes_dir() -> Path:
    """The registry of running nodes started by `up`, one `<port>.json` each: one per user and machine."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "trustanchor-nodes"
    return Path(tempfile.gettempdir()) / f"trustanchor-nodes-{os.getuid()}"


@contextlib.contextmanager
def _registry() -> Iterator[Path]:
    """The registry directory, locked: records are read, cleaned and written by one process at a time."""
    d = nodes_dir()
    try:
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = d.lstat()
        if d.is_symlink() or not d.is_dir() or st.st_uid != os.getuid():
            raise ChainError(f"{d} (the registry of running nodes) is not a directory of this user's")
        lock = open(d / ".lock", "a")  # noqa: SIM115 (closed by the with below)
    except OSError as e:
        raise ChainError(f"cannot use {d}, the registry of running nodes: {e.strerror or e}") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield d
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _recorded(registry: Path, port: int) -> Owner | None:
    """The live record of the node on `port`; a stale one (node gone, pid reused) is removed."""
    path = registry / f"{port}.json"
    try:
        data = json.loads(path.read_text())
        home, pid = Path(data["home"]), int(data["pid"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)
        return None
    if _is_node_of(pid, home, port):
        return Owner(home, pid)
    path.unlink(missing_ok=True)
    return None


def _record(registry: Path, cfg: Config, pid: int) -> None:
    """Write the record of this home's node on the configured port, atomically."""
    c = cfg.chain
    data = {"port": c.port, "host": c.host, "pid": pid, "home": str(_home(cfg)), "state": str(cfg.state_path)}
    fd, tmp = tempfile.mkstemp(dir=registry, prefix=f".{c.port}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, registry / f"{c.port}.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _forget(registry: Path, pid: int) -> None:
    """Remove the records of a node that stopped."""
    for path in registry.glob("*.json"):
        try:
            if int(json.loads(path.read_text())["pid"]) == pid:
                path.unlink(missing_ok=True)
        except (OSError, ValueError, KeyError, TypeError):
            continue


def _owner(registry: Path, cfg: Config, answering: bool) -> Owner | None:
    """Whose node holds the configured port: recorded, this home's (recorded now), or found running."""
    port = cfg.chain.port
    if (owner := _recorded(registry, port)) is not None:
        return owner
    home = _home(cfg)
    pid = _own_pid(cfg)
    argv = _cmdline(pid) if pid is not None else None
    if pid is not None and (argv is None or _anvil_port(argv) == port):
        _record(registry, cfg, pid)  # started before nodes were recorded, or its record was lost
        return Owner(home, pid)
    if not answering:
        return None
    owner = _anvil_on(port) or Owner(None, None)
    if owner.home == home and owner.pid is not None:
        _record(registry, cfg, owner.pid)
    return owner


def _probe(url: str) -> tuple[int, int] | None:
    try:
        chain_id = int(str(rpc(url, "eth_chainId", timeout=1.0)), 16)
        block = int(str(rpc(url, "eth_blockNumber", timeout=1.0)), 16)
    except (OSError, ChainError, ValueError):
        return None
    return chain_id, block


def _status(registry: Path | None, cfg: Config) -> NodeStatus:
    url = cfg.chain.url
    answer = _probe(url)
    chain_id, block = answer if answer is not None else (None, None)
    if registry is None:  # an endpoint this home does not run (backend rpc or embedded)
        return NodeStatus(answer is not None, None, url, chain_id, block)
    owner = _owner(registry, cfg, answer is not None)
    mine = owner is not None and owner.home == _home(cfg)
    pid = owner.pid if owner is not None and mine else None
    return NodeStatus(answer is not None, pid, url, chain_id, block, owner, mine)


def status(cfg: Config) -> NodeStatus:
    """Whether a node answers at the configured endpoint and, for the anvil backend, whose it is."""
    if cfg.chain.backend != "anvil":
        return _status(None, cfg)
    with _registry() as registry:
        return _status(registry, cfg)


def taken(cfg: Config, owner: Owner) -> str:
    """The sentence naming whose node holds this home's port."""
    return f"port {cfg.chain.port} is used by {owner}, not by this home's chain ({_home(cfg)})"


def _elsewhere(cfg: Config, owner: Owner, *, other_port: bool = True) -> str:
    """What to do about it: stop that node from its own home, or use another port."""
    stop = f"stop it from its home (trustanchor --home {owner.home} chain down)" if owner.home else "stop it"
    if not other_port:
        return stop
    return f"{stop} or give this home another `port` in {cfg.source or 'its chain config'}"


def require_own(cfg: Config, doing: str) -> None:
    """Refuse to act (`doing`) on a node at this home's port that is not this home's (backend anvil)."""
    if cfg.chain.backend != "anvil":
        return
    st = status(cfg)
    if st.owner is not None and not st.mine:
        raise ChainError(f"{taken(cfg, st.owner)}: {doing} refused; {_elsewhere(cfg, st.owner)}")


def up(cfg: Config, timeout: float = 15.0) -> NodeStatus:
    """Start this home's anvil unless it already runs (idempotent); refuse a port another node holds."""
    c = cfg.chain
    with _registry() as registry:
        current = _status(registry, cfg)
        if current.owner is not None and not current.mine:
            raise ChainError(f"{taken(cfg, current.owner)}: not started; {_elsewhere(cfg, current.owner)}")
        if current.running:
            if current.chain_id != c.chain_id:
                raise ChainError(
                    f"another chain (id {current.chain_id}) already answers at {current.url}; "
                    f"expected chain id {c.chain_id}"
                )
            return current
        started = _start(registry, cfg) if current.pid is None else None
    if started is None:
        # This home's node runs but does not answer yet (a concurrent `up` started it): wait for it.
        assert current.pid is not None
        _wait_pid_ready(c.url, current.pid, timeout)
        return status(cfg)
    proc, log_file = started
    try:
        _wait_ready(c.url, proc, timeout)
    except ChainError as e:
        if proc.poll() is None:
            proc.terminate()
        with _registry() as registry:
            _forget(registry, proc.pid)
        raise ChainError(f"{e}; see {log_file}") from None
    st = status(cfg)
    if not st.running or not st.mine:
        raise ChainError(f"anvil stopped answering at {c.url} right after it started; see {log_file}")
    return st


def _start(registry: Path, cfg: Config) -> tuple[subprocess.Popen[bytes], Path]:
    """Spawn this home's anvil and record it (the registry is locked and the port is free of nodes)."""
    c = cfg.chain
    anvil = find_anvil()
    if (other := _own_pid(cfg)) is not None:
        port = _anvil_port(_cmdline(other) or [])
        raise ChainError(
            f"this home's chain already runs (pid {other}, port {port}): "
            f"stop it (trustanchor chain down) before starting it on port {c.port}"
        )
    with socket.socket() as probe:
        probe.settimeout(1.0)
        if probe.connect_ex((c.host, c.port)) == 0:
            raise ChainError(f"port {c.port} on {c.host} is in use by a program that is not a chain node")
    pid_file, log_file, state = _paths(cfg)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    state.parent.mkdir(parents=True, exist_ok=True)
    # No node of this home runs, so whatever is there was left by a killed node.
    shutil.rmtree(_cache_dir(cfg), ignore_errors=True)
    args = [
        str(anvil),
        "--host", c.host,
        "--port", str(c.port),
        "--chain-id", str(c.chain_id),
        "--mnemonic", c.mnemonic,
        "--accounts", str(c.accounts),
        "--balance", str(c.balance_eth),
        "--state", str(state),
        # A kill -9 loses at most this many seconds of history (SIGTERM saves everything).
        "--state-interval", str(c.state_interval),
        # Also the mark of the owning home on the node's command line (see _home_of).
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
    _record(registry, cfg, proc.pid)
    return proc, log_file


def down(cfg: Config, timeout: float = 15.0) -> bool:
    """Stop this home's node (SIGTERM makes anvil save its state). True if one was stopped.

    Another home's node on the configured port is refused, naming that home (backend anvil).
    """
    pid_file, _, _ = _paths(cfg)
    with _registry() as registry:
        pid = _own_pid(cfg)
        if pid is None:
            pid_file.unlink(missing_ok=True)
            if cfg.chain.backend == "anvil":
                st = _status(registry, cfg)
                if st.owner is not None and not st.mine:
                    raise ChainError(
                        f"{taken(cfg, st.owner)}: not stopped, this home's chain is not running; "
                        f"{_elsewhere(cfg, st.owner, other_port=False)}"
                    )
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
    pid_file.unlink(missing_ok=True)
    with _registry() as registry:
        _forget(registry, pid)
    shutil.rmtree(_cache_dir(cfg), ignore_errors=True)
    return True


def _wait_pid_ready(url: str, pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise ChainError(f"this home's anvil (pid {pid}) exited before answering at {url}")
        if _probe(url) is not None:
            return
        time.sleep(0.05)
    raise ChainError(f"this home's anvil (pid {pid}) did not answer at {url} within {timeout:.0f} s")


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
        anvil = find_anvil()
        # Otherwise the node already listening there would answer for the one that failed to bind.
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise ChainError(f"port {self.port} is already in use")
        self.cache = Path(tempfile.mkdtemp(prefix="trustanchor-anvil-"))
        args = [str(anvil), "--port", str(self.port), "--silent", "--cache-path", str(self.cache), *self.args]
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
