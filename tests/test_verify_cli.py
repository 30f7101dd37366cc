"""`trustanchor verify` / `consume` / `revoke` through anchor.cli.main.main, against the session's real anvil.

Exit codes (README): 0 VALID, 1 INVALID, 2 INDETERMINATE, 3 error (one line on stderr starting with
"error:", never a traceback), 64 usage error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from anchor.cli.main import main
from anchor.issuing.leaf import Terms
from tests.conftest import World, free_port
from tests.issuing_helpers import CONSUMER_INDEX, Scenario, build_scenario


@dataclass
class Cli:
    sc: Scenario
    config: Path
    home: Path
    manifest: Path
    docs: list[Path]
    bundles: list[Path]
    capsys: pytest.CaptureFixture[str]

    def run(self, *args: str, config: Path | None = None) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of one CLI invocation."""
        argv = [
            "--config",
            str(config or self.config),
            "--home",
            str(self.home),
            "--manifest",
            str(self.manifest),
        ]
        with pytest.raises(SystemExit) as exit_info:
            main([*argv, *args])
        out = self.capsys.readouterr()
        code = exit_info.value.code
        assert "Traceback" not in out.out + out.err
        return (code if isinstance(code, int) else 0 if code is None else 1), out.out, out.err

    def verify_json(self, document: Path, bundle: Path, *extra: str) -> tuple[int, dict[str, Any]]:
        code, out, err = self.run(
            "verify", str(document), "--bundle", str(bundle), "--as", "TH", "--json", *extra
        )
        assert err == ""
        return code, json.loads(out)


def write_config(path: Path, rpc_url: str) -> Path:
    path.write_text(f'[chain]\nname = "clitest"\nbackend = "rpc"\nrpc_url = "{rpc_url}"\nconfirmations = 1\n')
    return path


