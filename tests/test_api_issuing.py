"""Issuing through the API: submission (JSON and multipart), durable intake, states, bundles, lifecycle."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchor.bundle import Bundle
from anchor.issuing.canonical import digest_bytes
from api import create_app
from api.auth import Role
from tests.api_helpers import ApiEnv, TestClient, b64, make_env, permit, submission

SG_ISSUER = (Role.ISSUER, "SG")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("api-issuing"), anvil_url)


@pytest.fixture(scope="module")
def client(env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(create_app(env.settings())) as c:
        yield c


def post_docs(client: TestClient, env: ApiEnv, docs: list[bytes], wait: float = 10, **kw: Any) -> Any:
    r = client.post(
        f"/v1/documents?wait={wait}", json=submission(docs, **kw), headers=env.headers(*SG_ISSUER)
    )
    assert r.status_code in (200, 202), r.text
    return r


def test_submit_many_then_anchored_with_valid_bundles(client: TestClient, env: ApiEnv) -> None:
    docs = [permit(i, batch="a") for i in range(5)]
    r = post_docs(client, env, docs)
    assert r.status_code == 200  # all anchored within the wait
    views = r.json()["documents"]
    assert [v["name"] for v in views] == [f"permit-{i}.json" for i in range(5)]
    roots = {v["batch"]["root"] for v in views}
    assert len(roots) == 1  # one batch, one transaction
    for doc, v in zip(docs, views, strict=True):
        assert v["state"] == "anchored" and v["party"] == "SG" and v["documentType"] == "cites-permit"
        assert v["digest"] == "0x" + digest_bytes(doc, "application/json").digest.hex()
        bundle = Bundle.from_json(json.dumps(v["bundle"]))
        assert bundle.proof_valid() and bundle.signature_valid()
        assert bundle.anchor.party == "SG" and bundle.anchor.transaction_hash == v["batch"]["transactionHash"]


def test_submission_is_idempotent(client: TestClient, env: ApiEnv) -> None:
    docs = [permit(100), permit(101), permit(100)]  # a duplicate inside the request too
    first = post_docs(client, env, docs).json()["documents"]
    assert first[0]["id"] == first[2]["id"]
    again = post_docs(client, env, docs[:2], wait=0).json()["documents"]
    assert [d["id"] for d in again] == [first[0]["id"], first[1]["id"]]
    assert again[0]["bundle"] == first[0]["bundle"]  # the same anchoring, not a second one


def test_pending_answer_is_202_and_wait_gives_the_bundle(client: TestClient, env: ApiEnv) -> None:
    r = client.post("/v1/documents", json=submission([permit(200)]), headers=env.headers(*SG_ISSUER))
    assert r.status_code in (200, 202)
    doc = r.json()["documents"][0]
    got = client.get(f"/v1/documents/{doc['id']}?wait=10", headers=env.headers(*SG_ISSUER)).json()
    assert got["state"] == "anchored" and got["bundle"]["document"]["name"] == "permit-0.json"


def test_multipart_upload(client: TestClient, env: ApiEnv) -> None:
    xml = b"<permit><number>SG-1</number>  <species>Dendrobium</species></permit>"
    files = [
        ("files", ("permit.xml", xml, "application/xml")),
        ("files", ("scan.pdf", b"%PDF-1.4 fake scan", "application/octet-stream")),
    ]
    r = client.post(
        "/v1/documents/upload?wait=10",
        data={"documentType": "cites-permit"},
        files=files,
        headers=env.headers(*SG_ISSUER),
    )
    assert r.status_code == 200, r.text
    xml_view, pdf_view = r.json()["documents"]
    assert xml_view["canonicalization"] == "xml-c14n2" and xml_view["mediaType"] == "application/xml"
    assert pdf_view["canonicalization"] == "raw-sha256" and pdf_view["mediaType"] == "application/pdf"
    assert pdf_view["digest"] == "0x" + hashlib.sha256(b"%PDF-1.4 fake scan").hexdigest()
    assert xml_view["state"] == pdf_view["state"] == "anchored"


def test_fetch_by_digest_bundle_list_and_lookup(client: TestClient, env: ApiEnv) -> None:
    view = post_docs(client, env, [permit(300)]).json()["documents"][0]
    h = env.headers(*SG_ISSUER)
    found = client.get(f"/v1/documents/by-digest/{view['digest']}", headers=h).json()["documents"]
    assert [d["id"] for d in found] == [view["id"]]
    found = client.get(
        f"/v1/documents/by-digest/{view['digest'][2:]}?documentType=phytosanitary-certificate", headers=h
    )
    assert found.json()["documents"] == []
    raw = client.get(f"/v1/documents/{view['id']}/bundle", headers=h)
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/vnd.trustanchor.bundle.v2+json"
    assert (
        Bundle.from_json(raw.content).model_dump()
        == Bundle.from_json(json.dumps(view["bundle"])).model_dump()
    )
    listed = client.get("/v1/documents?state=anchored&limit=1000", headers=h).json()
    assert view["id"] in [d["id"] for d in listed["documents"]] and listed["next"] is None
    page = client.get("/v1/documents?limit=1", headers=h).json()
    assert len(page["documents"]) == 1 and page["next"] == page["documents"][0]["id"]
    looked = client.post("/v1/documents/lookup", json={"ids": [view["id"]]}, headers=h).json()
    assert looked["documents"][0]["bundle"] is None and looked["documents"][0]["state"] == "anchored"
    auditor = client.get(f"/v1/documents/{view['id']}", headers=env.headers(Role.AUDITOR, "SG"))
    assert auditor.status_code == 200 and auditor.json()["state"] == "anchored"


def test_revoke_and_then_verify_says_revoked(client: TestClient, env: ApiEnv) -> None:
    doc = permit(400)
    view = post_docs(client, env, [doc]).json()["documents"][0]
    h = env.headers(*SG_ISSUER)
    r = client.post(f"/v1/documents/{view['id']}/revoke", json={"reason": "issued-in-error"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "revoked" and r.json()["transaction"]["transactionHash"].startswith("0x")
    again = client.post(f"/v1/documents/{view['id']}/revoke", json={}, headers=h)
    assert again.status_code == 409 and again.json()["code"] == "DOCUMENT_ALREADY_REVOKED"
    assert client.get(f"/v1/documents/{view['id']}", headers=h).json()["revokeReason"] == "issued-in-error"
    verdict = client.post(
        "/v1/verify",
        json={"document": b64(doc), "bundle": view["bundle"]},
        headers=env.headers(Role.VERIFIER, "TH"),
    ).json()
    assert verdict["verdict"] == "INVALID"
    status = next(c for c in verdict["checks"] if c["name"] == "document_status")
    assert status["code"] == "DOCUMENT_REVOKED"


def test_supersede_links_both_documents(client: TestClient, env: ApiEnv) -> None:
    old, new = post_docs(client, env, [permit(500), permit(500, amended=True)]).json()["documents"]
    h = env.headers(*SG_ISSUER)
    r = client.post(f"/v1/documents/{old['id']}/supersede", json={"successorId": new["id"]}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["successorId"] == new["id"]
    old_now = client.get(f"/v1/documents/{old['id']}", headers=h).json()
    new_now = client.get(f"/v1/documents/{new['id']}", headers=h).json()
    assert old_now["supersededBy"] == new["id"] and new_now["supersedes"] == old["id"]
    assert new_now["bundle"]["supersedes"] == {
        "issuer": old["bundle"]["anchor"]["issuer"],
        "root": old["batch"]["root"],
        "leaf": old["bundle"]["leaf"]["hash"],
    }
    self_ = client.post(f"/v1/documents/{new['id']}/supersede", json={"successorId": new["id"]}, headers=h)
    assert self_.status_code == 422 and self_.json()["code"] == "SUPERSEDE_BY_SELF"


def test_revoke_of_a_pending_document_is_409(env: ApiEnv, tmp_path: Path) -> None:
    settings = env.settings(home=tmp_path / "home", batch_max_wait_ms=3_600_000)
    (tmp_path / "home").mkdir()
    with TestClient(create_app(settings)) as c:
        h = {"X-API-Key": _key(settings.db_path, Role.ISSUER, "SG")}
        view = c.post("/v1/documents", json=submission([permit(600)]), headers=h).json()["documents"][0]
        assert view["state"] == "pending" and view["bundle"] is None
        r = c.post(f"/v1/documents/{view['id']}/revoke", json={}, headers=h)
        assert r.status_code == 409 and r.json()["code"] == "DOCUMENT_NOT_ANCHORED"
        r = c.get(f"/v1/documents/{view['id']}/bundle", headers=h)
        assert r.status_code == 409 and r.json()["code"] == "DOCUMENT_NOT_ANCHORED"


def test_intake_stats(client: TestClient, env: ApiEnv) -> None:
    post_docs(client, env, [permit(700)])
    stats = client.get("/v1/intake", headers=env.headers(Role.AUDITOR, "SG")).json()
    assert stats["party"] == "SG" and stats["documents"]["anchored"] >= 1 and stats["backlog"] == 0
    assert stats["batches"]["anchored"] >= 1


def test_party_isolation(client: TestClient, env: ApiEnv) -> None:
    """TH's issuer can neither read SG's documents (pending or not) nor revoke them."""
    view = post_docs(client, env, [permit(800)]).json()["documents"][0]
    th = env.headers(Role.ISSUER, "TH")
    for method, path, body in (
        ("GET", f"/v1/documents/{view['id']}", None),
        ("GET", f"/v1/documents/{view['id']}/bundle", None),
        ("POST", f"/v1/documents/{view['id']}/revoke", {}),
        ("POST", f"/v1/documents/{view['id']}/supersede", {"successorId": view["id"]}),
        ("POST", "/v1/documents/lookup", {"ids": [view["id"]]}),
    ):
        r = client.request(method, path, json=body, headers=th)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["code"] == "PARTY_NOT_ALLOWED"
    assert client.get(f"/v1/documents/by-digest/{view['digest']}", headers=th).json()["documents"] == []
    assert view["id"] not in [d["id"] for d in client.get("/v1/documents", headers=th).json()["documents"]]
    th_auditor = client.get(f"/v1/documents/{view['id']}", headers=env.headers(Role.AUDITOR, "TH"))
    assert th_auditor.status_code == 403
    # TH's own submissions are anchored by TH's issuer account, in TH's name
    r = client.post("/v1/documents?wait=10", json=submission([permit(801)]), headers=th)
    assert r.json()["documents"][0]["bundle"]["anchor"]["party"] == "TH"


def test_documents_of_a_party_without_issuer_are_refused(client: TestClient, env: ApiEnv) -> None:
    r = client.post("/v1/documents", json=submission([permit(900)]), headers=env.headers(Role.ISSUER, "MY"))
    assert r.status_code == 409 and r.json()["code"] == "ISSUER_NOT_CONFIGURED"


def _key(db_path: Path, role: Role, party: str) -> str:
    from api.auth import ApiKeys
    from api.store import Database

    db = Database(db_path)
    try:
        return ApiKeys(db).create(role, party)[0]
    finally:
        db.close()


def test_documents_fail_when_the_issuer_loses_its_authorization(anvil_url: str, tmp_path: Path) -> None:
    from anchor.accounts import dev_account
    from anchor.chain import connect
    from anchor.config import ChainConfig
    from anchor.registry import Registries
    from tests.conftest import MNEMONIC

    env = make_env(tmp_path, anvil_url)
    reg = Registries.open(
        connect(ChainConfig(backend="rpc", rpc_url=anvil_url, mnemonic=MNEMONIC)), env.manifest
    )
    reg.trust.suspend_issuer(dev_account(MNEMONIC, 1), dev_account(MNEMONIC, 4).address)
    h = env.headers(*SG_ISSUER)
    with TestClient(create_app(env.settings())) as c:
        r = c.post("/v1/documents?wait=10", json=submission([permit(1)]), headers=h)
        view = r.json()["documents"][0]
        assert r.status_code == 200 and view["state"] == "failed" and view["bundle"] is None
        assert view["error"]["code"] == "ISSUER_NOT_ACTIVE"
        reg.trust.resume_issuer(dev_account(MNEMONIC, 1), dev_account(MNEMONIC, 4).address)
        again = c.post("/v1/documents?wait=10", json=submission([permit(1)]), headers=h).json()["documents"][
            0
        ]
        assert again["id"] == view["id"] and again["state"] == "anchored"  # re-queued by resubmitting
