"""Checks on a bundle's raw text before the models see it, and one-line messages for what fails."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from pydantic import ValidationError

from ..errors import BundleError

MEDIA_TYPE: Final = "application/vnd.trustanchor.bundle.v2+json"
_MEDIA_TYPE_RE = re.compile(r"application/vnd\.trustanchor\.bundle\.v(\d+)\+json")


def short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def precheck(data: str | bytes) -> None:
    """Reject non-bundles and other versions with a specific message before field validation."""
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BundleError(f"not a proof bundle: not UTF-8 text (byte {exc.start})") from None
    # py-evm raises the recursion limit to 100,000, so deeply nested JSON would overflow the C stack
    # inside json.loads: a bundle has a handful of objects and arrays, so bound them before parsing.
    # Brackets inside strings (a document name may hold any) are not containers: count outside them.
    if data.count("{") + data.count("[") > MAX_CONTAINERS and _containers(data) > MAX_CONTAINERS:
        raise BundleError("not a proof bundle: too many nested objects or arrays")
    try:
        obj = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"not a proof bundle: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})"
        ) from None
    except _DuplicateKey as exc:
        raise BundleError(f"invalid proof bundle: duplicate field {exc.args[0]!r}") from None
    except _NonStandardConstant as exc:
        raise BundleError(f"not a proof bundle: invalid JSON ({exc.args[0]} is not JSON)") from None
    if not isinstance(obj, dict):
        raise BundleError(f"not a proof bundle: expected a JSON object, got {type(obj).__name__}")
    media_type = obj.get("mediaType")
    if media_type is None:
        raise BundleError("not a proof bundle: no mediaType")
    if media_type == MEDIA_TYPE:
        return
    match = _MEDIA_TYPE_RE.fullmatch(media_type) if isinstance(media_type, str) else None
    if match:
        hint = (
            " (a v1 bundle was anchored on registries v1: ask the issuer to re-issue the document)"
            if int(match.group(1)) < 2
            else ""
        )
        raise BundleError(
            f"unsupported bundle version v{match.group(1)} (mediaType {media_type}); this library reads v2{hint}"
        )
    raise BundleError(f"not a proof bundle: mediaType {short(media_type)} is not {MEDIA_TYPE}")


MAX_CONTAINERS = 256
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _containers(data: str) -> int:
    bare = _STRING.sub("", data)
    return bare.count("{") + bare.count("[")


class _DuplicateKey(ValueError):
    pass


class _NonStandardConstant(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which duplicate wins: a classic way to smuggle a second value past a verifier.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    # Python's json accepts NaN and Infinity; other languages' parsers do not.
    raise _NonStandardConstant(name)


_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
}


def one_line(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    path = ""
    for part in first["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    ctx = first.get("ctx", {})
    if first["type"] == "value_error":
        message = str(ctx.get("error", first["msg"]))
    elif first["type"] == "too_short":
        message = f"must have at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    elif first["type"] == "too_long":
        message = f"must have at most {ctx.get('max_length')} item(s), got {ctx.get('actual_length')}"
    else:
        message = _MESSAGES.get(first["type"]) or f"{first['msg']}, got {short(first['input'])}"
    message = " ".join(message.split())
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"invalid proof bundle: {path + ': ' if path else ''}{message}{more}"
