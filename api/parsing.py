"""Request input read into the library's values: a bad input is a one-line 422 (or 413) naming its field.

* Strict JSON for evidence (`parse_json`): duplicate members and NaN/Infinity are refused. Parsers
  disagree on which of two duplicate members wins, so a bundle with duplicates could mean one thing to
  this service and another to someone else; FastAPI's own body parsing would silently keep the last one.
  Routes that take bundles therefore read the raw body through here.
* Body limits: a body is counted as it streams in (`limited`), so a Content-Length that lies, or chunked
  transfer with none, meets the same limit as an honest one: 413 CONTENT_TOO_LARGE as soon as the count
  passes it, with at most the limit held in memory. Which limit applies is the route's: JSON bodies get
  `max_request_bytes`, the multipart upload routes (`upload_route`) `max_upload_bytes`.
* Work that grows with an input's size runs off the event loop (`sized`): parsing a JSON body, decoding
  base64 or canonicalizing a document costs time in proportion to its size (a 4 MiB body takes tens of
  milliseconds). On the event loop that time is taken from every other request, down to the liveness
  probe; in a worker thread the loop keeps answering. Small inputs stay on the loop: for them the hop to
  a thread costs more than the work, and their cost is bounded by `INLINE_BYTES`.
* Parameters: times, fingerprints, parties, document types, terms, base64 content.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive

from anchor import inputs
from anchor.deploy import party_id
from anchor.doctypes import type_id
from anchor.errors import ConfigError, DocumentError
from anchor.issuing.canonical import check_json_nesting
from anchor.issuing.leaf import NO_TERMS, LeafError, Terms

from .models import TermsSubmission
from .problems import ApiError

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


# ------------------------------------------------------------------ strict JSON


class _Duplicate(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(k)
        out[k] = v
    return out


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes, field: str = "body") -> Any:
    try:
        check_json_nesting(data)
    except DocumentError as e:
        raise ApiError(422, "INVALID_JSON", str(e), field=field) from None
    try:
        return json.loads(data, object_pairs_hook=_pairs, parse_constant=_constant)
    except _Duplicate as e:
        raise ApiError(422, "DUPLICATE_MEMBER", f"duplicate JSON member {e.args[0]!r}", field=field) from None
    except UnicodeDecodeError:
        raise ApiError(422, "INVALID_JSON", "not UTF-8 text", field=field) from None
    except json.JSONDecodeError as e:
        raise ApiError(
            422, "INVALID_JSON", f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}", field=field
        ) from None
    except (ValueError, RecursionError) as e:
        raise ApiError(422, "INVALID_JSON", str(e)[:200], field=field) from None


def validate(model: type[M], obj: Any) -> M:
    try:
        return model.model_validate(obj)
    except ValidationError as e:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in e.errors(include_url=False)]
        ) from None


# ------------------------------------------------------------------ body limits


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


# ------------------------------------------------------------------ off the event loop


# Up to this many bytes of input, parsing or checking takes well under a millisecond.
INLINE_BYTES = 64 * 1024


async def sized(size: int, fn: Callable[..., T], *args: object) -> T:
    """fn(*args), on the event loop if `size` (the input's bytes) is small, else in a worker thread."""
    if size <= INLINE_BYTES:
        return fn(*args)
    return await run_in_threadpool(fn, *args)


# ------------------------------------------------------------------ parameters


def parse_at(text: str | None, field: str = "query.at") -> int | None:
    """A time (unix seconds or ISO 8601); None for now."""
    try:
        return inputs.parse_time(text)
    except ConfigError as e:
        raise ApiError(422, "INVALID_TIME", str(e), field=field) from None


def parse_fingerprint(text: str, field: str = "path.fingerprint") -> bytes:
    try:
        return inputs.parse_fingerprint(text)
    except ConfigError as e:
        raise ApiError(422, "INVALID_FINGERPRINT", str(e), field=field) from None


def parse_party(text: str, field: str = "query.party") -> str:
    try:
        party_id(text)
    except ConfigError as e:
        raise ApiError(422, "INVALID_PARTY", str(e), field=field) from None
    return text.strip().upper()


def decode_base64(text: str, field: str, limit: int) -> bytes:
    if len(text) > (limit + 2) // 3 * 4 + 4:
        raise ApiError(413, "DOCUMENT_TOO_LARGE", f"larger than the limit of {limit} bytes", field=field)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "INVALID_BASE64", "not standard base64", field=field) from None
    if len(data) > limit:
        raise ApiError(413, "DOCUMENT_TOO_LARGE", f"larger than the limit of {limit} bytes", field=field)
    return data


def parse_doc_type(text: str, field: str = "documentType") -> int:
    try:
        return type_id(text)
    except ConfigError as e:
        raise ApiError(422, "UNKNOWN_DOCUMENT_TYPE", str(e), field=field) from None


def parse_terms(t: TermsSubmission | None, field: str) -> Terms:
    """A request's terms (TermsSubmission) as leaf terms; one-line 422 naming the field otherwise."""
    if t is None:
        return NO_TERMS
    try:
        return Terms(
            destination=(t.destination or "").strip().upper(),
            valid_from=_time(t.validFrom, inputs.parse_time),
            valid_until=_time(t.validUntil, inputs.parse_time),
            quantity=t.quantity or 0,
            unit=t.unit or "",
        )
    except (ConfigError, LeafError) as e:
        raise ApiError(422, "INVALID_TERMS", str(e), field=field) from None


def _time(value: int | str | None, parse: Callable[[str], int | None]) -> int:
    if value is None:
        return 0
    return parse(str(value)) or 0
