"""Registries v2 through the real CLI: CA proofs of possession, roles, admin changes, terms when issuing.

Every bad input is one line and exit 64 (usage) or 3 (error), never a traceback, and nothing is anchored.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from anchor.accounts import dev_account
from anchor.cli.main import main
from anchor.config import load_config
from anchor.deploy import Manifest
from tests.conftest import ASSETS, MNEMONIC

DEMO_DATA = Path(__file__).resolve().parent.parent / "anchor" / "demo" / "data"
PERMIT = "cites-permit-SG-2026-E-04417.json"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return int(e.value.code or 0), out.out, out.err


@pytest.fixture
def env(tmp_path: Path, anvil_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[list[str], Path]:
    """A fresh deployment (SG, TH; threshold 1), SG's PKI registered with a proof of possession and an
    issuer account dev:6 for every type; the base CLI arguments and the PKI directory."""
    cfg = tmp_path / "chain.toml"
    cfg.write_text(
        f'[chain]\nname = "t"\nbackend = "rpc"\nrpc_url = "{anvil_url}"\nmnemonic = "{MNEMONIC}"\n'
        '[deploy]\nthreshold = 1\nparties = [{ id = "SG", admin = "dev:1" }, { id = "TH", admin = "dev:2" }]\n'
    )
    base = ["--config", str(cfg), "--home", str(tmp_path / "home")]
    assert run([*base, "deploy"], capsys)[0] == 0
    pki = tmp_path / "pki"
    assert run([*base, "pki", "init", "SG", "--out", str(pki)], capsys)[0] == 0
    code, out, err = run(
        [*base, "ca", "add", "--cert", str(pki / "root-ca.pem"), "--ca-key", str(pki / "root-ca-key.pem"),
         "--account", "dev:1"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "with proof of possession" in out
    agency = dev_account(MNEMONIC, 6).address
    code, out, err = run(
        [*base, "issuer", "add", agency, "--ca", str(pki / "root-ca.pem"), "--account", "dev:1"], capsys
    )
    assert code == 0, err
    return base, pki


def issue_args(base: list[str], pki: Path, files: list[Path], doc_type: str, out: Path) -> list[str]:
    return [
        *base, "issue", *map(str, files), "--doc-type", doc_type, "--signer-key", str(pki / "signer-key.pem"),
        "--signer-cert", str(pki / "signer.pem"), "--chain-cert", str(pki / "issuing-ca.pem"),
        "--chain-cert", str(pki / "root-ca.pem"), "--account", "dev:6", "--out", str(out), "--json",
    ]  # fmt: skip


def test_ca_key_that_is_not_the_certificates_is_refused(
    env: tuple[list[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, pki = env
    other = tmp_path / "other"
    assert run([*base, "pki", "init", "SG", "--out", str(other)], capsys)[0] == 0
    code, out, err = run(
        [*base, "ca", "add", "--cert", str(other / "root-ca.pem"), "--ca-key", str(pki / "root-ca-key.pem"),
         "--account", "dev:1"],
        capsys,
    )  # fmt: skip
    assert code == 3 and out == ""
    assert err.strip().startswith("error: the key given is not the key of CA") and err.count("\n") == 1


def test_profiles_read_the_terms_from_the_documents(
    env: tuple[list[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, pki = env
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(ASSETS / "samples" / "sps-certificate-ephyto.xml", docs / "sps.xml")
    shutil.copy(DEMO_DATA / PERMIT, docs / PERMIT)
    out = tmp_path / "bundles"
    code, stdout, err = run(
        issue_args(base, pki, [docs / "sps.xml"], "phytosanitary-certificate", out), capsys
    )
    assert code == 0, err
    terms = json.loads((out / "sps.xml.bundle.json").read_text())["terms"]
    # The real UN/CEFACT sample: ImportSPSCountry/ID is Ecuador; its IssueDateTime is the validity start.
    assert terms == {
        "destination": "EC",
        "validFrom": 1461343988,
        "validUntil": None,
        "quantity": None,
        "unit": None,
    }
    code, stdout, err = run(issue_args(base, pki, [docs / PERMIT], "cites-permit", out), capsys)
    assert code == 0, err
    terms = json.loads((out / f"{PERMIT}.bundle.json").read_text())["terms"]
    assert terms["destination"] == "TH" and terms["validUntil"] == 1810771199  # 2027-05-19, end of day UTC


def test_a_permit_without_its_required_term_is_refused_naming_file_and_path(
    env: tuple[list[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, pki = env
    permit = json.loads((DEMO_DATA / PERMIT).read_text())
    cases = {
        "no-until.json": ({k: v for k, v in permit.items() if k != "validUntil"}, "/validUntil is missing"),
        "bad-date.json": ({**permit, "validUntil": "2027-02-30"}, "is not a calendar date"),
        "no-zone.json": ({**permit, "validUntil": "2027-05-19T10:00:00"}, "has no time zone offset"),
        "bad-country.json": (
            {**permit, "importer": {"country": "Thai land"}},
            "is not a party or country code",
        ),
        "elsewhere.json": (
            {**permit, "importer": {"country": "FR"}},
            "'FR' of a cites-permit is not a member",
        ),
        "zero.json": ({**permit, "totalQuantity": 0}, "is not a whole number in 1.."),
    }
    for name, (doc, expected) in cases.items():
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        code, out, err = run(issue_args(base, pki, [path], "cites-permit", tmp_path / "out"), capsys)
        assert code == 3 and out == "", name
        assert expected in err and err.count("\n") == 1, (name, err)
        if "member" not in expected:
            assert name in err, err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--valid-from", "2027-01-02", "--valid-until", "2027-01-01"], "is before validFrom"),
        (["--valid-until", "next tuesday"], "is not 'now', unix seconds or an ISO 8601 time"),
        (["--destination", "XX"], "--destination XX is not a member party (members: SG, TH)"),
        (["--destination", "T H"], "destination party must be 1-8 ASCII letters or digits"),
        (["--quantity", "0"], "--quantity '0' must be between 1 and"),
        (["--quantity", "-5"], "--quantity '-5' is not a whole positive number"),
        (["--quantity", str(1 << 64)], "must be between 1 and 18446744073709551615"),
        (["--unit", "kg"], "unit 'kg' given without a quantity"),
    ],
)
def test_bad_terms_on_the_command_line_are_usage_errors(
    env: tuple[list[str], Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    expected: str,
) -> None:
    base, pki = env
    path = tmp_path / "permit.json"
    shutil.copy(DEMO_DATA / PERMIT, path)
    code, out, err = run([*issue_args(base, pki, [path], "cites-permit", tmp_path / "out"), *extra], capsys)
    assert code == 64 and out == ""
    assert expected in err, err


def test_a_quantity_on_a_type_that_is_not_one_time_is_refused_before_anchoring(
    env: tuple[list[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, pki = env
    path = tmp_path / "attachment.pdf"
    shutil.copy(ASSETS / "samples" / "sps-attachment.pdf", path)
    args = issue_args(base, pki, [path], "phytosanitary-certificate", tmp_path / "out")
    code, out, err = run([*args, "--quantity", "5", "--unit", "boxes"], capsys)
    assert code == 3
    assert "phytosanitary-certificate is not a one-time document type" in err


def test_admin_change_and_roles(env: tuple[list[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    base, _ = env
    second = dev_account(MNEMONIC, 8).address
    code, out, err = run([*base, "admin", "propose", "--add", second, "--account", "dev:1"], capsys)
    assert code == 0, err
    assert "admin change 1 proposed (add" in out and "1 approval(s) of 1" in out
    code, out, err = run([*base, "admin", "execute", "1", "--account", "dev:1"], capsys)
    assert code == 0, err
    code, out, err = run([*base, "role", "show", second], capsys)
    assert out.strip() == f"{second} is admin of SG"
    # With two admins, one alone cannot remove the other before the delay.
    code, out, err = run([*base, "admin", "propose", "--remove", second, "--account", "dev:1"], capsys)
    assert code == 0, err
    code, out, err = run([*base, "admin", "execute", "2", "--account", "dev:1"], capsys)
    assert code == 3 and err.startswith("error: AdminChangeNotReady(changeId=2, approvals=1, needed=2")
    # The admin it removes cannot cancel it; nor can a consumer key do anything of an admin's.
    code, out, err = run([*base, "admin", "cancel", "2", "--account", "dev:8"], capsys)
    assert code == 3 and "CannotCancelOwnRemoval" in err
    code, out, err = run([*base, "admin", "changes", "--json"], capsys)
    assert [c["state"] for c in json.loads(out)] == ["executed", "open"]
    consumer = dev_account(MNEMONIC, 9).address
    assert run([*base, "role", "grant-consumer", consumer, "--account", "dev:2"], capsys)[0] == 0
    code, out, err = run(
        [*base, "recognize", "SG", "--doc-types", "cites-permit", "--account", "dev:9"], capsys
    )
    assert code == 3 and err.startswith("error: NotPartyAdmin(")
    code, out, err = run([*base, "role", "grant-consumer", consumer, "--account", "dev:1"], capsys)
    assert code == 3 and "AccountHasRole" in err and "party='TH'" in err


def test_v1_manifest_is_refused_by_the_cli(
    env: tuple[list[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = env
    config = load_config(Path(base[1]), home=Path(base[3]))
    manifest = json.loads(Manifest.load(config.manifest_path).to_json())
    manifest["manifestVersion"] = 1
    config.manifest_path.write_text(json.dumps(manifest))
    code, out, err = run([*base, "party", "list"], capsys)
    assert code == 3 and "registries v1" in err and "trustanchor deploy --force" in err
