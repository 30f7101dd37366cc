"""Leaf v2 layout and hashing: fixed bytes shared with the contract (leafOf) and every other verifier."""

from __future__ import annotations

import hashlib
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anchor.errors import DocumentError
from anchor.issuing import leaf as leaf_mod
from anchor.issuing.leaf import (
    MAX_QUANTITY,
    MAX_TIME,
    NO_TERMS,
    LeafError,
    Terms,
    commitment,
    leaf_data,
    leaf_hash,
    leaf_hashes,
    new_salt,
    new_salts,
)

SALT = bytes(range(16))
DIGEST = bytes(range(32, 64))
TERMS = Terms(destination="TH", valid_from=1767225600, valid_until=1782863999, quantity=1203, unit="kg")
# Frozen known answers (docs/bundle.md): if one changes, every bundle and on-chain root ever issued on
# registries v2 stops verifying.
KNOWN_COMMITMENT = "2fbe2a8d2af2fadc062594396b56a636dec0c0249035daa432c0cf21914e3986"
KNOWN_LEAF = "ee4323999a90dbc176d7b1e44d4482bf08cd5f346c395e0a0e19139ca3797746"
KNOWN_LEAF_TERMS = "d2fc0c32d65f8b8a01e09da761be1fbe140e500bb1efe1cac127411c438142c3"
KNOWN_LEAF_TERMS_DATA = (
    "5472757374416e63686f722f6c6561662f763200"  # "TrustAnchor/leaf/v2\0"
    "2fbe2a8d2af2fadc062594396b56a636dec0c0249035daa432c0cf21914e3986"  # commitment
    "03"  # document type id
    "5448000000000000"  # destination "TH"
    "006955b900"  # validFrom 1767225600
    "006a44587f"  # validUntil 1782863999
    "00000000000004b3"  # quantity 1203
    "6b67000000000000"  # unit "kg"
)


def test_known_answers() -> None:
    assert commitment(SALT, DIGEST).hex() == KNOWN_COMMITMENT
    assert leaf_hash(3, SALT, DIGEST).hex() == KNOWN_LEAF
    assert leaf_hash(3, SALT, DIGEST, NO_TERMS).hex() == KNOWN_LEAF
    assert leaf_hash(3, SALT, DIGEST, TERMS).hex() == KNOWN_LEAF_TERMS
    assert leaf_data(3, SALT, DIGEST, TERMS).hex() == KNOWN_LEAF_TERMS_DATA


def test_layout_is_the_documented_one() -> None:
    # Rebuilt here from the documented layout, without the library's helpers.
    commit = hashlib.sha256(b"TrustAnchor/commit/v2\x00" + SALT + DIGEST).digest()
    assert len(b"TrustAnchor/commit/v2\x00") == 22
    assert commitment(SALT, DIGEST) == commit
    data = leaf_data(3, SALT, DIGEST, TERMS)
    assert data == (
        b"TrustAnchor/leaf/v2\x00"
        + commit
        + b"\x03"
        + b"TH".ljust(8, b"\x00")
        + (1767225600).to_bytes(5, "big")
        + (1782863999).to_bytes(5, "big")
        + (1203).to_bytes(8, "big")
        + b"kg".ljust(8, b"\x00")
    )
    assert len(data) == 20 + 32 + 1 + 8 + 5 + 5 + 8 + 8 == 87
    assert leaf_hash(3, SALT, DIGEST, TERMS) == hashlib.sha256(b"\x00" + data).digest()


def test_open_terms_are_34_zero_bytes() -> None:
    assert NO_TERMS.packed() == bytes(34)
    assert NO_TERMS.open and Terms().open
    assert not TERMS.open
    assert leaf_data(3, SALT, DIGEST) == b"TrustAnchor/leaf/v2\x00" + commitment(
        SALT, DIGEST
    ) + b"\x03" + bytes(34)


def test_salt_and_digest_enter_the_leaf_only_through_the_commitment() -> None:
    # What goes on chain when a document is consumed is the commitment, never the salt or the digest.
    data = leaf_data(3, SALT, DIGEST, TERMS)
    assert SALT not in data and DIGEST not in data
    assert commitment(SALT, DIGEST) in data


def test_as_tuple_is_the_contracts_terms_struct() -> None:
    commit = commitment(SALT, DIGEST)
    assert TERMS.as_tuple(commit) == (
        commit,
        b"TH\x00\x00\x00\x00\x00\x00",
        1767225600,
        1782863999,
        1203,
        b"kg\x00\x00\x00\x00\x00\x00",
    )
    assert NO_TERMS.as_tuple(commit) == (commit, bytes(8), 0, 0, 0, bytes(8))


def test_every_input_changes_the_hash() -> None:
    base = leaf_hash(3, SALT, DIGEST, TERMS)
    assert leaf_hash(2, SALT, DIGEST, TERMS) != base
    assert leaf_hash(3, bytes(16), DIGEST, TERMS) != base
    assert leaf_hash(3, SALT, bytes(32), TERMS) != base
    assert leaf_hash(3, SALT, DIGEST) != base
    for change in (
        {"destination": "MY"},
        {"destination": ""},
        {"valid_from": 1767225601},
        {"valid_from": 0},
        {"valid_until": 1782864000},
        {"valid_until": 0},
        {"quantity": 1204},
        {"unit": "KG"},
        {"unit": ""},
    ):
        fields = {**vars(TERMS), **change}
        assert leaf_hash(3, SALT, DIGEST, Terms(**fields)) != base, change
    # No RFC 9162 prefix would make a leaf collide with an interior node of the same bytes.
    assert base != hashlib.sha256(leaf_data(3, SALT, DIGEST, TERMS)).digest()


codes = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=0, max_size=8)
units = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8
)


