"""RFC 9162 (RFC 6962) Merkle tree hashes, proofs and their verification.

Hashing follows RFC 9162 §2.1.1 exactly: a leaf is ``SHA-256(0x00 || data)``, an
interior node ``SHA-256(0x01 || left || right)``, the empty tree ``SHA-256("")``,
and a tree of ``n > 1`` leaves splits at the largest power of two smaller than
``n`` (the last node is never duplicated).

Three kinds of caller use this module:

- A verifier streaming a whole log feeds leaf hashes to :class:`TreeBuilder`,
  which keeps only the O(log n) roots of the perfect subtrees seen so far and can
  give the tree head at any point of the stream.
- A store generates proofs with :func:`inclusion_proof` and
  :func:`consistency_proof` (RFC 9162 §2.1.3.1 and §2.1.4.1). They read leaf
  hashes through a :data:`LeafHashes` accessor, so nothing has to be loaded in
  full, and they consult a :class:`SubtreeCache` of perfect subtree roots so a
  proof over millions of leaves costs O(log n) lookups.
- Anyone holding a tree head checks proofs with :func:`verify_inclusion` and
  :func:`verify_consistency` (RFC 9162 §2.1.3.2 and §2.1.4.2). Verifiers return
  ``False`` for every bad input and never raise.

Persisting the cache: a perfect subtree covers leaves
``[index << level, (index + 1) << level)`` and, in an append-only log, its root
never changes once its last leaf exists. A store may therefore keep the entries
of :attr:`SubtreeCache.nodes` as immutable rows ``(level, index, hash)``, written
as :class:`TreeBuilder` completes them while appending, and hand a mapping over
those rows back to :class:`SubtreeCache`. If the leaves were ever rewritten the
cache would have to go too, and proofs from it would fail verification against
the signed checkpoints, which is the point.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, MutableMapping, Sequence

HASH_SIZE = 32
"""The size in bytes of every hash: leaves, nodes, roots and proof elements."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree, ``SHA-256("")``."""

DEFAULT_MIN_LEVEL = 4
"""Cache perfect subtrees of 16 leaves and up: about 1/8 of a hash per leaf."""

