"""POST /v1/verify served straight from ASGI, in front of FastAPI's routing and middleware stack.

Verification is the service's hot path (border posts, many clients at once), and for it the framework's
per-request machinery costs more than the verification itself. This handler does exactly what the
FastAPI route does - same authorization, size limit, parsing, verification and problem responses,
through the same functions - and the route stays for the OpenAPI schema and as the fallback when the
fast path is disabled (`verify_fast_path = false`).
"""

from __future__ import annotations

import json
import time

from fastapi.exceptions import RequestValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .deps import VERIFY_ROLES, authorize
from .problems import ApiError, api_error_response, unexpected_response, validation_response
from .routers.verifying import verify_json
from .services import Services

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class VerifyFastPath:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/verify":
            await self._verify(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _verify(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrived = time.monotonic()
        headers = {k: v for k, v in scope["headers"]}
        response: Response
        try:
            key = headers.get(b"x-api-key", b"").decode("latin-1")
            if not key:
                scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
                key = token.strip() if scheme.lower() == "bearer" else ""
            principal = authorize(self.services, key or None, VERIFY_ROLES, public=True)
            body = await self._body(headers, receive)
            ctype = headers.get(b"content-type", b"").decode("latin-1")
            result = await verify_json(self.services, principal, ctype, body, arrived)
            response = Response(_encode(result).encode(), media_type="application/json")
        except ApiError as e:
            response = api_error_response(e)
        except RequestValidationError as e:
            response = validation_response(e)
        except Exception as e:
            response = unexpected_response("POST", "/v1/verify", e)
        response.headers["X-Content-Type-Options"] = "nosniff"
        await response(scope, receive, send)

    async def _body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes:
        limit = self.services.settings.max_request_bytes
        too_large = ApiError(413, "CONTENT_TOO_LARGE", f"the request body is larger than {limit} bytes")
        announced = headers.get(b"content-length")
        if announced is not None and (not announced.isdigit() or int(announced) > limit):
            raise too_large
        chunks = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ApiError(400, "BAD_REQUEST", "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
