"""The first week with the agency service (issue #12): settings that could never work make the service
report not ready, with the reason, instead of starting and answering ready.

* a party in service.toml that is not a member of the registry (a typo: party = "XX");
* an issuing party whose document signer does not chain up to the CA its issuer account is bound to
  on chain (the registered root left out of chain_certs, or another PKI's signer): every bundle the
  service wrote would be rejected by every verifier.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from anchor.pki import init_pki
from api import create_app
from api.settings import load_settings
from tests.api_helpers import ApiEnv, TestClient, make_env


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("first-week"), anvil_url)


def readiness(env: ApiEnv, config_text: str, home: Path) -> tuple[int, dict[str, Any]]:
    """GET /v1/health/ready of a service started with `config_text` as its service.toml (written next
    to the test environment's, so that its relative paths resolve the same way)."""
    config = env.service_config.parent / f"service-{home.name}.toml"
    config.write_text(config_text)
    settings = load_settings(
        config, home=home, chain_config=env.chain_config, manifest=env.home / "deployments" / "t.json"
    )
    with TestClient(create_app(settings)) as c:
        r = c.get("/v1/health/ready")
    return r.status_code, r.json()


def test_a_party_that_is_not_a_member_makes_the_service_not_ready(env: ApiEnv, tmp_path: Path) -> None:
    text = env.service_config.read_text() + '[[parties]]\nparty = "XX"\n'
    status, body = readiness(env, text, tmp_path / "xx")
    assert status == 503 and body["ready"] is False
    parties = body["checks"]["parties"]
    assert parties["ok"] is False and parties["unknown"] == ["XX"]
    assert parties["detail"] == (
        "the service settings name XX, which is not a member party of the registry (members: SG, TH, MY)"
    )


@pytest.mark.parametrize("mistake", ["root-left-out", "another-pki"])
def test_a_signer_that_does_not_chain_to_its_issuers_ca_makes_the_service_not_ready(
    env: ApiEnv, tmp_path: Path, mistake: str
) -> None:
    text = env.service_config.read_text()
    if mistake == "root-left-out":
        bad = text.replace(
            'chain_certs = ["pki-sg/issuing-ca.pem", "pki-sg/root-ca.pem"]',
            'chain_certs = ["pki-sg/issuing-ca.pem"]',
        )
    else:
        init_pki("SG", env.service_config.parent / "pki-sg-other")
        bad = text.replace('"pki-sg/', '"pki-sg-other/')
    assert bad != text
    status, body = readiness(env, bad, tmp_path / mistake)
    assert status == 503 and body["ready"] is False
    chains = body["checks"]["chains"]
    assert chains["ok"] is False
    rows = {r["party"]: r for r in chains["parties"]}
    assert rows["TH"]["ok"] is True and rows["SG"]["ok"] is False
    assert chains["detail"].startswith(
        "SG: the signer's certificates do not include the CA that issuer account "
    )
    assert "SG's registered CA 0x" in chains["detail"] and "CA_NOT_REGISTERED" in chains["detail"]
    # Everything else about these settings is fine: the chains check alone says what is wrong.
    assert body["checks"]["parties"]["ok"] and body["checks"]["roles"]["ok"]


def test_the_test_environment_passes_both_checks(env: ApiEnv, tmp_path: Path) -> None:
    status, body = readiness(env, env.service_config.read_text(), tmp_path / "good")
    checks = body["checks"]
    assert checks["parties"] == {
        "ok": True,
        "parties": ["SG", "TH"],
        "unknown": [],
        "detail": "every configured party is a member of the registry",
    }
    assert checks["chains"]["ok"] is True, checks["chains"]
    assert {r["party"] for r in checks["chains"]["parties"]} == {"SG", "TH"}
    assert checks["chains"]["detail"].startswith("every signer's certificate chain leads to its issuer")
