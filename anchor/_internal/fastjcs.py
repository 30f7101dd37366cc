"""RFC 8785 (JCS) canonical JSON, byte-identical to ``rfc8785.dumps`` but several times faster.

``rfc8785`` is pure Python. The stdlib's C encoder, configured in ``_make_encoder`` below, writes
the very same bytes whenever three things hold:

* no object key lies outside the BMP: JCS sorts keys by UTF-16 code unit and Python by code
  point, and the two orders differ only when a surrogate pair meets a BMP character >= U+E000;
* every int is within JCS's +/-(2**53 - 1) (rfc8785 raises beyond it, json would not);
* every float's ``repr`` already is its ECMAScript form: no exponent and no ``.0`` tail.

String escaping already agrees (both escape exactly ``"``, ``\\`` and U+0000..U+001F, with the
same short forms and lowercase hex). The fast path is taken only once those conditions are
established; anything else goes to ``rfc8785.dumps``, which also raises the precise error.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any

import rfc8785

MAX_SAFE_INT = 2**53 - 1
# The C parser and encoder recurse on the C stack, bounded only by the recursion limit, which
# py-evm and py_ecc raise to 100000 on import: a few hundred KB of "[" would then crash the
# process. Real documents nest a dozen levels.
MAX_DEPTH = 128


def _make_encoder() -> Callable[[object], str]:
    encoder = json.JSONEncoder(
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, check_circular=False
    )
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:
        return encoder.encode
    # JSONEncoder.encode builds this C encoder anew on every call; building it once saves ~3 us
    # of ~25 per document. Same arguments, in the same order, as JSONEncoder.iterencode passes.
    iterencode = c_make_encoder(
        None, encoder.default, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    return lambda value: "".join(iterencode(value, 0))


_ENCODE_STR = _make_encoder()

# On the encoder's output: fold digits to "0", "+" to "-" and UTF-8 lead bytes of non-BMP
# characters to 0xF0, so three substring searches (C speed, no regex) find every suspect.
_SUSPECTS = bytes.maketrans(b"0123456789+" + bytes(range(0xF0, 0x100)), b"0" * 10 + b"-" + b"\xf0" * 16)
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_NAN_OR_INFINITY = re.compile(_STRING + r"|(NaN|-?Infinity)", re.DOTALL)
_STRING_BYTES = re.compile(_STRING.encode(), re.DOTALL)
_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class DuplicateKeyError(ValueError):
    """An object has the same key twice; which value is meant would be up to the parser."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate object key {key!r}")
        self.key = key


class NestingError(ValueError):
    """Arrays and objects nest deeper than ``MAX_DEPTH``."""


class _NonFiniteConstant(ValueError):
    pass


def canonical_json(value: object) -> bytes:
    """The RFC 8785 form of ``value``; same bytes and same exceptions as ``rfc8785.dumps``."""
    if _fast_safe(value, 0):
        try:
            return _encode(value)
        except UnicodeEncodeError:  # a lone surrogate: rfc8785 raises its own error for it
            pass
    return rfc8785.dumps(value)  # type: ignore[arg-type]


def canonicalize_json(data: bytes) -> bytes:
    """Parse UTF-8 JSON strictly and return its RFC 8785 form.

    Raises ``UnicodeDecodeError``, ``json.JSONDecodeError`` (also for NaN/Infinity),
    ``DuplicateKeyError``, ``NestingError`` or ``rfc8785.CanonicalizationError``.
    """
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):  # RFC 8259 section 8.1 lets a parser ignore a byte order mark
        text = text[1:]
    check_nesting(data)
    try:
        value = _DECODER.decode(text)
    except _NonFiniteConstant as exc:
        match = next(m for m in _NAN_OR_INFINITY.finditer(text) if m.group(1))
        raise json.JSONDecodeError(f"{exc} is not a JSON number", text, match.start(1)) from None
    try:
        out = _encode_parsed(value)
    except ValueError:
        _reject_duplicates(text)  # so that a parse-level fault always wins, whatever the value
        raise
    # Every ':' outside a string separates one member, and neither encoder escapes ':' inside
    # one, so a member lost to a duplicate key shows up as a missing colon. Only a \u003X
    # escape in the input could make up the difference; then check the slow, exact way.
    if data.count(b":") != out.count(b":") or b"\\u003" in data:
        _reject_duplicates(text)
    return out


