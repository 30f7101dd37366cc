"""anchor.merkle against RFC 9162 itself: published vectors and a recursive reference written from the RFC."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anchor.issuing.merkle import MerkleTree, proof_length, root_from_proof, verify_inclusion


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- reference: RFC 9162 section 2.1.1 / 2.1.3.1, literally ------------------------------------------


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def reference(
    leaves: list[bytes],
) -> tuple[Callable[[int, int], bytes], Callable[[int, int, int], list[bytes]]]:
    """MTH(D[lo:hi]) and PATH(m, D[lo:hi]) over leaf hashes, memoized so large trees stay cheap."""

    @cache
    def mth(lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 1:
            return leaves[lo]  # the inputs are already leaf hashes: MTH({d}) = leaf hash
        k = largest_power_of_two_below(n)
        return sha(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi))

    def path(m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = largest_power_of_two_below(n)
        if m < k:
            return [*path(m, lo, lo + k), mth(lo + k, hi)]
        return [*path(m - k, lo + k, hi), mth(lo, lo + k)]

    return mth, path


def directions(m: int, n: int) -> list[bool]:
    """Bottom-up: is each PATH element a right sibling? (RFC 9162 PATH's recursion, shape only.)"""
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    return [*directions(m, k), True] if m < k else [*directions(m - k, n - k), False]


def make_leaves(n: int, seed: int = 0) -> list[bytes]:
    return [sha(b"leaf" + seed.to_bytes(4, "big") + i.to_bytes(8, "big")) for i in range(n)]


# --- Certificate Transparency vectors (RFC 6962/9162 hashing; transparency-dev/merkle testonly) -------

CT_DATA = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PROOFS = {
    0: [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    5: [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CT_LEAVES = [sha(b"\x00" + bytes.fromhex(d)) for d in CT_DATA]


@pytest.mark.parametrize("size", range(1, 9))
def test_ct_vector_roots(size: int) -> None:
    assert MerkleTree(CT_LEAVES[:size]).root.hex() == CT_ROOTS[size - 1]


@pytest.mark.parametrize("index", sorted(CT_PROOFS))
def test_ct_vector_proofs(index: int) -> None:
    tree = MerkleTree(CT_LEAVES)
    assert [p.hex() for p in tree.inclusion_proof(index)] == CT_PROOFS[index]
    path = [bytes.fromhex(p) for p in CT_PROOFS[index]]
    assert verify_inclusion(CT_LEAVES[index], index, 8, path, bytes.fromhex(CT_ROOTS[7]))


# --- against the reference -----------------------------------------------------------------------------


def check_against_reference(leaves: list[bytes]) -> None:
    n = len(leaves)
    mth, path = reference(leaves)
    tree = MerkleTree(leaves)
    assert tree.size == n
    assert tree.root == mth(0, n)
    proofs = tree.all_proofs()
    for m in range(n):
        expected = path(m, 0, n)
        assert tree.inclusion_proof(m) == expected, (n, m)
        assert proofs[m] == expected, (n, m)
        assert proof_length(m, n) == len(expected)
        assert root_from_proof(leaves[m], m, n, expected) == tree.root
        assert verify_inclusion(leaves[m], m, n, expected, tree.root)


@pytest.mark.parametrize("size", range(1, 71))
def test_matches_reference_for_every_index(size: int) -> None:
    check_against_reference(make_leaves(size))


def test_matches_reference_for_random_larger_sizes() -> None:
    rng = random.Random(9162)
    for size in [*rng.sample(range(71, 1100), 6), 1024, 1025, 2047]:
        check_against_reference(make_leaves(size, seed=size))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=3000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1)))
)
def test_property_size_index(size_index: tuple[int, int]) -> None:
    size, index = size_index
    leaves = make_leaves(size, seed=7)
    mth, path = reference(leaves)
    tree = MerkleTree(leaves)
    proof = tree.inclusion_proof(index)
    assert proof == path(index, 0, size)
    assert verify_inclusion(leaves[index], index, size, proof, mth(0, size))
    if size > 1:
        assert not verify_inclusion(leaves[index], (index + 1) % size, size, proof, tree.root)


def test_single_leaf_tree_is_the_leaf() -> None:
    leaf = make_leaves(1)[0]
    tree = MerkleTree([leaf])
    assert tree.root == leaf
    assert tree.inclusion_proof(0) == []
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 1, [leaf], leaf)


