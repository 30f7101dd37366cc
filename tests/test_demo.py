"""`trustanchor demo` end to end, in-process, on an anvil of its own (a free port, never 8545)."""

from __future__ import annotations

import re
import shlex
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from anchor._internal import anvil
from anchor.cli.main import main
from anchor.config import DEFAULT_CONFIG, load_config
from anchor.demo.model import Expect, describe_verdict
from anchor.verify import CHECK_NAMES, Check, CheckStatus, Decision, Verdict
from anchor.verify.model import decide
from tests.conftest import free_port

OUTCOMES = (
    "actual:   rejected: DocumentAlreadyConsumed",
    "actual:   INVALID (document_status: CONSUMED)",
    "actual:   INVALID (integrity: DIGEST_MISMATCH)",
    "actual:   INVALID (recognition: NOT_RECOGNIZED)",
    "actual:   VALID with warning (ca_status: CA_REVOKED_LATER)",
    "actual:   INVALID (ca_status: CA_REVOKED)",
    "actual:   INVALID (document_status: SUPERSEDED)",
    "is the amendment certificate-of-origin-SG-FD-2026-118734-A1.json",
)


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """A chain config like chain/local.toml but on a free port, a fresh home; the demo's anvil stopped after."""
    for var in ("TRUSTANCHOR_HOME", "TRUSTANCHOR_CONFIG", "TRUSTANCHOR_RPC_URL", "TRUSTANCHOR_ACCOUNT"):
        monkeypatch.delenv(var, raising=False)
    text, n = re.subn(r"(?m)^port = \d+", f"port = {free_port()}", DEFAULT_CONFIG.read_text())
    assert n == 1
    config = tmp_path / "chain.toml"
    config.write_text(text)
    home = tmp_path / "home"
    yield config, home
    anvil.down(load_config(config, home=home))


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), capsys.readouterr().out


def test_demo_runs_twice_and_leaves_verifiable_bundles(
    demo_env: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, home = demo_env
    argv = ["--home", str(home), "--config", str(config), "demo"]

    code, first = _run(argv, capsys)
    assert code == 0, first
    assert "started anvil" in first
    assert "actual:   deployed" in first
    assert re.search(r"All \d+ steps had the expected outcome\.", first)
    assert "✗" not in first
    for line in OUTCOMES:
        assert line in first, line
    assert first.count("actual:   VALID\n") >= 8  # the consignment at the border, the amendment
    for sub in ("pki/SG/root-ca.pem", "pki/TH/root-ca.pem", "pki/MY/root-ca.pem", "accounts.json"):
        assert (home / "demo" / sub).exists(), sub
    assert (home / "demo" / "documents" / "README.md").exists()  # attribution next to the SPS samples

    # Again on the same chain: registrations are reused, MY gets a fresh CA and agency account.
    code, second = _run(argv, capsys)
    assert code == 0, second
    assert "already running" in second
    assert "actual:   verified" in second
    assert "PKI and CA from an earlier run reused" in second
    assert "authorized in an earlier run, reused" in second
    assert "the CA of the previous run is revoked on chain" in second
    assert "unchanged since an earlier run" in second
    assert "✗" not in second
    for line in OUTCOMES:
        assert line in second, line

    # The printed hand commands work as printed; the first is a VALID permit.
    commands = [
        ln.strip() for ln in second.splitlines() if " verify " in ln and ln.strip().endswith("--as TH")
    ]
    assert len(commands) >= 8
    args = shlex.split(commands[0])
    assert args[0] == "trustanchor"
    bundle = Path(args[args.index("--bundle") + 1])
    assert bundle.parent == home / "demo" / "bundles" and bundle.exists()
    code, out = _run(args[1:], capsys)
    assert code == 0, out
    assert "VALID" in out

    # The demo ends with the border post offline: the node stopped, every verdict as online at the
    # checkpoint, the document revoked after it VALID as of it, with its age; then the node restarts.
    assert "actual:   node stopped" in second
    assert second.count("Offline, TH verifies") >= 10
    assert "actual:   INVALID (document_status: DOCUMENT_REVOKED)" in second  # online, after the pack
    assert "age 2 h 0 min), witnessed by MY, SG, TH" in second
    assert "node answering at block" in second
    offline = [ln.strip() for ln in second.splitlines() if ln.strip().endswith("--as TH --offline")]
    assert len(offline) == 1
    with monkeypatch.context() as m:  # the hand command opens no connection at all
        m.setattr(socket.socket, "connect", _no_network)
        code, out = _run(shlex.split(offline[0])[1:], capsys)
    assert code == 0, out
    assert "offline, as of checkpoint" in out


def _no_network(*_args: object) -> None:
    raise OSError("no network at the border post")


def _verdict(*bad: tuple[str, str], warning: tuple[str, str] | None = None) -> Verdict:
    checks = []
    for name in CHECK_NAMES:
        code = next((c for n, c in bad if n == name), None)
        if code is not None:
            checks.append(Check(name, CheckStatus.INVALID, code, f"{name} failed"))
        elif warning and warning[0] == name:
            checks.append(Check(name, CheckStatus.VALID, warning[1], f"{name} warns", warning=True))
        else:
            checks.append(Check(name, CheckStatus.VALID, "OK", f"{name} ok"))
    return Verdict(decide(checks), checks, "TH", "doc.json")


def test_expectations_match_exactly_the_expected_failure_and_warnings() -> None:
    valid = Expect(Decision.VALID)
    tampered = Expect(Decision.INVALID, ("integrity", "DIGEST_MISMATCH"))
    revoked_later = Expect(Decision.VALID, warning=("ca_status", "CA_REVOKED_LATER"))
    assert valid.matches(_verdict())
    assert not valid.matches(_verdict(warning=("ca_status", "CA_REVOKED_LATER")))
    assert revoked_later.matches(_verdict(warning=("ca_status", "CA_REVOKED_LATER")))
    assert not revoked_later.matches(_verdict())
    assert tampered.matches(_verdict(("integrity", "DIGEST_MISMATCH")))
    assert not tampered.matches(_verdict(("integrity", "DIGEST_MISMATCH"), ("recognition", "NOT_RECOGNIZED")))
    assert not tampered.matches(_verdict(("recognition", "NOT_RECOGNIZED")))
    assert Expect(Decision.INVALID, ("integrity", "DIGEST_MISMATCH"), message_contains="failed").matches(
        _verdict(("integrity", "DIGEST_MISMATCH"))
    )
    assert not Expect(Decision.INVALID, ("integrity", "DIGEST_MISMATCH"), message_contains="0xabc").matches(
        _verdict(("integrity", "DIGEST_MISMATCH"))
    )
    v = _verdict(("integrity", "DIGEST_MISMATCH"))
    assert describe_verdict(v) == tampered.describe() == "INVALID (integrity: DIGEST_MISMATCH)"
    assert revoked_later.describe() == "VALID with warning (ca_status: CA_REVOKED_LATER)"
