"""The catalogue of document types: on chain a type is a bit index 0..63 in a uint64 mask."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ConfigError

# Ids are stable forever: they are stored on chain in masks and committed into every leaf.
DOCUMENT_TYPES: dict[str, int] = {
    "cites-permit": 0,
    "cites-certificate": 1,
    "phytosanitary-certificate": 2,
    "certificate-of-origin": 3,
    "veterinary-certificate": 4,
    "customs-declaration": 5,
}
NAMES: dict[int, str] = {v: k for k, v in DOCUMENT_TYPES.items()}
ALL_TYPES_MASK = (1 << 64) - 1
MAX_TYPE_ID = 63


def type_id(name_or_id: str | int) -> int:
    """Resolve a document type name (or a numeric id) to its id."""
    if isinstance(name_or_id, int):
        if 0 <= name_or_id <= MAX_TYPE_ID:
            return name_or_id
        raise ConfigError(f"document type id {name_or_id} is outside 0..{MAX_TYPE_ID}")
    key = name_or_id.strip().lower()
    if key in DOCUMENT_TYPES:
        return DOCUMENT_TYPES[key]
    number = key[5:] if key.startswith("type-") else key  # type_name prints type-N for uncatalogued ids
    if number.isascii() and number.isdigit():  # '²' is a digit to str.isdigit, not to int()
        return type_id(int(number))
    known = ", ".join(DOCUMENT_TYPES)
    raise ConfigError(f"unknown document type {name_or_id!r} (known: {known})")


def type_name(tid: int) -> str:
    return NAMES.get(tid, f"type-{tid}")


def mask_of(types: Iterable[str | int]) -> int:
    """Mask for a list of types; the single word 'all' means every type."""
    mask = 0
    for t in types:
        if isinstance(t, str) and t.strip().lower() == "all":
            return ALL_TYPES_MASK
        mask |= 1 << type_id(t)
    return mask


def names_of(mask: int) -> list[str]:
    if mask == ALL_TYPES_MASK:
        return ["all"]
    return [type_name(i) for i in range(MAX_TYPE_ID + 1) if mask >> i & 1]
