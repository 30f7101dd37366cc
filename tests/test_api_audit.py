"""/v1/audit through the service, against a real anvil: the auditor's questions give the same answers
as the library asked directly, bad questions get a 422 naming the parameter, and only auditors may ask."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchor.accounts import dev_account
from anchor.audit import Auditor, AuditSource
from anchor.chain import connect
from anchor.config import ChainConfig
from anchor.doctypes import mask_of
from anchor.pki import init_pki
from anchor.registry import Registries
from api import create_app
from api.audits import AuditService
from api.auth import Role
from api.ledger import ChainGateway
from api.problems import ApiError
from tests.api_helpers import ApiEnv, TestClient, make_env, permit, register_root_ca, submission
from tests.conftest import MNEMONIC, advance_time, free_port


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("api-audit"), anvil_url)


@pytest.fixture(scope="module")
def client(env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(create_app(env.settings())) as c:
        yield c


@pytest.fixture(scope="module")
def history(env: ApiEnv, client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """SG anchors a permit; later MY registers a CA, recognizes SG, and revokes the CA again."""
    r = client.post(
        "/v1/documents?wait=10", json=submission([permit(1)]), headers=env.headers(Role.ISSUER, "SG")
    )
    assert r.json()["documents"][0]["state"] == "anchored", r.text
    chain = connect(ChainConfig(backend="rpc", rpc_url=env.url, mnemonic=MNEMONIC))
    reg = Registries.open(chain, env.manifest)
    advance_time(chain, 60)
    before = chain.block_number()
    my = dev_account(MNEMONIC, 3)
    fp = register_root_ca(
        reg.trust, my, init_pki("MY", tmp_path_factory.mktemp("pki-my")), mask_of(["cites-permit"])
    )
    reg.trust.recognize(my, "SG", mask_of(["cites-permit"]))
    reg.trust.revoke_ca(my, fp, 0, 1)
    advance_time(chain, 60)  # one more block: the service reads one block below the head
    return {"before": before, "after": chain.block_number() - 1, "fingerprint": "0x" + fp.hex()}


def _auditor(env: ApiEnv) -> Auditor:
    return Auditor(AuditSource.connect(env.url, env.manifest), None, 1)


def get(client: TestClient, env: ApiEnv, path: str, role: Role = Role.AUDITOR) -> Any:
    r = client.get(path, headers=env.headers(role, "MY"))
    assert r.status_code == 200, r.text
    return r


@pytest.mark.devchain("evm_increaseTime: the module's registry history")
def test_replay_and_check_agree_with_the_library(
    client: TestClient, env: ApiEnv, history: dict[str, Any]
) -> None:
    replayed = get(client, env, "/v1/audit/replay").json()
    assert replayed["block"] == history["after"]
    checked = get(client, env, f"/v1/audit/check?block={history['after']}").json()
    direct = _auditor(env).check(history["after"], save=False).to_dict()
    assert checked["digest"] == replayed["digest"] == direct["digest"]
    timing = ("seconds",)
    assert {k: v for k, v in checked["consistency"].items() if k not in timing} == {
        k: v for k, v in direct["consistency"].items() if k not in timing
    }
    assert checked["consistency"]["ok"] is True and checked["consistency"]["mismatches"] == []
    assert checked["findings"] == direct["findings"]
    # Every CA was registered with a proof of possession made by its key: nothing to report about them.
    assert not [f for f in checked["findings"] if f["kind"].startswith("ca-")]


@pytest.mark.devchain("evm_increaseTime: the module's registry history")
def test_state_at_a_block_and_at_a_time(client: TestClient, env: ApiEnv, history: dict[str, Any]) -> None:
    before = get(client, env, f"/v1/audit/state?block={history['before']}").json()
    assert [p["party"] for p in before["parties"]] == ["SG", "TH", "MY"]
    assert history["fingerprint"] not in [c["fingerprint"] for c in before["cas"]]
    after = get(client, env, "/v1/audit/state?block=latest").json()
    mine = [c for c in after["cas"] if c["fingerprint"] == history["fingerprint"]]
    assert len(mine) == 1 and mine[0]["status"] == "revoked"
    # A second before that block: the state of the last block mined by then, without MY's CA.
    at_time = get(client, env, f"/v1/audit/state?at={before['knownAtBlockTime'] - 1}").json()
    assert at_time["block"] < history["before"]
    assert history["fingerprint"] not in [c["fingerprint"] for c in at_time["cas"]]


@pytest.mark.devchain("evm_increaseTime: the module's registry history")
def test_diff_names_what_changed(client: TestClient, env: ApiEnv, history: dict[str, Any]) -> None:
    body = get(client, env, f"/v1/audit/diff?from={history['before']}&to={history['after']}").json()
    assert body["from"]["block"] == history["before"] and body["to"]["block"] == history["after"]
    assert body["events"] >= 3
    added = [x["key"] for x in body["changes"]["cas"]["added"]]
    assert any(history["fingerprint"][2:] in key for key in added)


@pytest.mark.devchain("evm_increaseTime: the module's registry history")
def test_report_page_data_and_tables(client: TestClient, env: ApiEnv, history: dict[str, Any]) -> None:
    block = history["after"]
    page = get(client, env, f"/v1/audit/report?block={block}")
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]  # no scripts allowed at all
    assert page.text.count("<svg") >= 3 and "csv/batches.csv" in page.text
    data = get(client, env, f"/v1/audit/report.json?block={block}").json()
    assert data["block"] == block and data["consistency"]["ok"] is True
    assert data["digest"] == _auditor(env).replay(block).snapshot.digest()
    rows = list(csv.reader(io.StringIO(get(client, env, f"/v1/audit/csv/batches.csv?block={block}").text)))
    assert len(rows) - 1 == len(data["tables"]["batches"]["rows"]) >= 1
    cas = data["tables"]["cas"]
    column = cas["columns"].index("proof of possession")
    assert [r[column] for r in cas["rows"]] == ["valid", "valid", "valid"]
    for table in ("endorsements", "consumer_accounts", "admin_change_requests", "one_time_types"):
        text = get(client, env, f"/v1/audit/csv/{table}.csv?block={block}").text
        assert text.splitlines()[0].split(",") == data["tables"][table]["columns"]
    r = client.get("/v1/audit/csv/nothing.csv", headers=env.headers(Role.AUDITOR, "MY"))
    assert r.status_code == 404 and r.json()["code"] == "NO_SUCH_TABLE"


@pytest.mark.parametrize(
    ("path", "status", "code", "field"),
    [
        ("/v1/audit/state?block=abc", 422, "VALIDATION_FAILED", "query.block"),
        ("/v1/audit/state?block=99999999", 422, "INVALID_BLOCK", "query"),
        ("/v1/audit/state?block=1&at=5", 422, "INVALID_AUDIT_QUERY", "query"),
        ("/v1/audit/state?at=5", 422, "INVALID_BLOCK", "query"),
        ("/v1/audit/state?at=yesterday", 422, "INVALID_TIME", "query.at"),
        ("/v1/audit/diff?from=latest&to=1", 422, "INVALID_AUDIT_QUERY", "query"),
        ("/v1/audit/diff?from=1", 422, "VALIDATION_FAILED", "query.to"),
        ("/v1/audit/check?sample=-1", 422, "VALIDATION_FAILED", "query.sample"),
        ("/v1/audit/replay?block=0", 422, "INVALID_BLOCK", "query.block"),
    ],
)
@pytest.mark.devchain("evm_increaseTime: the module's registry history")
def test_bad_questions(
    client: TestClient, env: ApiEnv, history: dict[str, Any], path: str, status: int, code: str, field: str
) -> None:
    r = client.get(path, headers=env.headers(Role.AUDITOR, "MY"))
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and body["errors"][0]["field"] == field, body


@pytest.mark.parametrize("role", [Role.ISSUER, Role.VERIFIER, Role.REGISTRY_ADMIN])
def test_only_auditors_may_ask(client: TestClient, env: ApiEnv, role: Role) -> None:
    for path in ("/v1/audit/replay", "/v1/audit/check", "/v1/audit/report"):
        r = client.get(path, headers=env.headers(role, "SG"))
        assert r.status_code == 403, (path, r.text)
    assert client.get("/v1/audit/state").status_code == 401


def test_the_openapi_document_lists_the_audit_operations(client: TestClient) -> None:
    paths = json.loads(client.get("/v1/openapi.json").text)["paths"]
    assert {p for p in paths if p.startswith("/v1/audit")} == {
        "/v1/audit/replay",
        "/v1/audit/state",
        "/v1/audit/diff",
        "/v1/audit/check",
        "/v1/audit/report",
        "/v1/audit/report.json",
        "/v1/audit/csv/{table}.csv",
    }


def test_check_and_report_routes_take_the_same_parameters(client: TestClient) -> None:
    paths = json.loads(client.get("/v1/openapi.json").text)["paths"]
    for path in ("/v1/audit/check", "/v1/audit/report", "/v1/audit/report.json", "/v1/audit/csv/{table}.csv"):
        names = {p["name"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"}
        assert names == {"block", "sample", "seed", "window"}, path


@pytest.mark.devchain("evm_increaseTime: the module's registry history")
def test_the_earliest_auditable_block_is_the_one_where_both_registries_exist(
    client: TestClient, env: ApiEnv, history: dict[str, Any]
) -> None:
    m = env.manifest
    first = max(m.trust_registry.block, m.document_registry.block)
    assert m.deploy_block < first  # the document registry is deployed first, one block earlier
    r = client.get(f"/v1/audit/check?block={m.deploy_block}", headers=env.headers(Role.AUDITOR, "MY"))
    assert r.status_code == 422 and r.json()["code"] == "INVALID_BLOCK", r.text
    assert f"(block {first})" in r.json()["detail"]
    body = get(client, env, f"/v1/audit/check?block={first}").json()
    assert body["block"] == first and body["consistency"]["ok"] is True


def test_a_node_that_does_not_answer_is_503_chain_unavailable(env: ApiEnv, tmp_path: Path) -> None:
    dead = ChainConfig(backend="rpc", rpc_url=f"http://127.0.0.1:{free_port()}", mnemonic=MNEMONIC)
    manifest = tmp_path / "manifest.json"
    env.manifest.save(manifest)
    audits = AuditService(ChainGateway(dead, manifest, timeout=1), tmp_path, 1)
    with pytest.raises(ApiError) as e:
        audits.replay(None)
    assert (e.value.status, e.value.code) == (503, "CHAIN_UNAVAILABLE")
