"""Strict input validation: 422 naming the field, 413 beyond the size limits, problem+json everywhere,
never a stack trace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from api import create_app
from api.auth import Role
from tests.api_helpers import ApiEnv, TestClient, b64, make_env, permit, submission

LIMITS = {"max_request_bytes": 64 * 1024, "max_document_bytes": 8 * 1024, "max_documents_per_request": 5}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("api-validation"), anvil_url, LIMITS)


@pytest.fixture(scope="module")
def client(env: ApiEnv) -> Iterator[TestClient]:
    with TestClient(create_app(env.settings()), raise_server_exceptions=False) as c:
        yield c


def problem(r: Any, status: int, code: str | None = None, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
        assert body["detail"].startswith(field)
    return body


def doc(**kw: Any) -> dict[str, Any]:
    return {"name": "p.json", "content": b64(permit(1)), **kw}


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"documents": [doc()]}, "VALIDATION_FAILED", "documentType"),
        ({"documentType": "permit-of-nothing", "documents": [doc()]}, "UNKNOWN_DOCUMENT_TYPE", "documentType"),
        ({"documentType": "cites-permit", "documents": []}, "VALIDATION_FAILED", "documents"),
        ({"documentType": "cites-permit", "documents": [doc(), doc(content="%%%")]}, "INVALID_BASE64",
         "documents[1].content"),
        ({"documentType": "cites-permit", "documents": [doc(content=b64(b'{"a": }'))]}, "DOCUMENT_UNREADABLE",
         "documents[0].content"),
        ({"documentType": "cites-permit", "documents": [doc(content="")]}, "EMPTY_DOCUMENT", "documents[0].content"),
        ({"documentType": "cites-permit", "documents": [doc(name="../etc/passwd")]}, "VALIDATION_FAILED",
         "documents[0].name"),
        ({"documentType": "cites-permit", "documents": [doc(mediaType="json")]}, "INVALID_MEDIA_TYPE",
         "documents[0].mediaType"),
        ({"documentType": "cites-permit", "documents": [doc(colour="red")]}, "VALIDATION_FAILED",
         "documents[0].colour"),
        ({"documentType": 7, "documents": [doc()]}, "VALIDATION_FAILED", "documentType"),
        ({"documentType": "²", "documents": [doc()]}, "UNKNOWN_DOCUMENT_TYPE", "documentType"),
        ({"documentType": "cites-permit", "documents": [{"name": "x.xml", "content": b64(b"<!DOCTYPE x><x/>")}]},
         "DOCUMENT_UNREADABLE", "documents[0].content"),
    ],
)  # fmt: skip
def test_submission_422(client: TestClient, env: ApiEnv, body: dict[str, Any], code: str, field: str) -> None:
    problem(client.post("/v1/documents", json=body, headers=env.headers(Role.ISSUER, "SG")), 422, code, field)


def test_upload_with_a_non_ascii_digit_as_document_type(client: TestClient, env: ApiEnv) -> None:
    files = [("files", ("p.json", permit(1), "application/json"))]
    r = client.post(
        "/v1/documents/upload",
        data={"documentType": "²"},
        files=files,
        headers=env.headers(Role.ISSUER, "SG"),
    )
    problem(r, 422, "UNKNOWN_DOCUMENT_TYPE", "documentType")


def test_nothing_is_stored_from_a_refused_request(client: TestClient, env: ApiEnv) -> None:
    h = env.headers(Role.ISSUER, "SG")
    before = client.get("/v1/intake", headers=h).json()["documents"]
    body = {"documentType": "cites-permit", "documents": [doc(), doc(name="q.json", content="!")]}
    problem(client.post("/v1/documents", json=body, headers=h), 422, "INVALID_BASE64")
    assert client.get("/v1/intake", headers=h).json()["documents"] == before


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/v1/documents/abc", "path.doc_id"),
        ("GET", "/v1/documents/0", "path.doc_id"),
        ("GET", "/v1/documents/1?wait=-1", "query.wait"),
        ("GET", "/v1/documents/1?wait=1000", "query.wait"),
        ("GET", "/v1/documents?state=lost", "query.state"),
        ("GET", "/v1/documents?limit=0", "query.limit"),
        ("GET", "/v1/documents/by-digest/0x1234", "path.digest"),
        ("GET", "/v1/documents/by-digest/" + "ab" * 32 + "?documentType=nope", "query.documentType"),
        ("GET", "/v1/registry/parties?block=-3", "query.block"),
        ("GET", "/v1/registry/parties?block=99999999", "query.block"),
        ("GET", "/v1/registry/cas?at=yesterday", "query.at"),
        ("GET", "/v1/registry/cas?at=²", "query.at"),
        ("GET", "/v1/registry/cas?at=1099511627776", "query.at"),
        ("GET", "/v1/documents/by-digest/" + "ab" * 32 + "?documentType=²", "query.documentType"),
        ("GET", "/v1/registry/cas?party=TOO-LONG", "query.party"),
        ("GET", "/v1/registry/cas/0x12", "path.fingerprint"),
    ],
)
def test_parameters_422(client: TestClient, env: ApiEnv, method: str, path: str, field: str) -> None:
    headers = env.headers(Role.AUDITOR, "SG")
    problem(client.request(method, path, headers=headers), 422, field=field)


def test_malformed_json_body(client: TestClient, env: ApiEnv) -> None:
    h = {**env.headers(Role.ISSUER, "SG"), "Content-Type": "application/json"}
    body = problem(
        client.post("/v1/documents", content=b'{"documentType": ', headers=h), 422, "VALIDATION_FAILED"
    )
    assert "JSON" in body["detail"]
    problem(client.post("/v1/documents/lookup", json={"ids": ["one"]}, headers=h), 422, field="ids[0]")
    problem(client.post("/v1/documents/1/revoke", json={"reason": "bored"}, headers=h), 404)


@pytest.mark.parametrize("path", ["/v1/documents", "/v1/verify", "/v1/documents/lookup", "/v1/consume"])
def test_deeply_nested_json_is_refused_before_parsing(client: TestClient, env: ApiEnv, path: str) -> None:
    # Within the size limit, but deep enough to overflow the C stack in json.loads once py-evm has
    # raised the recursion limit (which importing the library does): the process must survive.
    role = Role.VERIFIER if path in ("/v1/verify", "/v1/consume") else Role.ISSUER
    h = {**env.headers(role, "TH" if role is Role.VERIFIER else "SG"), "Content-Type": "application/json"}
    body = problem(client.post(path, content=b"[" * 60_000, headers=h), 422, "INVALID_JSON")
    assert "nest more than" in body["detail"]
    assert client.get("/v1/health/live").status_code == 200


def test_request_too_large_announced_and_streamed(client: TestClient, env: ApiEnv) -> None:
    h = env.headers(Role.ISSUER, "SG")
    big = {"documentType": "cites-permit", "documents": [doc(content="A" * 70_000)]}
    problem(client.post("/v1/documents", json=big, headers=h), 413, "CONTENT_TOO_LARGE")

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    streamed = client.post(
        "/v1/documents", content=chunks(), headers={**h, "Content-Type": "application/json"}
    )
    problem(streamed, 413, "CONTENT_TOO_LARGE")
    verify = client.post(
        "/v1/verify",
        content=chunks(),
        headers={**env.headers(Role.VERIFIER, "TH"), "Content-Type": "application/json"},
    )
    problem(verify, 413, "CONTENT_TOO_LARGE")


def test_document_and_count_limits(client: TestClient, env: ApiEnv) -> None:
    h = env.headers(Role.ISSUER, "SG")
    large = {"documentType": "cites-permit", "documents": [doc(), doc(content=b64(b"x" * 9000))]}
    problem(
        client.post("/v1/documents", json=large, headers=h), 413, "DOCUMENT_TOO_LARGE", "documents[1].content"
    )
    many = submission([permit(i) for i in range(6)])
    problem(client.post("/v1/documents", json=many, headers=h), 413, "TOO_MANY_DOCUMENTS", "documents")
    files = [("files", (f"f{i}.json", b"{}", "application/json")) for i in range(6)]
    upload = client.post(
        "/v1/documents/upload", data={"documentType": "cites-permit"}, files=files, headers=h
    )
    problem(upload, 413, "TOO_MANY_DOCUMENTS", "files")
    files = [("files", ("big.pdf", b"x" * 9000, "application/pdf"))]
    upload = client.post(
        "/v1/documents/upload", data={"documentType": "cites-permit"}, files=files, headers=h
    )
    problem(upload, 413, "DOCUMENT_TOO_LARGE", "files[0]")
    files = [("files", ("a/b.pdf", b"x", "application/pdf"))]
    upload = client.post(
        "/v1/documents/upload", data={"documentType": "cites-permit"}, files=files, headers=h
    )
    problem(upload, 422, "INVALID_NAME", "files[0].filename")
    problem(client.post("/v1/documents/upload", data={"documentType": "cites-permit"}, headers=h), 415)


def test_unknown_paths_and_methods(client: TestClient) -> None:
    problem(client.get("/v1/nothing-here"), 404, "NOT_FOUND")
    problem(client.delete("/v1/health/live"), 405, "METHOD_NOT_ALLOWED")


def test_internal_errors_carry_an_id_but_no_trace(client: TestClient, env: ApiEnv) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    original = services.registry.parties

    def broken(*args: object) -> object:
        raise RuntimeError("secret internals /home/agency/keys")

    services.registry.parties = broken
    try:
        r = client.get("/v1/registry/parties", headers=env.headers(Role.AUDITOR, "SG"))
    finally:
        services.registry.parties = original
    body = problem(r, 500, "INTERNAL_ERROR")
    assert body["errorId"] in body["detail"] and "secret" not in r.text and "RuntimeError" not in r.text


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/v1/documents",
        "/v1/verify",
        "/v1/consume",
        "/v1/registry/recognitions",
        "/v1/health/ready",
    ):
        assert path in spec["paths"]
    verify_body = spec["paths"]["/v1/verify"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert verify_body["$ref"].endswith("/VerifyRequest") and "VerifyRequest" in spec["components"]["schemas"]
    problem_content = spec["paths"]["/v1/documents"]["post"]["responses"]["422"]["content"]
    assert "application/problem+json" in problem_content
    assert client.get("/v1/docs").status_code == 200
    assert json.dumps(spec)  # serializable
