"""`trustanchor chain up|down|status` and `deploy` through the CLI: idempotence, persisted state, manifests."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from eth_account import Account

from anchor._internal import anvil
from anchor._internal.anvil import rpc
from anchor.accounts import dev_account
from anchor.cacert import ca_id
from anchor.chain import connect
from anchor.cli.main import main
from anchor.config import ChainConfig, load_config
from anchor.deploy import deploy
from anchor.errors import ChainError, ConfigError
from anchor.registry import Registries
from tests.conftest import MNEMONIC, free_port, start_anvil


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    out = capsys.readouterr()
    return int(e.value.code or 0), out.out, out.err


def test_local_chain_state_survives_down_and_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "local.toml"
    cfg.write_text(
        f'[chain]\nname = "t"\nbackend = "anvil"\nport = {free_port()}\nmnemonic = "{MNEMONIC}"\n'
        '[deploy]\nthreshold = 2\nparties = [{ id = "SG", admin = "dev:1" }, { id = "TH", admin = "dev:2" }]\n'
    )
    base = ["--config", str(cfg), "--home", str(tmp_path / "home")]
    try:
        code, out, _ = run([*base, "chain", "up"], capsys)
        assert code == 0 and out.startswith("chain started (this home): ")
        code, out, _ = run([*base, "chain", "up"], capsys)
        assert code == 0 and out.startswith("chain already running (this home): ")
        code, out, _ = run([*base, "chain", "status"], capsys)
        assert code == 0 and out.startswith("running (this home): ")
        code, out, err = run([*base, "deploy", "--json"], capsys)
        assert code == 0, err
        first = json.loads(out)
        assert first["status"] == "deployed"
        code, out, err = run([*base, "party", "propose", "--threshold", "1", "--account", "dev:1"], capsys)
        assert code == 0, err

        code, out, _ = run([*base, "chain", "down"], capsys)
        assert code == 0 and "state saved" in out
        code, out, _ = run([*base, "chain", "status"], capsys)
        assert code == 1 and "not running" in out
        code, out, _ = run([*base, "chain", "up"], capsys)
        assert code == 0 and "chain started" in out

        # A second invocation finds the manifest, verifies the code instead of redeploying, and the
        # proposal made before the restart is still there.
        code, out, err = run([*base, "deploy", "--json"], capsys)
        assert code == 0, err
        again = json.loads(out)
        assert again["status"] == "verified"
        assert again["trustRegistry"] == first["trustRegistry"]
        code, out, err = run([*base, "party", "list", "--json"], capsys)
        assert code == 0, err
        listing = json.loads(out)
        assert [p["kind"] for p in listing["proposals"]] == ["set_threshold"]
        assert listing["proposals"][0]["approvals"] == 1
    finally:
        run([*base, "chain", "down"], capsys)


def test_deploy_refuses_a_manifest_whose_code_is_gone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A fresh node at the manifest's addresses has no code: the manifest is stale, say so plainly.
    port = free_port()
    proc = start_anvil(port)
    try:
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            f'[chain]\nname = "t"\nbackend = "rpc"\nrpc_url = "http://127.0.0.1:{port}"\nmnemonic = "{MNEMONIC}"\n'
            '[deploy]\nthreshold = 1\nparties = [{ id = "SG", admin = "dev:1" }]\n'
        )
        base = ["--config", str(cfg), "--home", str(tmp_path / "home")]
        assert run([*base, "deploy"], capsys)[0] == 0
        proc.stop()
        proc = start_anvil(port)  # same chain id, empty state
        code, _out, err = run([*base, "deploy"], capsys)
        assert code == 3
        assert err.startswith("error: no contract code at") and err.count("\n") == 1
    finally:
        proc.stop()


def test_zero_gas_price_legacy_chain_accepts_unfunded_accounts(tmp_path: Path) -> None:
    # Permissioned networks often run with gas price 0 and legacy transactions: accounts need no Ether.
    port = free_port()
    proc = start_anvil(port, "--gas-price", "0", "--base-fee", "0", "--no-priority-fee")
    try:
        chain = connect(
            ChainConfig(
                backend="rpc", rpc_url=f"http://127.0.0.1:{port}", mnemonic=MNEMONIC, gas_price_mode="legacy"
            )
        )
        deployer, admin = Account.create(), Account.create()
        assert chain.w3.eth.get_balance(deployer.address) == 0
        manifest = deploy(chain, deployer, [("SG", admin.address)], 1, 3600)
        reg = Registries.open(chain, manifest)
        r = reg.trust.add_ca(admin, b"\x07" * 32, 0, 2**40, 1)
        tx = chain.w3.eth.get_transaction(r.tx_hash)  # type: ignore[arg-type]
        assert tx["type"] == 0 and tx["gasPrice"] == 0
        assert reg.trust.ca(ca_id("SG", hashlib.sha256(b"\x07" * 32).digest())).party == "SG"
    finally:
        proc.stop()


@pytest.mark.parametrize("historical", [True, False])
@pytest.mark.devchain("anvil_mine on a node of its own")
def test_historical_states_survive_a_restart_only_when_configured(tmp_path: Path, historical: bool) -> None:
    cfg_file = tmp_path / "local.toml"
    cfg_file.write_text(
        f'[chain]\nname = "t"\nbackend = "anvil"\nport = {free_port()}\nmnemonic = "{MNEMONIC}"\n'
        f"state_interval = 30\nhistorical_states = {str(historical).lower()}\n"
    )
    cfg = load_config(cfg_file, home=tmp_path / "home")
    funded = dev_account(MNEMONIC, 0).address
    try:
        url = anvil.up(cfg).url
        rpc(url, "anvil_mine", ["0x5"])
        before = rpc(url, "eth_getBalance", [funded, "0x2"])
        anvil.down(cfg)  # SIGTERM: the state file is written whatever the interval
        url = anvil.up(cfg).url
        assert int(str(rpc(url, "eth_blockNumber")), 16) == 5
        if historical:
            assert rpc(url, "eth_getBalance", [funded, "0x2"]) == before
        else:
            with pytest.raises(ChainError, match="BlockOutOfRange"):
                rpc(url, "eth_getBalance", [funded, "0x2"])
    finally:
        anvil.down(cfg)


@pytest.mark.parametrize(
    "args",
    [
        ["recognitions", "--at", "99999999999999"],
        [
            "recognize",
            "SG",
            "--doc-types",
            "cites-permit",
            "--effective",
            "99999999999999",
            "--account",
            "dev:2",
        ],
        ["ca", "revoke", "0x1234", "--account", "dev:1"],
    ],
    ids=["time-beyond-uint40", "effective-beyond-uint40", "short-fingerprint"],
)
def test_registry_commands_refuse_bad_times_and_fingerprints_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    port = free_port()
    proc = start_anvil(port)
    try:
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            f'[chain]\nname = "t"\nbackend = "rpc"\nrpc_url = "http://127.0.0.1:{port}"\nmnemonic = "{MNEMONIC}"\n'
            '[deploy]\nthreshold = 1\nparties = [{ id = "SG", admin = "dev:1" }, { id = "TH", admin = "dev:2" }]\n'
        )
        base = ["--config", str(cfg), "--home", str(tmp_path / "home")]
        assert run([*base, "deploy"], capsys)[0] == 0
        code, _out, err = run([*base, *args], capsys)
        assert code == 64, err
        assert "Traceback" not in err and ("out of range" in err or "not a SHA-256 fingerprint" in err), err
    finally:
        proc.stop()


def test_registries_refuse_a_manifest_for_another_chain(anvil_url: str) -> None:
    chain = connect(ChainConfig(backend="rpc", rpc_url=anvil_url, mnemonic=MNEMONIC))
    manifest = deploy(chain, dev_account(MNEMONIC, 0), [("SG", dev_account(MNEMONIC, 1).address)], 1, 3600)
    assert Registries.open(chain, manifest).trust.is_member("SG")
    elsewhere = dataclasses.replace(manifest, chain_id=999)
    with pytest.raises(ConfigError, match=r"^deploy\.json is for chain id 999 but the node is chain 31337$"):
        Registries.open(chain, elsewhere, source="deploy.json")
