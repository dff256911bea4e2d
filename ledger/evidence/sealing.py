"""Sealing the log: a Merkle tree over every stored event, and signed checkpoints.

The tree is kept by a tracked projection (``merkle`` in the tracking table): each
page of new events is hashed into leaves (``ledger.integrity.leaf``), appended to
the tree resumed from its saved frontier, and the new leaf rows, completed subtree
roots, frontier and tracking position are written in one transaction, so the tree
never misses or repeats an event. ``seal`` then signs a C2SP checkpoint of the
current size and root with the store's Ed25519 key, after checking that it extends
the previous checkpoint (never sign an inconsistent one).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.errors import VerificationFailed
from ledger.integrity.checkpoint import (
    Checkpoint,
    open_checkpoint,
    private_key_from_bytes,
    sign_checkpoint,
)
from ledger.integrity.merkle import (
    DEFAULT_MIN_LEVEL,
    SubtreeCache,
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
)
from ledger.persistence.mapper import stored_leaf
from ledger.persistence.views import Tx, ViewStore

if TYPE_CHECKING:
    from ledger.appending.application import Ledger

NAME = "merkle"
_DDL = (
    "CREATE TABLE IF NOT EXISTS {t}ledger_merkle_leaves (leaf_index {bigint} PRIMARY KEY,"
    " position {bigint} NOT NULL UNIQUE, hash {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {t}ledger_merkle_nodes (level INTEGER NOT NULL,"
    " node_index {bigint} NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (level, node_index))",
    "CREATE TABLE IF NOT EXISTS {t}ledger_merkle_state (id INTEGER PRIMARY KEY,"
    " size {bigint} NOT NULL, frontier {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {t}ledger_checkpoints (size {bigint} PRIMARY KEY,"
    " root {blob} NOT NULL, note TEXT NOT NULL, signed_at {bigint} NOT NULL)",
)


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint as stored: the parsed head and its signed note."""

    size: int
    root: bytes
    note: str


class _StoredNodes(MutableMapping[tuple[int, int], bytes]):
    """Subtree roots from ``ledger_merkle_nodes``: prefetched, else read one at a time."""

    def __init__(self, store: ViewStore, prefetched: dict[tuple[int, int], bytes]) -> None:
        self.store = store
        self.prefetched = prefetched

    def __getitem__(self, key: tuple[int, int]) -> bytes:
        if key in self.prefetched:
            return self.prefetched[key]
        rows = self.store.query(
            "SELECT hash FROM {t}ledger_merkle_nodes WHERE level = ? AND node_index = ?", key
        )
        if not rows:
            raise KeyError(key)
        return bytes(rows[0]["hash"])

    def __setitem__(self, key: tuple[int, int], value: bytes) -> None:
        pass  # proofs never write; the sealer stores nodes in its own transaction

    def __delitem__(self, key: tuple[int, int]) -> None:
        raise KeyError(key)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _frontier_bytes(frontier: tuple[bytes, ...]) -> bytes:
    return b"".join(frontier)


def _frontier_hashes(blob: bytes) -> list[bytes]:
    return [blob[i : i + 32] for i in range(0, len(blob), 32)]


