"""The registries' event log as an RFC 9162 Merkle tree: event leaves, tree heads, consistency proofs.

Every log the two registries emitted, in (block, log index) order, is one leaf. The leaf commits to
the raw log (address, topics, data) and to where it happened (block number, hash and time,
transaction, log index), so a second implementation needs no ABI to recompute it: only the node's
``eth_getLogs``. An inclusion proof of one event then proves, offline, which transaction in which
block emitted it (the verifier's "anchored" check).

Why not a library: pymerkle (the maintained RFC 9162 implementation on PyPI) recomputes subtree
hashes from its store on every root and keeps its own leaf encoding; a checkpointer appends one
event at a time and asks for the root after each block, so this keeps the RFC's "compact range"
(one hash per set bit of the size) and appends in O(log n). ``tests/test_checkpoint_tlog.py`` checks
roots, inclusion and consistency proofs against pymerkle for every size up to 70 and random larger ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from ..issuing.merkle import root_from_proof

HASH_LEN = 32
EVENT_DOMAIN = b"TrustAnchor/event/v1\x00"
_sha = hashlib.sha256


def _node(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right).digest()


def event_leaf(log: dict[str, Any], time: int) -> bytes:
    """The leaf hash of one registry log (a JSON-RPC ``eth_getLogs`` entry) mined at block time `time`.

    SHA-256(0x00 || "TrustAnchor/event/v1\\0" || block u64 || block hash 32 || logIndex u32 || time u64 ||
    tx hash 32 || address 20 || topic count u8 || topics 32 each || data length u32 || data), integers
    big-endian.
    """
    topics = log["topics"]
    data = bytes.fromhex(log["data"][2:])
    encoded = b"".join(
        (
            EVENT_DOMAIN,
            int(log["blockNumber"], 16).to_bytes(8, "big"),
            bytes.fromhex(log["blockHash"][2:]),
            int(log["logIndex"], 16).to_bytes(4, "big"),
            time.to_bytes(8, "big"),
            bytes.fromhex(log["transactionHash"][2:]),
            bytes.fromhex(log["address"][2:]),
            len(topics).to_bytes(1, "big"),
            *(bytes.fromhex(t[2:]) for t in topics),
            len(data).to_bytes(4, "big"),
            data,
        )
    )
    return _sha(b"\x00" + encoded).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2): where RFC 9162 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


class EventLog:
    """The leaves in order plus the compact range of the whole log (appending and the head are O(log n)).

    Proofs about older sizes rebuild subtree hashes from the leaves; perfect subtrees of 1,024 leaves
    and more are cached, since every later proof reuses them.
    """

    def __init__(self, leaves: Sequence[bytes] = ()) -> None:
        self.leaves: list[bytes] = []
        self._range: list[tuple[int, bytes]] = []  # (height, hash) of perfect subtrees, left to right
        self._cache: dict[tuple[int, int], bytes] = {}
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self.leaves)

    def append(self, leaf: bytes) -> None:
        if len(leaf) != HASH_LEN:
            raise ValueError(f"an event leaf is {HASH_LEN} bytes, got {len(leaf)}")
        self.leaves.append(leaf)
        height, h = 0, leaf
        r = self._range
        while r and r[-1][0] == height:
            h = _node(r.pop()[1], h)
            height += 1
        r.append((height, h))

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (all by default); the empty tree's is SHA-256 of nothing."""
        if size is None or size == self.size:
            if not self._range:
                return _sha(b"").digest()
            h = self._range[-1][1]
            for _, left in reversed(self._range[:-1]):
                h = _node(left, h)
            return h
        self._check(size)
        return self._subtree(0, size) if size else _sha(b"").digest()

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._check(size)
        if not 0 <= index < size:
            raise ValueError(f"event {index} is not in a log of {size} events")
        return self._path(index, 0, size)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """RFC 9162 2.1.4.1 PROOF(old, D[new]); empty when old == new."""
        self._check(new)
        if not 0 < old <= new:
            raise ValueError(f"no consistency proof from {old} to {new} events")
        return self._subproof(old, 0, new, True)

    # ------------------------------------------------------------------ internals

    def _check(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"the log has {self.size} events, not {size}")

    def _subtree(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 1:
            return self.leaves[lo]
        perfect = n & (n - 1) == 0
        if perfect and n >= 1024:
            cached = self._cache.get((lo, n))
            if cached is not None:
                return cached
        k = _split(n)
        h = _node(self._subtree(lo, lo + k), self._subtree(lo + k, hi))
        if perfect and n >= 1024:
            self._cache[(lo, n)] = h
        return h

    def _path(self, index: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = _split(n)
        if index - lo < k:
            return [*self._path(index, lo, lo + k), self._subtree(lo + k, hi)]
        return [*self._path(index, lo + k, hi), self._subtree(lo, lo + k)]

    def _subproof(self, m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if complete else [self._subtree(lo, hi)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, complete), self._subtree(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self._subtree(lo, lo + k)]


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 2.1.4.2: does `proof` show the tree of `new` leaves extends the tree of `old` leaves?"""
    if not 0 < old <= new or any(len(p) != HASH_LEN for p in proof):
        return False
    if old == new:
        return not proof and old_root == new_root
    path = list(proof)
    if old & (old - 1) == 0:  # an exact power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2, shared with the batch trees."""
    try:
        return root_from_proof(leaf, index, size, proof) == root
    except ValueError:
        return False
