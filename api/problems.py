"""RFC 9457 problem details: every error response is application/problem+json with a stable `code`.

No handler ever puts an exception's traceback or repr in a response; unexpected errors are logged with
an error id that the response repeats, so an operator can find them.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("trustanchor.api")

_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    500: "Internal error",
    502: "Chain error",
    503: "Service unavailable",
}
_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "CONTENT_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


class FieldError(BaseModel):
    field: str = Field(description="The offending input, e.g. documents[3].content or query.block")
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    code: str = Field(description="Stable machine-readable error code")
    detail: str
    errors: list[FieldError] | None = None
    errorId: str | None = None


class ApiError(Exception):
    """An error with an HTTP status, a stable code and a one-line detail (optionally naming a field)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.headers = headers
        self.extra = extra or {}


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
    }
    if errors:
        body["errors"] = [e.model_dump() for e in errors]
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_path(loc: Sequence[str | int]) -> str:
    """('body', 'documents', 3, 'content') -> 'documents[3].content'; query/path/header keep their prefix."""
    parts = list(loc)
    prefix = ""
    if parts and parts[0] == "body":
        parts = parts[1:]
    elif parts and parts[0] in ("query", "path", "header", "cookie"):
        prefix = f"{parts[0]}."
        parts = parts[1:]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return prefix + (out or "body")


def _validation_message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "json_invalid":
        return f"request body is not valid JSON: {err.get('ctx', {}).get('error', 'parse error')}"
    msg = str(err.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")


def validation_response(exc: RequestValidationError) -> JSONResponse:
    errors = [FieldError(field=field_path(e["loc"]), message=_validation_message(e)) for e in exc.errors()]
    errors = errors[:20]
    first = errors[0] if errors else FieldError(field="body", message="invalid request")
    return problem_response(422, "VALIDATION_FAILED", f"{first.field}: {first.message}", errors=errors)


def api_error_response(exc: ApiError) -> JSONResponse:
    errors = [FieldError(field=exc.field, message=exc.detail)] if exc.field else []
    detail = f"{exc.field}: {exc.detail}" if exc.field else exc.detail
    return problem_response(exc.status, exc.code, detail, errors=errors, headers=exc.headers, extra=exc.extra)


def unexpected_response(method: str, path: str, exc: BaseException) -> JSONResponse:
    error_id = secrets.token_hex(6)
    log.error("unexpected error %s on %s %s: %s", error_id, method, path, type(exc).__name__, exc_info=exc)
    return problem_response(
        500, "INTERNAL_ERROR", f"unexpected server error (id {error_id})", extra={"errorId": error_id}
    )


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_response(exc)


async def _api_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return api_error_response(exc)


async def _http_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's answer to a body that is not UTF-8 JSON at all: an invalid input like any other.
        error = FieldError(field="body", message="request body is not valid UTF-8 JSON")
        return problem_response(422, "INVALID_JSON", f"body: {error.message}", errors=[error])
    code = _HTTP_CODES.get(status, f"HTTP_{status}")
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(status, "error")
    if status == 404 and detail == "Not Found":
        detail = f"no such resource: {request.url.path}"
    if status == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(status, code, detail, headers=getattr(exc, "headers", None))


async def _disconnect_handler(request: Request, exc: Exception) -> JSONResponse:
    # Nobody is left to read this answer; it only keeps a client hanging up mid-body out of the error log.
    return problem_response(400, "BAD_REQUEST", "the client went away before sending the whole request")


async def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    return unexpected_response(request.method, request.url.path, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(ApiError, _api_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(ClientDisconnect, _disconnect_handler)
    app.add_exception_handler(Exception, _unexpected_handler)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem statuses a route can answer with."""
    return {
        s: {"model": Problem, "description": _TITLES.get(s, "Error"), "content": {PROBLEM_JSON: {}}}
        for s in statuses
    }
