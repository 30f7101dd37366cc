"""The registries' event log (anchor/checkpoint/tlog.py) against pymerkle, the maintained RFC 9162 tree.

pymerkle's InmemoryTree(algorithm="sha256") hashes an entry as SHA-256(0x00 || data), so appending
SHA-256(0x00 || data) to an EventLog gives both trees the same leaves. Roots and inclusion paths must
then be identical. Consistency paths are not: pymerkle splits the part of the old tree that RFC 9162
sends as one node into the perfect subtrees it is made of (and includes the old root when the old
size is a power of two, which the RFC leaves out), so the two are compared by the leaf ranges their
hashes cover.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from anchor.checkpoint.tlog import EventLog, event_leaf, verify_consistency, verify_inclusion

BIG = 3000


def _entry(i: int) -> bytes:
    return b"registry event %d" % i


def _leaf(i: int) -> bytes:
    return hashlib.sha256(b"\x00" + _entry(i)).digest()


@functools.cache
def _trees(n: int) -> tuple[EventLog, InmemoryTree]:
    ours, theirs = EventLog(), InmemoryTree(algorithm="sha256")
    for i in range(n):
        ours.append(_leaf(i))
        theirs.append_entry(_entry(i))
    return ours, theirs


def _ranges(n: int) -> dict[bytes, tuple[int, int]]:
    """Every subtree hash of the first n leaves -> its leaf range, by the RFC's MTH written out afresh."""
    leaves = [_leaf(i) for i in range(n)]

    @functools.cache
    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaves[lo]
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        return hashlib.sha256(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi)).digest()

    return {mth(lo, hi): (lo, hi) for lo in range(n) for hi in range(lo + 1, n + 1)}


# ---------------------------------------------------------------------------------------------- roots


def test_roots_equal_pymerkle_for_every_size_up_to_70() -> None:
    ours, theirs = _trees(70)
    for size in range(1, 71):
        assert ours.root(size) == theirs.get_root(size), size


def test_the_head_root_after_each_append_equals_pymerkle() -> None:
    # root() of the whole log folds the compact range; root(size) of an older size recomputes subtrees:
    # two code paths, both checked at every size of a log growing to BIG.
    ours, theirs = EventLog(), InmemoryTree(algorithm="sha256")
    for i in range(BIG):
        ours.append(_leaf(i))
        theirs.append_entry(_entry(i))
        assert ours.root() == theirs.get_root(), i + 1
    assert EventLog(ours.leaves).root() == ours.root()


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, BIG))
def test_roots_at_random_sizes_up_to_3000_equal_pymerkle(size: int) -> None:
    ours, theirs = _trees(BIG)
    assert ours.root(size) == theirs.get_root(size)


def test_the_empty_log_and_bad_sizes() -> None:
    log = EventLog()
    assert log.size == 0
    assert log.root() == log.root(0) == hashlib.sha256(b"").digest()
    log.append(_leaf(0))
    assert log.root(0) == hashlib.sha256(b"").digest()
    assert log.root(1) == _leaf(0)
    with pytest.raises(ValueError, match="has 1 events, not 2"):
        log.root(2)
    with pytest.raises(ValueError, match="has 1 events, not -1"):
        log.root(-1)
    with pytest.raises(ValueError, match="32 bytes, got 31"):
        log.append(bytes(31))
    assert log.size == 1


# ----------------------------------------------------------------------------------- inclusion proofs


