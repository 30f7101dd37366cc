"""Request parameters parsed into the library's values; a bad one is a 422 naming its field."""

from __future__ import annotations

from anchor import inputs
from anchor.deploy import party_id
from anchor.errors import ConfigError

from .problems import ApiError


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
