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

from .deps import VERIFY_ROLES, api_key, authorize
from .limits import check_content_length, limited
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
        headers = scope["headers"]
        response: Response
        try:
            # The key first: a caller without one is answered before any of the body is read.
            principal = authorize(self.services, api_key(headers), VERIFY_ROLES, public=True)
            limit = self.services.settings.max_request_bytes
            check_content_length(headers, limit)
            body = await _body(limited(receive, limit))
            ctype = next((v for k, v in headers if k == b"content-type"), b"").decode("latin-1")
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


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, "BAD_REQUEST", "the client went away")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