def test_inclusion_proofs_equal_pymerkle_and_verify_for_every_size_up_to_40() -> None:
    ours, theirs = _trees(40)
    for size in range(1, 41):
        root = ours.root(size)
        for index in range(size):
            proof = ours.inclusion_proof(index, size)
            theirs_proof = theirs.prove_inclusion(index + 1, size)
            # pymerkle's path starts with the leaf itself, then the same siblings in the same order.
            assert theirs_proof.path[0] == _leaf(index)
            assert theirs_proof.path[1:] == proof, (index, size)
            assert verify_inclusion(_leaf(index), index, size, proof, root)
            # ...and pymerkle's verifier accepts our path as its own.
            theirs_proof.path = [_leaf(index), *proof]
            theirs_proof.verify(_leaf(index), root, index=index + 1, size=size)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_inclusion_proofs_in_large_logs_equal_pymerkle(data: st.DataObject) -> None:
    # Sizes past 1,024 go through the cache of perfect subtrees.
    ours, theirs = _trees(BIG)
    size = data.draw(st.integers(1, BIG))
    index = data.draw(st.integers(0, size - 1))
    proof = ours.inclusion_proof(index, size)
    assert theirs.prove_inclusion(index + 1, size).path[1:] == proof
    assert verify_inclusion(_leaf(index), index, size, proof, ours.root(size))