LeafHashes = Callable[[int, int], Sequence[bytes]]
"""An accessor ``(start, end) -> leaf hashes at indices [start, end)``, in order."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """Hash one leaf's data as RFC 9162 does.

    Args:
        data: The leaf's bytes (the canonical encoding of one log entry).

    Returns:
        ``SHA-256(0x00 || data)``.
    """
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent as RFC 9162 does.

    Args:
        left: The left child's hash.
        right: The right child's hash.

    Returns:
        ``SHA-256(0x01 || left || right)``.
    """
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Compute the Merkle tree hash (MTH) of a list of leaf hashes.

    Pairs nodes level by level and carries an odd last node up unchanged, which
    gives the same tree as RFC 9162's split at the largest power of two.

    Args:
        hashes: The leaf hashes, in log order.

    Returns:
        The root hash; :data:`EMPTY_ROOT` for no leaves.

    Raises:
        ValueError: If a hash is not 32 bytes.
    """
    _check_hashes(hashes)
    if not hashes:
        return EMPTY_ROOT
    nodes = list(hashes)
    while len(nodes) > 1:
        paired = _pair(nodes)
        if len(nodes) % 2:
            paired.append(nodes[-1])
        nodes = paired
    return nodes[0]


class SubtreeCache:
    """Roots of perfect, aligned subtrees, keyed by ``(level, index)``.

    The key ``(level, index)`` names the subtree over leaves
    ``[index << level, (index + 1) << level)``. Only levels at or above
    ``min_level`` are kept; smaller subtrees are rehashed from at most
    ``2 ** min_level`` leaves, which bounds the cache at about
    ``n / 2 ** (min_level - 1)`` entries. Entries never change in an append-only
    log, so a store can persist them (see the module docstring) and pass a
    mapping over them as ``nodes``.
    """

    def __init__(
        self,
        nodes: MutableMapping[tuple[int, int], bytes] | None = None,
        *,
        min_level: int = DEFAULT_MIN_LEVEL,
    ) -> None:
        """Wrap a mapping of subtree roots.

        Args:
            nodes: Existing entries (e.g. loaded from a store); a new dict if None.
            min_level: The smallest level kept; at least 1 (leaves are never kept).

        Raises:
            ValueError: If ``min_level`` is below 1.
        """
        if min_level < 1:
            raise ValueError(f"min_level must be at least 1, not {min_level}")
        self.nodes: MutableMapping[tuple[int, int], bytes] = {} if nodes is None else nodes
        self.min_level = min_level

    @classmethod
    def build(
        cls, leaf_hashes: Sequence[bytes], *, min_level: int = DEFAULT_MIN_LEVEL
    ) -> SubtreeCache:
        """Hash every perfect subtree of a list of leaf hashes once.

        Args:
            leaf_hashes: All leaf hashes of the log, in order.
            min_level: The smallest level kept.

        Returns:
            A cache holding every perfect subtree at ``min_level`` and above.

        Raises:
            ValueError: If a hash is not 32 bytes or ``min_level`` is below 1.
        """
        _check_hashes(leaf_hashes)
        cache = cls(min_level=min_level)
        cache._record_level(0, 0, leaf_hashes)
        return cache

    def get(self, level: int, index: int) -> bytes | None:
        """Return the cached root of subtree ``(level, index)``, if any."""
        if level < self.min_level:
            return None
        return self.nodes.get((level, index))

    def put(self, level: int, index: int, digest: bytes) -> None:
        """Remember the root of subtree ``(level, index)`` if its level is kept."""
        if level >= self.min_level:
            self.nodes[(level, index)] = digest

    def _record_level(self, level: int, first: int, nodes: Sequence[bytes]) -> None:
        """Hash up from consecutive perfect subtrees, remembering kept levels.

        Args:
            level: The level of ``nodes``.
            first: The index of ``nodes[0]`` at that level; must be even unless
                ``nodes`` has a single element.
            nodes: Roots of consecutive subtrees at ``level``.
        """
        current = list(nodes)
        while len(current) > 1:
            current = _pair(current)
            level, first = level + 1, first // 2
            if level >= self.min_level:
                self.nodes.update(((level, first + i), h) for i, h in enumerate(current))

    def __len__(self) -> int:
        """Return the number of cached subtree roots."""
        return len(self.nodes)


class TreeBuilder:
    """Incremental RFC 9162 tree head over a stream of leaf hashes.

    Keeps the "compact range" of the leaves seen so far: the roots of the perfect
    subtrees that the binary representation of ``size`` decomposes into, largest
    first. Memory is O(log n); :meth:`root` may be called at any point of the
    stream and equals :func:`root_from_leaf_hashes` over the leaves so far.
    """

    def __init__(self, cache: SubtreeCache | None = None) -> None:
        """Start an empty tree.

        Args:
            cache: If given, every perfect subtree completed by :meth:`append` at
                a kept level is recorded in it (for a store to persist).
        """
        self._frontier: list[bytes] = []
        self._size = 0
        self._cache = cache

    @classmethod
    def resume(
        cls, size: int, frontier: Sequence[bytes], cache: SubtreeCache | None = None
    ) -> TreeBuilder:
        """Continue a stream from a saved :attr:`size` and :attr:`frontier`.

        Args:
            size: The number of leaves already appended.
            frontier: The saved frontier of that size.
            cache: As for the constructor.

        Returns:
            A builder in the saved state.

        Raises:
            ValueError: If the frontier does not have one hash per set bit of size.
        """
        if size < 0 or len(frontier) != size.bit_count():
            raise ValueError(f"a frontier of size {size} has {max(size, 0).bit_count()} hashes")
        _check_hashes(frontier)
        builder = cls(cache)
        builder._frontier = list(frontier)
        builder._size = size
        return builder

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def frontier(self) -> tuple[bytes, ...]:
        """The roots of the perfect subtrees covering the leaves, largest first."""
        return tuple(self._frontier)

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf hash (``leaf_hash(data)``, not the data itself).

        Raises:
            ValueError: If the hash is not 32 bytes.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf_hash)}")
        digest, carry, level = leaf_hash, self._size, 0
        while carry & 1:
            digest = node_hash(self._frontier.pop(), digest)
            carry, level = carry >> 1, level + 1
            if self._cache is not None:
                self._cache.put(level, self._size >> level, digest)
        self._frontier.append(digest)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append each leaf hash in turn."""
        for digest in leaf_hashes:
            self.append(digest)

    def root(self) -> bytes:
        """Return the tree head over the leaves appended so far."""
        if not self._frontier:
            return EMPTY_ROOT
        digest = self._frontier[-1]
        for left in reversed(self._frontier[:-1]):
            digest = node_hash(left, digest)
        return digest


