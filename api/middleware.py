"""What every request passes through before and after its route: the key and body-limit gate of each API
route, the access log, closing connections whose body is refused, and security headers.

The gate (`GatedRoute`, the route class of every API router). FastAPI reads and parses a route's JSON
body before it resolves the route's dependencies, the key check among them: without the gate, anyone
could make the service receive and parse a body as large as the limit allowed without a key at all. So

1. the caller is authorized from the headers with the route's own `RequireKey` (401/403 at once, nothing
   of the body read; the dependency then returns the same Principal),
2. an announced Content-Length beyond the route's limit is refused (413), and the body counted as it
   arrives against the same limit (`max_upload_bytes` for routes marked `upload_route`, else
   `max_request_bytes`),
3. for a route with a body model, the body is read and, if it is JSON, its nesting bounded and parsed -
   and when it is large, validated too, off the event loop - before it is handed to FastAPI, which
   would otherwise do both on the loop.

An answer given before the request's body has been read (a missing key, a body too large) closes the
connection (`CloseUnread`): otherwise the server would go on receiving the rest of the body just to keep
the connection alive.

The access log: one line per request - method, path, status, milliseconds and the API key's public id
(never the key: its secret part is not logged). Logger `trustanchor.access`, INFO; `access_log = false`
turns it off (the verification hot path pays about 10 us a line).

The verification fast path (`VerifyFastPath`): POST /v1/verify served straight from ASGI, in front of
FastAPI's routing and middleware stack. Verification is the service's hot path (border posts, many
clients at once), and for it the framework's per-request machinery costs about as much as the
verification itself (docs/benchmarks.md, "What corking and fastpath buy"). It does exactly what the route
does - same authorization, size limit, parsing, verification and problem responses, through the same
functions - and the route stays for the OpenAPI schema and as the fallback when the fast path is
disabled (`verify_fast_path = false`).

Security headers: a strict Content-Security-Policy on every HTML page (the verification page and the API
docs alike: scripts, styles and connections from this origin only), nosniff everywhere.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anchor.errors import DocumentError
from anchor.issuing.canonical import check_json_nesting

from .auth import VERIFY_ROLES, Principal, RequireKey, api_key, authorize
from .models import VerdictView
from .parsing import INLINE_BYTES, check_content_length, is_upload_route, limited, sized, validate
from .problems import ApiError, api_error_response, unexpected_response, validation_response

if TYPE_CHECKING:
    from .services import Services


# ------------------------------------------------------------------ the gate


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _key_check(dependant: Dependant) -> RequireKey | None:
    for sub in dependant.dependencies:
        if isinstance(sub.call, RequireKey):
            return sub.call
        found = _key_check(sub)
        if found is not None:
            return found
    return None


def _is_json(content_type: str | None) -> bool:
    essence = (content_type or "").split(";")[0].strip().lower()
    return essence == "application/json" or (essence.startswith("application/") and essence.endswith("+json"))


def _parse(body: bytes, model: type[BaseModel] | None) -> tuple[Any, Exception | None]:
    try:
        check_json_nesting(body)
    except DocumentError as e:
        raise ApiError(422, "INVALID_JSON", str(e), field="body") from None
    try:
        value = json.loads(body)
    except Exception as e:  # handed to FastAPI from json(), which answers it as it always did
        return None, e
    # Validating a large body takes time in proportion too (a 4 MiB submission of tiny documents:
    # about a second): done here, FastAPI's own validation of the model it gets is a no-op.
    return (value if model is None else validate(model, value)), None


class GatedRequest(Request):
    """A request whose JSON body may already be parsed (FastAPI asks `json()` for it)."""

    _parsed: tuple[Any, Exception | None] | None = None

    async def read_body(self, model: type[BaseModel] | None) -> None:
        """Read the body here, where a 413 is answered as such (FastAPI would turn an error while it
        reads into a 400), and parse it if FastAPI is going to."""
        body = await self.body()
        if body and _is_json(self.headers.get("content-type")):
            large = len(body) > INLINE_BYTES
            self._parsed = await sized(len(body), _parse, body, model if large else None)

    async def json(self) -> Any:
        if self._parsed is None:
            return await super().json()
        value, error = self._parsed
        if error is not None:
            raise error
        return value


class GatedRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        key_check = _key_check(self.dependant)
        upload = is_upload_route(self.endpoint)
        has_body = self.body_field is not None and not isinstance(self.body_field.field_info, params.Form)
        annotation = self.body_field.field_info.annotation if self.body_field is not None else None
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None

        async def gated(request: Request) -> Response:
            services: Services = request.app.state.services
            headers = request.scope["headers"]
            if key_check is not None:
                key_check.remember(request.scope, key_check.authorize(services, headers))
            settings = services.settings
            limit = settings.max_upload_bytes if upload else settings.max_request_bytes
            check_content_length(headers, limit)
            gated_request = GatedRequest(request.scope, limited(request.receive, limit))
            if has_body:
                await gated_request.read_body(model)
            return await handler(gated_request)

        return gated


# ------------------------------------------------------------------ access log


access_log = logging.getLogger("trustanchor.access")


def key_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The public id of an API key (`ta_<id>_<secret>` -> `ta_<id>`), or '-' without one."""
    for name, value in headers:
        if name == b"x-api-key":
            parts = value.decode("latin-1").split("_")
            return "_".join(parts[:2]) if len(parts) >= 3 else "malformed"
    return "-"


class AccessLog:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            access_log.info(
                "%s %s %d %.1fms key=%s",
                scope.get("method", "?"),
                scope.get("path", "?"),
                status,
                (time.perf_counter() - started) * 1000,
                key_id(scope.get("headers") or []),
            )


# ------------------------------------------------------------------ unread bodies, security headers


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


# ------------------------------------------------------------------ verification fast path

VerifyHandler = Callable[["Services", Principal, str, bytes, float], Coroutine[Any, Any, VerdictView]]


class VerifyFastPath:
    def __init__(self, app: ASGIApp, services: Services, handler: VerifyHandler) -> None:
        self.app = app
        self.services = services
        self.handler = handler  # the route's own (api/routers/verifying.py verify_json)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/verify":
            await self._verify(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _verify(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrived = time.monotonic()
        headers = scope["headers"]
        response: Response
        try:
            # The key first: a caller without one is answered before any of the body is read.
            principal = authorize(self.services, api_key(headers), VERIFY_ROLES, public=True)
            limit = self.services.settings.max_request_bytes
            check_content_length(headers, limit)
            body = await _body(limited(receive, limit))
            ctype = next((v for k, v in headers if k == b"content-type"), b"").decode("latin-1")
            verdict = await self.handler(self.services, principal, ctype, body, arrived)
            response = Response(verdict.model_dump_json(), media_type="application/json")
        except ApiError as e:
            response = api_error_response(e)
        except RequestValidationError as e:
            response = validation_response(e)
        except Exception as e:
            response = unexpected_response("POST", "/v1/verify", e)
        response.headers["X-Content-Type-Options"] = "nosniff"
        await response(scope, receive, send)


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, "BAD_REQUEST", "the client went away")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