def _inclusion_tampers(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> list[tuple[str, bytes, int, int, list[bytes], bytes]]:
    out = []
    for j in range(len(proof)):
        for byte in (0, 31):
            bad = bytearray(proof[j])
            bad[byte] ^= 0x01
            out.append(
                (
                    f"flip byte {byte} of element {j}",
                    leaf,
                    index,
                    size,
                    [*proof[:j], bytes(bad), *proof[j + 1 :]],
                    root,
                )
            )
        out.append((f"drop element {j}", leaf, index, size, proof[:j] + proof[j + 1 :], root))
        if j + 1 < len(proof) and proof[j] != proof[j + 1]:
            swapped = [*proof]
            swapped[j], swapped[j + 1] = swapped[j + 1], swapped[j]
            out.append((f"swap elements {j} and {j + 1}", leaf, index, size, swapped, root))
    out.append(("extra element at the end", leaf, index, size, [*proof, proof[-1] if proof else leaf], root))
    out.append(("extra element in front", leaf, index, size, [root, *proof], root))
    out.append(("short element", leaf, index, size, [p[:31] for p in proof] or [leaf[:31]], root))
    out.append(("another leaf", _leaf(index + 1), index, size, proof, root))
    if size > 1:  # a one-leaf tree's root is its leaf
        out.append(("the root as the leaf", root, index, size, proof, root))
    for other in {index - 1, index + 1, size} - {index}:
        out.append((f"index {other}", leaf, other, size, proof, root))
    # Another size is checked against that size's own root: a checkpoint signs size and root together,
    # and RFC 9162 binds the size through the root only (leaf 0 of 3 has the same path as leaf 0 of 4).
    bigger, _ = _trees(2 * 40)
    for other in {size - 1, size + 1, 2 * size} - {size, 0}:
        out.append((f"size {other}", leaf, index, other, proof, bigger.root(other)))
    out.append(("index -1", leaf, -1, size, proof, root))
    return out


def test_tampered_inclusion_proofs_are_rejected() -> None:
    ours, _ = _trees(40)
    checked = 0
    for size in range(1, 41):
        root = ours.root(size)
        for index in range(size):
            proof = ours.inclusion_proof(index, size)
            for what, leaf, i, n, path, r in _inclusion_tampers(_leaf(index), index, size, proof, root):
                assert not verify_inclusion(leaf, i, n, path, r), (what, index, size)
                checked += 1
    assert checked > 10_000


def test_inclusion_proof_requests_outside_the_log_are_refused() -> None:
    ours, _ = _trees(10)
    for index, size in ((10, 10), (-1, 5), (3, 3), (0, 0), (0, 11)):
        with pytest.raises(ValueError):
            ours.inclusion_proof(index, size)


# --------------------------------------------------------------------------------- consistency proofs


def test_consistency_proofs_verify_and_cover_what_pymerkle_covers_for_all_sizes_up_to_40() -> None:
    ours, theirs = _trees(40)
    ranges = _ranges(40)
    for new in range(1, 41):
        new_root = ours.root(new)
        for old in range(1, new + 1):
            proof = ours.consistency_proof(old, new)
            assert verify_consistency(old, new, ours.root(old), new_root, proof), (old, new)
            if old == new:
                assert proof == []
                continue
            mine = [ranges[h] for h in proof]
            if old & (old - 1) == 0:
                mine.append((0, old))  # the RFC leaves out the old root when it is a node of the new tree
            pym = [ranges[h] for h in theirs.prove_consistency(old, new).path]
            # Every hash of both paths is a subtree of the first `new` leaves (the lookups above), both
            # paths cut [0, new) into adjacent subtrees, and pymerkle's cut refines ours.
            for cut in (mine, pym):
                assert sorted(cut)[0][0] == 0 and sorted(cut)[-1][1] == new
                assert all(a[1] == b[0] for a, b in zip(sorted(cut), sorted(cut)[1:], strict=False))
            assert all(any(lo <= a and b <= hi for lo, hi in mine) for a, b in pym), (old, new)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_consistency_proofs_in_large_logs_verify(data: st.DataObject) -> None:
    ours, theirs = _trees(BIG)
    new = data.draw(st.integers(1, BIG))
    old = data.draw(st.integers(1, new))
    proof = ours.consistency_proof(old, new)
    assert verify_consistency(old, new, theirs.get_root(old), theirs.get_root(new), proof)
    assert not verify_consistency(
        old, new, theirs.get_root(old), theirs.get_root(new), [*proof, proof[0]] if proof else [bytes(32)]
    )


def _consistency_tampers(
    old: int, new: int, proof: list[bytes], old_root: bytes, new_root: bytes
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    out = []
    for j in range(len(proof)):
        for byte in (0, 17, 31):
            bad = bytearray(proof[j])
            bad[byte] ^= 0x80
            out.append(
                (
                    f"flip byte {byte} of element {j}",
                    old,
                    new,
                    old_root,
                    new_root,
                    [*proof[:j], bytes(bad), *proof[j + 1 :]],
                )
            )
        out.append((f"drop element {j}", old, new, old_root, new_root, proof[:j] + proof[j + 1 :]))
        out.append((f"duplicate element {j}", old, new, old_root, new_root, [*proof[: j + 1], *proof[j:]]))
    out.append(("extra element at the end", old, new, old_root, new_root, [*proof, new_root]))
    out.append(("extra element in front", old, new, old_root, new_root, [old_root, *proof]))
    out.append(("short element", old, new, old_root, new_root, [p[:31] for p in proof] or [old_root[:31]]))
    out.append(("roots swapped", old, new, new_root, old_root, proof))
    # Other sizes come with their own roots (as in a checkpoint; see the inclusion tampers).
    bigger, _ = _trees(2 * 40)
    for o in {old - 1, old + 1} - {old, 0}:
        out.append((f"old size {o}", o, new, bigger.root(o), new_root, proof))
    for n in {new - 1, new + 1} - {new, 0}:
        out.append((f"new size {n}", old, n, old_root, bigger.root(n), proof))
    out.append(("old size 0", 0, new, old_root, new_root, proof))
    out.append(("old size 0, empty root", 0, new, hashlib.sha256(b"").digest(), new_root, proof))
    out.append(("old size past the new", new + 1, new, old_root, new_root, proof))
    out.append(("old == new with a proof", new, new, new_root, new_root, proof or [new_root]))
    out.append(("old == new, roots differ", new, new, old_root, new_root, []))
    out.append(("negative old size", -old, new, old_root, new_root, proof))
    return out


def test_tampered_consistency_proofs_are_rejected() -> None:
    ours, _ = _trees(40)
    checked = 0
    for new in range(1, 41):
        new_root = ours.root(new)
        for old in range(1, new + 1):
            proof = ours.consistency_proof(old, new)
            old_root = ours.root(old)
            for what, o, n, r1, r2, path in _consistency_tampers(old, new, proof, old_root, new_root):
                if (o, n, r1, r2) == (old, new, old_root, new_root) and path == proof:
                    continue  # a "tamper" that changed nothing (e.g. old == new: no elements to touch)
                if (o, n, r1, r2) == (new, new, new_root, new_root) and not path:
                    continue
                assert not verify_consistency(o, n, r1, r2, path), (what, old, new)
                checked += 1
    assert checked > 10_000


def test_consistency_proof_requests_without_an_old_tree_are_refused() -> None:
    ours, _ = _trees(10)
    for old, new in ((0, 5), (-1, 5), (6, 5), (3, 11)):
        with pytest.raises(ValueError):
            ours.consistency_proof(old, new)
    assert ours.consistency_proof(10, 10) == []


# --------------------------------------------------------------------------------------- event leaves

# One Anchored log as eth_getLogs returns it (mixed-case address, as some nodes send).
LOG: dict[str, Any] = {
    "address": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    "topics": [
        "0x" + hashlib.sha256(b"topic 0").hexdigest(),
        "0x" + hashlib.sha256(b"topic 1").hexdigest(),
        "0x000000000000000000000000" + "15d34aaf54267db7d7c367839aaf71a00a2c6a65",
    ],
    "data": "0x" + "00" * 31 + "02" + "00" * 28 + "00000003",
    "blockNumber": "0x1b",
    "blockHash": "0x" + hashlib.sha256(b"block 27").hexdigest(),
    "transactionHash": "0x" + hashlib.sha256(b"tx").hexdigest(),
    "logIndex": "0x2",
}
TIME = 1_740_000_000


def _spec_leaf(log: dict[str, Any], time: int) -> bytes:
    """The docstring's layout, field by field with struct, big-endian."""

    def raw(text: object) -> bytes:
        assert isinstance(text, str)
        return bytes.fromhex(text[2:])

    topics = log["topics"]
    assert isinstance(topics, list)
    data = raw(log["data"])
    encoded = (
        b"TrustAnchor/event/v1\x00"
        + struct.pack(">Q", int(str(log["blockNumber"]), 16))
        + struct.pack(">32s", raw(log["blockHash"]))
        + struct.pack(">I", int(str(log["logIndex"]), 16))
        + struct.pack(">Q", time)
        + struct.pack(">32s", raw(log["transactionHash"]))
        + struct.pack(">20s", raw(log["address"]))
        + struct.pack(">B", len(topics))
        + b"".join(struct.pack(">32s", raw(t)) for t in topics)
        + struct.pack(">I", len(data))
        + data
    )
    return hashlib.sha256(b"\x00" + encoded).digest()


def test_event_leaf_known_answer() -> None:
    expected = "50e38a05c7b8d3a91acf451f6eb32392ebbf901bdb5384f34be3992185ea9b3b"
    assert _spec_leaf(LOG, TIME).hex() == expected
    assert event_leaf(LOG, TIME).hex() == expected


@pytest.mark.parametrize(
    "change",
    [
        lambda lg: lg.update(blockNumber="0x1c"),
        lambda lg: lg.update(logIndex="0x3"),
        lambda lg: lg.update(address="0x" + "00" * 20),
        lambda lg: lg.update(topics=lg["topics"][:2]),
        lambda lg: lg.update(topics=[*lg["topics"][1:], lg["topics"][0]]),
        lambda lg: lg.update(data="0x"),
        lambda lg: lg.update(data=lg["data"] + "00"),
        lambda lg: lg.update(transactionHash="0x" + "11" * 32),
        lambda lg: lg.update(blockHash="0x" + "11" * 32),
    ],
)
def test_every_field_of_the_log_is_in_the_leaf(change: Callable[[dict[str, Any]], None]) -> None:
    log = {**LOG, "topics": list(LOG["topics"])}
    change(log)
    assert event_leaf(log, TIME) == _spec_leaf(log, TIME) != event_leaf(LOG, TIME)
    assert event_leaf(LOG, TIME + 1) == _spec_leaf(LOG, TIME + 1) != event_leaf(LOG, TIME)