@pytest.fixture
def cli(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    for var in ("TRUSTANCHOR_CONFIG", "TRUSTANCHOR_RPC_URL", "TRUSTANCHOR_HOME", "TRUSTANCHOR_ACCOUNT"):
        monkeypatch.delenv(var, raising=False)
    sc = build_scenario(world, tmp_path)
    manifest = tmp_path / "deployments" / "clitest.json"
    sc.manifest.save(manifest)
    docs, bundles = [], []
    for i, (doc, bundle) in enumerate(zip(sc.docs, sc.bundles, strict=True)):
        docs.append(tmp_path / f"certificate-{i}.json")
        docs[-1].write_bytes(doc)
        bundles.append(tmp_path / f"certificate-{i}.bundle.json")
        bundle.save(bundles[-1])
    config = write_config(tmp_path / "chain.toml", world.chain.config.url)
    capsys.readouterr()
    return Cli(sc, config, tmp_path / "home", manifest, docs, bundles, capsys)


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def test_valid_document_exits_0_with_a_json_verdict(cli: Cli) -> None:
    code, verdict = cli.verify_json(cli.docs[0], cli.bundles[0])
    assert code == 0
    assert verdict["verdict"] == "VALID"
    assert verdict["verifyingParty"] == "TH"
    assert verdict["document"] == "certificate-0.json"
    assert [(c["name"], c["status"]) for c in verdict["checks"]] == [
        (name, "VALID")
        for name in (
            "integrity",
            "inclusion",
            "anchored",
            "document_status",
            "signature",
            "certificate_chain",
            "ca_status",
            "recognition",
            "terms",
        )
    ]
    assert all(set(c) == {"name", "status", "code", "message"} for c in verdict["checks"])
    chain = verdict["chain"]
    assert chain["chainId"] == cli.sc.world.chain.chain_id
    assert chain["readAtBlock"] >= cli.sc.bundles[0].anchor.block_number
    assert chain["readAtBlockHash"].startswith("0x") and len(chain["readAtBlockHash"]) == 66
    assert verdict["anchoredAt"] == cli.sc.bundles[0].anchor.block_time


def test_valid_document_human_output(cli: Cli) -> None:
    code, out, err = cli.run("verify", str(cli.docs[1]), "--bundle", str(cli.bundles[1]), "--as", "TH")
    assert (code, err) == (0, "")
    assert out.startswith("VALID  certificate-1.json  (verified as TH)")
    for code_name in (
        "DIGEST_MATCH",
        "PROOF_VALID",
        "ANCHORED",
        "SIGNATURE_VALID",
        "CHAIN_VALID",
        "RECOGNIZED",
    ):
        assert code_name in out
    assert f"chain {cli.sc.world.chain.chain_id} read at block" in out


def test_tampered_document_exits_1(cli: Cli, tmp_path: Path) -> None:
    forged = tmp_path / "forged.json"
    forged.write_bytes(cli.docs[0].read_bytes().replace(b'"quantity": 120', b'"quantity": 920'))
    code, verdict = cli.verify_json(forged, cli.bundles[0])
    assert code == 1
    assert verdict["verdict"] == "INVALID"
    checks = {c["name"]: (c["status"], c["code"]) for c in verdict["checks"]}
    assert checks["integrity"] == ("INVALID", "DIGEST_MISMATCH")
    assert checks["anchored"] == ("VALID", "ANCHORED")


def test_insufficient_confirmations_exits_2(cli: Cli) -> None:
    code, verdict = cli.verify_json(cli.docs[2], cli.bundles[2], "--confirmations", "50")
    assert code == 2
    assert verdict["verdict"] == "INDETERMINATE"
    anchored = next(c for c in verdict["checks"] if c["name"] == "anchored")
    assert (anchored["status"], anchored["code"]) == ("ERROR", "INSUFFICIENT_CONFIRMATIONS")


def test_unreachable_chain_never_gives_a_traceback_or_a_decision(cli: Cli, tmp_path: Path) -> None:
    dead = write_config(tmp_path / "dead.toml", f"http://127.0.0.1:{free_port()}")
    code, out, err = cli.run(
        "verify", str(cli.docs[0]), "--bundle", str(cli.bundles[0]), "--as", "TH", config=dead
    )
    assert code in (2, 3)
    if code == 3:
        assert "chain unreachable" in one_line_error(err)
        assert out == ""


def test_unreachable_chain_is_indeterminate_exit_2(cli: Cli, tmp_path: Path) -> None:
    dead = write_config(tmp_path / "dead.toml", f"http://127.0.0.1:{free_port()}")
    code, out, _ = cli.run(
        "verify", str(cli.docs[0]), "--bundle", str(cli.bundles[0]), "--as", "TH", "--json", config=dead
    )
    assert code == 2
    verdict = json.loads(out)
    assert verdict["verdict"] == "INDETERMINATE"
    checks = {c["name"]: (c["status"], c["code"]) for c in verdict["checks"]}
    assert checks["integrity"] == ("VALID", "DIGEST_MATCH")
    assert checks["anchored"] == ("ERROR", "CHAIN_UNAVAILABLE")


def _truncated(text: str) -> str:
    return text[: len(text) // 2]


def _other_version(text: str) -> str:
    assert '"application/vnd.trustanchor.bundle.v2+json"' in text
    return text.replace("bundle.v2+json", "bundle.v3+json", 1)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing-bundle", "cannot read proof bundle"),
        ("truncated-bundle", "not a proof bundle: invalid JSON at line"),
        ("garbage-bundle", "not a proof bundle: not UTF-8 text"),
        ("text-bundle", "not a proof bundle: invalid JSON at line 1 column 1"),
        ("other-version", "unsupported bundle version v3"),
        ("missing-document", "document not found"),
    ],
)
def test_bad_inputs_give_one_line_errors_and_exit_3(
    cli: Cli, tmp_path: Path, case: str, expected: str
) -> None:
    document, bundle = cli.docs[0], tmp_path / f"{case}.json"
    text = cli.bundles[0].read_text()
    if case == "truncated-bundle":
        bundle.write_text(_truncated(text))
    elif case == "garbage-bundle":
        bundle.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe garbage")
    elif case == "text-bundle":
        bundle.write_text("this is not a bundle\n")
    elif case == "other-version":
        bundle.write_text(_other_version(text))
    elif case == "missing-document":
        bundle, document = cli.bundles[0], tmp_path / "no-such-document.json"
    code, out, err = cli.run("verify", str(document), "--bundle", str(bundle), "--as", "TH", "--json")
    assert code == 3
    assert out == ""
    assert expected in one_line_error(err)


def test_missing_option_is_a_usage_error(cli: Cli) -> None:
    code, out, err = cli.run("verify", str(cli.docs[0]), "--as", "TH")
    assert code == 64
    assert "--bundle" in err
    assert out == ""


