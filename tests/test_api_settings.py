"""The service's settings: the TOML file (top level or [service]), its relative paths, the environment and
overrides in their order of precedence, and a one-line error for every bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from anchor.errors import ConfigError
from api.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("TRUSTANCHOR_API_"):
            monkeypatch.delenv(name)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_file_keys_and_relative_paths(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "conf" / "service.toml",
        'batch_max_documents = 7\nca_dir = "cas"\n[service]\nport = 9001\n'
        '[[parties]]\nparty = "sg"\nissuer_account = "keys/agency.hex"\nsigner_key = "pki/k.pem"\n'
        'signer_cert = "/abs/c.pem"\nchain_certs = ["pki/ca.pem"]\n'
        '[[parties]]\nparty = "TH"\nconsumer_account = "dev:7"\n',
    )
    s = load_settings(config)
    base = config.parent.resolve()
    assert (s.batch_max_documents, s.port, s.ca_dir, s.config) == (7, 9001, base / "cas", config)
    sg, th = s.parties
    assert sg.party == "SG" and sg.issuer_account == str(base / "keys/agency.hex")
    assert (sg.signer_key, sg.signer_cert, sg.chain_certs) == (
        base / "pki/k.pem",
        Path("/abs/c.pem"),
        [base / "pki/ca.pem"],
    )
    assert th.consumer_account == "dev:7"


def test_precedence_override_env_file_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _write(tmp_path / "service.toml", "port = 9001\nworkers = 3\nbatch_max_wait_ms = 7\n")
    monkeypatch.setenv("TRUSTANCHOR_API_CONFIG", str(config))
    monkeypatch.setenv("TRUSTANCHOR_API_WORKERS", "4")
    monkeypatch.setenv("TRUSTANCHOR_API_BATCH_MAX_WAIT_MS", "9")
    s = load_settings(batch_max_wait_ms=11)
    assert (s.batch_max_wait_ms, s.workers, s.port, s.backlog_limit) == (11, 4, 9001, 200_000)


def test_an_argument_names_another_file_than_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTANCHOR_API_CONFIG", str(_write(tmp_path / "a.toml", "port = 1\n")))
    assert load_settings(_write(tmp_path / "b.toml", "port = 2\n")).port == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "service config file not found: "),
        ("port = \n", "invalid TOML"),
        ("prot = 80\n", "service settings: prot: Extra inputs are not permitted"),
        ("port = 70000\n", "service settings: port: Input should be less than or equal to 65535"),
        ('[[parties]]\nparty = "S G"\n', "party id 'S G' must be"),
    ],
)
def test_a_bad_file_is_one_line(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "service.toml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")) as e:
        load_settings(path)
    assert "\n" not in str(e.value)
