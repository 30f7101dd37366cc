"""Denial of service through request bodies, against a real `trustanchor serve` over HTTP.

A caller without a valid key of the right role is answered before the service reads the body, and
the connection is then closed rather than drained. A caller with one meets the route's limit as the
body streams in (Content-Length announced or not). Large documents go through the multipart route.

How "before reading the body" is shown without timing anything: a raw socket sends the headers and a
small part of an announced 60 MB body and then waits for the answer - which can only come if the
server answered without the rest; and a streamed body counts how much of it the client was asked for:
a server that read it all would have pulled every byte.
"""

from __future__ import annotations

import base64
import json
import os
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.auth import Role
from tests.api_helpers import ApiEnv, Served, make_env, permit, start_serve

HUGE = 60 * 1000 * 1000  # what the attacker announces or streams
CHUNK = 64 * 1024
JSON_LIMIT = 4 * 1024 * 1024  # the default max_request_bytes
HANG_GUARD = 60  # seconds: only so that a server that waits for the whole body fails the test


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, anvil_url: str) -> ApiEnv:
    return make_env(tmp_path_factory.mktemp("api-dos"), anvil_url)  # the service's default limits


@pytest.fixture(scope="module")
def served(env: ApiEnv) -> Iterator[Served]:
    s = start_serve(env)
    try:
        yield s
    finally:
        s.stop()


class Pulled:
    """A streamed JSON body of `total` bytes that records how many of them the client sent."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        head = b'{"documentType": "cites-permit", "documents": [{"name": "a.json", "content": "'
        yield head
        self.sent = len(head)
        while self.sent < self.total:
            chunk = b"A" * min(CHUNK, self.total - self.sent)
            self.sent += len(chunk)
            yield chunk


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["code"] == code, body
    assert "\n" not in body["detail"] and "Traceback" not in r.text
    return body


def raw_exchange(url: str, head: bytes, body_part: bytes) -> tuple[int, dict[str, str], bytes, bool]:
    """Send the request head and `body_part` only, then read the answer: (status, headers, body,
    whether the server then closed the connection)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=HANG_GUARD) as sock:
        sock.sendall(head + body_part)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                got = sock.recv(65536)
                assert got, "the server closed the connection without answering"
                data += got
        except TimeoutError:
            raise AssertionError("no answer: the server waits for the rest of the body") from None
        header_block, _, body = data.partition(b"\r\n\r\n")
        lines = header_block.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        while len(body) < int(headers.get("content-length", "0")):
            body += sock.recv(65536)
        try:
            closed = sock.recv(65536) == b""
        except ConnectionResetError:
            closed = True  # closed with our unread body still arriving
        return status, headers, body, closed


