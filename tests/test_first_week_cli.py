"""The first week at an agency and a border post (issue #12), through the real CLI against a real anvil:
mistakes that used to pass in silence are refused with one clear line, and nothing is written or
anchored when they are.

* `pki init` never overwrites a key or certificate without --force, and writes keys 0600;
* `issue` refuses a signer whose chain does not lead to the issuer account's CA on chain (no
  transaction is sent);
* `verify --as` and `apikey create --party` refuse a party that is not a member (exit 64);
* counts are in words that agree ("1 document"), articles too ("an auditor key"), and `ca list`
  prints document types whole when its output is not a terminal;
* `./dev` probes Python interpreters without pyenv's noise, and says so when none will do.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

from anchor.accounts import dev_account
from anchor.cacert import read_ca_certificate
from anchor.cli.main import main
from anchor.doctypes import ALL_TYPES_MASK
from anchor.issuing.batch import DocumentInput, DocumentIssuer, SignerChainError
from anchor.issuing.canonical import digest_bytes
from anchor.issuing.signing import Signer
from anchor.pki import generate_key, init_pki, issue_signer, load_ca
from tests.conftest import ASSETS, MNEMONIC, World, free_port

REPO = Path(__file__).resolve().parent.parent
SECRETS = ("root-ca-key.pem", "issuing-ca-key.pem", "signer-key.pem", "signer.p12")
AGENCY = 6
ALL_TYPES = (
    "cites-permit,cites-certificate,phytosanitary-certificate,certificate-of-origin,veterinary-certificate"
)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return int(e.value.code or 0), out.out, out.err


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err


def usage_error(err: str) -> str:
    """click's usage error: the usage line, a hint, then one 'Error:' line."""
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, err
    return lines[0]


def write_chain_config(path: Path, url: str) -> Path:
    path.write_text(
        f'[chain]\nname = "t"\nbackend = "rpc"\nrpc_url = "{url}"\nmnemonic = "{MNEMONIC}"\n'
        '[deploy]\nthreshold = 1\nparties = [{ id = "SG", admin = "dev:1" }, { id = "TH", admin = "dev:2" }]\n'
    )
    return path


