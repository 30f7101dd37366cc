"""Shared fixtures: the session's chain node, registries deployed once per backend, and isolation.

Chains
    The session node is an anvil started once per session (under pytest-xdist: once per worker). With
    ``TRUSTANCHOR_RPC_URL`` set the tests run against that endpoint instead (conformance mode, e.g. a
    consortium's Besu or GoQuorum network; docs/consortium.md). Its accounts come from
    ``TRUSTANCHOR_TEST_MNEMONIC`` (default: anvil's public test mnemonic).

Isolation
    * ``world``: the registries (SG, TH, MY; threshold 2) are deployed once per backend per session;
      each test takes a snapshot before it runs and is reverted to it afterwards (``evm_snapshot`` /
      ``evm_revert`` on anvil, eth-tester's snapshots on the embedded chain). So no test sees another's
      transactions, clock or blocks, and ~240 deployments became two.
    * ``anvil_url`` is module-scoped: a module's changes to the session node (its own deployments,
      ``evm_increaseTime``, mined blocks) are reverted when the module ends, so no module sees the
      chain another module left behind, whatever the order (pytest-xdist distributes modules freely).
    * A revert also takes the node's clock back to the snapshot; after each one the clock is moved
      forward to the wall clock again, as on a fresh node (``_clock_catch_up``), so chain time never
      goes backwards between tests and certificates minted meanwhile are valid at it.
    * Tests that need a chain no one else touches start a node of their own (``start_anvil``); the
      audit scenario, which several modules read, lives on one of its own (``history_url``).
    * Under pytest-xdist (``-n 2``) each worker has its own session node, deployments and snapshots.
      Conformance mode refuses ``-n``: workers would share the network's accounts and their nonces.

Dev-only methods
    Tests that call dev-only RPC methods (``evm_increaseTime``, ``evm_mine``, ``evm_snapshot`` /
    ``evm_revert``, ``anvil_*``) carry ``@pytest.mark.devchain``; a real network has none of them, so
    conformance mode skips those tests and says why. The helpers here (``advance_time``, ``mine``,
    ``dev_rpc``) refuse to run in an unmarked test, so a missing mark fails on every ordinary run, not
    only against a real network. The fixtures' own snapshots are not the tests' business: in
    conformance mode ``world`` deploys fresh registries for every test instead, and modules are not
    reverted (each deploys registries of its own, so they do not see each other's state anyway).

Parity with the embedded chain (``@pytest.mark.parity``)
    The embedded py-evm chain is a second EVM (py-evm, not revm) behind a second code path in the
    library (web3's tester provider, eth-tester's revert payloads, ``Web3Rpc``'s translation of raw
    JSON-RPC). The parity set runs on both backends and is what can differ between them:

    * every contract function, event and custom error (test_trust_registry, test_document_registry,
      test_smoke_registry): the same bytecode under two EVMs, its reverts decoded on both paths;
    * the deployed runtime code equals the artifacts (test_artifacts), the audit's replay through the
      embedded log reader (test_audit_replay), and the verifier's reads of each kind (calls at a block,
      headers, receipts, transactions, confirmations, chain time) in a few test_verify cases.

    Everything else is library logic above the ``Chain`` interface (the verifier's other verdicts,
    attacks, CLI, audit findings) and runs on anvil only: on the embedded chain it would retest the
    same Python at several times the cost.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import settings

from anchor._internal.anvil import LocalNode, rpc
from anchor.accounts import dev_account
from anchor.chain import Chain, connect
from anchor.config import ChainConfig
from anchor.deploy import Manifest, deploy
from anchor.registry import Registries

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
MNEMONIC = os.environ.get("TRUSTANCHOR_TEST_MNEMONIC") or ANVIL_MNEMONIC
# Taken out of the environment: the library reads TRUSTANCHOR_RPC_URL too (load_config), and would send
# tests that run nodes of their own (chain up/down, restarts) to the network under test.
RPC_URL = os.environ.pop("TRUSTANCHOR_RPC_URL", None) or None
CONFORMANCE = RPC_URL is not None

# Property tests draw the same inputs on every run of the suite, so that a red CI run can be replayed
# and is never a roll of the dice; TRUSTANCHOR_FUZZ_EXAMPLES=N explores with fresh random inputs (and
# sets the example count of the fuzz tests that read it).
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("explore" if "TRUSTANCHOR_FUZZ_EXAMPLES" in os.environ else "ci")
ASSETS = Path(__file__).parent / "assets"
BACKENDS = ("anvil", "embedded")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_anvil(port: int, *extra: str) -> LocalNode:
    return LocalNode(port, *extra, mnemonic=MNEMONIC).start()


# ------------------------------------------------------------------ dev-only methods


_dev_methods_allowed = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before the item's fixtures: a module-scoped fixture built for this test is held to its mark too.
    global _dev_methods_allowed
    _dev_methods_allowed = item.get_closest_marker("devchain") is not None


def pytest_configure(config: pytest.Config) -> None:
    workers = getattr(config.option, "numprocesses", None)
    if CONFORMANCE and workers not in (None, 0, 1):
        raise pytest.UsageError(
            "TRUSTANCHOR_RPC_URL: run without -n; workers would send from the same accounts of one "
            "network and race for their nonces"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not CONFORMANCE:
        return
    for item in items:
        mark = item.get_closest_marker("devchain")
        # The embedded chain has its dev methods wherever the suite runs.
        callspec = getattr(item, "callspec", None)
        on_embedded = callspec is not None and callspec.params.get("backend") == "embedded"
        if mark is not None and not on_embedded:
            what = mark.args[0] if mark.args else "dev-only RPC methods"
            item.add_marker(
                pytest.mark.skip(reason=f"needs a development node ({what}); TRUSTANCHOR_RPC_URL has none")
            )


def dev_rpc(url: str, method: str, params: list[Any] | None = None) -> Any:
    """A dev-only RPC method (evm_*, anvil_*) on a node; only tests marked devchain may call one."""
    if not _dev_methods_allowed:
        pytest.fail(
            f"{method} is a dev-only RPC method: mark the test @pytest.mark.devchain (a real network "
            "has no such method, and conformance mode must skip the test)",
            pytrace=False,
        )
    return rpc(url, method, params or [], timeout=30)


def advance_time(chain: Chain, seconds: int) -> None:
    """Move the chain's clock forward and mine a block, on either backend."""
    if chain.backend == "embedded":
        # From the pending block, whose time eth-tester takes from the wall clock: after a revert to a
        # snapshot taken minutes ago, the latest block's time plus a few seconds would lie before it.
        tester = chain.tester  # type: ignore[attr-defined]
        pending = tester.get_block_by_number("pending")
        tester.time_travel(int(pending["timestamp"]) + seconds)
    else:
        dev_rpc(chain.config.url, "evm_increaseTime", [seconds])
        dev_rpc(chain.config.url, "evm_mine")


