"""Merkle leaves (v2): one per document, committing to its type, its terms and a salted commitment to it.

The byte layout is fixed; the DocumentRegistry recomputes it when a one-time document is consumed or
endorsed (``leafOf``), and every verifier, in any language, must too::

    commitment = SHA-256("TrustAnchor/commit/v2\\x00" || salt (16) || digest (32))
    leaf_data  = "TrustAnchor/leaf/v2\\x00" || commitment (32) || doc_type_id (1)
                 || destination (8, party code, zero = any) || valid_from (5) || valid_until (5)
                 || quantity (8) || unit (8, ASCII, zero-padded)          # integers big-endian
    leaf_hash  = SHA-256(0x00 || leaf_data)                               # RFC 9162 leaf prefix

The commitment is what only a bundle holder knows: consuming needs it, so nobody who merely reads the
chain can use up someone else's document; the 128-bit salt keeps the chain from confirming a guess about
a document even once consuming has revealed the commitment. Zero means "open" for every term.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

from ..doctypes import MAX_TYPE_ID
from ..errors import DocumentError

LEAF_DOMAIN = b"TrustAnchor/leaf/v2\x00"
COMMIT_DOMAIN = b"TrustAnchor/commit/v2\x00"
SALT_LEN = 16
DIGEST_LEN = 32
HASH_LEN = 32
MAX_TIME = (1 << 40) - 1
MAX_QUANTITY = (1 << 64) - 1

_HEAD = b"\x00" + LEAF_DOMAIN  # RFC 9162 leaf prefix, then the domain tag
_TYPE_BYTES = [bytes([i]) for i in range(MAX_TYPE_ID + 1)]


class LeafError(DocumentError, ValueError):
    """A leaf input has the wrong length or range (also a ValueError, for callers validating input)."""


def _code8(code: str, what: str) -> bytes:
    raw = code.encode("ascii", "replace")
    if len(raw) > 8 or (raw and not (raw.isascii() and raw.isalnum())):
        raise LeafError(f"{what} must be 1-8 ASCII letters or digits, got {code!r}")
    return raw.ljust(8, b"\x00")


@dataclass(frozen=True)
class Terms:
    """What a border checks, committed in the leaf: destination party ('' = any), validity period (unix
    seconds, 0 = open) and an optional quantity with its unit (0 = none)."""

    destination: str = ""
    valid_from: int = 0
    valid_until: int = 0
    quantity: int = 0
    unit: str = ""

    def __post_init__(self) -> None:
        for name in ("valid_from", "valid_until"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_TIME:
                raise LeafError(f"{name} must be unix seconds in 0..{MAX_TIME}, got {v!r}")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise LeafError(f"validUntil {self.valid_until} is before validFrom {self.valid_from}")
        q = self.quantity
        if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q <= MAX_QUANTITY:
            raise LeafError(f"quantity must be a whole number in 1..{MAX_QUANTITY} (0 for none), got {q!r}")
        if self.unit and not q:
            raise LeafError(f"unit {self.unit!r} given without a quantity")
        object.__setattr__(self, "destination", self.destination.strip().upper())
        _code8(self.destination, "destination party")
        _code8(self.unit, "quantity unit")

    @property
    def open(self) -> bool:
        return self == NO_TERMS

    def packed(self) -> bytes:
        """The 34 bytes of the leaf after the document type."""
        return (
            _code8(self.destination, "destination party")
            + self.valid_from.to_bytes(5, "big")
            + self.valid_until.to_bytes(5, "big")
            + self.quantity.to_bytes(8, "big")
            + _code8(self.unit, "quantity unit")
        )

    @classmethod
    def unpack(cls, data: bytes) -> Terms:
        """The inverse of ``packed`` (34 bytes), for stores that keep terms as the leaf does."""
        if len(data) != 34:
            raise LeafError(f"packed terms are 34 bytes, got {len(data)}")
        return cls(
            data[:8].rstrip(b"\x00").decode("ascii"),
            int.from_bytes(data[8:13], "big"),
            int.from_bytes(data[13:18], "big"),
            int.from_bytes(data[18:26], "big"),
            data[26:].rstrip(b"\x00").decode("ascii"),
        )

    def as_tuple(self, commitment: bytes) -> tuple[bytes, bytes, int, int, int, bytes]:
        """The contract's Terms struct for this document's `commitment`."""
        return (
            commitment,
            _code8(self.destination, "destination party"),
            self.valid_from,
            self.valid_until,
            self.quantity,
            _code8(self.unit, "quantity unit"),
        )


NO_TERMS = Terms()


def new_salt() -> bytes:
    """16 fresh random bytes for one document's leaf."""
    return os.urandom(SALT_LEN)