def post_head(path: str, length: int, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_huge_body_without_a_key_is_answered_before_it_is_sent(served: Served) -> None:
    part = b'{"documentType": "cites-permit", "documents": [' + b" " * (256 * 1024)
    status, headers, body, closed = raw_exchange(served.url, post_head("/v1/documents", HUGE), part)
    assert status == 401 and headers["content-type"] == "application/problem+json"
    assert json.loads(body)["code"] == "UNAUTHENTICATED"
    # The rest of the body is not read just to keep the connection: it is closed.
    assert headers.get("connection") == "close" and closed
    with httpx.Client(base_url=served.url, timeout=30) as client:
        assert client.get("/v1/health/live").status_code == 200


@pytest.mark.parametrize(
    ("path", "role", "code"),
    [
        ("/v1/documents", Role.VERIFIER, "ROLE_NOT_ALLOWED"),
        ("/v1/documents", None, "INVALID_API_KEY"),
        ("/v1/documents/upload", None, "UNAUTHENTICATED"),
        ("/v1/documents/lookup", Role.VERIFIER, "ROLE_NOT_ALLOWED"),
        ("/v1/verify", Role.ISSUER, "ROLE_NOT_ALLOWED"),  # the ASGI fast path
        ("/v1/consume", Role.ISSUER, "ROLE_NOT_ALLOWED"),
        ("/v1/apikeys", Role.ISSUER, "ROLE_NOT_ALLOWED"),
    ],
)
def test_wrong_key_or_role_is_refused_without_reading_the_body(
    env: ApiEnv, served: Served, path: str, role: Role | None, code: str
) -> None:
    if role is None:
        headers = {"X-API-Key": "ta_00000000_" + "A" * 43} if code == "INVALID_API_KEY" else {}
    else:
        headers = env.headers(role, "TH" if role is Role.VERIFIER else "SG")
    body = Pulled(HUGE)
    headers = {**headers, "Content-Type": "application/json", "Content-Length": str(HUGE)}
    with httpx.Client(base_url=served.url, timeout=HANG_GUARD) as client:
        r = client.post(path, content=iter(body), headers=headers)
    status = 401 if code in ("UNAUTHENTICATED", "INVALID_API_KEY") else 403
    problem(r, status, code)
    assert body.sent < HUGE // 2, f"the client had to send {body.sent} of {HUGE} bytes"


def test_body_over_the_json_limit_is_refused_as_it_arrives(env: ApiEnv, served: Served) -> None:
    key = env.headers(Role.ISSUER, "SG")
    # Announced: refused before any of it is read.
    status, headers, body, closed = raw_exchange(
        served.url, post_head("/v1/documents", 2 * JSON_LIMIT, key), b"{" + b" " * 1024
    )
    assert status == 413 and json.loads(body)["code"] == "CONTENT_TOO_LARGE" and closed
    # Not announced (chunked): refused once the count passes the limit, the rest never read.
    streamed = Pulled(HUGE)
    with httpx.Client(base_url=served.url, timeout=HANG_GUARD) as client:
        r = client.post(
            "/v1/documents", content=iter(streamed), headers={**key, "Content-Type": "application/json"}
        )
        assert r.request.headers.get("transfer-encoding") == "chunked"
        problem(r, 413, "CONTENT_TOO_LARGE")
        assert streamed.sent < HUGE // 2, f"the client had to send {streamed.sent} of {HUGE} bytes"
        # The same without a JSON content type (the limit is the route's, whatever the body claims).
        streamed = Pulled(HUGE)
        r = client.post(
            "/v1/documents", content=iter(streamed), headers={**key, "Content-Type": "text/plain"}
        )
        problem(r, 413, "CONTENT_TOO_LARGE")
        assert streamed.sent < HUGE // 2


def _submission_of_exactly(size: int, document: bytes) -> bytes:
    body = json.dumps(
        {
            "documentType": "cites-permit",
            "documents": [{"name": "scan.pdf", "content": base64.b64encode(document).decode()}],
        }
    ).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))  # JSON allows trailing whitespace


def test_body_within_the_limit_works_and_large_documents_use_the_upload(env: ApiEnv, served: Served) -> None:
    key = env.headers(Role.ISSUER, "SG")
    document = b"%PDF-1.7\n" + os.urandom(3_000_000)
    with httpx.Client(base_url=served.url, headers=key, timeout=60) as client:
        ok = client.post(
            "/v1/documents",
            content=_submission_of_exactly(JSON_LIMIT, document),
            headers={"Content-Type": "application/json"},
        )
        assert ok.status_code in (200, 202), ok.text
        assert ok.json()["documents"][0]["size"] == len(document)
        over = client.post(
            "/v1/documents",
            content=_submission_of_exactly(JSON_LIMIT + 1, document),
            headers={"Content-Type": "application/json"},
        )
        problem(over, 413, "CONTENT_TOO_LARGE")
        # A document larger than any JSON body may be goes as a file: its route has its own limit.
        big = b"%PDF-1.7\n" + os.urandom(6 * 1024 * 1024)
        files = [("files", ("big-scan.pdf", big, "application/pdf"))]
        upload = client.post(
            "/v1/documents/upload?wait=30", data={"documentType": "cites-permit"}, files=files
        )
        assert upload.status_code == 200, upload.text
        view = upload.json()["documents"][0]
        assert view["size"] == len(big) and view["state"] == "anchored"
        # ... and is verified the same way (its verification runs off the event loop).
        files = [
            ("document", ("big-scan.pdf", big, "application/pdf")),
            ("bundle", ("big-scan.pdf.bundle.json", json.dumps(view["bundle"]).encode(), "application/json")),
        ]
        verdict = client.post("/v1/verify/upload", files=files, headers=env.headers(Role.VERIFIER, "TH"))
        assert verdict.status_code == 200 and verdict.json()["verdict"] == "VALID", verdict.text
        small = client.post("/v1/documents", json={"documentType": "cites-permit", "documents": [
            {"name": "p.json", "content": base64.b64encode(permit(1)).decode()}]})  # fmt: skip
        assert small.status_code in (200, 202), small.text