def mine(chain: Chain, blocks: int) -> None:
    """Mine `blocks` empty blocks (advance_time(chain, 1) mines none on the embedded chain)."""
    if chain.backend == "embedded":
        chain.tester.mine_blocks(blocks)  # type: ignore[attr-defined]
    else:
        for _ in range(blocks):
            dev_rpc(chain.config.url, "evm_mine")


@contextmanager
def reverted(url: str) -> Iterator[None]:
    """Whatever happens on the node inside is undone: evm_snapshot before, evm_revert after.

    An anvil snapshot can be reverted to once; the next one is taken when the next test starts.
    """
    snapshot = rpc(url, "evm_snapshot", [])
    try:
        yield
    finally:
        if rpc(url, "evm_revert", [snapshot]) is not True:
            pytest.fail(
                f"evm_revert {snapshot} refused: a test reverted the shared node past its fixture's snapshot",
                pytrace=False,
            )
        head = rpc(url, "eth_getBlockByNumber", ["latest", False])
        assert isinstance(head, dict)
        catch_up = _clock_catch_up(int(head["timestamp"], 16))
        if catch_up is not None:
            rpc(url, "evm_setNextBlockTimestamp", [catch_up])
            rpc(url, "evm_mine", [])


def _clock_catch_up(head_time: int) -> int | None:
    """Where a reverted chain's clock must go next, or None if it need not move.

    A revert also takes the node's clock back to the snapshot's time, so every revert would leave the
    chain further behind the wall clock, and certificates minted since (the CLI's `pki init` stamps
    them with the wall clock) would not yet be valid at chain time. Moving the clock forward to the wall
    clock gives the next test what a fresh node would: chain time never behind the time of its
    certificates, and never going backwards.
    """
    now = int(time.time())
    return now if now > head_time else None


