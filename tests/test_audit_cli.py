"""`trustanchor audit ...` end to end, as an auditor with only an RPC endpoint and the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anchor.audit import replay
from anchor.cli.main import main
from tests.conftest import MNEMONIC, free_port
from tests.test_audit_support import Scenario, scenario

__all__ = ["scenario"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    out = capsys.readouterr()
    return int(e.value.code or 0), out.out, out.err


@pytest.fixture
def auditor(scenario: Scenario, tmp_path: Path, history_url: str) -> list[str]:
    manifest = tmp_path / "deployment.json"
    scenario.world.reg.manifest.save(manifest)
    return [
        "--manifest",
        str(manifest),
        "--home",
        str(tmp_path / "home"),
        "audit",
        "--rpc",
        history_url,
        "--depth",
        "0",
    ]


def test_help_of_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["audit", "--help"], capsys)
    assert code == 0
    for sub in ("replay", "state", "diff", "check", "report"):
        assert sub in out
        code, text, _ = run(["audit", sub, "--help"], capsys)
        assert code == 0 and "Usage:" in text
        if sub != "report":
            assert "--json" in text


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_replay_saves_a_checkpoint_and_resumes(
    scenario: Scenario, auditor: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    end = scenario.blocks["end"]
    code, out, err = run([*auditor, "replay", "--to-block", str(end), "--json"], capsys)
    assert code == 0, err
    first = json.loads(out)
    assert first["block"] == end and first["resumedFrom"] is None and first["checkpointSaved"] == end
    assert first["digest"] == replay(scenario.source, end).digest()
    assert list((tmp_path / "home" / "audit").glob("*/checkpoint-*.json"))
    code, out, err = run([*auditor, "replay", "--to-block", str(end), "--json"], capsys)
    again = json.loads(out)
    assert again["resumedFrom"] == end and again["eventsReplayed"] == 0 and again["digest"] == first["digest"]
    code, out, err = run([*auditor, "replay", "--to-block", str(end), "--fresh"], capsys)
    assert code == 0 and "replayed from the deployment block" in out and first["digest"] in out


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_state_at_block_and_at_time(
    scenario: Scenario, auditor: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    block = scenario.blocks["backdated"]
    code, out, err = run([*auditor, "state", "--at-block", str(block), "--json"], capsys)
    assert code == 0, err
    view = json.loads(out)
    assert view["block"] == block and view["knownAtBlock"] == block
    assert view["digest"] == replay(scenario.source, block).digest()
    # Inside the backdated window: active as known then, revoked as known at the end.
    when = scenario.times["ca-revoked"] - 100
    fp = "0x" + scenario.cas["SG2"].hex()
    code, out, err = run([*auditor, "state", "--at-time", str(when), "--json"], capsys)
    then = json.loads(out)
    at_time_block = then["block"]
    assert {c["fingerprint"]: c["status"] for c in then["cas"]}[fp] == "active"
    assert scenario.world.reg.trust.ca_status_at(scenario.cas["SG2"], when, block=at_time_block) == 1
    code, out, err = run(
        [*auditor, "state", "--at-time", str(when), "--known-at", str(scenario.blocks["end"]), "--json"],
        capsys,
    )
    later = json.loads(out)
    assert {c["fingerprint"]: c["status"] for c in later["cas"]}[fp] == "revoked"
    code, out, err = run([*auditor, "state", "--at-block", str(block), "--full"], capsys)
    assert code == 0 and "Recognition (row recognizes column)" in out and "Certificate authorities" in out


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_diff_between_two_blocks(
    scenario: Scenario, auditor: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = scenario.blocks["trust-set-up"], scenario.blocks["lifecycle"]
    code, out, err = run([*auditor, "diff", str(a), str(b), "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    changes = result["changes"]
    assert len(changes["batches"]["added"]) == 12
    assert len(changes["batches"]["changed"]) == 0
    # A revoked and a superseded document; the use of three leaves (one consumed, two endorsed).
    assert len(changes["documents"]["added"]) == 2 and len(changes["usage"]["added"]) == 3
    assert "cas" not in changes and result["events"] > 10
    code, out, err = run([*auditor, "diff", str(b), str(scenario.blocks["backdated"])], capsys)
    assert code == 0 and "Changes by kind" in out and "batches" in out
    code, out, err = run([*auditor, "diff", str(b), str(b)], capsys)
    assert "nothing changed" in out


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_check_and_report(
    scenario: Scenario, auditor: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([*auditor, "check", "--window", "1h", "--json"], capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["consistency"]["ok"] and result["findingCounts"]["critical"] == 0
    assert {"backdated-revocation", "governance-execution"} <= {f["kind"] for f in result["findings"]}
    code, out, err = run([*auditor, "check", "--sample", "2", "--seed", "7"], capsys)
    assert code == 0 and "random sample of 2" in out and "seed 7" in out
    out_dir = tmp_path / "report"
    code, out, err = run([*auditor, "report", "--out", str(out_dir), "--json"], capsys)
    assert code == 0, err
    files = json.loads(out)
    assert Path(files["html"]).exists() and Path(files["json"]).exists() and len(files["csv"]) >= 10
    code, out, err = run([*auditor, "report", "--out", str(out_dir)], capsys)  # rewriting a report is fine
    assert code == 0 and "report written to" in out


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_with_a_chain_config_instead_of_rpc(
    scenario: Scenario, tmp_path: Path, history_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "chain.toml"
    cfg.write_text(
        f'[chain]\nname = "t"\nbackend = "rpc"\nrpc_url = "{history_url}"\nmnemonic = "{MNEMONIC}"\nconfirmations = 1\n'
    )
    manifest = tmp_path / "home" / "deployments" / "t.json"
    scenario.world.reg.manifest.save(manifest)
    code, out, err = run(
        ["--config", str(cfg), "--home", str(tmp_path / "home"), "audit", "replay", "--json"], capsys
    )
    assert code == 0, err
    # Default target: one confirmation below the head.
    assert json.loads(out)["block"] == scenario.source.head() - 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["state", "--at-block", "abc"], 64, "not a block number"),
        (["state", "--at-block", "99999999"], 3, "beyond the chain head"),
        (["state", "--at-block", "1", "--at-time", "now"], 64, "not both"),
        (["state", "--at-time", "yesterday"], 64, "not 'now'"),
        (["state", "--at-time", "5"], 3, "before the registries were deployed"),
        (["diff", "latest", "1"], 64, "give the earlier block first"),
        (["check", "--window", "soon"], 64, "not a duration"),
        (["check", "--sample", "-1"], 64, "-1"),
    ],
)
@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_bad_input_is_one_clear_line(
    auditor: list[str], args: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    got, out, err = run([*auditor, *args], capsys)
    assert got == code, err
    assert message in err
    if code == 3:
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")


@pytest.mark.devchain("evm_increaseTime: reads the audit scenario")
def test_missing_manifest_unreachable_node_and_occupied_out_dir(
    auditor: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_manifest = ["--manifest", str(tmp_path / "nope.json"), *auditor[2:]]
    code, _, err = run([*bad_manifest, "replay"], capsys)
    assert code == 3 and "no deployment manifest" in err
    dead = [*auditor[:-4], "--rpc", f"http://127.0.0.1:{free_port()}"]
    code, _, err = run([*dead, "replay"], capsys)
    assert code == 3 and "unreachable" in err and len(err.strip().splitlines()) == 1
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "precious.txt").write_text("keep")
    code, _, err = run([*auditor, "report", "--out", str(occupied)], capsys)
    assert code == 3 and "not empty" in err