class Sealer:
    """Keeps the Merkle tree of the log and signs checkpoints."""

    def __init__(self, ledger: Ledger, store: ViewStore, *, page_size: int = 5000) -> None:
        self.ledger = ledger
        self.store = store
        self.page_size = page_size
        with self.store.transaction() as tx:
            for statement in _DDL:
                tx.execute(statement)

    def tree(self) -> TreeBuilder:
        """The tree as saved (no leaves read)."""
        rows = self.store.query("SELECT size, frontier FROM {t}ledger_merkle_state WHERE id = 1")
        if not rows:
            return TreeBuilder()
        return TreeBuilder.resume(rows[0]["size"], _frontier_hashes(bytes(rows[0]["frontier"])))

    def catch_up(self) -> int:
        """Hash every event not yet in the tree; returns how many were added."""
        added = 0
        position = self.store.position(NAME)
        while page := self.ledger.recorder.select_notifications(
            position, self.page_size, inclusive_of_start=False
        ):
            new_nodes = SubtreeCache()
            saved = self.tree()
            tree = TreeBuilder.resume(saved.size, saved.frontier, cache=new_nodes)
            leaves = []
            for n in page:
                digest = stored_leaf(n)
                leaves.append((tree.size, n.id, digest))
                tree.append(digest)
            with self.store.transaction() as tx:
                self._save(tx, leaves, new_nodes, tree, page[-1].id)
            position = page[-1].id
            added += len(page)
        return added

    def _save(
        self,
        tx: Tx,
        leaves: list[tuple[int, int, bytes]],
        nodes: SubtreeCache,
        tree: TreeBuilder,
        position: int,
    ) -> None:
        tx.insert("ledger_merkle_leaves", leaves)
        tx.insert(
            "ledger_merkle_nodes",
            [(level, index, digest) for (level, index), digest in nodes.nodes.items()],
        )
        tx.execute("DELETE FROM {t}ledger_merkle_state WHERE id = 1")
        tx.execute(
            "INSERT INTO {t}ledger_merkle_state VALUES (1, ?, ?)",
            (tree.size, _frontier_bytes(tree.frontier)),
        )
        tx.track(NAME, position)

    # --- leaves and proofs ------------------------------------------------------------

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes at tree indices [start, end)."""
        rows = self.store.query(
            "SELECT hash FROM {t}ledger_merkle_leaves WHERE leaf_index >= ? AND leaf_index < ?"
            " ORDER BY leaf_index",
            (start, end),
        )
        return [bytes(r["hash"]) for r in rows]

    def leaf_index(self, position: int) -> int | None:
        """The tree index of the event at a log position, if sealed."""
        rows = self.store.query(
            "SELECT leaf_index FROM {t}ledger_merkle_leaves WHERE position = ?", (position,)
        )
        return rows[0]["leaf_index"] if rows else None

    def last_sealed_position(self) -> int:
        """The log position of the newest sealed event (0 if none)."""
        rows = self.store.query(
            "SELECT position FROM {t}ledger_merkle_leaves ORDER BY leaf_index DESC LIMIT 1"
        )
        return rows[0]["position"] if rows else 0

    def cache(self, index: int, size: int) -> SubtreeCache:
        """Stored subtree roots, those a proof about ``index`` in ``size`` uses prefetched.

        A proof's nodes are the siblings of the leaf's ancestors and the perfect
        subtrees along the tree's right edge; one query reads all of them.
        """
        wanted = set()
        for level in range(DEFAULT_MIN_LEVEL, max(size, 1).bit_length() + 1):
            ancestor, edge = index >> level, size >> level
            wanted |= {(level, ancestor), (level, ancestor ^ 1), (level, edge - 1), (level, edge)}
        prefetched: dict[tuple[int, int], bytes] = {}
        if wanted:
            pairs = ", ".join(["(?, ?)"] * len(wanted))
            rows = self.store.query(
                f"WITH k(level, node_index) AS (VALUES {pairs})"
                " SELECT n.level, n.node_index, n.hash FROM {t}ledger_merkle_nodes n"
                " JOIN k ON n.level = k.level AND n.node_index = k.node_index",
                [value for pair in sorted(wanted) for value in pair],
            )
            prefetched = {(r["level"], r["node_index"]): bytes(r["hash"]) for r in rows}
        return SubtreeCache(_StoredNodes(self.store, prefetched))

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of ``size`` leaves."""
        return inclusion_proof(index, size, self.leaf_hashes, cache=self.cache(index, size))

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        """The consistency proof between two tree sizes."""
        cache = self.cache(max(old_size - 1, 0), new_size)
        return consistency_proof(old_size, new_size, self.leaf_hashes, cache=cache)

    # --- checkpoints ------------------------------------------------------------------

    def checkpoints(self) -> list[SignedCheckpoint]:
        """Every stored checkpoint, oldest first."""
        rows = self.store.query("SELECT size, root, note FROM {t}ledger_checkpoints ORDER BY size")
        return [SignedCheckpoint(r["size"], bytes(r["root"]), r["note"]) for r in rows]

    def latest(self) -> SignedCheckpoint | None:
        """The newest checkpoint (one index probe: sealing after every call keeps many)."""
        rows = self.store.query(
            "SELECT size, root, note FROM {t}ledger_checkpoints ORDER BY size DESC LIMIT 1"
        )
        return (
            SignedCheckpoint(rows[0]["size"], bytes(rows[0]["root"]), rows[0]["note"])
            if rows
            else None
        )

    def seal(self) -> SignedCheckpoint:
        """Catch the tree up and sign a checkpoint of it (or return the current one)."""
        self.catch_up()
        tree = self.tree()
        latest = self.latest()
        if latest is not None and latest.size == tree.size:
            return latest
        if latest is not None:
            proof = self.consistency(latest.size, tree.size)
            if not verify_consistency(latest.size, tree.size, latest.root, tree.root(), proof):
                msg = (
                    f"refusing to sign: the tree of {tree.size} events does not extend the"
                    f" checkpoint of {latest.size} events; run `ledger verify`"
                )
                raise VerificationFailed(msg)
        origin, key = self.ledger.signing_identity()
        head = Checkpoint(origin, tree.size, tree.root())
        note = sign_checkpoint(head, origin, private_key_from_bytes(key)).decode("utf-8")
        signed_at = int(self.ledger.clock.now().timestamp() * 1_000_000)
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO {t}ledger_checkpoints VALUES (?, ?, ?, ?)",
                (head.size, head.root, note, signed_at),
            )
        return SignedCheckpoint(head.size, head.root, note)

    def open(self, checkpoint: SignedCheckpoint, verifier_key: str) -> Checkpoint:
        """Check a stored checkpoint's signature; raises CheckpointError if it fails."""
        return open_checkpoint(checkpoint.note.encode("utf-8"), verifier_key)


def b64(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")
