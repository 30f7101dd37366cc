"""`trustanchor pki init` / `ca add` / `issuer add` / `issue` through the real CLI against a real anvil."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from anchor.accounts import dev_account
from anchor.cli.main import main
from tests.conftest import ASSETS, MNEMONIC


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    out = capsys.readouterr()
    return int(e.value.code or 0), out.out, out.err


@pytest.fixture
def cli_env(tmp_path: Path, anvil_url: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    cfg = tmp_path / "chain.toml"
    cfg.write_text(
        f'[chain]\nname = "t"\nbackend = "rpc"\nrpc_url = "{anvil_url}"\nmnemonic = "{MNEMONIC}"\n'
        '[deploy]\nthreshold = 1\nparties = [{ id = "SG", admin = "dev:1" }, { id = "TH", admin = "dev:2" }]\n'
    )
    base = ["--config", str(cfg), "--home", str(tmp_path / "home")]
    code, out, err = run([*base, "deploy"], capsys)
    assert code == 0, err
    return base


def test_issue_samples_then_reissue_leaves_bundles_untouched(
    cli_env: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = tmp_path / "pki"
    assert run([*cli_env, "pki", "init", "SG", "--out", str(pki)], capsys)[0] == 0
    assert (
        run([*cli_env, "ca", "add", "--cert", str(pki / "root-ca.pem"), "--account", "dev:1"], capsys)[0] == 0
    )
    agency = dev_account(MNEMONIC, 6).address
    code, out, err = run(
        [*cli_env, "issuer", "add", agency, "--ca", str(pki / "root-ca.pem"), "--account", "dev:1"], capsys
    )
    assert code == 0, err
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("sps-certificate-ephyto.xml", "sps-attachment.pdf"):
        shutil.copy(ASSETS / "samples" / name, docs / name)
    out_dir = tmp_path / "bundles"
    issue = [
        *cli_env, "issue", str(docs / "sps-certificate-ephyto.xml"), str(docs / "sps-attachment.pdf"),
        "--doc-type", "phytosanitary-certificate", "--signer-key", str(pki / "signer-key.pem"),
        "--signer-cert", str(pki / "signer.pem"), "--chain-cert", str(pki / "issuing-ca.pem"),
        "--chain-cert", str(pki / "root-ca.pem"), "--account", "dev:6", "--out", str(out_dir), "--json",
    ]  # fmt: skip
    code, out, err = run(issue, capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["documents"] == 2 and summary["transactions"] == 1 and summary["alreadyAnchored"] == []
    bundle_file = out_dir / "sps-certificate-ephyto.xml.bundle.json"
    first = bundle_file.read_text()
    assert json.loads(first)["document"]["canonicalization"] == "xml-c14n2"

    code, out, err = run(issue, capsys)
    assert code == 0, err
    again = json.loads(out)
    assert again["documents"] == 0 and again["transactions"] == 0
    assert {a["file"] for a in again["alreadyAnchored"]} == {
        "sps-certificate-ephyto.xml",
        "sps-attachment.pdf",
    }
    assert bundle_file.read_text() == first

    code, out, err = run(
        [
            *cli_env,
            "verify",
            str(docs / "sps-attachment.pdf"),
            "--bundle",
            str(out_dir / "sps-attachment.pdf.bundle.json"),
            "--as",
            "SG",
            "--json",
        ],
        capsys,
    )
    assert code == 0, out
    assert json.loads(out)["verdict"] == "VALID"


def test_invalid_json_document_is_a_one_line_error(
    cli_env: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"permit": 1,\n "species": }')
    pki = tmp_path / "pki"
    run([*cli_env, "pki", "init", "SG", "--out", str(pki)], capsys)
    code, out, err = run(
        [*cli_env, "issue", str(bad), "--doc-type", "cites-permit", "--signer-key", str(pki / "signer-key.pem"),
         "--signer-cert", str(pki / "signer.pem"), "--account", "dev:6", "--out", str(tmp_path / "b")],
        capsys,
    )  # fmt: skip
    assert code == 3
    assert err.startswith("error: ") and "broken.json: not valid JSON at line 2 column 13" in err
    assert err.count("\n") == 1


def test_revert_is_one_line_naming_the_error(cli_env: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([*cli_env, "party", "propose", "--threshold", "2", "--account", "dev:9"], capsys)
    assert code == 3
    assert err.startswith("error: NotPartyAdmin(account=0x") and err.count("\n") == 1


def test_usage_errors_exit_64(cli_env: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([*cli_env, "party", "propose", "--account", "dev:1"], capsys)
    assert code == 64 and "exactly one of" in err
