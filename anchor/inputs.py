"""What people type for a time or a CA fingerprint, parsed once for the CLI and the service.

Errors are ConfigError with a one-line message naming the input; the CLI shows it as a usage error,
the service as a 422 naming the field.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .errors import ConfigError

# The registries keep every time as uint40 unix seconds (until the year 36812).
MAX_TIME = (1 << 40) - 1


def parse_time(text: str | None) -> int | None:
    """None, '' or 'now' -> None; unix seconds, or ISO 8601 (UTC when it has no offset) -> seconds."""
    if text is None or text.strip().lower() in ("", "now"):
        return None
    t = text.strip()
    if t.isascii() and t.isdigit():  # '²' is a digit to str.isdigit, not to int()
        value = int(t)
    else:
        try:
            dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{text!r} is not 'now', unix seconds or an ISO 8601 time") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        value = int(dt.timestamp())
    if not 0 <= value <= MAX_TIME:
        raise ConfigError(f"{text!r} is out of range: times run from 1970 to the year 36812")
    return value


MAX_QUANTITY = (1 << 64) - 1


def parse_quantity(text: str | int, what: str = "quantity") -> int:
    """A whole positive quantity that fits the registry's uint64."""
    t = str(text).strip()
    if not (t.isascii() and t.isdigit()):
        raise ConfigError(f"{what} {text!r} is not a whole positive number")
    value = int(t)
    if not 1 <= value <= MAX_QUANTITY:
        raise ConfigError(f"{what} {text!r} must be between 1 and {MAX_QUANTITY}")
    return value


def parse_fingerprint(text: str) -> bytes:
    """A CA certificate's SHA-256 fingerprint: 64 hex digits, with or without 0x or colons."""
    t = text.strip().lower().removeprefix("0x").replace(":", "")
    try:
        raw = bytes.fromhex(t)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"{text!r} is not a SHA-256 fingerprint (64 hex digits)")
    return raw


_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, what: str = "duration") -> int:
    """'24h', '90m', '2d', '45s' or plain seconds -> seconds (a whole positive number)."""
    t = text.strip().lower()
    number = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(number) :] or "s"
    if not (number.isascii() and number.isdigit()) or unit not in _UNITS:
        raise ConfigError(f"{what} {text!r} is not a duration like 24h, 90m, 2d or 3600")
    value = int(number) * _UNITS[unit]
    if not 0 < value <= MAX_TIME:
        raise ConfigError(f"{what} {text!r} must be positive")
    return value
