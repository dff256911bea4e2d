"""RFC 9162 Merkle trees: known answers, the RFC definitions, and forged proofs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import pytest

from ledger.integrity.merkle import (
    EMPTY_ROOT,
    LeafHashes,
    SubtreeCache,
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

# The reference tree of the certificate-transparency test suites (C++ merkle_tree_test,
# Go trillian/transparency-dev merkle tests): leaf inputs and the root over the first n.
CT_INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
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
# (leaf index, tree size, path) from the same suites (their leaf numbers are 1-based).
CT_PATHS = [
    (0, 1, []),
    (0, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
    (5, 8, ["bc1a0643", "ca854ea1", "d37ee418"]),
    (2, 3, ["fac54203"]),
    (1, 5, ["6e340b9c", "5f083f0a", "bc1a0643"]),
]
CT_PATH_HASHES = {
    "96a296d2": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf2": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "bc1a0643": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca854ea1": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37ee418": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "fac54203": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "6e340b9c": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "0ebc5d34": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
}
CT_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d2", "5f083f0a", "6b47aaf2"]),
    (6, 8, ["0ebc5d34", "ca854ea1", "d37ee418"]),
    (2, 5, ["5f083f0a", "bc1a0643"]),
]

MAX_SIZE = 40
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(300)]
CT_LEAVES = [leaf_hash(data) for data in CT_INPUTS]


def accessor(hashes: Sequence[bytes]) -> LeafHashes:
    return lambda start, end: hashes[start:end]


def expand(short_names: list[str]) -> list[bytes]:
    return [bytes.fromhex(CT_PATH_HASHES[name]) for name in short_names]


# An independent implementation, straight from the recursive text of RFC 9162 §2.1.


def naive_root(hashes: Sequence[bytes]) -> bytes:
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_root(hashes[:k]) + naive_root(hashes[k:])).digest()


def naive_path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    n = len(hashes)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*naive_path(m, hashes[:k]), naive_root(hashes[k:])]
    return [*naive_path(m - k, hashes[k:]), naive_root(hashes[:k])]


def naive_subproof(m: int, hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [naive_root(hashes)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, hashes[:k], whole), naive_root(hashes[k:])]
    return [*naive_subproof(m - k, hashes[k:], False), naive_root(hashes[:k])]


NAIVE_ROOTS = [naive_root(LEAVES[:n]) for n in range(301)]


def flip_bit(value: bytes, bit: int) -> bytes:
    flipped = bytearray(value)
    flipped[bit // 8 % len(value)] ^= 1 << (bit % 8)
    return bytes(flipped)


def all_inclusion_cases() -> Iterator[tuple[int, int, list[bytes]]]:
    for size in range(1, MAX_SIZE + 1):
        for index in range(size):
            yield index, size, naive_path(index, LEAVES[:size])


def all_consistency_cases() -> Iterator[tuple[int, int, list[bytes]]]:
    for new in range(1, MAX_SIZE + 1):
        for old in range(1, new + 1):
            yield old, new, naive_subproof(old, LEAVES[:new], True)


# Hashing and tree heads.


def test_the_empty_tree_hashes_to_the_hash_of_the_empty_string() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert TreeBuilder().root() == EMPTY_ROOT


def test_leaves_and_nodes_are_hashed_with_distinct_prefixes() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = b"L" * 32, b"R" * 32
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert leaf_hash(b"\x01" + left + right) != node_hash(left, right)


@pytest.mark.parametrize("size", range(1, 9))
def test_the_reference_tree_has_the_published_root_at_every_size(size: int) -> None:
    expected = bytes.fromhex(CT_ROOTS[size - 1])
    builder = TreeBuilder()
    builder.extend(CT_LEAVES[:size])
    assert root_from_leaf_hashes(CT_LEAVES[:size]) == expected
    assert builder.root() == expected
    assert subtree_root(0, size, accessor(CT_LEAVES)) == expected
    assert naive_root(CT_LEAVES[:size]) == expected


@pytest.mark.parametrize(("index", "size", "path"), CT_PATHS)
def test_the_reference_tree_has_the_published_inclusion_proofs(
    index: int, size: int, path: list[str]
) -> None:
    proof = inclusion_proof(index, size, accessor(CT_LEAVES))
    assert proof == expand(path)
    root = bytes.fromhex(CT_ROOTS[size - 1])
    assert verify_inclusion(CT_LEAVES[index], index, size, proof, root)


@pytest.mark.parametrize(("old", "new", "path"), CT_CONSISTENCY)
def test_the_reference_tree_has_the_published_consistency_proofs(
    old: int, new: int, path: list[str]
) -> None:
    proof = consistency_proof(old, new, accessor(CT_LEAVES))
    assert proof == expand(path)
    old_root, new_root = bytes.fromhex(CT_ROOTS[old - 1]), bytes.fromhex(CT_ROOTS[new - 1])
    assert verify_consistency(old, new, old_root, new_root, proof)


def test_the_root_matches_the_recursive_definition_for_every_size_up_to_300() -> None:
    for size in range(301):
        assert root_from_leaf_hashes(LEAVES[:size]) == NAIVE_ROOTS[size]


def test_a_streamed_root_equals_the_naive_root_after_every_append_up_to_300() -> None:
    builder = TreeBuilder()
    for size, digest in enumerate(LEAVES, start=1):
        builder.append(digest)
        assert builder.size == size
        assert len(builder.frontier) == size.bit_count()
        assert builder.root() == NAIVE_ROOTS[size]


def test_a_resumed_builder_continues_the_same_tree() -> None:
    first = TreeBuilder()
    first.extend(LEAVES[:77])
    resumed = TreeBuilder.resume(first.size, first.frontier)
    resumed.extend(LEAVES[77:200])
    assert resumed.root() == NAIVE_ROOTS[200]


def test_a_builder_refuses_a_frontier_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match="frontier"):
        TreeBuilder.resume(5, [LEAVES[0]])
    with pytest.raises(ValueError, match="32 bytes"):
        TreeBuilder.resume(1, [b"short"])


def test_a_builder_refuses_a_leaf_hash_that_is_not_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        TreeBuilder().append(b"not a hash")


def test_a_subtree_root_is_the_root_of_that_range_of_leaves() -> None:
    for start in range(20):
        for end in range(start + 1, 40):
            assert subtree_root(start, end, accessor(LEAVES)) == naive_root(LEAVES[start:end])


# Proof generation follows the RFC definitions, with and without a cache.


@pytest.mark.parametrize("min_level", [None, 1, 2, 3])
def test_generated_inclusion_proofs_match_the_rfc_definition(min_level: int | None) -> None:
    cache = None if min_level is None else SubtreeCache(min_level=min_level)
    for index, size, expected in all_inclusion_cases():
        assert inclusion_proof(index, size, accessor(LEAVES), cache) == expected


@pytest.mark.parametrize("min_level", [None, 1, 2, 3])
def test_generated_consistency_proofs_match_the_rfc_definition(min_level: int | None) -> None:
    cache = None if min_level is None else SubtreeCache(min_level=min_level)
    for old, new, expected in all_consistency_cases():
        assert consistency_proof(old, new, accessor(LEAVES), cache) == expected
    assert consistency_proof(0, 5, accessor(LEAVES), cache) == []


def test_a_builder_records_the_same_subtrees_as_a_bulk_build() -> None:
    for min_level in (1, 3):
        streamed = SubtreeCache(min_level=min_level)
        TreeBuilder(streamed).extend(LEAVES[:299])
        built = SubtreeCache.build(LEAVES[:299], min_level=min_level)
        assert dict(streamed.nodes) == dict(built.nodes)
        assert built.nodes[(8, 0)] == NAIVE_ROOTS[256]
        assert min(level for level, _ in built.nodes) == min_level


def test_a_warm_cache_lets_a_proof_read_only_a_few_leaves() -> None:
    size = (1 << 14) + 1234
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    cache = SubtreeCache(min_level=4)
    builder = TreeBuilder(cache)
    builder.extend(hashes)
    reads: list[int] = []

    def counting(start: int, end: int) -> Sequence[bytes]:
        reads.append(end - start)
        return hashes[start:end]

    proof = inclusion_proof(9999, size, counting, cache)
    assert verify_inclusion(hashes[9999], 9999, size, proof, builder.root())
    assert sum(reads) < 64
    reads.clear()
    proof = consistency_proof(5000, size, counting, cache)
    old_root = root_from_leaf_hashes(hashes[:5000])
    assert verify_consistency(5000, size, old_root, builder.root(), proof)
    assert sum(reads) < 64


def test_a_cache_over_a_store_mapping_is_read_and_filled() -> None:
    rows: dict[tuple[int, int], bytes] = {}
    cache = SubtreeCache(rows, min_level=2)
    assert inclusion_proof(3, 37, accessor(LEAVES), cache) == naive_path(3, LEAVES[:37])
    assert rows
    assert all(level >= 2 for level, _ in rows)
    assert rows[(4, 1)] == naive_root(LEAVES[16:32])


def test_proof_generation_refuses_impossible_arguments() -> None:
    leaves = accessor(LEAVES)
    for index, size in [(0, 0), (5, 5), (6, 5), (-1, 5)]:
        with pytest.raises(ValueError, match="not in a tree"):
            inclusion_proof(index, size, leaves)
    for old, new in [(6, 5), (-1, 5), (-2, -1)]:
        with pytest.raises(ValueError, match="no consistency proof"):
            consistency_proof(old, new, leaves)
    with pytest.raises(ValueError, match="no subtree"):
        subtree_root(3, 3, leaves)
    with pytest.raises(ValueError, match="min_level"):
        SubtreeCache(min_level=0)


def test_an_accessor_that_breaks_its_contract_is_an_error() -> None:
    with pytest.raises(ValueError, match="got 7 hashes"):
        inclusion_proof(0, 8, lambda start, end: LEAVES[:7])
    with pytest.raises(ValueError, match="32 bytes"):
        inclusion_proof(0, 8, lambda start, end: [b"x"] * (end - start))


# Inclusion proofs: every valid one verifies, every forgery fails.


def test_every_inclusion_proof_up_to_size_40_verifies() -> None:
    for index, size, proof in all_inclusion_cases():
        assert verify_inclusion(LEAVES[index], index, size, proof, NAIVE_ROOTS[size])
        assert root_from_inclusion_proof(LEAVES[index], index, size, proof) == NAIVE_ROOTS[size]


def test_an_inclusion_proof_with_a_flipped_bit_is_rejected() -> None:
    for index, size, proof in all_inclusion_cases():
        root, leaf = NAIVE_ROOTS[size], LEAVES[index]
        for position in range(len(proof)):
            forged = list(proof)
            forged[position] = flip_bit(proof[position], index * 31 + size * 7 + position)
            assert not verify_inclusion(leaf, index, size, forged, root)
        assert not verify_inclusion(flip_bit(leaf, index + size), index, size, proof, root)
        assert not verify_inclusion(leaf, index, size, proof, flip_bit(root, index * size))


@pytest.mark.parametrize(("index", "size"), [(0, 1), (5, 8), (6, 7), (20, 37), (39, 40)])
def test_every_single_bit_flip_of_an_inclusion_proof_is_rejected(index: int, size: int) -> None:
    proof, root, leaf = naive_path(index, LEAVES[:size]), NAIVE_ROOTS[size], LEAVES[index]
    for bit in range(256):
        assert not verify_inclusion(flip_bit(leaf, bit), index, size, proof, root)
        assert not verify_inclusion(leaf, index, size, proof, flip_bit(root, bit))
        for position in range(len(proof)):
            forged = list(proof)
            forged[position] = flip_bit(proof[position], bit)
            assert not verify_inclusion(leaf, index, size, forged, root)


def test_a_truncated_or_extended_inclusion_proof_is_rejected() -> None:
    for index, size, proof in all_inclusion_cases():
        root, leaf = NAIVE_ROOTS[size], LEAVES[index]
        forgeries = [
            [*proof, root],
            [*proof, EMPTY_ROOT],
            [*proof, proof[-1]] if proof else [leaf],
            [root, *proof],
            [EMPTY_ROOT, *proof],
            [*proof, b""],
        ]
        if proof:
            forgeries += [proof[:-1], proof[1:], proof[::-1]] if len(proof) > 1 else [[]]
        for forged in forgeries:
            assert not verify_inclusion(leaf, index, size, forged, root)


def test_an_inclusion_proof_for_another_index_or_size_is_rejected() -> None:
    # A root does not commit to its size: size and root must come together from a
    # verified checkpoint. So a proof for one size is replayed against another
    # size's real root (and against impossible sizes).
    for index, size, proof in all_inclusion_cases():
        root, leaf = NAIVE_ROOTS[size], LEAVES[index]
        for other in range(-1, size + 1):
            if other != index:
                assert not verify_inclusion(leaf, other, size, proof, root)
        for other_size in range(1, MAX_SIZE + 2):
            if other_size != size:
                assert not verify_inclusion(leaf, index, other_size, proof, NAIVE_ROOTS[other_size])
        assert not verify_inclusion(leaf, index, 0, proof, root)
        assert not verify_inclusion(leaf, index, index, proof, root)


def test_a_proof_for_another_leaf_is_rejected() -> None:
    for index, size, proof in all_inclusion_cases():
        root = NAIVE_ROOTS[size]
        for other in (index - 1, index + 1):
            if 0 <= other < size:
                assert not verify_inclusion(LEAVES[other], index, size, proof, root)
        assert not verify_inclusion(LEAVES[size], index, size, proof, root)


def test_an_interior_node_cannot_pass_for_a_leaf() -> None:
    root = NAIVE_ROOTS[8]
    pair = node_hash(LEAVES[0], LEAVES[1])
    upper = naive_path(0, LEAVES[:8])[1:]
    for index in range(8):
        assert not verify_inclusion(pair, index, 8, upper, root)
    assert not verify_inclusion(leaf_hash(LEAVES[0] + LEAVES[1]), 0, 8, upper, root)


def test_impossible_inclusion_arguments_are_rejected_without_raising() -> None:
    proof, root, leaf = naive_path(2, LEAVES[:5]), NAIVE_ROOTS[5], LEAVES[2]
    assert not verify_inclusion(leaf, 5, 5, proof, root)
    assert not verify_inclusion(leaf, 6, 5, proof, root)
    assert not verify_inclusion(leaf, -1, 5, proof, root)
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf, 0, -1, [], root)
    assert not verify_inclusion(leaf, 2, 5, proof, root[:31])
    assert not verify_inclusion(leaf[:31], 2, 5, proof, root)
    assert not verify_inclusion(leaf, 2, 5, [proof[0] + b"\x00", *proof[1:]], root)
    assert not verify_inclusion(leaf, 0, 1, [], EMPTY_ROOT)
    assert root_from_inclusion_proof(leaf, 5, 5, proof) is None


# Consistency proofs: every valid one verifies, every forgery fails.


def test_every_consistency_proof_up_to_size_40_verifies() -> None:
    for old, new, proof in all_consistency_cases():
        assert verify_consistency(old, new, NAIVE_ROOTS[old], NAIVE_ROOTS[new], proof)


def test_a_consistency_proof_with_a_wrong_root_is_rejected() -> None:
    for old, new, proof in all_consistency_cases():
        old_root, new_root = NAIVE_ROOTS[old], NAIVE_ROOTS[new]
        bit = old * 11 + new
        assert not verify_consistency(old, new, flip_bit(old_root, bit), new_root, proof)
        assert not verify_consistency(old, new, old_root, flip_bit(new_root, bit), proof)
        assert not verify_consistency(old, new, EMPTY_ROOT, new_root, proof)
        assert not verify_consistency(old, new, old_root, NAIVE_ROOTS[new - 1], proof)
        if old != new:
            assert not verify_consistency(old, new, new_root, old_root, proof)


def test_a_consistency_proof_with_a_flipped_bit_is_rejected() -> None:
    for old, new, proof in all_consistency_cases():
        for position in range(len(proof)):
            forged = list(proof)
            forged[position] = flip_bit(proof[position], old * 13 + new * 5 + position)
            assert not verify_consistency(old, new, NAIVE_ROOTS[old], NAIVE_ROOTS[new], forged)


@pytest.mark.parametrize(("old", "new"), [(1, 8), (6, 8), (3, 7), (13, 40), (32, 33)])
def test_every_single_bit_flip_of_a_consistency_proof_is_rejected(old: int, new: int) -> None:
    proof = naive_subproof(old, LEAVES[:new], True)
    old_root, new_root = NAIVE_ROOTS[old], NAIVE_ROOTS[new]
    for bit in range(256):
        assert not verify_consistency(old, new, flip_bit(old_root, bit), new_root, proof)
        assert not verify_consistency(old, new, old_root, flip_bit(new_root, bit), proof)
        for position in range(len(proof)):
            forged = list(proof)
            forged[position] = flip_bit(proof[position], bit)
            assert not verify_consistency(old, new, old_root, new_root, forged)


def test_a_truncated_or_extended_consistency_proof_is_rejected() -> None:
    for old, new, proof in all_consistency_cases():
        old_root, new_root = NAIVE_ROOTS[old], NAIVE_ROOTS[new]
        forgeries = [[*proof, new_root], [*proof, EMPTY_ROOT], [old_root, *proof], [*proof, b""]]
        if proof:
            forgeries += [[*proof, proof[-1]], [proof[0], *proof], proof[:-1], proof[1:]]
        if len(proof) > 1:
            forgeries.append(proof[::-1])
        for forged in forgeries:
            assert not verify_consistency(old, new, old_root, new_root, forged)


def test_a_consistency_proof_for_other_sizes_is_rejected() -> None:
    # As for inclusion, each size is paired with its own real root.
    for old, new, proof in all_consistency_cases():
        old_root, new_root = NAIVE_ROOTS[old], NAIVE_ROOTS[new]
        if old != new:
            assert not verify_consistency(new, old, new_root, old_root, proof)
            assert not verify_consistency(new, old, old_root, new_root, proof)
        for other in range(1, new + 1):
            if other != old:
                assert not verify_consistency(other, new, NAIVE_ROOTS[other], new_root, proof)
        for other in range(old, MAX_SIZE + 2):
            if other != new:
                assert not verify_consistency(old, other, old_root, NAIVE_ROOTS[other], proof)
        assert not verify_consistency(-1, new, old_root, new_root, proof)
        assert not verify_consistency(new + 1, new, old_root, new_root, proof)


def test_consistency_edge_cases_follow_rfc_9162() -> None:
    root3, root5 = NAIVE_ROOTS[3], NAIVE_ROOTS[5]
    assert verify_consistency(3, 3, root3, root3, [])
    assert not verify_consistency(3, 3, root3, root3, [root3])
    assert not verify_consistency(3, 3, root3, root5, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, root5, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, root5, [root5])
    assert not verify_consistency(0, 5, root3, root5, [])
    assert not verify_consistency(5, 3, root5, root3, [])
    assert not verify_consistency(3, 5, root3, root5, [])
    assert not verify_consistency(-1, 5, root3, root5, [])
    assert not verify_consistency(3, 5, root3[:31], root5, naive_subproof(3, LEAVES[:5], True))
