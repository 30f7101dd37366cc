"""Shared fixtures: a real anvil process for the session and the embedded py-evm chain, both deployed."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import settings

from anchor._internal.anvil import LocalNode
from anchor.accounts import dev_account
from anchor.chain import Chain, connect
from anchor.config import ChainConfig
from anchor.deploy import deploy
from anchor.registry import Registries

MNEMONIC = "test test test test test test test test test test test junk"

# Property tests draw the same inputs on every run of the suite, so that a red CI run can be replayed
# and is never a roll of the dice; TRUSTANCHOR_FUZZ_EXAMPLES=N explores with fresh random inputs (and
# sets the example count of the fuzz tests that read it).
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile("explore" if "TRUSTANCHOR_FUZZ_EXAMPLES" in os.environ else "ci")
ASSETS = Path(__file__).parent / "assets"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_anvil(port: int, *extra: str) -> LocalNode:
    return LocalNode(port, *extra, mnemonic=MNEMONIC).start()


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    port = free_port()
    with start_anvil(port) as node:
        yield node.url


def advance_time(chain: Chain, seconds: int) -> None:
    """Move the chain's clock forward and mine a block, on either backend."""
    if chain.backend == "embedded":
        tester = chain.tester  # type: ignore[attr-defined]
        latest = chain.w3.eth.get_block("latest")
        tester.time_travel(int(latest["timestamp"]) + seconds)
    else:
        chain.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


@dataclass
class World:
    """Three founding parties (SG, TH, MY; threshold 2) on freshly deployed registries."""

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


@pytest.fixture(params=["anvil", "embedded"])
def chain(request: pytest.FixtureRequest) -> Chain:
    if request.param == "anvil":
        url = request.getfixturevalue("anvil_url")
        return connect(ChainConfig(backend="rpc", rpc_url=url, mnemonic=MNEMONIC, confirmations=1))
    return connect(ChainConfig(backend="embedded", mnemonic=MNEMONIC, confirmations=1))


@pytest.fixture
def world(chain: Chain) -> World:
    accounts = [dev_account(MNEMONIC, i) for i in range(4)]
    parties = [("SG", accounts[1].address), ("TH", accounts[2].address), ("MY", accounts[3].address)]
    manifest = deploy(chain, accounts[0], parties, threshold=2, proposal_lifetime=3600)
    return World(chain, Registries.open(chain, manifest), *accounts)
