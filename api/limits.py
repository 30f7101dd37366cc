"""Pure ASGI middlewares: the request size limit and security headers.

The size limit answers 413 CONTENT_TOO_LARGE to a Content-Length beyond `max_request_bytes` before
reading anything; a streamed (chunked) body is read up to the limit before the app sees it. Security
headers: a strict Content-Security-Policy on the page (no inline script or style), nosniff everywhere.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anchor.canonical import check_json_nesting
from anchor.errors import DocumentError

from .problems import ApiError, problem_response


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> ApiError:
        return ApiError(413, "CONTENT_TOO_LARGE", f"the request body is larger than {self.max_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        announced: int | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                announced = int(value) if value.isdigit() else -1
        if announced is not None and (announced < 0 or announced > self.max_bytes):
            err = (
                self._too_large() if announced > 0 else ApiError(400, "BAD_REQUEST", "invalid Content-Length")
            )
            await problem_response(err.status, err.code, err.detail)(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE") or (
            announced is not None and not _is_json(scope)
        ):
            await self.app(scope, receive, send)  # the server holds the body to its announced length
            return
        # A streamed (chunked) body, or any JSON body: read it up to the limit before the app sees it.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                err = self._too_large()
                await problem_response(err.status, err.code, err.detail)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _is_json(scope):
            # FastAPI parses JSON bodies with json.loads: bound the nesting first (see check_json_nesting).
            try:
                check_json_nesting(body)
            except DocumentError as e:
                await problem_response(422, "INVALID_JSON", str(e))(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return b"json" in value.lower()
    return False


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
        docs = str(scope.get("path", "")).startswith("/v1/docs")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if headers.get("content-type", "").startswith("text/html") and not docs:
                    headers.setdefault("Content-Security-Policy", _CSP)
                    headers.setdefault("Referrer-Policy", "no-referrer")
            await send(message)

        await self.app(scope, receive, send_with_headers)
