"""Strict JSON request bodies for evidence: duplicate members and NaN/Infinity are refused.

Parsers disagree on which of two duplicate members wins, so a bundle with duplicates could mean one
thing to this service and another to someone else; FastAPI's own body parsing would silently keep the
last one. Routes that take bundles therefore read the raw body through here.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from anchor.bundle import Bundle
from anchor.errors import BundleError, DocumentError
from anchor.issuing.canonical import check_json_nesting

from .problems import ApiError

M = TypeVar("M", bound=BaseModel)


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


def load_bundle(data: bytes | str | dict[str, Any], field: str = "bundle") -> Bundle:
    """The library's own parsing and messages (so they match `trustanchor verify`)."""
    text = json.dumps(data) if isinstance(data, dict) else data
    try:
        return Bundle.from_json(text)
    except BundleError as e:
        raise ApiError(422, "INVALID_BUNDLE", str(e), field=field) from None
