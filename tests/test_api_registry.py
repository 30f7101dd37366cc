"""Registry reads through the API, now and as of a block or a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from anchor.accounts import dev_account
from anchor.cacert import read_ca_certificate
from anchor.chain import connect
from anchor.config import ChainConfig
from anchor.doctypes import mask_of
from anchor.pki import init_pki
from anchor.registry import Registries
from api import create_app
from api.auth import Role
from tests.api_helpers import ApiEnv, TestClient, make_env
from tests.conftest import MNEMONIC, advance_time


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("api-registry"), anvil_url)


@pytest.fixture(scope="module")
def client(env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(create_app(env.settings())) as c:
        yield c


@pytest.fixture(scope="module")
def history(env: ApiEnv, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """MY registers a CA and recognizes TH; later the CA is revoked and the recognition withdrawn."""
    chain = connect(ChainConfig(backend="rpc", rpc_url=env.url, mnemonic=MNEMONIC))
    reg = Registries.open(chain, env.manifest)
    my = dev_account(MNEMONIC, 3)
    ca = read_ca_certificate(init_pki("MY", tmp_path_factory.mktemp("pki-my")).root_ca)
    ca_fp, _ = reg.trust.register_ca(my, ca, mask_of(["cites-permit"]))
    reg.trust.recognize(my, "TH", mask_of(["certificate-of-origin"]))
    advance_time(chain, 100)
    before_block = chain.block_number()
    before_time = int(chain.block(before_block)["timestamp"])
    advance_time(chain, 100)
    reg.trust.revoke_ca(my, ca_fp, 0, 1)
    reg.trust.unrecognize(my, "TH", mask_of(["certificate-of-origin"]))
    return {"fingerprint": "0x" + ca_fp.hex(), "block": before_block, "time": before_time}


def get(client: TestClient, env: ApiEnv, path: str) -> Any:
    r = client.get(path, headers=env.headers(Role.AUDITOR, "TH"))
    assert r.status_code == 200, r.text
    return r.json()


def test_parties(client: TestClient, env: ApiEnv) -> None:
    body = get(client, env, "/v1/registry/parties")
    assert body["threshold"] == 1 and body["block"] >= env.manifest.deploy_block
    parties = {p["party"]: p for p in body["parties"]}
    assert set(parties) == {"SG", "TH", "MY"} and all(p["member"] for p in parties.values())
    assert parties["SG"]["admins"] == [dev_account(MNEMONIC, 1).address]
    assert parties["SG"]["issuers"] == [dev_account(MNEMONIC, 4).address] and len(parties["SG"]["cas"]) == 1


@pytest.mark.devchain("evm_increaseTime: the module's registry history")
def test_cas_with_history_now_and_then(client: TestClient, env: ApiEnv, history: dict[str, Any]) -> None:
    fp = history["fingerprint"]
    now = {c["fingerprint"]: c for c in get(client, env, "/v1/registry/cas")["cas"]}
    assert now[fp]["status"] == "revoked" and now[fp]["party"] == "MY"
    assert [h["status"] for h in now[fp]["history"]] == ["active", "revoked"]
    assert now[fp]["history"][1]["reason"] == "key-compromise" and now[fp]["documentTypes"] == [
        "cites-permit"
    ]
    then = get(client, env, f"/v1/registry/cas/{fp}?block={history['block']}")
    assert then["block"] == history["block"] and then["ca"]["status"] == "active"
    assert [h["status"] for h in then["ca"]["history"]] == ["active"]
    at = get(client, env, f"/v1/registry/cas/{fp}?at={history['time']}")["ca"]
    assert at["status"] == "active" and len(at["history"]) == 2  # the status then, as recorded now
    only_my = get(client, env, "/v1/registry/cas?party=my")["cas"]
    assert [c["fingerprint"] for c in only_my] == [fp]
    missing = client.get("/v1/registry/cas/" + "00" * 32, headers=env.headers(Role.AUDITOR, "TH"))
    assert missing.status_code == 404 and missing.json()["code"] == "CA_NOT_FOUND"


def test_issuers(client: TestClient, env: ApiEnv) -> None:
    issuers = get(client, env, "/v1/registry/issuers?party=SG")["issuers"]
    assert len(issuers) == 1
    sg = issuers[0]
    assert sg["account"] == dev_account(MNEMONIC, 4).address and sg["status"] == "active"
    assert sg["documentTypes"] == ["all"] and sg["history"][0]["status"] == "active"
    assert len(get(client, env, "/v1/registry/issuers")["issuers"]) == 2


@pytest.mark.devchain("evm_increaseTime: the module's registry history")
def test_recognition_matrix_now_and_then(client: TestClient, env: ApiEnv, history: dict[str, Any]) -> None:
    now = get(client, env, "/v1/registry/recognitions?history=true")
    assert now["matrix"]["TH"] == {"SG": ["all"]} and now["matrix"]["SG"] == {"TH": ["all"]}
    assert now["matrix"]["MY"] == {"SG": ["all"]}
    changes = [h for h in now["history"] if h["recognizer"] == "MY" and h["recognized"] == "TH"]
    assert [h["documentTypes"] for h in changes] == [["certificate-of-origin"], []]
    then = get(client, env, f"/v1/registry/recognitions?at={history['time']}")
    assert then["matrix"]["MY"] == {"SG": ["all"], "TH": ["certificate-of-origin"]}
    at_block = get(client, env, f"/v1/registry/recognitions?block={history['block']}")
    assert (
        at_block["matrix"]["MY"]["TH"] == ["certificate-of-origin"] and at_block["block"] == history["block"]
    )
    iso = get(client, env, "/v1/registry/recognitions?at=2001-01-01T00:00:00Z")
    assert iso["at"] == 978307200 and iso["parties"] == []  # nobody was a member yet


def test_before_deployment_is_refused(client: TestClient, env: ApiEnv) -> None:
    block = env.manifest.trust_registry.block - 1  # the DocumentRegistry is already there, not yet its twin
    r = client.get(f"/v1/registry/parties?block={block}", headers=env.headers(Role.AUDITOR, "TH"))
    assert r.status_code == 422 and r.json()["code"] == "BLOCK_BEFORE_DEPLOYMENT"