# --- rejection ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 3, 5, 6, 7, 8, 13, 64, 65, 100])
def test_verify_rejects_every_kind_of_tampering(size: int) -> None:
    leaves = make_leaves(size, seed=size)
    tree = MerkleTree(leaves)
    root = tree.root
    for index in range(size):
        leaf, path = leaves[index], tree.inclusion_proof(index)
        assert verify_inclusion(leaf, index, size, path, root)
        for other in range(size):
            if other != index:
                assert not verify_inclusion(leaf, other, size, path, root), ("index", index, other)
        for other_size in range(index + 1, 2 * size + 2):
            # A proof only fixes the shape of the path, so another size with the same shape verifies:
            # that is why treeSize is part of the signed batch message.
            same_shape = directions(index, other_size) == directions(index, size)
            assert verify_inclusion(leaf, index, other_size, path, root) == same_shape, ("size", other_size)
        for i in range(len(path)):
            bad = list(path)
            bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
            assert not verify_inclusion(leaf, index, size, bad, root), ("element", i)
        assert not verify_inclusion(leaf, index, size, path[:-1], root)
        assert not verify_inclusion(leaf, index, size, [*path, root], root)
        assert not verify_inclusion(leaf, index, size, [*path, path[-1]], root)
        assert not verify_inclusion(leaf, index, size, path, sha(root))
        assert not verify_inclusion(sha(leaf), index, size, path, root)


def test_tree_size_is_not_fully_bound_by_a_proof() -> None:
    leaves = make_leaves(8)
    tree = MerkleTree(leaves)
    proof = tree.inclusion_proof(0)
    assert verify_inclusion(leaves[0], 0, 6, proof, tree.root)  # leftmost path: same shape as size 8
    assert not verify_inclusion(leaves[7], 7, 6, tree.inclusion_proof(7), tree.root)


def test_verify_rejects_out_of_range_and_malformed() -> None:
    leaves = make_leaves(4)
    tree = MerkleTree(leaves)
    path = tree.inclusion_proof(1)
    assert not verify_inclusion(leaves[1], 4, 4, path, tree.root)
    assert not verify_inclusion(leaves[1], -1, 4, path, tree.root)
    assert not verify_inclusion(leaves[1], 1, 0, path, tree.root)
    assert not verify_inclusion(leaves[1][:31], 1, 4, path, tree.root)
    assert not verify_inclusion(leaves[1], 1, 4, [path[0][:31], path[1]], tree.root)
    with pytest.raises(ValueError, match="longer"):
        root_from_proof(leaves[1], 1, 4, [*path, path[0]])
    with pytest.raises(ValueError, match="shorter"):
        root_from_proof(leaves[1], 1, 4, path[:1])


def test_tree_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one leaf"):
        MerkleTree([])
    with pytest.raises(ValueError, match="leaf 2 is 31 bytes"):
        MerkleTree([b"\x00" * 32, b"\x01" * 32, b"\x02" * 31])
    tree = MerkleTree(make_leaves(3))
    with pytest.raises(IndexError):
        tree.inclusion_proof(3)
    with pytest.raises(IndexError):
        tree.inclusion_proof(-1)
    with pytest.raises(IndexError):
        list(tree.iter_proofs(2, 4))
    with pytest.raises(ValueError):
        proof_length(3, 3)


def test_iter_proofs_range_matches_per_index() -> None:
    tree = MerkleTree(make_leaves(37))
    assert list(tree.iter_proofs(5, 20)) == [tree.inclusion_proof(i) for i in range(5, 20)]
    assert list(tree.iter_proofs(37, 37)) == []


def test_levels_end_in_root_and_carry_the_unpaired_node_up() -> None:
    leaves = make_leaves(5)
    tree = MerkleTree(leaves)
    assert [len(level) for level in tree.levels] == [5, 3, 2, 1]
    assert tree.levels[1][2] == leaves[4]  # carried, not re-hashed
    assert tree.levels[-1][0] == tree.root
    assert tree.leaf(4) == leaves[4]


@pytest.mark.slow
def test_million_leaves_build_and_prove() -> None:
    # Correctness at size only: how fast is scripts/bench_merkle.py's question, not a test's.
    leaves = [sha(i.to_bytes(8, "big")) for i in range(1_000_000)]
    tree = MerkleTree(leaves)
    for proof in tree.iter_proofs(0, 1_000):
        assert len(proof) == 20
    assert verify_inclusion(leaves[999_999], 999_999, 1_000_000, tree.inclusion_proof(999_999), tree.root)
