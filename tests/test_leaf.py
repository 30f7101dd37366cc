"""Leaf layout and hashing: fixed bytes shared with the contract and every other verifier."""

from __future__ import annotations

import hashlib
import os

import pytest

from anchor import leaf as leaf_mod
from anchor.errors import DocumentError
from anchor.leaf import LeafError, leaf_data, leaf_hash, leaf_hashes, new_salt, new_salts

SALT = bytes(range(16))
DIGEST = bytes(range(32, 64))
# Frozen known answer: if this changes, every bundle and on-chain root ever issued stops verifying.
KNOWN_LEAF = "cb6fcc31d804e96d4fcad6ec80ce92bbeb27dc88f6d708e7526394350ce9b24b"


def test_known_answer() -> None:
    assert leaf_hash(3, SALT, DIGEST).hex() == KNOWN_LEAF


def test_layout_is_the_documented_one() -> None:
    data = leaf_data(3, SALT, DIGEST)
    assert data == b"TrustAnchor/leaf/v1\x00" + b"\x03" + SALT + DIGEST
    assert len(data) == 20 + 1 + 16 + 32
    assert leaf_hash(3, SALT, DIGEST) == hashlib.sha256(b"\x00" + data).digest()


def test_every_input_changes_the_hash() -> None:
    base = leaf_hash(3, SALT, DIGEST)
    assert leaf_hash(2, SALT, DIGEST) != base
    assert leaf_hash(3, bytes(16), DIGEST) != base
    assert leaf_hash(3, SALT, bytes(32)) != base
    # No RFC 9162 prefix would make a leaf collide with an interior node of the same bytes.
    assert base != hashlib.sha256(leaf_data(3, SALT, DIGEST)).digest()


@pytest.mark.parametrize(
    ("doc_type_id", "salt", "digest", "message"),
    [
        (3, bytes(15), DIGEST, "salt must be 16 bytes, got 15"),
        (3, bytes(17), DIGEST, "salt must be 16 bytes, got 17"),
        (3, SALT, bytes(31), "digest must be 32 bytes"),
        (3, SALT, bytes(64), "digest must be 32 bytes"),
        (64, SALT, DIGEST, "0..63"),
        (-1, SALT, DIGEST, "0..63"),
        (True, SALT, DIGEST, "0..63"),
    ],
)
def test_rejects_bad_inputs(doc_type_id: int, salt: bytes, digest: bytes, message: str) -> None:
    with pytest.raises(LeafError, match=message) as info:
        leaf_hash(doc_type_id, salt, digest)
    # Callers catch either the library's DocumentError or a plain ValueError.
    assert isinstance(info.value, DocumentError)
    assert isinstance(info.value, ValueError)
    with pytest.raises(LeafError):
        leaf_data(doc_type_id, salt, digest)


def test_all_type_ids_accepted() -> None:
    hashes = {leaf_hash(t, SALT, DIGEST) for t in range(64)}
    assert len(hashes) == 64


def test_new_salt() -> None:
    a, b = new_salt(), new_salt()
    assert len(a) == len(b) == 16
    assert a != b


def test_new_salts_uses_one_urandom_call(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real_urandom = os.urandom

    def fake_urandom(n: int) -> bytes:
        calls.append(n)
        return real_urandom(n)

    monkeypatch.setattr(leaf_mod.os, "urandom", fake_urandom)
    salts = new_salts(1000)
    assert calls == [16_000]
    assert len(salts) == 1000
    assert all(len(s) == 16 for s in salts)
    assert len(set(salts)) == 1000
    assert new_salts(0) == []
    with pytest.raises(LeafError):
        new_salts(-1)


def test_bulk_equals_single() -> None:
    salts = new_salts(50)
    digests = [hashlib.sha256(bytes([i])).digest() for i in range(50)]
    assert leaf_hashes(4, salts, digests) == [leaf_hash(4, s, d) for s, d in zip(salts, digests, strict=True)]


def test_bulk_rejects_bad_inputs() -> None:
    with pytest.raises(LeafError, match="2 salts for 1 digests"):
        leaf_hashes(1, [SALT, SALT], [DIGEST])
    with pytest.raises(LeafError, match="salt"):
        leaf_hashes(1, [SALT, bytes(8)], [DIGEST, DIGEST])
    with pytest.raises(LeafError, match="digest"):
        leaf_hashes(1, [SALT, SALT], [DIGEST, bytes(20)])
    with pytest.raises(LeafError, match=r"0\.\.63"):
        leaf_hashes(99, [SALT], [DIGEST])
