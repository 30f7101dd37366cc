"""Merkle leaves: one per document, committing to its type, a random salt and its canonical digest.

The byte layout is fixed: the registry contract recomputes nothing from it, but every verifier
(in any language) must, so it never changes within ``v1``::

    leaf_data = b"TrustAnchor/leaf/v1\\x00" || doc_type_id (1 byte) || salt (16) || digest (32)
    leaf_hash = SHA-256(0x00 || leaf_data)          # RFC 9162 leaf prefix
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from .doctypes import MAX_TYPE_ID
from .errors import DocumentError

LEAF_DOMAIN = b"TrustAnchor/leaf/v1\x00"
SALT_LEN = 16
DIGEST_LEN = 32
HASH_LEN = 32

_HEAD = b"\x00" + LEAF_DOMAIN  # RFC 9162 leaf prefix, then the domain tag
_TYPE_BYTES = [bytes([i]) for i in range(MAX_TYPE_ID + 1)]


class LeafError(DocumentError, ValueError):
    """A leaf input has the wrong length or range (also a ValueError, for callers validating input)."""


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


def leaf_data(doc_type_id: int, salt: bytes, digest: bytes) -> bytes:
    """The exact bytes that are hashed (after the 0x00 prefix) into the leaf."""
    _check(doc_type_id, salt, digest)
    return LEAF_DOMAIN + _TYPE_BYTES[doc_type_id] + bytes(salt) + bytes(digest)


def leaf_hash(doc_type_id: int, salt: bytes, digest: bytes) -> bytes:
    """SHA-256(0x00 || leaf_data): the level-0 node of the batch's Merkle tree."""
    _check(doc_type_id, salt, digest)
    return hashlib.sha256(_HEAD + _TYPE_BYTES[doc_type_id] + salt + digest).digest()


def leaf_hashes(doc_type_id: int, salts: Sequence[bytes], digests: Sequence[bytes]) -> list[bytes]:
    """Leaf hashes of a whole single-type batch; validates once per item but skips per-call overhead."""
    if len(salts) != len(digests):
        raise LeafError(f"{len(salts)} salts for {len(digests)} digests")
    _check(doc_type_id, b"\x00" * SALT_LEN, b"\x00" * DIGEST_LEN)
    # set(map(len, ...)) runs in C: a generator over a million items would cost a tenth of a second.
    if salts and set(map(len, salts)) != {SALT_LEN}:
        raise LeafError(f"every leaf salt must be {SALT_LEN} bytes")
    if digests and set(map(len, digests)) != {DIGEST_LEN}:
        raise LeafError(f"every document digest must be {DIGEST_LEN} bytes (SHA-256)")
    head = _HEAD + _TYPE_BYTES[doc_type_id]
    sha = hashlib.sha256
    return [sha(head + s + d).digest() for s, d in zip(salts, digests, strict=True)]
