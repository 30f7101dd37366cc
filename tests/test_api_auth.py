"""Roles and keys: every endpoint admits exactly its roles (others 403), no key 401, revoked keys 401;
public verification by configuration; key management by API (registry admin) and CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchor.cli.main import main
from api import create_app
from api.auth import ApiKeys, Role
from api.store import Database
from tests.api_helpers import ApiEnv, TestClient, b64, make_env, permit, submission

ALL = set(Role)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("api-auth"), anvil_url)


@pytest.fixture(scope="module")
def client(env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(create_app(env.settings())) as c:
        yield c


@pytest.fixture(scope="module")
def anchored(client: TestClient, env: ApiEnv) -> dict[str, Any]:
    r = client.post(
        "/v1/documents?wait=10", json=submission([permit(1)]), headers=env.headers(Role.ISSUER, "SG")
    )
    view: dict[str, Any] = r.json()["documents"][0]
    assert view["state"] == "anchored"
    return view


def endpoints(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], set[Role]]]:
    """(method, path, request kwargs, roles admitted) for every authenticated endpoint."""
    i = doc["id"]
    verify = {"json": {"document": b64(permit(1)), "bundle": doc["bundle"]}}
    readers = {Role.ISSUER, Role.AUDITOR}
    return [
        ("POST", "/v1/documents", {"json": submission([permit(1)])}, {Role.ISSUER}),
        ("POST", "/v1/documents/upload", {"data": {"documentType": "cites-permit"},
                                          "files": [("files", ("a.json", b"{}", "application/json"))]}, {Role.ISSUER}),
        ("GET", "/v1/documents", {}, readers),
        ("POST", "/v1/documents/lookup", {"json": {"ids": [i]}}, readers),
        ("GET", f"/v1/documents/by-digest/{doc['digest']}", {}, readers),
        ("GET", f"/v1/documents/{i}", {}, readers),
        ("GET", f"/v1/documents/{i}/bundle", {}, readers),
        ("POST", f"/v1/documents/{i}/revoke", {"json": {"reason": "nonsense-reason"}}, {Role.ISSUER}),
        ("POST", f"/v1/documents/{i}/supersede", {"json": {"successorId": i}}, {Role.ISSUER}),
        ("GET", "/v1/intake", {}, {Role.ISSUER, Role.AUDITOR, Role.REGISTRY_ADMIN}),
        ("POST", "/v1/verify", verify, {Role.VERIFIER}),
        ("POST", "/v1/verify/upload", {"files": [("document", ("a.json", permit(1), "application/json")),
                                                 ("bundle", ("b.json", json.dumps(doc["bundle"]).encode(), "application/json"))]},
         {Role.VERIFIER}),
        ("POST", "/v1/consume", {"json": {"bundle": {"not": "a bundle"}}}, {Role.VERIFIER}),
        ("GET", "/v1/registry/parties", {}, ALL),
        ("GET", "/v1/registry/cas", {}, ALL),
        ("GET", f"/v1/registry/cas/{doc['bundle']['anchor']['registry'][2:].ljust(64, '0')}", {}, ALL),
        ("GET", "/v1/registry/issuers", {}, ALL),
        ("GET", "/v1/registry/recognitions", {}, ALL),
        ("GET", "/v1/apikeys", {}, {Role.REGISTRY_ADMIN}),
        ("POST", "/v1/apikeys", {"json": {"role": "auditor", "label": "x"}}, {Role.REGISTRY_ADMIN}),
        ("DELETE", "/v1/apikeys/00000000", {}, {Role.REGISTRY_ADMIN}),
    ]  # fmt: skip


def test_every_endpoint_admits_exactly_its_roles(
    client: TestClient, env: ApiEnv, anchored: dict[str, Any]
) -> None:
    party = {Role.ISSUER: "SG", Role.AUDITOR: "SG", Role.VERIFIER: "TH", Role.REGISTRY_ADMIN: "SG"}
    for method, path, kwargs, admitted in endpoints(anchored):
        assert client.request(method, path, **kwargs).status_code == 401, path
        bad = client.request(method, path, headers={"X-API-Key": "ta_00000000_" + "A" * 43}, **kwargs)
        assert bad.status_code == 401 and bad.json()["code"] == "INVALID_API_KEY", path
        for role in Role:
            r = client.request(method, path, headers=env.headers(role, party[role]), **kwargs)
            if role in admitted:
                assert r.status_code not in (401, 403), (method, path, role, r.text)
            else:
                assert r.status_code == 403, (method, path, role, r.text)
                assert r.json()["code"] == "ROLE_NOT_ALLOWED"
                assert r.headers["content-type"] == "application/problem+json"


def test_bearer_header_works_too(client: TestClient, env: ApiEnv) -> None:
    key = env.key(Role.AUDITOR, "SG")
    assert client.get("/v1/intake", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_verifier_acts_only_for_its_party(client: TestClient, env: ApiEnv, anchored: dict[str, Any]) -> None:
    body = {"document": b64(permit(1)), "bundle": anchored["bundle"], "verifyingParty": "MY"}
    r = client.post("/v1/verify", json=body, headers=env.headers(Role.VERIFIER, "TH"))
    assert r.status_code == 403 and r.json()["code"] == "PARTY_NOT_ALLOWED"
    body["verifyingParty"] = "th"
    r = client.post("/v1/verify", json=body, headers=env.headers(Role.VERIFIER, "TH"))
    assert r.status_code == 200 and r.json()["verifyingParty"] == "TH"


def test_revoked_key_is_refused(client: TestClient, env: ApiEnv) -> None:
    admin = env.headers(Role.REGISTRY_ADMIN, "SG")
    created = client.post("/v1/apikeys", json={"role": "auditor", "label": "temp"}, headers=admin).json()
    assert created["party"] == "SG" and created["key"].startswith(f"ta_{created['id']}_")
    h = {"X-API-Key": created["key"]}
    assert client.get("/v1/intake", headers=h).status_code == 200
    listed = client.get("/v1/apikeys", headers=admin).json()["keys"]
    assert created["id"] in [k["id"] for k in listed] and all(k["party"] == "SG" for k in listed)
    assert all("key" not in k for k in listed)
    assert client.delete(f"/v1/apikeys/{created['id']}", headers=admin).json()["revokedAt"] is not None
    r = client.get("/v1/intake", headers=h)
    assert r.status_code == 401 and r.json()["code"] == "INVALID_API_KEY"


def test_registry_admin_manages_only_its_party(client: TestClient, env: ApiEnv) -> None:
    th_key = ApiKeys(Database(env.home / "api" / "service.sqlite")).create(Role.AUDITOR, "TH")[1]
    r = client.delete(f"/v1/apikeys/{th_key.id}", headers=env.headers(Role.REGISTRY_ADMIN, "SG"))
    assert r.status_code == 403 and r.json()["code"] == "PARTY_NOT_ALLOWED"
    assert ApiKeys(Database(env.home / "api" / "service.sqlite")).get(th_key.id).revoked_at is None  # type: ignore[union-attr]
    r = client.delete("/v1/apikeys/0badc0de", headers=env.headers(Role.REGISTRY_ADMIN, "SG"))
    assert r.status_code == 404 and r.json()["code"] == "API_KEY_NOT_FOUND"


def test_keys_are_stored_hashed(env: ApiEnv) -> None:
    key = env.key(Role.VERIFIER, "SG")
    raw = (env.home / "api" / "service.sqlite").read_bytes()
    wal = env.home / "api" / "service.sqlite-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    # The secret is base64url and may itself start with "_": split off only the prefix and the id.
    secret = key.split("_", 2)[2]
    assert len(secret) >= 32
    assert key.encode() not in raw and secret.encode() not in raw


def test_public_verification_by_configuration(env: ApiEnv, anchored: dict[str, Any], tmp_path: Path) -> None:
    body = {"document": b64(permit(1)), "bundle": anchored["bundle"], "verifyingParty": "TH"}
    with TestClient(create_app(env.settings(home=tmp_path, public_verification=True))) as c:
        r = c.post("/v1/verify", json=body)
        assert r.status_code == 200 and r.json()["verdict"] == "VALID"
        assert c.get("/v1/registry/parties").status_code == 200
        missing = c.post("/v1/verify", json={**body, "verifyingParty": None})
        assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "verifyingParty"
        assert c.post("/v1/consume", json={"bundle": anchored["bundle"]}).status_code == 401
        assert c.get("/v1/documents").status_code == 401


def test_apikey_cli(env: ApiEnv, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--config", str(env.chain_config), "--home", str(env.home)]

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as e:
            main([*base, "apikey", *args])
        out = capsys.readouterr()
        return int(e.value.code or 0), out.out, out.err

    code, out, _ = run("create", "--role", "verifier", "--party", "my", "--label", "border post 7", "--json")
    assert code == 0
    created = json.loads(out)
    assert created["party"] == "MY" and created["role"] == "verifier" and created["key"].startswith("ta_")
    code, out, _ = run("list", "--party", "MY", "--json")
    keys = json.loads(out)["keys"]
    assert [k["id"] for k in keys] == [created["id"]] and "key" not in keys[0]
    code, out, _ = run("revoke", created["id"])
    assert code == 0 and f"revoked verifier key {created['id']} of MY" in out
    code, out, err = run("revoke", "ffffffff")
    assert code == 3 and "no API key with id 'ffffffff'" in err
    code, out, err = run("create", "--role", "king", "--party", "MY")
    assert code == 64
    code, out, err = run("create", "--role", "issuer", "--party", "TOO-LONG-X")
    assert code == 3 and "party id" in err
