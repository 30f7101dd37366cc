"""Anvil spills block states older than its 500 in-memory ones to disk and never deletes them.

Every node we start must leave nothing behind: left unchecked, a day of test runs filled the disk.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anchor._internal import anvil
from anchor._internal.anvil import LocalNode, rpc
from anchor.config import load_config
from anchor.errors import ChainError
from tests.conftest import MNEMONIC, free_port

SPILLING_BLOCKS = 600  # more than the 500 states anvil keeps in memory
FUNDED = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # the mnemonic's first account


def _spilled_files(cache: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(cache))


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "sigkill"])
@pytest.mark.devchain("anvil_mine on a node of its own")
def test_a_stopped_node_leaves_no_spilled_states(kill: bool) -> None:
    node = LocalNode(free_port(), mnemonic=MNEMONIC).start()
    cache = node.cache
    assert cache is not None
    try:
        rpc(node.url, "anvil_mine", [hex(SPILLING_BLOCKS)])
        # The node must really spill, into our directory, or this test would prove nothing.
        assert _spilled_files(cache) > 0
        # Old blocks stay readable while the node runs.
        assert rpc(node.url, "eth_getBalance", [FUNDED, "0x1"]) != "0x0"
    finally:
        node.stop(kill=kill)
    assert not cache.exists()
    assert node.proc is None and node.cache is None


@pytest.mark.devchain("anvil_mine on a node of its own")
def test_a_node_restarts_with_a_fresh_spill_directory(tmp_path: Path) -> None:
    node = LocalNode(free_port(), "--state", str(tmp_path / "state.json"), mnemonic=MNEMONIC)
    with node:
        first = node.cache
        rpc(node.url, "anvil_mine", ["0x3"])
    with node:
        assert node.cache is not None and node.cache != first
        assert int(str(rpc(node.url, "eth_blockNumber")), 16) == 3  # the state file carried the chain over
    assert first is not None and not first.exists()


def test_a_node_that_cannot_start_cleans_up_and_says_why() -> None:
    port = free_port()
    with LocalNode(port, mnemonic=MNEMONIC) as running:
        clash = LocalNode(port, mnemonic=MNEMONIC, timeout=5)
        with pytest.raises(ChainError, match=f"port {port} is already in use"):
            clash.start()
        assert clash.proc is None and clash.cache is None
        assert rpc(running.url, "eth_chainId") == "0x7a69"


@pytest.mark.devchain("anvil_mine on a node of its own")
def test_chain_down_removes_the_configured_nodes_spilled_states(tmp_path: Path) -> None:
    cfg_file = tmp_path / "local.toml"
    cfg_file.write_text(
        f'[chain]\nname = "t"\nbackend = "anvil"\nport = {free_port()}\nmnemonic = "{MNEMONIC}"\n'
    )
    cfg = load_config(cfg_file, home=tmp_path / "home")
    cache = cfg.home / "chain" / "state-cache"
    cache.mkdir(parents=True)
    (cache / "left-by-a-killed-node.json").write_text("{}")
    try:
        st = anvil.up(cfg)
        assert not (cache / "left-by-a-killed-node.json").exists()
        rpc(st.url, "anvil_mine", [hex(SPILLING_BLOCKS)])
        assert _spilled_files(cache) > 0
    finally:
        assert anvil.down(cfg)
    assert not cache.exists()


def test_a_node_that_exits_at_once_is_reported_and_cleaned_up() -> None:
    node = LocalNode(free_port(), "--no-such-option", mnemonic=MNEMONIC)
    with pytest.raises(ChainError, match="anvil exited with code 2"):
        node.start()
    assert node.proc is None and node.cache is None


def test_chain_up_reports_a_node_that_exits_with_its_log(tmp_path: Path) -> None:
    cfg_file = tmp_path / "local.toml"
    cfg_file.write_text(
        f'[chain]\nname = "t"\nbackend = "anvil"\nport = {free_port()}\nmnemonic = "not a mnemonic"\n'
    )
    cfg = load_config(cfg_file, home=tmp_path / "home")
    log = cfg.home / "chain" / "anvil.log"
    with pytest.raises(ChainError, match=rf"^anvil exited with code \d+ before answering at .*; see {log}$"):
        anvil.up(cfg)
    assert log.read_text()  # anvil said why
    anvil.down(cfg)
