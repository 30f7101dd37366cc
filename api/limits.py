"""Request body limits, closing connections whose body is refused, and security headers.

A body is counted as it streams in (`limited`), so a Content-Length that lies, or chunked transfer with
none, meets the same limit as an honest one: 413 CONTENT_TOO_LARGE as soon as the count passes it, with
at most the limit held in memory. Which limit applies is the route's (api/gate.py): JSON bodies get
`max_request_bytes`, the multipart upload routes `max_upload_bytes`.

An answer given before the request's body has been read (a missing key, a body too large) closes the
connection (`CloseUnread`): otherwise the server would go on receiving the rest of the body just to
keep the connection alive.

Security headers: a strict Content-Security-Policy on every HTML page (the verification page and the
API docs alike: scripts, styles and connections from this origin only), nosniff everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import ApiError

F = TypeVar("F", bound=Callable[..., Any])
_UPLOAD_ATTR = "_trustanchor_upload"


def upload_route(endpoint: F) -> F:
    """Mark a route whose body is a multipart upload: it gets `max_upload_bytes` instead of the JSON
    limit (apply below the router's decorator)."""
    setattr(endpoint, _UPLOAD_ATTR, True)
    return endpoint


def is_upload_route(endpoint: Callable[..., Any]) -> bool:
    return bool(getattr(endpoint, _UPLOAD_ATTR, False))


def too_large(limit: int) -> ApiError:
    return ApiError(413, "CONTENT_TOO_LARGE", f"the request body is larger than {limit} bytes")


def check_content_length(headers: Iterable[tuple[bytes, bytes]], limit: int) -> None:
    """Refuse an announced length beyond `limit` before reading any of the body."""
    for name, value in headers:
        if name == b"content-length":
            if not value.isdigit():
                raise ApiError(400, "BAD_REQUEST", "invalid Content-Length")
            if int(value) > limit:
                raise too_large(limit)


def limited(receive: Receive, limit: int) -> Receive:
    """`receive` that raises 413 once the body it has passed on exceeds `limit` bytes."""
    size = 0

    async def receive_limited() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise too_large(limit)
        return message

    return receive_limited


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False


class CloseUnread:
    """Add `Connection: close` to an answer that starts before the request's body was fully received.

    The server then closes the connection after the answer instead of reading (and discarding) the rest
    of the body: a client that was refused cannot make it receive megabytes for nothing. The answer is
    sent before the close, so a client that reads it when its write fails (as httpx does) gets it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        complete = False

        async def receive_tracked() -> Message:
            nonlocal complete
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and not complete:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive_tracked, send_closing)


_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", _CSP)
                    headers.setdefault("Referrer-Policy", "no-referrer")
            await send(message)

        await self.app(scope, receive, send_with_headers)
