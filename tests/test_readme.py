"""The README's library example runs as written, against a real anvil, and says VALID."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from anchor.accounts import dev_account
from anchor.cacert import read_ca_certificate
from anchor.chain import connect
from anchor.config import ChainConfig, load_config
from anchor.deploy import deploy
from anchor.doctypes import mask_of
from anchor.pki import init_pki
from anchor.registry import Registries
from tests.conftest import MNEMONIC

README = Path(__file__).resolve().parent.parent / "README.md"


def _section_code(title: str) -> list[str]:
    text = README.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start : end if end > 0 else None], flags=re.S)


def test_the_library_example_issues_and_verifies(
    tmp_path: Path, anvil_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = _section_code("Using the library")
    assert len(blocks) == 2
    # What the example assumes: a chain config, a deployment, SG's PKI with its CA registered and
    # dev:5 authorized under it, TH recognizing SG for permits, and permits on disk.
    config_file = tmp_path / "chain.toml"
    config_file.write_text(
        f'[chain]\nname = "readme"\nbackend = "rpc"\nrpc_url = "{anvil_url}"\nmnemonic = "{MNEMONIC}"\n'
    )
    monkeypatch.setenv("TRUSTANCHOR_CONFIG", str(config_file))
    monkeypatch.setenv("TRUSTANCHOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TRUSTANCHOR_RPC_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    config = load_config()
    chain = connect(ChainConfig(backend="rpc", rpc_url=anvil_url, mnemonic=MNEMONIC))
    a = [dev_account(MNEMONIC, i) for i in range(6)]
    manifest = deploy(chain, a[0], [("SG", a[1].address), ("TH", a[2].address)], 1, 3600, network="readme")
    manifest.save(config.manifest_path)
    reg = Registries.open(chain, manifest)
    ca = read_ca_certificate(init_pki("SG", tmp_path / "pki" / "SG").root_ca)
    permits = mask_of(["cites-permit"])
    ca_id_, _ = reg.trust.register_ca(a[1], ca, permits)
    reg.trust.authorize_issuer(a[1], a[5].address, ca_id_, permits)
    reg.trust.recognize(a[2], "SG", permits)
    (tmp_path / "permits").mkdir()
    for n in range(3):
        permit = {"permitNumber": f"SG/2026/{n:05d}", "species": "Paphiopedilum spp.", "quantity": n + 1}
        (tmp_path / "permits" / f"permit-{n}.json").write_text(json.dumps(permit))

    out = io.StringIO()
    namespace: dict[str, object] = {}
    with contextlib.redirect_stdout(out):
        for code in blocks:
            exec(compile(code, str(README), "exec"), namespace)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("3 documents in 1 transaction(s)")
    assert lines[1].startswith("VALID (read at block ")
    assert len(lines) == 2 + 9 and all(" VALID " in line for line in lines[2:])
    assert sorted(p.name for p in (tmp_path / "permits").glob("*.bundle.json")) == [
        f"permit-{n}.json.bundle.json" for n in range(3)
    ]