# ------------------------------------------------------------------ nodes


@dataclass(frozen=True)
class SessionNode:
    url: str
    dev: bool  # an anvil of ours: snapshots isolate tests; False for a real network


@pytest.fixture(scope="session")
def session_node() -> Iterator[SessionNode]:
    if RPC_URL is not None:
        yield SessionNode(RPC_URL, dev=False)
        return
    with start_anvil(free_port()) as node:
        yield SessionNode(node.url, dev=True)


@pytest.fixture(scope="session")
def history_url() -> Iterator[str]:
    """An anvil of its own for a history that several modules only read (the audit scenario): built
    once per session, where no module's revert can take it away."""
    with start_anvil(free_port()) as node:
        yield node.url


def rpc_chain(url: str) -> Chain:
    return connect(ChainConfig(backend="rpc", rpc_url=url, mnemonic=MNEMONIC, confirmations=1))


def found(chain: Chain, *, threshold: int = 2) -> Manifest:
    """The founding deployment of every `World`: SG, TH and MY with admins dev:1-3, deployer dev:0."""
    accounts = [dev_account(MNEMONIC, i) for i in range(4)]
    parties: list[tuple[str, str]] = [(p, accounts[i].address) for i, p in ((1, "SG"), (2, "TH"), (3, "MY"))]
    return deploy(chain, accounts[0], parties, threshold=threshold, proposal_lifetime=3600)


@pytest.fixture(scope="session")
def _anvil_base(session_node: SessionNode) -> Manifest | None:
    """The registries every anvil `world` starts from, deployed before any module's snapshot."""
    return found(rpc_chain(session_node.url)) if session_node.dev else None


@pytest.fixture(scope="module")
def anvil_url(session_node: SessionNode, _anvil_base: Manifest | None) -> Iterator[str]:
    """The session node's URL; on our anvil, everything the module did to it is reverted at its end."""
    if not session_node.dev:
        yield session_node.url
        return
    with reverted(session_node.url):
        yield session_node.url


@pytest.fixture(scope="session")
def _embedded_base() -> tuple[Chain, Manifest]:
    chain = connect(ChainConfig(backend="embedded", mnemonic=MNEMONIC, confirmations=1))
    return chain, found(chain)


# ------------------------------------------------------------------ the world


@dataclass
class World:
    """Three founding parties (SG, TH, MY; threshold 2) on the registries of the test's chain."""

    chain: Chain
    reg: Registries
    deployer: LocalAccount
    sg: LocalAccount
    th: LocalAccount
    my: LocalAccount

    def account(self, index: int) -> LocalAccount:
        return dev_account(MNEMONIC, index)

    def now(self) -> int:
        return int(self.chain.w3.eth.get_block("latest")["timestamp"])


def world_of(chain: Chain, manifest: Manifest) -> World:
    return World(chain, Registries.open(chain, manifest), *(dev_account(MNEMONIC, i) for i in range(4)))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("parity"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """anvil; tests marked parity run on the embedded chain too."""
    return str(getattr(request, "param", "anvil"))


@pytest.fixture
def world(backend: str, request: pytest.FixtureRequest) -> Iterator[World]:
    if backend == "embedded":
        chain, manifest = request.getfixturevalue("_embedded_base")
        tester = chain.tester
        snapshot = tester.take_snapshot()
        try:
            yield world_of(chain, manifest)
        finally:
            tester.revert_to_snapshot(snapshot)
            catch_up = _clock_catch_up(int(tester.get_block_by_number("pending")["timestamp"]))
            if catch_up is not None:
                tester.time_travel(catch_up)
        return
    url = request.getfixturevalue("anvil_url")
    base: Manifest | None = request.getfixturevalue("_anvil_base")
    chain = rpc_chain(url)
    if base is None:  # a real network cannot be reverted: every test gets registries of its own
        yield world_of(chain, found(chain))
        return
    with reverted(url):
        yield world_of(chain, base)
