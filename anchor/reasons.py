"""Revocation reason codes (uint8 on chain): RFC 5280 CRL reasons, then document-specific ones."""

from __future__ import annotations

from .errors import ConfigError

REASONS: dict[str, int] = {
    "unspecified": 0,
    "key-compromise": 1,
    "ca-compromise": 2,
    "affiliation-changed": 3,
    "superseded": 4,
    "cessation-of-operation": 5,
    "certificate-hold": 6,
    "privilege-withdrawn": 9,
    "issued-in-error": 16,
    "cancelled": 17,
    "fraud-suspected": 18,
    "goods-not-shipped": 19,
}
_NAMES = {v: k for k, v in REASONS.items()}


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()  # '²' is a digit to str.isdigit, not to int()


def reason_code(name_or_code: str | int) -> int:
    if isinstance(name_or_code, int) or _is_number(str(name_or_code)):
        code = int(name_or_code)
        if 0 <= code <= 255:
            return code
        raise ConfigError(f"reason code {code} is outside 0..255")
    key = str(name_or_code).strip().lower().replace("_", "-")
    if key in REASONS:
        return REASONS[key]
    if key.startswith("reason-") and _is_number(key[7:]):  # what reason_name prints for codes without a name
        return reason_code(key[7:])
    raise ConfigError(f"unknown reason {name_or_code!r} (known: {', '.join(REASONS)})")


def reason_name(code: int) -> str:
    return _NAMES.get(code, f"reason-{code}")