def _encode(value: object) -> bytes:
    return _ENCODE_STR(value).encode("utf-8")


def _encode_parsed(value: Any) -> bytes:
    """Canonical form of a value from ``_DECODER``: dicts with str keys, lists, scalars, no cycles."""
    try:
        out = _encode(value)
    except (ValueError, UnicodeEncodeError):  # infinity from e.g. 1e400, or a lone surrogate
        return rfc8785.dumps(value)
    # After _parse_float, the only numbers json may write differently are ints and integral
    # floats beyond 2**53 - 1 (16 digits or more, or an exponent) and floats below 1e-4 (an
    # exponent). A false alarm, e.g. digits or "0e-" inside a string, only costs the exact walk.
    suspects = out.translate(_SUSPECTS)
    if b"0000000000000000" not in suspects and b"0e-" not in suspects and b"\xf0" not in suspects:
        return out
    return out if _fast_safe(value, 0) else rfc8785.dumps(value)


def _fast_safe(value: object, depth: int) -> bool:
    """Whether the stdlib encoder writes ``value`` exactly as RFC 8785 does.

    Loops rather than ``all(map(...))``: calls from Python to Python do not grow the C stack.
    """
    if type(value) is dict:
        if depth == MAX_DEPTH:  # also ends cycles, which rfc8785 then reports
            return False
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or max(key) <= "\uffff"):
                return False
            if type(item) is str or (type(item) is int and -MAX_SAFE_INT <= item <= MAX_SAFE_INT):
                continue  # the usual leaves, checked without a call
            if not _fast_safe(item, depth + 1):
                return False
        return True
    if type(value) is list or type(value) is tuple:
        if depth == MAX_DEPTH:
            return False
        for item in value:
            if type(item) is str or (type(item) is int and -MAX_SAFE_INT <= item <= MAX_SAFE_INT):
                continue  # the usual leaves, checked without a call
            if not _fast_safe(item, depth + 1):
                return False
        return True
    if type(value) is str or type(value) is bool or value is None:
        return True
    if type(value) is int:
        return -MAX_SAFE_INT <= value <= MAX_SAFE_INT
    if type(value) is float:
        text = repr(value)
        return math.isfinite(value) and "e" not in text and not text.endswith(".0")
    return False


def check_nesting(data: bytes, max_depth: int = MAX_DEPTH) -> None:
    """Raise NestingError if JSON text nests arrays/objects deeper than `max_depth`: call it before
    handing untrusted JSON to the C parser (see MAX_DEPTH)."""
    if data.count(b"[") + data.count(b"{") <= max_depth:  # cheap bound; the exact scan is rarely needed
        return
    # UTF-8 never has '"' or '\\' inside a multi-byte character, so strings can go bytewise.
    brackets = _STRING_BYTES.sub(b"", data).translate(None, _NOT_BRACKET)
    if max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > max_depth:
        raise NestingError(f"arrays and objects nest more than {max_depth} levels deep")


def _parse_float(literal: str) -> float | int:
    number = float(literal)
    # JCS writes an integral double as an integer; the int of the same value is written alike
    # by both encoders, while json would write the float as e.g. "12.0".
    if number.is_integer() and -MAX_SAFE_INT <= number <= MAX_SAFE_INT:
        return int(number)
    return number


def _reject_constant(name: str) -> Any:
    raise _NonFiniteConstant(name)


def _reject_duplicates(text: str) -> None:
    json.loads(text, object_pairs_hook=_unique_object)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return obj


_DECODER = json.JSONDecoder(parse_float=_parse_float, parse_constant=_reject_constant)