@pytest.fixture
def base(
    tmp_path: Path, anvil_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """A fresh deployment on the session's anvil: SG and TH, threshold 1."""
    for var in ("TRUSTANCHOR_CONFIG", "TRUSTANCHOR_RPC_URL", "TRUSTANCHOR_HOME", "TRUSTANCHOR_ACCOUNT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("TRUSTANCHOR_API_CONFIG", raising=False)
    cfg = write_chain_config(tmp_path / "chain.toml", anvil_url)
    args = ["--config", str(cfg), "--home", str(tmp_path / "home")]
    code, _, err = run([*args, "deploy"], capsys)
    assert code == 0, err
    return args


@pytest.fixture
def agency(base: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """SG's PKI, its root CA registered for every type and issuer account dev:6 bound to it."""
    pki = tmp_path / "pki"
    assert run([*base, "pki", "init", "SG", "--out", str(pki)], capsys)[0] == 0
    code, _, err = run(
        [*base, "ca", "add", "--cert", str(pki / "root-ca.pem"), "--ca-key", str(pki / "root-ca-key.pem"),
         "--doc-types", ALL_TYPES, "--account", "dev:1"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    issuer = dev_account(MNEMONIC, AGENCY).address
    code, _, err = run(
        [*base, "issuer", "add", issuer, "--ca", str(pki / "root-ca.pem"), "--account", "dev:1"], capsys
    )
    assert code == 0, err
    return pki


def nonce(anvil_url: str, index: int) -> int:
    w3 = Web3(Web3.HTTPProvider(anvil_url))
    return int(w3.eth.get_transaction_count(dev_account(MNEMONIC, index).address))


def sample(tmp_path: Path) -> Path:
    doc = tmp_path / "docs" / "sps-attachment.pdf"
    doc.parent.mkdir(exist_ok=True)
    shutil.copy(ASSETS / "samples" / "sps-attachment.pdf", doc)
    return doc


def issue_args(base: list[str], doc: Path, pki: Path, out: Path, *chain: Path) -> list[str]:
    return [
        *base, "issue", str(doc), "--doc-type", "phytosanitary-certificate",
        "--signer-key", str(pki / "signer-key.pem"), "--signer-cert", str(pki / "signer.pem"),
        *[a for c in chain for a in ("--chain-cert", str(c))], "--account", f"dev:{AGENCY}", "--out", str(out),
    ]  # fmt: skip


# ================================================================ 1. pki init


def test_pki_init_never_overwrites_keys_without_force_and_writes_them_0600(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = tmp_path / "pki" / "SG"
    old_umask = os.umask(0)  # even with a permissive umask, a key is for its owner only
    try:
        code, out, err = run(["pki", "init", "SG", "--out", str(pki)], capsys)
    finally:
        os.umask(old_umask)
    assert code == 0, err
    for name in SECRETS:
        assert stat.S_IMODE((pki / name).stat().st_mode) == 0o600, name
    before = {p.name: p.read_bytes() for p in pki.iterdir()}

    code, out, err = run(["pki", "init", "SG", "--out", str(pki)], capsys)
    assert code == 3 and out == ""
    line = one_line(err)
    assert line.startswith(f"error: {pki / 'root-ca.pem'} already exists")
    assert "(and 6 other files of a PKI)" in line and "--force" in line
    assert {p.name: p.read_bytes() for p in pki.iterdir()} == before

    # One key left behind is enough to refuse, and the message names it.
    for p in pki.iterdir():
        if p.name != "signer-key.pem":
            p.unlink()
    code, out, err = run(["pki", "init", "SG", "--out", str(pki)], capsys)
    assert code == 3
    assert one_line(err).startswith(f"error: {pki / 'signer-key.pem'} already exists: refusing to overwrite")
    assert (pki / "signer-key.pem").read_bytes() == before["signer-key.pem"]
    assert sorted(p.name for p in pki.iterdir()) == ["signer-key.pem"]

    # --force replaces them, and a key file someone made readable to others is 0600 again.
    assert run(["pki", "init", "SG", "--out", str(pki)], capsys)[0] == 3
    (pki / "signer-key.pem").chmod(0o644)
    code, out, err = run(["pki", "init", "SG", "--out", str(pki), "--force"], capsys)
    assert code == 0, err
    assert (pki / "signer-key.pem").read_bytes() != before["signer-key.pem"]
    for name in SECRETS:
        assert stat.S_IMODE((pki / name).stat().st_mode) == 0o600, name
    assert not [p for p in pki.iterdir() if p.name.startswith(".")]  # no temporary file left


# ================================================================ 2. issue


def test_issue_refuses_a_signer_chain_without_the_registered_ca_and_sends_nothing(
    base: list[str], agency: Path, tmp_path: Path, anvil_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    doc, out_dir = sample(tmp_path), tmp_path / "bundles"
    rogue = tmp_path / "rogue"  # another PKI in SG's name whose CA nobody registered
    assert run(["pki", "init", "SG", "--out", str(rogue)], capsys)[0] == 0
    sent = nonce(anvil_url, AGENCY)
    for chain, signer_pki in (
        ((), agency),  # no --chain-cert at all
        ((agency / "issuing-ca.pem",), agency),  # the issuing CA, but not the registered root
        ((rogue / "issuing-ca.pem", rogue / "root-ca.pem"), rogue),  # a complete chain to another CA
    ):
        code, out, err = run(issue_args(base, doc, signer_pki, out_dir, *chain), capsys)
        assert code == 3 and out == "", err
        line = one_line(err)
        assert line.startswith("error: the signer's certificates do not include the CA that issuer account")
        assert "SG's registered CA 0x" in line and "CA_NOT_REGISTERED" in line
        assert line.rstrip().endswith("(give it with --chain-cert)")
        assert nonce(anvil_url, AGENCY) == sent  # no transaction was sent
        assert not list(out_dir.glob("*.bundle.json"))

    # The complete chain anchors, in one transaction, and says so in words that agree.
    code, out, err = run(
        issue_args(base, doc, agency, out_dir, agency / "issuing-ca.pem", agency / "root-ca.pem"), capsys
    )
    assert code == 0, err
    assert out.startswith("anchored 1 document in 1 batch, 1 transaction, ")
    assert nonce(anvil_url, AGENCY) == sent + 1
    bundle = out_dir / "sps-attachment.pdf.bundle.json"
    code, out, err = run([*base, "verify", str(doc), "--bundle", str(bundle), "--as", "SG", "--json"], capsys)
    assert code == 0 and json.loads(out)["verdict"] == "VALID", out


def test_issuer_refuses_a_chain_that_is_invalid_at_the_chain_time(world: World, tmp_path: Path) -> None:
    """The library's DocumentIssuer with check_chain (what the CLI uses): a signing certificate that had
    expired by the chain's time is refused before anything is signed; the time is the chain's, not ours."""
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    paths = init_pki("SG", tmp_path / "pki", valid_from=start, days=36500, ca_days=36500)
    ca, _ = world.reg.trust.register_ca(world.sg, read_ca_certificate(paths.root_ca), ALL_TYPES_MASK)
    account = world.account(5)
    world.reg.trust.authorize_issuer(world.sg, account.address, ca, ALL_TYPES_MASK)
    issuing, issuing_key = load_ca(paths.issuing_ca, paths.issuing_ca_key)
    key = generate_key("ec-p256")
    now = dt.datetime.fromtimestamp(world.now(), dt.UTC)
    cert = issue_signer(
        "SG", key.public_key(), issuing, issuing_key, valid_from=now - dt.timedelta(days=30),
        not_after=now - dt.timedelta(days=1),
    )  # fmt: skip
    expired = Signer(
        key, [cert, issuing, read_ca_certificate(paths.root_ca).certificate], check_validity=False
    )
    issuer = DocumentIssuer(world.reg, account, expired, check_chain=True)
    before = world.chain.w3.eth.get_transaction_count(account.address)
    doc = DocumentInput("d.json", digest_bytes(b'{"n": 1}', "application/json"))
    with pytest.raises(SignerChainError, match="signing certificate had expired at") as info:
        issuer.issue([doc], "cites-permit")
    assert not info.value.missing_ca and "at the chain's time" in str(info.value)
    assert world.chain.w3.eth.get_transaction_count(account.address) == before
    good = Signer.from_pem(paths.signer_key, paths.signer_cert, [paths.issuing_ca, paths.root_ca])
    assert DocumentIssuer(world.reg, account, good, check_chain=True).check_signer_chain() == ca


# ================================================================ 3. parties that are not members


def test_verify_as_a_party_that_is_not_a_member_is_a_usage_error(
    base: list[str], agency: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc, out_dir = sample(tmp_path), tmp_path / "bundles"
    args = issue_args(base, doc, agency, out_dir, agency / "issuing-ca.pem", agency / "root-ca.pem")
    assert run(args, capsys)[0] == 0
    bundle = out_dir / "sps-attachment.pdf.bundle.json"
    for party in ("XX", "Thailand"):
        for extra in ((), ("--json",)):
            code, out, err = run(
                [*base, "verify", str(doc), "--bundle", str(bundle), "--as", party, *extra], capsys
            )
            assert code == 64 and out == ""
            assert usage_error(err) == (
                f"Error: Invalid value for '--as': {party} is not a member party of the registry "
                "(members: SG, TH)"
            )
    code, out, err = run([*base, "verify", str(doc), "--bundle", str(bundle), "--as", "sg"], capsys)
    assert code == 0 and out.startswith("VALID"), out
    # A member that does not recognize SG still gets its verdict: that is a decision, not a typo.
    code, out, err = run([*base, "verify", str(doc), "--bundle", str(bundle), "--as", "TH", "--json"], capsys)
    assert code == 1 and json.loads(out)["verdict"] == "INVALID"


def test_apikey_for_a_party_that_is_not_a_member_is_refused(
    base: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([*base, "apikey", "create", "--role", "verifier", "--party", "XX"], capsys)
    assert code == 64 and out == ""
    assert usage_error(err) == (
        "Error: Invalid value for '--party': XX is not a member party of the registry (members: SG, TH)"
    )
    code, out, err = run([*base, "apikey", "list", "--json"], capsys)
    assert code == 0 and json.loads(out)["keys"] == []  # nothing was created

    # Without a chain to ask, it says so, and creates nothing.
    dead = write_chain_config(tmp_path / "dead.toml", f"http://127.0.0.1:{free_port()}")
    dead_base = ["--config", str(dead), *base[2:]]
    code, out, err = run([*dead_base, "apikey", "create", "--role", "verifier", "--party", "TH"], capsys)
    assert code == 3 and out == ""
    line = one_line(err)
    assert line.startswith("error: cannot check that TH is a member party, so no key is created: ")
    assert "no chain answers at http://127.0.0.1:" in line
    code, out, err = run([*base, "apikey", "list", "--json"], capsys)
    assert json.loads(out)["keys"] == []

    # A member gets its key, with the right article.
    code, out, err = run([*base, "apikey", "create", "--role", "auditor", "--party", "th"], capsys)
    assert code == 0, err
    assert out.startswith("created an auditor key ") and " for TH; store it now" in out


# ================================================================ 4. wording


def test_ca_list_prints_document_types_whole_when_not_on_a_terminal(
    base: list[str], agency: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([*base, "ca", "list"], capsys)
    assert code == 0, err
    assert not sys.stdout.isatty()
    whole = ", ".join(ALL_TYPES.split(","))
    rows = [line for line in out.splitlines() if whole in line]
    assert len(rows) == 1 and "SG" in rows[0] and "active" in rows[0], out


# ================================================================ 5. ./dev


def _fake_tools(tmp_path: Path, good: str | None) -> dict[str, str]:
    """A copy of ./dev with stand-ins for node and npm, and pyenv-like shims for every Python it probes:
    `good` (if any) answers like a usable interpreter, the others like uninstalled pyenv versions."""
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copy(REPO / "dev", work / "dev")
    for name in ("package.json", "package-lock.json", "pyproject.toml"):
        (work / name).write_text("{}\n")
    fake = tmp_path / "bin"
    fake.mkdir()
    scripts = {"node": "exit 0", "npm": "exit 0"}
    for py in ("python3.13", "python3.12", "python3.11", "python3"):
        scripts[py] = f'echo "pyenv: {py}: command not found" >&2\nexit 127'
    if good:
        # A usable interpreter: passes the version probe; asked to make the venv, it stops the script.
        scripts[good] = 'if [ "$1" = -c ]; then exit 0; fi\necho "venv by $0 $*"\nexit 42'
    for name, body in scripts.items():
        path = fake / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return {"PATH": f"{fake}:/usr/bin:/bin", "HOME": str(tmp_path), "DEV": str(work / "dev")}


def _run_dev(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run(
        [bash, env["DEV"], "setup"], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_dev_probes_interpreters_quietly(tmp_path: Path) -> None:
    result = _run_dev(_fake_tools(tmp_path, good="python3.11"))
    assert "pyenv:" not in result.stderr, result.stderr
    assert result.returncode == 42, result.stdout + result.stderr
    assert "==> creating .venv/" in result.stdout
    assert "python3.11 -m venv .venv" in result.stdout  # the first usable interpreter was chosen


def test_dev_says_so_when_no_interpreter_will_do(tmp_path: Path) -> None:
    result = _run_dev(_fake_tools(tmp_path, good=None))
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr == "error: Python >= 3.11 is required\n"
