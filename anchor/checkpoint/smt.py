"""An authenticated map: a sparse Merkle tree over 256-bit keys with one-leaf subtrees collapsed.

The root commits to a set of (key, value hash) pairs and to nothing else: an empty subtree hashes to
32 zero bytes; a subtree holding exactly one entry hashes to that entry's leaf hash
SHA-256(0x10 || key || value hash), wherever it sits; any other subtree to SHA-256(0x11 || left || right),
split by the next bit of the key (most significant bit first). This is the sparse Merkle tree of
Diem's Jellyfish design (and of RFC 9162's sibling, the CONIKS/Trillian map) without their storage
concerns: proofs are about log2(n) siblings long, not 256, and a proof of absence ends either at an
empty subtree or at the one other entry whose key shares the path.

Entries are only ever added or changed here (the registries forget nothing), so a node always has at
least two entries below it and the shape is canonical. Hashes are recomputed lazily: a batch of
updates costs one hash per changed node, however many entries changed under it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

EMPTY = bytes(32)
_sha = hashlib.sha256


def leaf_hash(key: bytes, value_hash: bytes) -> bytes:
    return _sha(b"\x10" + key + value_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x11" + left + right).digest()


def _bit(key: bytes, depth: int) -> int:
    return (key[depth >> 3] >> (7 - (depth & 7))) & 1


class _Leaf:
    __slots__ = ("hash", "key", "value_hash")

    def __init__(self, key: bytes, value_hash: bytes) -> None:
        self.key = key
        self.value_hash = value_hash
        self.hash = leaf_hash(key, value_hash)


class _Node:
    __slots__ = ("hash", "left", "right")

    def __init__(self) -> None:
        self.left: _Node | _Leaf | None = None
        self.right: _Node | _Leaf | None = None
        self.hash: bytes | None = None


@dataclass(frozen=True)
class MapProof:
    """Siblings from the root down (None for an empty subtree), and the entry where the path ends."""

    siblings: tuple[bytes | None, ...]
    leaf: tuple[bytes, bytes] | None  # (key, value hash), or None if the path ends in an empty subtree

    def to_json(self) -> dict[str, object]:
        return {
            "siblings": [None if s is None else s.hex() for s in self.siblings],
            "leaf": None if self.leaf is None else [self.leaf[0].hex(), self.leaf[1].hex()],
        }

    @classmethod
    def from_json(cls, data: object) -> MapProof:
        """ValueError with a one-line reason if `data` is not a map proof."""
        if not isinstance(data, dict) or set(data) != {"siblings", "leaf"}:
            raise ValueError("a map proof has exactly 'siblings' and 'leaf'")
        sib, leaf = data["siblings"], data["leaf"]
        if not isinstance(sib, list) or len(sib) > 256:
            raise ValueError("map proof siblings must be a list of at most 256 hashes")
        siblings = tuple(None if s is None else _hash32(s) for s in sib)
        if leaf is None:
            return cls(siblings, None)
        if not isinstance(leaf, list) or len(leaf) != 2:
            raise ValueError("map proof leaf must be [key, value hash] or null")
        return cls(siblings, (_hash32(leaf[0]), _hash32(leaf[1])))


def _hash32(value: object) -> bytes:
    try:
        raw = bytes.fromhex(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != 32 or len(value) != 64:  # type: ignore[arg-type]
        raise ValueError("a map proof hash is 64 hex digits")
    return raw


class SparseMap:
    def __init__(self, entries: Iterable[tuple[bytes, bytes]] = ()) -> None:
        self._root: _Node | _Leaf | None = None
        self._size = 0
        for key, value_hash in entries:
            self.set(key, value_hash)

    def __len__(self) -> int:
        return self._size

    def set(self, key: bytes, value_hash: bytes) -> None:
        if len(key) != 32 or len(value_hash) != 32:
            raise ValueError("map keys and value hashes are 32 bytes")
        node = self._root
        if node is None:
            self._root = _Leaf(key, value_hash)
            self._size = 1
            return
        parent: _Node | None = None
        bit = 0
        depth = 0
        while isinstance(node, _Node):
            node.hash = None
            parent = node
            bit = _bit(key, depth)
            node = node.right if bit else node.left
            depth += 1
        if node is not None and node.key == key:
            if node.value_hash != value_hash:
                node.value_hash = value_hash
                node.hash = leaf_hash(key, value_hash)
            return
        self._size += 1
        new = _Leaf(key, value_hash)
        if node is None:
            replacement: _Node | _Leaf = new
        else:
            # Split until the two keys part: each node on the way has both entries below it.
            top = cur = _Node()
            while (b := _bit(key, depth)) == _bit(node.key, depth):
                child = _Node()
                if b:
                    cur.right = child
                else:
                    cur.left = child
                cur = child
                depth += 1
            if b:
                cur.left, cur.right = node, new
            else:
                cur.left, cur.right = new, node
            replacement = top
        if parent is None:
            self._root = replacement
        elif bit:
            parent.right = replacement
        else:
            parent.left = replacement

    def root(self) -> bytes:
        return _hash_of(self._root)

    def get(self, key: bytes) -> bytes | None:
        node, depth = self._root, 0
        while isinstance(node, _Node):
            node = node.right if _bit(key, depth) else node.left
            depth += 1
        return node.value_hash if node is not None and node.key == key else None

    def prove(self, key: bytes) -> MapProof:
        siblings: list[bytes | None] = []
        node, depth = self._root, 0
        while isinstance(node, _Node):
            bit = _bit(key, depth)
            other = node.left if bit else node.right
            siblings.append(None if other is None else _hash_of(other))
            node = node.right if bit else node.left
            depth += 1
        return MapProof(tuple(siblings), None if node is None else (node.key, node.value_hash))


def _hash_of(node: _Node | _Leaf | None) -> bytes:
    if node is None:
        return EMPTY
    if node.hash is None:
        assert isinstance(node, _Node)
        # Iterative post-order: a chain of splits can be 256 nodes deep.
        stack: list[_Node] = [node]
        while stack:
            top = stack[-1]
            pending = [c for c in (top.left, top.right) if isinstance(c, _Node) and c.hash is None]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            top.hash = node_hash(_hash_of(top.left), _hash_of(top.right))
    assert node.hash is not None
    return node.hash


def verify(root: bytes, key: bytes, value_hash: bytes | None, proof: MapProof) -> bool:
    """Does `proof` show `key` maps to `value_hash` under `root` (or, with None, that `key` is absent)?"""
    siblings: Sequence[bytes | None] = proof.siblings
    depth = len(siblings)
    if depth > 256 or len(key) != 32:
        return False
    if proof.leaf is None:
        if value_hash is not None:
            return False
        h = EMPTY
    else:
        found_key, found_value = proof.leaf
        if value_hash is not None:
            if found_key != key or found_value != value_hash:
                return False
        elif found_key == key or any(_bit(key, d) != _bit(found_key, d) for d in range(depth)):
            # Absence by another entry: it must sit where `key` would, and be another key.
            return False
        h = leaf_hash(found_key, found_value)
    for d in range(depth - 1, -1, -1):
        s = siblings[d]
        sib = EMPTY if s is None else s
        h = node_hash(sib, h) if _bit(key, d) else node_hash(h, sib)
    return h == root