def _permit(cli: Cli, terms: Terms) -> tuple[Path, Path]:
    """One CITES permit (a one-time type) with `terms`, written next to the other documents."""
    docs, [bundle] = cli.sc.issue_permits(1, terms, first=50)
    doc_path, bundle_path = cli.docs[0].parent / "permit.json", cli.docs[0].parent / "permit.bundle.json"
    doc_path.write_bytes(docs[0])
    bundle.save(bundle_path)
    return doc_path, bundle_path


def test_grant_consumer_then_consume_twice_fails_the_second_time(cli: Cli) -> None:
    doc, bundle = _permit(cli, Terms(destination="TH"))
    consumer = cli.sc.world.account(CONSUMER_INDEX).address
    code, out, err = cli.run("role", "grant-consumer", consumer, "--account", "dev:2")
    assert (code, err) == (0, "") and f"{consumer} is now a consumer account of TH" in out
    code, out, err = cli.run("role", "show", consumer)
    assert out.strip() == f"{consumer} is consumer of TH"
    args = ("consume", "--bundle", str(bundle), "--as", "TH", "--account", f"dev:{CONSUMER_INDEX}")
    code, out, err = cli.run(*args)
    assert (code, err) == (0, "")
    assert out.startswith("doc-0.json consumed by TH (tx 0x")
    code, out, err = cli.run(*args)
    assert code == 3
    assert out == ""
    line = one_line_error(err)
    assert line.startswith("error: DocumentAlreadyConsumed(")
    assert "consumedBy='TH'" in line
    # And the verifier sees it.
    code, out, err = cli.run("verify", str(doc), "--bundle", str(bundle), "--as", "TH", "--json")
    assert code == 1
    status = next(c for c in json.loads(out)["checks"] if c["name"] == "document_status")
    assert status["code"] == "CONSUMED"


def test_consume_needs_a_consumer_account_of_the_destination(cli: Cli) -> None:
    _, bundle = _permit(cli, Terms(destination="TH"))
    # TH's admin key is not a consumer key: the service holds no admin key.
    code, out, err = cli.run("consume", "--bundle", str(bundle), "--as", "TH", "--account", "dev:2")
    assert code == 3
    assert "is a consumer account of no party, not TH" in one_line_error(err)
    cli.sc.consumer("MY")
    code, out, err = cli.run(
        "consume", "--bundle", str(bundle), "--as", "MY", "--account", f"dev:{CONSUMER_INDEX}"
    )
    assert code == 3
    assert "destined to TH, so MY cannot use it" in one_line_error(err)


def test_endorse_partial_shipments_then_refuse_more_than_remains(cli: Cli) -> None:
    doc, bundle = _permit(cli, Terms(destination="TH", quantity=150, unit="skins"))
    cli.sc.consumer("TH")
    base = ("endorse", "--bundle", str(bundle), "--as", "TH", "--account", f"dev:{CONSUMER_INDEX}")
    code, out, err = cli.run(*base, "--amount", "100")
    assert (code, err) == (0, "")
    assert "100 skins of doc-0.json endorsed by TH: 100 of 150 skins used, 50 skins remain" in out
    code, out, err = cli.run(*base, "--amount", "60")
    assert code == 3
    assert one_line_error(err) == "error: QuantityExceeded(requested=60, remaining=50)"
    for bad in ("0", "-5", "lots", str(1 << 64)):
        code, out, err = cli.run(*base, "--amount", bad)
        assert code == 64, bad
    code, out, err = cli.run("verify", str(doc), "--bundle", str(bundle), "--as", "TH", "--json")
    verdict = json.loads(out)
    assert code == 0 and verdict["terms"]["remaining"] == 50


def test_revoke_then_verify_exits_1(cli: Cli) -> None:
    code, out, err = cli.run(
        "revoke", "--bundle", str(cli.bundles[2]), "--reason", "issued-in-error", "--account", "dev:1"
    )
    assert (code, err) == (0, "")
    code, verdict = cli.verify_json(cli.docs[2], cli.bundles[2])
    assert code == 1
    status = next(c for c in verdict["checks"] if c["name"] == "document_status")
    assert (status["code"], "issued-in-error" in status["message"]) == ("DOCUMENT_REVOKED", True)
    code, verdict = cli.verify_json(cli.docs[0], cli.bundles[0])
    assert code == 0