def subtree_root(
    start: int, end: int, leaf_hashes: LeafHashes, cache: SubtreeCache | None = None
) -> bytes:
    """Compute MTH(D[start:end]), the Merkle tree hash of a range of leaves.

    Perfect aligned subtrees come from ``cache`` when present and are added to it
    when computed; other ranges split as RFC 9162 does.

    Args:
        start: The first leaf index.
        end: One past the last leaf index; greater than ``start``.
        leaf_hashes: The accessor for leaf hashes.
        cache: Optional cache of perfect subtree roots.

    Returns:
        The root hash of the range.

    Raises:
        ValueError: If the range is empty or negative, or the accessor misbehaves.
    """
    if start < 0 or end <= start:
        raise ValueError(f"no subtree over leaves [{start}, {end})")
    width = end - start
    if width & (width - 1) == 0:
        if start % width == 0:
            level = width.bit_length() - 1
            return _perfect_root(level, start >> level, leaf_hashes, cache)
        return root_from_leaf_hashes(_fetch(leaf_hashes, start, end))
    split = start + _split(width)
    return node_hash(
        subtree_root(start, split, leaf_hashes, cache),
        subtree_root(split, end, leaf_hashes, cache),
    )


def inclusion_proof(
    index: int, size: int, leaf_hashes: LeafHashes, cache: SubtreeCache | None = None
) -> list[bytes]:
    """Generate the inclusion proof PATH(index, D[size]) of RFC 9162 §2.1.3.1.

    Args:
        index: The leaf to prove.
        size: The tree size the proof is for.
        leaf_hashes: The accessor for leaf hashes (only ``[0, size)`` is read).
        cache: Optional cache of perfect subtree roots.

    Returns:
        The audit path, from the leaf's sibling up to the root's child.

    Raises:
        ValueError: If ``index`` is not in ``[0, size)``, or the accessor misbehaves.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        split = start + _split(end - start)
        if index < split:
            proof.append(subtree_root(split, end, leaf_hashes, cache))
            end = split
        else:
            proof.append(subtree_root(start, split, leaf_hashes, cache))
            start = split
    proof.reverse()
    return proof


def consistency_proof(
    old_size: int, new_size: int, leaf_hashes: LeafHashes, cache: SubtreeCache | None = None
) -> list[bytes]:
    """Generate the consistency proof PROOF(old_size, D[new_size]) of RFC 9162 §2.1.4.1.

    Args:
        old_size: The earlier tree size.
        new_size: The later tree size, at least ``old_size``.
        leaf_hashes: The accessor for leaf hashes (only ``[0, new_size)`` is read).
        cache: Optional cache of perfect subtree roots.

    Returns:
        The proof; empty when ``old_size`` is 0 or equals ``new_size``.

    Raises:
        ValueError: If the sizes are negative or decreasing, or the accessor misbehaves.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end, whole = 0, new_size, True
    while end != old_size:
        split = start + _split(end - start)
        if old_size <= split:
            proof.append(subtree_root(split, end, leaf_hashes, cache))
            end = split
        else:
            proof.append(subtree_root(start, split, leaf_hashes, cache))
            start, whole = split, False
    if not whole:
        proof.append(subtree_root(start, end, leaf_hashes, cache))
    proof.reverse()
    return proof


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes | None:
    """Recompute the root an inclusion proof leads to (RFC 9162 §2.1.3.2).

    Args:
        leaf_hash: The hash of the leaf claimed to be included.
        index: Its claimed index.
        size: The claimed tree size.
        proof: The audit path.

    Returns:
        The root, or None if the proof cannot be valid for any root (index out of
        range, wrong number of elements, an element that is not 32 bytes).
    """
    if not 0 <= index < size or not _are_hashes([leaf_hash, *proof]):
        return None
    if len(proof) != _inclusion_proof_length(index, size):
        return None
    fn, sn, digest = index, size - 1, leaf_hash
    for sibling in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            digest = node_hash(sibling, digest)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            digest = node_hash(digest, sibling)
        fn, sn = fn >> 1, sn >> 1
    return digest if sn == 0 else None


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check that a leaf is at ``index`` in the tree of ``size`` with head ``root``.

    A root does not commit to its size, so ``size`` and ``root`` must come
    together from one verified checkpoint, and ``leaf_hash`` must be computed by
    the caller from the entry's data, never taken from the prover.

    Args:
        leaf_hash: The hash of the leaf (``leaf_hash(data)``).
        index: The leaf's index.
        size: The tree size of ``root``.
        proof: The audit path from :func:`inclusion_proof`.
        root: The trusted tree head (e.g. from a verified checkpoint).

    Returns:
        True only if the proof is valid; False for any bad input, never raising.
    """
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    return computed is not None and _same(computed, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check that the tree of ``old_size`` is a prefix of the tree of ``new_size``.

    Implements RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal
    roots; an old size of 0 needs an empty proof and ``old_root`` equal to
    :data:`EMPTY_ROOT` (every tree extends the empty one). As for inclusion, each
    size must come with its own root from a verified checkpoint.

    Args:
        old_size: The earlier tree size.
        new_size: The later tree size.
        old_root: The trusted head of the earlier tree.
        new_root: The head of the later tree.
        proof: The proof from :func:`consistency_proof`.

    Returns:
        True only if the proof is valid; False for any bad input, never raising.
    """
    if not 0 <= old_size <= new_size or not _are_hashes([old_root, new_root, *proof]):
        return False
    if old_size == new_size:
        return not proof and _same(old_root, new_root)
    if old_size == 0:
        return not proof and _same(old_root, EMPTY_ROOT)
    if len(proof) != _consistency_proof_length(old_size, new_size):
        return False
    roots = _roots_from_consistency_proof(old_size, new_size, old_root, proof)
    return roots is not None and _same(roots[0], old_root) and _same(roots[1], new_root)