def new_salts(n: int) -> list[bytes]:
    """``n`` salts from a single ``os.urandom`` call: one syscall instead of ``n`` for large batches."""
    if n < 0:
        raise LeafError(f"salt count must be >= 0, got {n}")
    pool = os.urandom(SALT_LEN * n)
    return [pool[i : i + SALT_LEN] for i in range(0, SALT_LEN * n, SALT_LEN)]


def _check(doc_type_id: int, salt: bytes, digest: bytes) -> None:
    if (
        isinstance(doc_type_id, bool)
        or not isinstance(doc_type_id, int)
        or not 0 <= doc_type_id <= MAX_TYPE_ID
    ):
        raise LeafError(f"document type id must be an integer in 0..{MAX_TYPE_ID}, got {doc_type_id!r}")
    if len(salt) != SALT_LEN:
        raise LeafError(f"leaf salt must be {SALT_LEN} bytes, got {len(salt)}")
    if len(digest) != DIGEST_LEN:
        raise LeafError(f"document digest must be {DIGEST_LEN} bytes (SHA-256), got {len(digest)}")


def commitment(salt: bytes, digest: bytes) -> bytes:
    """SHA-256 over the commitment domain, the salt and the digest: the leaf's secret part."""
    return hashlib.sha256(COMMIT_DOMAIN + bytes(salt) + bytes(digest)).digest()


def leaf_data(doc_type_id: int, salt: bytes, digest: bytes, terms: Terms = NO_TERMS) -> bytes:
    """The exact bytes that are hashed (after the 0x00 prefix) into the leaf."""
    _check(doc_type_id, salt, digest)
    return LEAF_DOMAIN + commitment(salt, digest) + _TYPE_BYTES[doc_type_id] + terms.packed()


def leaf_hash(doc_type_id: int, salt: bytes, digest: bytes, terms: Terms = NO_TERMS) -> bytes:
    """SHA-256(0x00 || leaf_data): the level-0 node of the batch's Merkle tree."""
    _check(doc_type_id, salt, digest)
    return leaf_of_opening(doc_type_id, commitment(salt, digest), terms.packed())


def leaf_of_opening(doc_type_id: int, commitment_: bytes, packed_terms: bytes) -> bytes:
    """The leaf from what a consumer reveals on chain (the contract's ``leafOf``): the commitment and
    the 34 bytes of packed terms."""
    return hashlib.sha256(_HEAD + commitment_ + _TYPE_BYTES[doc_type_id] + packed_terms).digest()


def leaf_hashes(
    doc_type_id: int,
    salts: Sequence[bytes],
    digests: Sequence[bytes],
    terms: Sequence[Terms] | None = None,
) -> list[bytes]:
    """Leaf hashes of a whole single-type batch; validates once per item but skips per-call overhead.
    ``terms`` is one Terms per document, or None when every document's terms are open."""
    if len(salts) != len(digests):
        raise LeafError(f"{len(salts)} salts for {len(digests)} digests")
    if terms is not None and len(terms) != len(digests):
        raise LeafError(f"{len(terms)} terms for {len(digests)} documents")
    _check(doc_type_id, b"\x00" * SALT_LEN, b"\x00" * DIGEST_LEN)
    # set(map(len, ...)) runs in C: a generator over a million items would cost a tenth of a second.
    if salts and set(map(len, salts)) != {SALT_LEN}:
        raise LeafError(f"every leaf salt must be {SALT_LEN} bytes")
    if digests and set(map(len, digests)) != {DIGEST_LEN}:
        raise LeafError(f"every document digest must be {DIGEST_LEN} bytes (SHA-256)")
    type_byte = _TYPE_BYTES[doc_type_id]
    sha = hashlib.sha256
    if terms is None:
        tail = type_byte + NO_TERMS.packed()
        return [
            sha(_HEAD + sha(COMMIT_DOMAIN + s + d).digest() + tail).digest()
            for s, d in zip(salts, digests, strict=True)
        ]
    return [
        sha(_HEAD + sha(COMMIT_DOMAIN + s + d).digest() + type_byte + t.packed()).digest()
        for s, d, t in zip(salts, digests, terms, strict=True)
    ]