@st.composite
def terms_strategy(draw: st.DrawFn) -> Terms:
    valid_from = draw(st.sampled_from([0, 1, MAX_TIME]) | st.integers(0, MAX_TIME))
    valid_until = draw(st.just(0) | st.integers(max(valid_from, 1), MAX_TIME))
    quantity = draw(st.sampled_from([0, 1, MAX_QUANTITY]) | st.integers(0, MAX_QUANTITY))
    unit = draw(units) if quantity and draw(st.booleans()) else ""
    return Terms(draw(codes), valid_from, valid_until, quantity, unit)


@settings(max_examples=300, deadline=None)
@given(a=terms_strategy(), b=terms_strategy())
def test_different_terms_give_different_leaves(a: Terms, b: Terms) -> None:
    # The packing is injective (fixed widths, zero padding of codes that cannot hold a zero byte), so
    # no two different sets of terms can open the same leaf.
    assert len(a.packed()) == 34
    assert (a.packed() == b.packed()) == (a == b)
    assert (leaf_hash(3, SALT, DIGEST, a) == leaf_hash(3, SALT, DIGEST, b)) == (a == b)


@settings(max_examples=100, deadline=None)
@given(t=terms_strategy())
def test_terms_are_packed_field_by_field(t: Terms) -> None:
    packed = t.packed()
    assert packed[:8].rstrip(b"\x00").decode() == t.destination
    assert int.from_bytes(packed[8:13], "big") == t.valid_from
    assert int.from_bytes(packed[13:18], "big") == t.valid_until
    assert int.from_bytes(packed[18:26], "big") == t.quantity
    assert packed[26:].rstrip(b"\x00").decode() == t.unit
    assert t.open == (packed == bytes(34))


def test_destination_is_kept_in_capitals() -> None:
    # Party codes are capitals on chain; Terms normalizes what callers pass (the bundle model refuses
    # anything but capitals).
    assert Terms(destination="th").destination == "TH"
    assert Terms(destination="th").packed() == Terms(destination="TH").packed()
    assert Terms(quantity=1, unit="kg").unit == "kg"  # units keep their case
    assert Terms(quantity=1, unit="kg").packed() != Terms(quantity=1, unit="KG").packed()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"valid_from": -1}, "valid_from must be unix seconds"),
        ({"valid_from": MAX_TIME + 1}, "valid_from must be unix seconds"),
        ({"valid_until": 1 << 40}, "valid_until must be unix seconds"),
        ({"valid_from": True}, "valid_from must be unix seconds"),
        ({"valid_until": 1.5}, "valid_until must be unix seconds"),
        ({"valid_from": 20, "valid_until": 19}, "validUntil 19 is before validFrom 20"),
        ({"quantity": -1}, "quantity must be a whole number"),
        ({"quantity": MAX_QUANTITY + 1}, "quantity must be a whole number"),
        ({"quantity": True}, "quantity must be a whole number"),
        ({"unit": "kg"}, "unit 'kg' given without a quantity"),
        ({"quantity": 5, "unit": "kilograms"}, "quantity unit must be 1-8 ASCII letters or digits"),
        ({"quantity": 5, "unit": "k g"}, "quantity unit must be 1-8 ASCII letters or digits"),
        ({"quantity": 5, "unit": "kg."}, "quantity unit must be 1-8 ASCII letters or digits"),
        ({"quantity": 5, "unit": "µg"}, "quantity unit must be 1-8 ASCII letters or digits"),
        ({"destination": "ABCDEFGHI"}, "destination party must be 1-8 ASCII letters or digits"),
        ({"destination": "S-G"}, "destination party must be 1-8 ASCII letters or digits"),
        ({"destination": "ŞG"}, "destination party must be 1-8 ASCII letters or digits"),
        ({"destination": "S\x00G"}, "destination party must be 1-8 ASCII letters or digits"),
    ],
)
def test_terms_validation_errors(fields: dict[str, object], message: str) -> None:
    with pytest.raises(LeafError, match=message) as info:
        Terms(**fields)  # type: ignore[arg-type]
    assert isinstance(info.value, DocumentError) and isinstance(info.value, ValueError)


def test_terms_at_the_edges_are_accepted() -> None:
    Terms("ABCDEFGH", MAX_TIME, MAX_TIME, MAX_QUANTITY, "ABCDEFGH")
    Terms(valid_from=5, valid_until=5)  # a one-second validity period
    Terms(valid_from=0, valid_until=1)
    Terms(valid_from=10)  # no end
    Terms(valid_until=10)  # from issue
    Terms(quantity=1)  # a quantity needs no unit


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
    terms = [TERMS if i % 3 == 0 else NO_TERMS for i in range(50)]
    assert leaf_hashes(4, salts, digests, terms) == [
        leaf_hash(4, s, d, t) for s, d, t in zip(salts, digests, terms, strict=True)
    ]
    assert leaf_hashes(4, salts, digests, [NO_TERMS] * 50) == leaf_hashes(4, salts, digests)


def test_bulk_rejects_bad_inputs() -> None:
    with pytest.raises(LeafError, match="2 salts for 1 digests"):
        leaf_hashes(1, [SALT, SALT], [DIGEST])
    with pytest.raises(LeafError, match="salt"):
        leaf_hashes(1, [SALT, bytes(8)], [DIGEST, DIGEST])
    with pytest.raises(LeafError, match="digest"):
        leaf_hashes(1, [SALT, SALT], [DIGEST, bytes(20)])
    with pytest.raises(LeafError, match=r"0\.\.63"):
        leaf_hashes(99, [SALT], [DIGEST])
    with pytest.raises(LeafError, match="1 terms for 2 documents"):
        leaf_hashes(1, [SALT, SALT], [DIGEST, DIGEST], [TERMS])