def _roots_from_consistency_proof(
    old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes] | None:
    """Run the iteration of RFC 9162 §2.1.4.2 for ``0 < old_size < new_size``."""
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = path[0]
    for node in path[1:]:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            first, second = node_hash(node, first), node_hash(node, second)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, node)
        fn, sn = fn >> 1, sn >> 1
    return (first, second) if sn == 0 else None


def _inclusion_proof_length(index: int, size: int) -> int:
    """Return the exact length of PATH(index, D[size])."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_proof_length(old_size: int, new_size: int) -> int:
    """Return the exact length of PROOF(old_size, D[new_size]), 0 < old < new."""
    level = (old_size & -old_size).bit_length() - 1
    index = (old_size - 1) >> level
    length = _inclusion_proof_length(index, ((new_size - 1) >> level) + 1)
    return length + (1 if index else 0)


def _perfect_root(
    level: int, index: int, leaf_hashes: LeafHashes, cache: SubtreeCache | None
) -> bytes:
    """Return the root of perfect subtree ``(level, index)``, caching what it hashes."""
    if cache is not None:
        found = cache.get(level, index)
        if found is not None:
            return found
        left, right = cache.get(level - 1, 2 * index), cache.get(level - 1, 2 * index + 1)
        if left is not None and right is not None:
            digest = node_hash(left, right)
            cache.put(level, index, digest)
            return digest
    start = index << level
    nodes = _fetch(leaf_hashes, start, start + (1 << level))
    if cache is not None:
        cache._record_level(0, start, nodes)
        found = cache.get(level, index)
        if found is not None:
            return found
    return root_from_leaf_hashes(nodes)


def _fetch(leaf_hashes: LeafHashes, start: int, end: int) -> Sequence[bytes]:
    """Read leaf hashes ``[start, end)`` and check the accessor kept its contract."""
    hashes = leaf_hashes(start, end)
    if len(hashes) != end - start:
        raise ValueError(f"asked for leaves [{start}, {end}), got {len(hashes)} hashes")
    _check_hashes(hashes)
    return hashes


def _pair(nodes: Sequence[bytes]) -> list[bytes]:
    """Hash nodes two by two, dropping an odd last node."""
    sha256, prefix = hashlib.sha256, _NODE_PREFIX
    return [sha256(prefix + nodes[i] + nodes[i + 1]).digest() for i in range(0, len(nodes) - 1, 2)]


def _split(width: int) -> int:
    """Return the largest power of two smaller than ``width`` (at least 2)."""
    return 1 << ((width - 1).bit_length() - 1)


def _check_hashes(hashes: Iterable[bytes]) -> None:
    """Raise ValueError unless every element is a 32-byte hash."""
    if not _are_hashes(hashes):
        raise ValueError(f"every hash must be {HASH_SIZE} bytes")


def _are_hashes(hashes: Iterable[bytes]) -> bool:
    """Tell whether every element is a 32-byte ``bytes`` value."""
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def _same(left: bytes, right: bytes) -> bool:
    """Compare two hashes in constant time."""
    return hmac.compare_digest(left, right)
