"""RFC 9162 (Certificate Transparency v2) Merkle trees over leaf hashes, and inclusion proofs.

The inputs are already leaf hashes (see ``anchor.leaf``): they are the level-0 nodes and are not
hashed again. Interior nodes are SHA-256(0x01 || left || right). Building bottom-up and carrying an
unpaired last node up unchanged yields exactly RFC 9162's MTH (split at the largest power of two
smaller than n), so the on-chain verifier and any RFC 9162 implementation agree with this tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

HASH_LEN = 32
_NODE_PREFIX = b"\x01"


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


class MerkleTree:
    """All levels of the tree, kept so that any inclusion proof is O(log n) list lookups."""

    __slots__ = ("_levels",)

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        level = list(leaves)
        # One C-level pass instead of a Python loop: this is on the hot path for 1M-leaf batches.
        if set(map(len, level)) != {HASH_LEN}:
            bad = next(i for i, leaf in enumerate(level) if len(leaf) != HASH_LEN)
            raise ValueError(f"leaf {bad} is {len(level[bad])} bytes, expected a {HASH_LEN}-byte hash")
        levels = [level]
        sha = hashlib.sha256
        while len(level) > 1:
            parents = [
                sha(_NODE_PREFIX + a + b).digest() for a, b in zip(level[0::2], level[1::2], strict=False)
            ]
            if len(level) & 1:
                parents.append(level[-1])
            levels.append(parents)
            level = parents
        self._levels: list[list[bytes]] = levels

    @property
    def size(self) -> int:
        return len(self._levels[0])

    @property
    def root(self) -> bytes:
        return self._levels[-1][0]

    @property
    def levels(self) -> Sequence[Sequence[bytes]]:
        """Level 0 is the leaves, the last level is ``[root]``; treat as read-only."""
        return self._levels

    def leaf(self, index: int) -> bytes:
        return self._levels[0][self._check_index(index)]

    def _check_index(self, index: int) -> int:
        if not 0 <= index < self.size:
            raise IndexError(f"leaf index {index} is outside a tree of {self.size} leaves")
        return index

    def inclusion_proof(self, index: int) -> list[bytes]:
        """RFC 9162 PATH(index, D[n]): sibling hashes from the leaf level upward."""
        self._check_index(index)
        path = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            # No sibling means this node is the unpaired last one, carried up unchanged.
            if sibling < len(level):
                path.append(level[sibling])
            index >>= 1
        return path

    def iter_proofs(self, start: int = 0, stop: int | None = None) -> Iterator[list[bytes]]:
        """Inclusion proofs for leaves ``start..stop-1`` in order, without holding them all in memory."""
        stop = self.size if stop is None else stop
        if not 0 <= start <= stop <= self.size:
            raise IndexError(f"proof range {start}..{stop} is outside a tree of {self.size} leaves")
        levels = [(level, len(level)) for level in self._levels[:-1]]
        for index in range(start, stop):
            path = []
            i = index
            for level, width in levels:
                s = i ^ 1
                if s < width:
                    path.append(level[s])
                i >>= 1
            yield path

    def all_proofs(self) -> list[list[bytes]]:
        return list(self.iter_proofs())


def proof_length(index: int, tree_size: int) -> int:
    """The exact number of hashes in the RFC 9162 inclusion proof of ``index`` in a tree of ``tree_size``."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} is outside a tree of {tree_size} leaves")
    length = 0
    width = tree_size
    while width > 1:
        if index ^ 1 < width:
            length += 1
        index >>= 1
        width = (width + 1) >> 1
    return length


def root_from_proof(leaf: bytes, index: int, tree_size: int, path: Sequence[bytes]) -> bytes:
    """The root implied by a proof, per RFC 9162 section 2.1.3.2; ValueError if the proof cannot fit.

    Kept literally to the RFC's fn/sn algorithm (not to the tree layout above) so that it is an
    independent check of the builder, and matches the Solidity verifier step by step.
    """
    if len(leaf) != HASH_LEN:
        raise ValueError(f"leaf hash is {len(leaf)} bytes, expected {HASH_LEN}")
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} is outside a tree of {tree_size} leaves")
    fn = index
    sn = tree_size - 1
    r = bytes(leaf)
    for p in path:
        if len(p) != HASH_LEN:
            raise ValueError(f"proof element is {len(p)} bytes, expected {HASH_LEN}")
        if sn == 0:
            raise ValueError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(leaf: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes) -> bool:
    """True iff ``path`` proves ``leaf`` at ``index`` in the tree of ``tree_size`` leaves with ``root``."""
    try:
        return root_from_proof(leaf, index, tree_size, path) == root
    except ValueError:
        return False
