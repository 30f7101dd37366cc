"""Verifying through the API: verdicts with every check (as `trustanchor verify --json`), upload, the
ASGI fast path against the FastAPI route, strict bundle parsing, and one-time consumption."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchor.cli.main import main
from anchor.verify import CHECK_NAMES
from api import create_app
from api.auth import Role
from tests.api_helpers import ApiEnv, TestClient, b64, make_env, permit, submission


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("api-verify"), anvil_url)


@pytest.fixture(scope="module")
def client(env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(create_app(env.settings())) as c:
        yield c


@pytest.fixture(scope="module")
def issued(client: TestClient, env: ApiEnv) -> list[tuple[bytes, dict[str, Any]]]:
    docs = [permit(i, purpose="verify") for i in range(4)]
    r = client.post("/v1/documents?wait=10", json=submission(docs), headers=env.headers(Role.ISSUER, "SG"))
    views = r.json()["documents"]
    assert {v["state"] for v in views} == {"anchored"}
    return [(d, v["bundle"]) for d, v in zip(docs, views, strict=True)]


def verify(client: TestClient, env: ApiEnv, body: Any, party: str = "TH", **kw: Any) -> Any:
    return client.post("/v1/verify", json=body, headers=env.headers(Role.VERIFIER, party), **kw)


def test_valid_document_has_every_check(client: TestClient, env: ApiEnv, issued: list[Any]) -> None:
    doc, bundle = issued[0]
    r = verify(client, env, {"document": b64(doc), "bundle": bundle})
    assert r.status_code == 200
    v = r.json()
    assert v["verdict"] == "VALID" and v["verifyingParty"] == "TH" and v["document"] == "permit-0.json"
    assert [c["name"] for c in v["checks"]] == list(CHECK_NAMES)
    assert all(c["status"] == "VALID" and c["code"] and c["message"] for c in v["checks"])
    assert v["chain"]["chainId"] == env.manifest.chain_id and v["chain"]["readAtBlock"] >= 1
    assert v["anchoredAt"] == bundle["anchor"]["blockTime"]


def test_same_structure_as_the_cli(
    client: TestClient, env: ApiEnv, issued: list[Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc, bundle = issued[1]
    (tmp_path / "d.json").write_bytes(doc)
    (tmp_path / "b.json").write_text(json.dumps(bundle))
    with pytest.raises(SystemExit):
        main(
            ["--config", str(env.chain_config), "--home", str(env.home), "verify", str(tmp_path / "d.json"),
             "--bundle", str(tmp_path / "b.json"), "--as", "TH", "--json"]
        )  # fmt: skip
    cli = json.loads(capsys.readouterr().out)
    api = verify(client, env, {"document": b64(doc), "bundle": bundle}).json()
    assert api.keys() == cli.keys()
    assert [(c["name"], c["status"], c["code"]) for c in api["checks"]] == [
        (c["name"], c["status"], c["code"]) for c in cli["checks"]
    ]


def test_tampered_document_is_invalid(client: TestClient, env: ApiEnv, issued: list[Any]) -> None:
    doc, bundle = issued[0]
    tampered = doc.replace(b'"quantity": 10', b'"quantity": 90')
    v = verify(client, env, {"document": b64(tampered), "bundle": bundle}).json()
    assert v["verdict"] == "INVALID"
    assert tampered != doc and v["checks"][0]["code"] == "DIGEST_MISMATCH"


def test_unrecognizing_party_gets_invalid(client: TestClient, env: ApiEnv) -> None:
    # MY recognizes SG but not TH
    th_doc = permit(99, issuer="TH")
    r = client.post(
        "/v1/documents?wait=10", json=submission([th_doc]), headers=env.headers(Role.ISSUER, "TH")
    )
    th_bundle = r.json()["documents"][0]["bundle"]
    v = verify(
        client, env, {"document": b64(th_doc), "bundle": th_bundle, "verifyingParty": "MY"}, party="MY"
    )
    assert v.json()["verdict"] == "INVALID"
    recognition = next(c for c in v.json()["checks"] if c["name"] == "recognition")
    assert recognition["code"] == "NOT_RECOGNIZED"


def test_upload_form(client: TestClient, env: ApiEnv, issued: list[Any]) -> None:
    doc, bundle = issued[2]
    files = {
        "document": ("permit.json", doc, "application/json"),
        "bundle": ("permit.json.bundle.json", json.dumps(bundle).encode(), "application/json"),
    }
    r = client.post(
        "/v1/verify/upload",
        files=files,
        data={"verifyingParty": "TH"},
        headers=env.headers(Role.VERIFIER, "TH"),
    )
    assert r.status_code == 200 and r.json()["verdict"] == "VALID"
    r = client.post(
        "/v1/verify/upload", files={"document": files["document"]}, headers=env.headers(Role.VERIFIER, "TH")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "bundle"
    bad = {
        **files,
        "bundle": ("b.json", b'{"mediaType": "application/vnd.trustanchor.bundle.v3+json"}', "x/y"),
    }
    r = client.post("/v1/verify/upload", files=bad, headers=env.headers(Role.VERIFIER, "TH"))
    assert r.status_code == 422 and "unsupported bundle version v3" in r.json()["detail"]


def test_bundle_problems_are_422_naming_the_bundle(
    client: TestClient, env: ApiEnv, issued: list[Any]
) -> None:
    doc, bundle = issued[0]
    broken = json.loads(json.dumps(bundle))
    broken["leaf"]["salt"] = "0x1234"
    r = verify(client, env, {"document": b64(doc), "bundle": broken})
    assert r.status_code == 422 and r.json()["code"] == "INVALID_BUNDLE"
    assert r.json()["errors"][0]["field"] == "bundle" and "leaf.salt" in r.json()["detail"]
    text = json.dumps({"document": b64(doc), "bundle": bundle})
    dup = text.replace('"leaf": {', '"leaf": {"salt": "0x00", ', 1)
    json_headers = {**env.headers(Role.VERIFIER, "TH"), "Content-Type": "application/json"}
    r = client.post("/v1/verify", content=dup, headers=json_headers)
    assert r.status_code == 422 and r.json()["code"] == "DUPLICATE_MEMBER"
    r = client.post(
        "/v1/verify",
        content=text.replace('"index": 0', '"index": NaN', 1),
        headers={**env.headers(Role.VERIFIER, "TH"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["code"] == "INVALID_JSON"
    r = verify(client, env, {"document": "not base64!", "bundle": bundle})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "document"
    r = verify(client, env, {"bundle": bundle})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "document"
    r = client.post(
        "/v1/verify",
        content=b"document=x",
        headers={**env.headers(Role.VERIFIER, "TH"), "Content-Type": "text/plain"},
    )
    assert r.status_code == 415


def test_fast_path_and_route_agree(env: ApiEnv, issued: list[Any], tmp_path: Path) -> None:
    doc, bundle = issued[0]
    cases = [
        {"document": b64(doc), "bundle": bundle},
        {"document": b64(doc + b" "), "bundle": bundle},
        {"document": b64(doc), "bundle": {**bundle, "proof": {"index": 0}}},
        {"document": b64(doc), "bundle": bundle, "verifyingParty": "SG"},
        {"document": b64(doc), "bundle": bundle, "extra": 1},
    ]
    answers = []
    for fast in (True, False):
        with TestClient(create_app(env.settings(home=tmp_path / str(fast), verify_fast_path=fast))) as c:
            h = {"X-API-Key": _key(tmp_path / str(fast), Role.VERIFIER, "TH")}
            got = [c.post("/v1/verify", json=case, headers=h) for case in cases]
            got.append(c.post("/v1/verify", json=cases[0]))
            got.append(
                c.post(
                    "/v1/verify",
                    json=cases[0],
                    headers={"X-API-Key": _key(tmp_path / str(fast), Role.ISSUER, "TH")},
                )
            )
            answers.append([(r.status_code, r.headers["content-type"], _stable(r.json())) for r in got])
    assert answers[0] == answers[1]
    assert [a[0] for a in answers[0]] == [200, 200, 422, 403, 422, 401, 403]


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    body = dict(body)
    body.pop("chain", None)
    return body


def _key(home: Path, role: Role, party: str) -> str:
    from api.auth import ApiKeys
    from api.store import Database

    db = Database(home / "api" / "service.sqlite")
    try:
        return ApiKeys(db).create(role, party)[0]
    finally:
        db.close()


def test_consume_once(client: TestClient, env: ApiEnv, issued: list[Any]) -> None:
    doc, bundle = issued[3]
    th = env.headers(Role.VERIFIER, "TH")
    tampered = client.post("/v1/consume", json={"bundle": bundle, "document": b64(doc + b"x")}, headers=th)
    assert tampered.status_code == 409 and tampered.json()["code"] == "DOCUMENT_NOT_VALID"
    assert tampered.json()["verdict"]["verdict"] == "INVALID"
    r = client.post("/v1/consume", json={"bundle": bundle, "document": b64(doc)}, headers=th)
    assert r.status_code == 200, r.text
    assert (
        r.json()["consumed"] is True
        and r.json()["party"] == "TH"
        and r.json()["verdict"]["verdict"] == "VALID"
    )
    again = client.post("/v1/consume", json={"bundle": bundle}, headers=th)
    assert again.status_code == 409 and again.json()["code"] == "DOCUMENT_ALREADY_CONSUMED"
    v = verify(client, env, {"document": b64(doc), "bundle": bundle}).json()
    assert v["verdict"] == "INVALID" and v["checks"][3]["code"] == "CONSUMED"
    my = client.post("/v1/consume", json={"bundle": issued[2][1]}, headers=env.headers(Role.VERIFIER, "MY"))
    assert my.status_code == 409 and my.json()["code"] == "CONSUMER_NOT_CONFIGURED"
    foreign = json.loads(json.dumps(bundle))
    foreign["anchor"]["chainId"] = 1
    r = client.post("/v1/consume", json={"bundle": foreign}, headers=th)
    assert r.status_code == 422 and r.json()["code"] == "FOREIGN_BUNDLE"
