"""The sparse Merkle map (anchor/checkpoint/smt.py): canonical roots, presence and absence proofs, proof JSON.

The reference root below is the module docstring's definition written out recursively (an empty
subtree is 32 zero bytes, a one-entry subtree its leaf hash wherever it sits, any other subtree the
node hash of its two halves split by the next key bit): the map must agree with it for any history.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anchor.checkpoint.smt import EMPTY, MapProof, SparseMap, verify


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _bit(key: bytes, depth: int) -> int:
    return (int.from_bytes(key, "big") >> (255 - depth)) & 1


def reference_root(entries: dict[bytes, bytes], depth: int = 0) -> bytes:
    if not entries:
        return bytes(32)
    if len(entries) == 1:
        ((key, value),) = entries.items()
        return _sha(b"\x10" + key + value)
    left = {k: v for k, v in entries.items() if not _bit(k, depth)}
    right = {k: v for k, v in entries.items() if _bit(k, depth)}
    return _sha(b"\x11" + reference_root(left, depth + 1) + reference_root(right, depth + 1))


def _flip(key: bytes, depth: int) -> bytes:
    return (int.from_bytes(key, "big") ^ (1 << (255 - depth))).to_bytes(32, "big")


HASHES = st.binary(min_size=32, max_size=32)


@st.composite
def key_sets(draw: st.DrawFn, min_size: int = 0, max_size: int = 24) -> list[bytes]:
    """Distinct keys, many of them one bit away from an earlier one (long shared prefixes, deep splits)."""
    keys: list[bytes] = []
    for _ in range(draw(st.integers(min_size, max_size))):
        near: bool = draw(st.booleans())
        key = _flip(draw(st.sampled_from(keys)), draw(st.integers(0, 255))) if keys and near else draw(HASHES)
        while key in keys:  # a repeat (shrinking loves all-zero keys): any fresh key will do
            key = _sha(key)
        keys.append(key)
    return keys


@st.composite
def maps(draw: st.DrawFn, min_size: int = 0) -> dict[bytes, bytes]:
    keys = draw(key_sets(min_size=min_size))
    return {k: draw(HASHES) for k in keys}


# ----------------------------------------------------------------------------------------------- roots


def test_the_empty_map() -> None:
    m = SparseMap()
    assert len(m) == 0
    assert m.root() == EMPTY == bytes(32)
    proof = m.prove(bytes(32))
    assert proof == MapProof((), None)
    assert verify(m.root(), bytes(32), None, proof)
    assert not verify(m.root(), bytes(32), bytes(32), proof)


def test_a_two_entry_map_known_answer() -> None:
    # The keys share their first three bits (001) and part at the fourth: the entries sit three
    # one-sided nodes down, each with an empty sibling.
    k1 = bytes([0b0010_0000]) + bytes(31)
    k2 = bytes([0b0011_0000]) + b"\xff" * 31
    v1, v2 = _sha(b"value one"), _sha(b"value two")
    leaf1 = _sha(b"\x10" + k1 + v1)
    leaf2 = _sha(b"\x10" + k2 + v2)
    split = _sha(b"\x11" + leaf1 + leaf2)  # depth 3: bit 3 is 0 for k1, 1 for k2
    d2 = _sha(b"\x11" + bytes(32) + split)  # depth 2: bit 2 is 1, the entries are on the right
    d1 = _sha(b"\x11" + d2 + bytes(32))  # depth 1: bit 1 is 0
    root = _sha(b"\x11" + d1 + bytes(32))  # depth 0: bit 0 is 0
    assert root.hex() == "dd68e85af0212ba857bb5225ae7d6982379bbcc1f04e4501525028d0bb2f0977"
    m = SparseMap([(k1, v1), (k2, v2)])
    assert m.root() == root
    assert SparseMap([(k1, v1)]).root() == leaf1  # one entry: its leaf, wherever it sits
    p = m.prove(k2)
    assert p == MapProof((None, None, None, leaf1), (k2, v2))


def test_keys_that_part_only_at_the_last_bit() -> None:
    k1 = b"\x5a" * 32
    k2 = _flip(k1, 255)
    m = SparseMap([(k1, _sha(b"1")), (k2, _sha(b"2"))])
    assert m.root() == reference_root({k1: _sha(b"1"), k2: _sha(b"2")})
    proof = m.prove(k1)
    assert len(proof.siblings) == 256 and proof.siblings[:255] == (None,) * 255
    assert verify(m.root(), k1, _sha(b"1"), proof)
    assert MapProof.from_json(json.loads(json.dumps(proof.to_json()))) == proof


def test_wrong_lengths_are_refused_when_setting() -> None:
    m = SparseMap()
    for key, value in ((bytes(31), bytes(32)), (bytes(32), bytes(33)), (b"", b"")):
        with pytest.raises(ValueError, match="32 bytes"):
            m.set(key, value)
    assert len(m) == 0 and m.root() == EMPTY


@settings(max_examples=100, deadline=None)
@given(entries=maps(), order=st.randoms(use_true_random=False))
def test_the_root_depends_on_the_entries_not_on_their_order(entries: dict[bytes, bytes], order: Any) -> None:
    items = list(entries.items())
    shuffled = [*items]
    order.shuffle(shuffled)
    one, other = SparseMap(items), SparseMap(shuffled)
    assert one.root() == other.root() == reference_root(entries)
    assert len(one) == len(other) == len(entries)
    # Interleaving root() with the updates (hashes cached, then invalidated) changes nothing.
    step = SparseMap()
    for key, value in shuffled:
        step.set(key, value)
        step.root()
    assert step.root() == one.root()


@settings(max_examples=60, deadline=None)
@given(entries=maps(min_size=1), data=st.data())
def test_updating_values_changes_the_root_and_equals_a_fresh_map(
    entries: dict[bytes, bytes], data: st.DataObject
) -> None:
    m = SparseMap(entries.items())
    before = m.root()
    changed = data.draw(st.lists(st.sampled_from(sorted(entries)), min_size=1, unique=True))
    final = dict(entries)
    for key in changed:
        new = data.draw(HASHES)
        if new == entries[key]:
            new = _sha(new)
        final[key] = new
        m.set(key, new)
    assert m.root() != before
    assert len(m) == len(entries)
    assert m.root() == SparseMap(final.items()).root() == reference_root(final)
    assert all(m.get(k) == v for k, v in final.items())
    m.set(changed[0], final[changed[0]])  # setting the same value again is no change
    assert m.root() == reference_root(final)


# ---------------------------------------------------------------------------------------------- proofs


@settings(max_examples=100, deadline=None)
@given(entries=maps(min_size=1), absent=st.lists(HASHES, max_size=8), data=st.data())
def test_presence_and_absence_proofs(
    entries: dict[bytes, bytes], absent: list[bytes], data: st.DataObject
) -> None:
    m = SparseMap(entries.items())
    root = m.root()
    for key, value in entries.items():
        proof = m.prove(key)
        assert proof.leaf == (key, value)
        assert verify(root, key, value, proof)
        assert not verify(root, key, None, proof)
        assert not verify(root, key, _sha(value), proof)
        assert not verify(_sha(root), key, value, proof)
    # Absent keys next to present ones (one bit off) end at that entry; random ones mostly at nothing.
    near = [_flip(k, data.draw(st.integers(0, 255))) for k in list(entries)[:4]]
    for key in [*absent, *near]:
        if key in entries:
            continue
        proof = m.prove(key)
        assert m.get(key) is None
        assert verify(root, key, None, proof)
        assert not verify(root, key, data.draw(HASHES), proof)
        if proof.leaf is not None:
            assert proof.leaf[0] != key and entries[proof.leaf[0]] == proof.leaf[1]


@settings(max_examples=100, deadline=None)
@given(entries=maps(min_size=2))
def test_a_proof_for_one_key_is_no_proof_for_another(entries: dict[bytes, bytes]) -> None:
    m = SparseMap(entries.items())
    root = m.root()
    keys = list(entries)
    for a, b in zip(keys, keys[1:] + keys[:1], strict=True):
        proof = m.prove(a)
        assert not verify(root, b, entries[a], proof)
        assert not verify(root, b, entries[b], proof)
        assert not verify(root, b, None, proof)  # b is present: nothing proves it absent


@settings(max_examples=100, deadline=None)
@given(entries=maps(min_size=2), data=st.data())
def test_an_absence_proof_by_an_entry_off_the_path_is_rejected(
    entries: dict[bytes, bytes], data: st.DataObject
) -> None:
    m = SparseMap(entries.items())
    root = m.root()
    a = data.draw(st.sampled_from(sorted(entries)))
    proof = m.prove(a)
    if not proof.siblings:
        return
    # An absent key that leaves a's path above where a's proof ends, claimed absent with a's entry.
    b = _flip(a, data.draw(st.integers(0, len(proof.siblings) - 1)))
    if b in entries:
        return
    assert not verify(root, b, None, MapProof(proof.siblings, (a, entries[a])))


def test_the_path_prefix_check_is_what_rejects_a_misplaced_entry() -> None:
    # A root in which entry a (first bit 1) sits on the left, as if its first bit were 0: the hashes
    # then work out for any key b starting with 0, so only the prefix check can refuse "b is absent".
    a = b"\x80" + bytes(31)
    b = bytes(32)
    va = _sha(b"a")
    forged_root = _sha(b"\x11" + _sha(b"\x10" + a + va) + bytes(32))
    forged = MapProof((None,), (a, va))
    assert not verify(forged_root, b, None, forged)
    # The same shape with a key that does share the prefix is a correct absence proof.
    c = b"\x01" + bytes(31)
    assert verify(_sha(b"\x11" + _sha(b"\x10" + c + va) + bytes(32)), b, None, MapProof((None,), (c, va)))


def test_verify_refuses_overlong_proofs_and_bad_keys() -> None:
    m = SparseMap([(bytes(32), _sha(b"x"))])
    assert not verify(m.root(), bytes(31), None, m.prove(bytes(32)))
    assert not verify(m.root(), bytes(32), _sha(b"x"), MapProof((None,) * 257, (bytes(32), _sha(b"x"))))


# ------------------------------------------------------------------------------------------ proof JSON


@settings(max_examples=100, deadline=None)
@given(entries=maps(), probes=st.lists(HASHES, max_size=4))
def test_map_proof_json_round_trip(entries: dict[bytes, bytes], probes: list[bytes]) -> None:
    m = SparseMap(entries.items())
    for key in [*entries, *probes]:
        proof = m.prove(key)
        text = json.dumps(proof.to_json())
        back = MapProof.from_json(json.loads(text))
        assert back == proof
        assert verify(m.root(), key, m.get(key), back)


H = "ab" * 32


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "siblings",
        {"siblings": []},
        {"leaf": None},
        {"siblings": [], "leaf": None, "extra": 1},
        {"siblings": "ab", "leaf": None},
        {"siblings": {H: H}, "leaf": None},
        {"siblings": [H] * 257, "leaf": None},
        {"siblings": [None] * 257, "leaf": None},
        {"siblings": [H[:-2]], "leaf": None},
        {"siblings": [H + "ab"], "leaf": None},
        {"siblings": ["zz" * 32], "leaf": None},
        {"siblings": ["0x" + H[2:]], "leaf": None},
        {"siblings": [" " + H[1:]], "leaf": None},
        {"siblings": [1], "leaf": None},
        {"siblings": [b"\xab" * 32], "leaf": None},
        {"siblings": [], "leaf": [H]},
        {"siblings": [], "leaf": [H, H, H]},
        {"siblings": [], "leaf": H + H},
        {"siblings": [], "leaf": {"key": H, "value": H}},
        {"siblings": [], "leaf": [H, "zz" * 32]},
        {"siblings": [], "leaf": [H[:-1], H]},
        {"siblings": [], "leaf": [H, None]},
    ],
)
def test_malformed_map_proofs_raise_one_line_value_errors(data: object) -> None:
    with pytest.raises(ValueError) as raised:
        MapProof.from_json(data)
    message = str(raised.value)
    assert message and "\n" not in message and message.startswith(("a map proof", "map proof"))


# bytes.fromhex skips ASCII whitespace: 64 characters with spaces in them are fewer than 32 bytes.
@pytest.mark.parametrize("spaced", ["ab" * 31 + "  ", "ab " * 21 + " ", " " + "ab" * 31 + " "])
def test_hex_with_whitespace_is_not_a_hash(spaced: str) -> None:
    assert len(spaced) == 64
    for data in ({"siblings": [spaced], "leaf": None}, {"siblings": [], "leaf": [H, spaced]}):
        with pytest.raises(ValueError, match="64 hex digits"):
            MapProof.from_json(data)


def test_the_longest_proof_json_is_accepted() -> None:
    proof = MapProof.from_json({"siblings": [None] * 255 + [H], "leaf": [H, H]})
    assert len(proof.siblings) == 256 and proof.siblings[-1] == bytes.fromhex(H)
