"""The service's offline pieces: it publishes the trust pack and status proofs of its documents; and with
`offline` it verifies from the pack alone, with no node at all (the chain URL points nowhere)."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from anchor.accounts import dev_account
from anchor.audit.source import AuditSource
from anchor.bundle import Bundle
from anchor.chain import connect
from anchor.checkpoint.note import SignedCheckpoint, cosign
from anchor.checkpoint.pack import Pins, TrustPack
from anchor.checkpoint.state import Checkpointer
from anchor.config import ChainConfig
from anchor.registry import Registries
from api import create_app
from api.auth import Role
from tests.api_helpers import MNEMONIC, ApiEnv, TestClient, b64, make_env, permit
from tests.browser_helpers import CHROMEDRIVER, CHROMIUM, chromium, served
from tests.test_api_page import wait_for
from tests.test_page_verdicts import ARTIFACTS, fact, verify


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("api-offline"), anvil_url)


@pytest.fixture(scope="module")
def issued(env: ApiEnv) -> Iterator[tuple[TestClient, dict[str, object], bytes]]:
    """A document issued by SG through the service, and a trust pack witnessed by SG and TH after it."""
    with TestClient(create_app(env.settings())) as client:
        doc = permit(900)
        r = client.post(
            "/v1/documents?wait=20",
            json={"documentType": "cites-permit", "documents": [{"name": "p.json", "content": b64(doc)}]},
            headers=env.headers(Role.ISSUER, "SG"),
        )
        assert r.status_code == 200, r.text
        view = r.json()["documents"][0]
        assert view["state"] == "anchored", view
        chain = connect(ChainConfig(backend="rpc", rpc_url=env.url, mnemonic=MNEMONIC))
        reg = Registries.open(chain, env.manifest)
        witnesses = {"SG": dev_account(MNEMONIC, 11), "TH": dev_account(MNEMONIC, 12)}
        reg.trust.grant_witness(dev_account(MNEMONIC, 1), witnesses["SG"].address)
        reg.trust.grant_witness(dev_account(MNEMONIC, 2), witnesses["TH"].address)
        source = AuditSource.from_chain(chain, env.manifest)
        checkpointer = Checkpointer(source)
        cp = checkpointer.advance(source.head())
        signed = SignedCheckpoint(cp, tuple(cosign(cp, p, bytes(w.key)) for p, w in witnesses.items()))
        offline = env.home / "offline"
        offline.mkdir(parents=True, exist_ok=True)
        (offline / "trust-pack.json").write_text(TrustPack(signed, checkpointer.trust).to_json())
        Pins.of(checkpointer.snapshot, cp, accepted=False).save(offline / "pins.json")
        yield client, view, doc


def test_the_trust_pack_and_a_status_proof(
    issued: tuple[TestClient, dict[str, object], bytes], env: ApiEnv
) -> None:
    client, view, doc = issued
    r = client.get("/v1/trust-pack", headers=env.headers(Role.VERIFIER, "TH"))
    assert r.status_code == 200, r.text
    assert r.content == (env.home / "offline" / "trust-pack.json").read_bytes()
    pack = TrustPack.from_json(r.content)
    r = client.get(f"/v1/documents/{view['id']}/status-proof", headers=env.headers(Role.ISSUER, "SG"))
    assert r.status_code == 200, r.text
    status = r.json()
    assert status["checkpoint"]["events"] == pack.checkpoint.size
    assert status["entries"]["batches"]["value"] is not None  # anchored
    assert status["entries"]["documents"]["value"] is None  # never revoked or superseded
    # Another party's issuer key does not get SG's document.
    assert client.get(
        f"/v1/documents/{view['id']}/status-proof", headers=env.headers(Role.ISSUER, "TH")
    ).status_code in (403, 404)


def test_no_trust_pack_published(env: ApiEnv, tmp_path: Path) -> None:
    with TestClient(create_app(env.settings(trust_pack=tmp_path / "none.json"))) as client:
        r = client.get("/v1/trust-pack", headers=env.headers(Role.VERIFIER, "TH"))
    assert r.status_code == 404
    assert r.json()["code"] == "NO_TRUST_PACK"


def test_serving_offline_with_no_node(
    issued: tuple[TestClient, dict[str, object], bytes], env: ApiEnv
) -> None:
    client, view, doc = issued
    r = client.get(f"/v1/documents/{view['id']}/status-proof", headers=env.headers(Role.ISSUER, "SG"))
    bundle = Bundle.from_json(json.dumps(view["bundle"])).model_copy(update={"status": r.json()})
    nowhere = env.tmp / "nowhere.toml"
    nowhere.write_text(env.chain_config.read_text().replace(env.url, "http://127.0.0.1:9"))
    settings = env.settings(chain_config=nowhere, offline=True, offline_max_age_seconds=10**9)
    with TestClient(create_app(settings)) as offline:
        ready = offline.get("/v1/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["trustPack"]["code"] == "WITNESSED"
        r = offline.post(
            "/v1/verify",
            json={
                "document": base64.b64encode(doc).decode(),
                "bundle": json.loads(bundle.to_json()),
                "verifyingParty": "TH",
            },
            headers=env.headers(Role.VERIFIER, "TH"),
        )
        assert r.status_code == 200, r.text
        verdict = r.json()
        assert verdict["verdict"] == "VALID", verdict
        pack = TrustPack.from_json((env.home / "offline" / "trust-pack.json").read_bytes())
        assert verdict["details"]["asOf"]["events"] == pack.checkpoint.size
        assert verdict["details"]["asOf"]["witnesses"] == ["SG", "TH"]
        # Without its status proof the document cannot be judged offline.
        bare = json.loads(bundle.to_json())
        del bare["status"]
        r = offline.post(
            "/v1/verify",
            json={"document": base64.b64encode(doc).decode(), "bundle": bare, "verifyingParty": "TH"},
            headers=env.headers(Role.VERIFIER, "TH"),
        )
        assert r.json()["verdict"] == "INDETERMINATE"
        assert "NO_STATUS_PROOF" in {c["code"] for c in r.json()["checks"]}


def test_serving_offline_with_a_stale_pack_is_not_ready(
    issued: tuple[TestClient, dict[str, object], bytes], env: ApiEnv
) -> None:
    nowhere = env.tmp / "nowhere.toml"
    nowhere.write_text(env.chain_config.read_text().replace(env.url, "http://127.0.0.1:9"))
    settings = env.settings(chain_config=nowhere, offline=True, offline_max_age_seconds=3600)
    pack = TrustPack.from_json((env.home / "offline" / "trust-pack.json").read_bytes())
    app = create_app(settings)
    verification = app.state.services.verification
    # The service's clock, injected: two hours after the checkpoint.
    verification.offline = dataclasses.replace(
        verification.offline, clock=lambda: pack.checkpoint.block_time + 7200
    )
    with TestClient(app) as offline:
        ready = offline.get("/v1/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["trustPack"]["code"] == "STALE_CHECKPOINT"


@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="browser test needs Debian chromium and chromium-driver",
)
def test_the_page_offline_says_as_of_when(
    issued: tuple[TestClient, dict[str, object], bytes], env: ApiEnv, tmp_path: Path
) -> None:
    """A border post's laptop, no node: the page says it is offline, with the pack's age, and each verdict
    says as of which checkpoint time it holds and who witnessed it."""
    from selenium.webdriver.common.by import By

    client, view, doc = issued
    r = client.get(f"/v1/documents/{view['id']}/status-proof", headers=env.headers(Role.ISSUER, "SG"))
    bundle = Bundle.from_json(json.dumps(view["bundle"])).model_copy(update={"status": r.json()})
    (tmp_path / "permit.json").write_bytes(doc)
    (tmp_path / "permit.json.bundle.json").write_text(bundle.to_json())
    nowhere = env.tmp / "nowhere.toml"
    nowhere.write_text(env.chain_config.read_text().replace(env.url, "http://127.0.0.1:9"))
    app = create_app(env.settings(chain_config=nowhere, offline=True, offline_max_age_seconds=10**9))
    with served(app) as url, chromium("1100,2000") as page:
        page.get(url + "/")
        wait_for(page, lambda d: "Offline" in d.find_element(By.ID, "chain-status").text)
        assert "trust pack of" in page.find_element(By.ID, "chain-status").text
        page.find_element(By.ID, "key-summary").click()
        page.find_element(By.ID, "api-key").send_keys(env.key(Role.VERIFIER, "TH"))
        page.find_element(By.ID, "save-key").click()
        assert verify(page, tmp_path / "permit.json", tmp_path / "permit.json.bundle.json") == "VALID"
        checked = fact(page, "checked")
        assert "offline trust pack" in checked and "witnessed by SG, TH" in checked, checked
        ARTIFACTS.mkdir(exist_ok=True)
        page.find_element(By.ID, "result").screenshot(str(ARTIFACTS / "verdict-offline.png"))


def test_a_refreshed_bundle_matches_the_published_schema(
    issued: tuple[TestClient, dict[str, object], bytes], env: ApiEnv
) -> None:
    import jsonschema

    client, view, _ = issued
    r = client.get(f"/v1/documents/{view['id']}/status-proof", headers=env.headers(Role.ISSUER, "SG"))
    bundle = Bundle.from_json(json.dumps(view["bundle"])).model_copy(update={"status": r.json()})
    schema = json.loads((Path(__file__).parent.parent / "anchor" / "schemas" / "bundle-v2.json").read_text())
    jsonschema.validate(json.loads(bundle.to_json()), schema)
    assert "status" not in json.loads(
        Bundle.from_json(json.dumps(view["bundle"])).to_json()
    )  # absent, not null
