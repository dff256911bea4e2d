"""Sealing the log: a Merkle tree over every stored event, and signed checkpoints.

The tree is kept like a tracked projection (``merkle`` in the tracking table): each
page of new events is hashed into leaves (``ledger.integrity.leaf``), appended to
the tree resumed from its saved frontier, and the new leaf rows, completed subtree
roots, frontier, subject bindings (``ledger.evidence.binding``) and tracking
position are written in the seal's one transaction, so the tree never misses or
repeats an event. ``seal`` then signs a C2SP checkpoint of the current size and
root with the store's Ed25519 key, after checking that it extends the previous
checkpoint and the newest one anchored outside the store (never sign an
inconsistent one), and appends it to the anchor (``ledger.evidence.anchor``).

One sealer at a time: the transaction starts by taking the seal lock (an upsert of
the single row of ``ledger_seal_lock``, which holds a row lock on PostgreSQL and the
write lock on SQLite until it ends), so concurrent sealers in threads, processes or
on other machines wait, then see what the one before them committed.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Notification

from ledger.errors import ConfigurationError, VerificationFailed
from ledger.evidence.anchor import CheckpointAnchor
from ledger.evidence.binding import (
    BINDINGS_DDL,
    bind_subjects,
    bindings_start,
    readable_index_key,
)
from ledger.integrity.checkpoint import (
    Checkpoint,
    CheckpointError,
    open_checkpoint,
    private_key_from_bytes,
    sign_checkpoint,
    verifier_key,
)
from ledger.integrity.merkle import (
    DEFAULT_MIN_LEVEL,
    SubtreeCache,
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
)
from ledger.persistence.mapper import as_uuid, stored_leaf
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
    "CREATE TABLE IF NOT EXISTS {t}ledger_seal_lock (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)",
    *BINDINGS_DDL,
)

Query = Callable[[str, Sequence[Any]], list[Any]]
"""Run one read statement (neutral dialect) and return rows addressable by name."""


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint as stored: the parsed head and its signed note."""

    size: int
    root: bytes
    note: str


class _StoredNodes(MutableMapping[tuple[int, int], bytes]):
    """Subtree roots from ``ledger_merkle_nodes``: prefetched, else read one at a time."""

    def __init__(self, query: Query, prefetched: dict[tuple[int, int], bytes]) -> None:
        self.query = query
        self.prefetched = prefetched

    def __getitem__(self, key: tuple[int, int]) -> bytes:
        if key in self.prefetched:
            return self.prefetched[key]
        rows = self.query(
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
    """Keeps the Merkle tree of the log and signs checkpoints, one sealer at a time.

    ``seal`` runs in one write transaction that first takes the store's seal lock
    (an upsert of the one row of ``ledger_seal_lock``: a row lock on PostgreSQL, the
    write lock on SQLite), so concurrent sealers, threads or processes, wait for
    each other and each sees what the one before it committed. A signed checkpoint
    is appended to the ``anchor`` file (outside the store) once committed, and the
    store's verifier key is written to ``verifier_file`` if that file does not
    exist yet (from the signing key, never from the store).
    """

    def __init__(
        self,
        ledger: Ledger,
        store: ViewStore,
        *,
        page_size: int = 5000,
        anchor: CheckpointAnchor | None = None,
        verifier_file: Path | None = None,
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.page_size = page_size
        self.anchor = anchor
        self.verifier_file = verifier_file
        self.bindings_from: int | None = None
        self._index_key: bytes | None = None
        self._key_kept = False
        """The first log position whose subjects the sealer binds (read at each seal)."""
        with self.store.transaction() as tx:
            for statement in _DDL:
                tx.execute(statement)

    def tree(self, query: Query | None = None) -> TreeBuilder:
        """The tree as saved (no leaves read)."""
        rows = (query or self.store.query)(
            "SELECT size, frontier FROM {t}ledger_merkle_state WHERE id = 1", ()
        )
        if not rows:
            return TreeBuilder()
        return TreeBuilder.resume(rows[0]["size"], _frontier_hashes(bytes(rows[0]["frontier"])))

    def catch_up(self) -> int:
        """Hash every event not yet in the tree; returns how many were added."""
        self._index_key = readable_index_key(self.ledger)
        with self.store.transaction() as tx:
            query = _reader(tx)
            _lock(tx)
            return self._catch_up(tx, query)[1]

    def _catch_up(self, tx: Tx, query: Query) -> tuple[TreeBuilder, int]:
        if self.store.kind == "postgresql":
            # Every read below is keyed (a range of log positions, a tree's rows): an
            # index scan whatever the statistics say. After ANALYZE of a table still
            # empty, the planner sorted a full scan of the log for each page.
            tx.execute("SET LOCAL enable_seqscan = off")
        saved = self.tree(query)
        last = query(
            "SELECT MAX(leaf_index) AS i, MAX(position) AS p FROM {t}ledger_merkle_leaves", ()
        )
        leaves_held = 0 if last[0]["i"] is None else last[0]["i"] + 1
        if leaves_held != saved.size:
            msg = (
                f"the stored tree is damaged: its state says {saved.size} leaves, the leaf"
                f" table holds {leaves_held}; run `ledger verify`"
            )
            raise VerificationFailed(msg)
        position = last[0]["p"] or 0
        self.bindings_from = bindings_start(tx, query, position + 1)
        tracked = self.store.position_in(tx, NAME)
        added = 0
        while page := self._page(query, position):
            new_nodes = SubtreeCache()
            tree = TreeBuilder.resume(saved.size, saved.frontier, cache=new_nodes)
            leaves = []
            for n in page:
                digest = stored_leaf(n)
                leaves.append((tree.size, n.id, digest))
                tree.append(digest)
            self._save(tx, leaves, new_nodes, tree)
            bind_subjects(self._index_key, tx, query, page)
            position = page[-1].id
            if position > tracked:
                tx.track(NAME, position)
                tracked = position
            added += len(page)
            saved = TreeBuilder.resume(tree.size, tree.frontier)
        return saved, added

    def _page(self, query: Query, after: int) -> list[Notification]:
        """The next page of the log after ``after``, read in the seal's transaction.

        Not through the library's recorder: that takes a second connection from the
        pool while this one holds the write lock, which deadlocks when every other
        pooled connection is waiting for that lock (SQLite writers sharing a ledger).
        """
        recorder = self.ledger.recorder
        column = "rowid" if self.store.kind == "sqlite" else "notification_id"
        rows = query(
            f"SELECT {column} AS id, originator_id, originator_version, topic, state"
            f" FROM {{t}}{recorder.events_table_name} WHERE {column} > ?"  # type: ignore[attr-defined]
            f" ORDER BY {column} LIMIT ?",
            (after, self.page_size),
        )
        return [
            Notification(
                id=r["id"], originator_id=as_uuid(r["originator_id"]),
                originator_version=r["originator_version"], topic=r["topic"],
                state=bytes(r["state"]),
            )
            for r in rows
        ]  # fmt: skip

    def _save(
        self,
        tx: Tx,
        leaves: list[tuple[int, int, bytes]],
        nodes: SubtreeCache,
        tree: TreeBuilder,
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

    # --- leaves and proofs ------------------------------------------------------------

    def leaf_hashes(self, start: int, end: int, query: Query | None = None) -> list[bytes]:
        """Leaf hashes at tree indices [start, end)."""
        rows = (query or self.store.query)(
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

    def cache(self, index: int, size: int, query: Query | None = None) -> SubtreeCache:
        """Stored subtree roots, those a proof about ``index`` in ``size`` uses prefetched.

        A proof's nodes are the siblings of the leaf's ancestors and the perfect
        subtrees along the tree's right edge; one query reads all of them.
        """
        run = query or self.store.query
        wanted = set()
        for level in range(DEFAULT_MIN_LEVEL, max(size, 1).bit_length() + 1):
            ancestor, edge = index >> level, size >> level
            wanted |= {(level, ancestor), (level, ancestor ^ 1), (level, edge - 1), (level, edge)}
        prefetched: dict[tuple[int, int], bytes] = {}
        if wanted:
            pairs = ", ".join(["(?, ?)"] * len(wanted))
            rows = run(
                f"WITH k(level, node_index) AS (VALUES {pairs})"
                " SELECT n.level, n.node_index, n.hash FROM {t}ledger_merkle_nodes n"
                " JOIN k ON n.level = k.level AND n.node_index = k.node_index",
                [value for pair in sorted(wanted) for value in pair],
            )
            prefetched = {(r["level"], r["node_index"]): bytes(r["hash"]) for r in rows}
        return SubtreeCache(_StoredNodes(run, prefetched))

    def inclusion(self, index: int, size: int) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of ``size`` leaves."""
        return inclusion_proof(index, size, self.leaf_hashes, cache=self.cache(index, size))

    def consistency(self, old_size: int, new_size: int, query: Query | None = None) -> list[bytes]:
        """The consistency proof between two tree sizes."""
        cache = self.cache(max(old_size - 1, 0), new_size, query)

        def leaves(start: int, end: int) -> list[bytes]:
            return self.leaf_hashes(start, end, query)

        return consistency_proof(old_size, new_size, leaves, cache=cache)

    # --- checkpoints ------------------------------------------------------------------

    def checkpoints(self) -> list[SignedCheckpoint]:
        """Every stored checkpoint, oldest first."""
        rows = self.store.query("SELECT size, root, note FROM {t}ledger_checkpoints ORDER BY size")
        return [SignedCheckpoint(r["size"], bytes(r["root"]), r["note"]) for r in rows]

    def latest(self, query: Query | None = None) -> SignedCheckpoint | None:
        """The newest checkpoint (one index probe: sealing after every call keeps many)."""
        rows = (query or self.store.query)(
            "SELECT size, root, note FROM {t}ledger_checkpoints ORDER BY size DESC LIMIT 1", ()
        )
        return (
            SignedCheckpoint(rows[0]["size"], bytes(rows[0]["root"]), rows[0]["note"])
            if rows
            else None
        )

    def seal(self) -> SignedCheckpoint:
        """Catch the tree up and sign a checkpoint of it (or return the current one).

        Refuses (VerificationFailed) to sign a tree that does not extend the newest
        stored checkpoint or the newest anchored one: a log rewritten, truncated or
        rolled back is never signed over.
        """
        # Read before the write lock: these take pooled connections of their own.
        self._index_key = readable_index_key(self.ledger)
        try:
            identity: tuple[str, bytes] | ConfigurationError = self.ledger.signing_identity()
        except ConfigurationError as e:
            identity = e  # needed only if there is something new to sign
        with self.store.transaction() as tx:
            query = _reader(tx)
            _lock(tx)
            tree, _ = self._catch_up(tx, query)
            latest = self.latest(query)
            if latest is not None and latest.size == tree.size:
                signed, fresh = latest, False
            else:
                if isinstance(identity, ConfigurationError):
                    raise identity
                origin, key = identity
                if latest is not None:
                    self._check_extends(latest.size, latest.root, tree, query, "checkpoint")
                self._check_anchor(tree, query, origin, key)
                head = Checkpoint(origin, tree.size, tree.root())
                note = sign_checkpoint(head, origin, private_key_from_bytes(key)).decode("utf-8")
                signed_at = int(self.ledger.clock.now().timestamp() * 1_000_000)
                tx.execute(
                    "INSERT INTO {t}ledger_checkpoints VALUES (?, ?, ?, ?)",
                    (head.size, head.root, note, signed_at),
                )
                signed, fresh = SignedCheckpoint(head.size, head.root, note), True
        self._anchor(signed, fresh)
        return signed

    def _check_extends(
        self, size: int, root: bytes, tree: TreeBuilder, query: Query, what: str
    ) -> None:
        if size > tree.size:
            msg = (
                f"refusing to sign: the store holds {tree.size} events, fewer than the"
                f" {what} of {size} events; it was truncated or rolled back: run `ledger verify`"
            )
            raise VerificationFailed(msg)
        try:
            proof = self.consistency(size, tree.size, query)
        except ValueError:
            proof = []
        if not verify_consistency(size, tree.size, root, tree.root(), proof):
            msg = (
                f"refusing to sign: the tree of {tree.size} events does not extend the"
                f" {what} of {size} events; run `ledger verify`"
            )
            raise VerificationFailed(msg)

    def _check_anchor(self, tree: TreeBuilder, query: Query, origin: str, key: bytes) -> None:
        """The tree must extend the newest checkpoint anchored outside the store."""
        if self.anchor is None:
            return
        record = self.anchor.newest()
        if record is None:
            return
        public = verifier_key(origin, private_key_from_bytes(key).public_key())
        try:
            head = open_checkpoint(record.note.encode("utf-8"), public, origin=origin)
        except CheckpointError:
            return  # another store's checkpoint, or a damaged record: verify names it
        self._check_extends(
            head.size, head.root, tree, query, f"checkpoint anchored in {self.anchor.path}"
        )

    def _anchor(self, signed: SignedCheckpoint, fresh: bool) -> None:
        """Append a new checkpoint to the anchor (or one the anchor lacks); keep the key."""
        if self.anchor is not None:
            newest = self.anchor.newest()
            if fresh or ((newest is None or newest.size < signed.size) and self._ours(signed)):
                self.anchor.append(signed.size, signed.note, bindings_from=self.bindings_from)
        if not self._key_kept:
            self.keep_verifier_key()  # once per sealer: a store sealed before the file existed
            self._key_kept = True

    def keep_verifier_key(self) -> None:
        """Add this store's verifier key to the verifier key file (``ledger init``)."""
        if self.verifier_file is not None:
            write_verifier_key(self.verifier_file, self._public_key())

    def configured_key(self) -> str | None:
        """The verifier key the configured file holds for this store (None: no file)."""
        origin = self.ledger.verifier_key().split("+", 1)[0]
        return configured_verifier_key(self.verifier_file, origin)

    def _public_key(self) -> str:
        """The verifier key of the signing key file (never the store's copy)."""
        origin, key = self.ledger.signing_identity()
        return verifier_key(origin, private_key_from_bytes(key).public_key())

    def _ours(self, checkpoint: SignedCheckpoint) -> bool:
        """Whether a stored checkpoint verifies under the signing key (before anchoring it)."""
        try:
            head = self.open(checkpoint, self._public_key())
        except CheckpointError:
            return False
        return (head.size, head.root) == (checkpoint.size, checkpoint.root)

    def open(self, checkpoint: SignedCheckpoint, verifier_key: str) -> Checkpoint:
        """Check a stored checkpoint's signature; raises CheckpointError if it fails."""
        return open_checkpoint(checkpoint.note.encode("utf-8"), verifier_key)


def _reader(tx: Tx) -> Query:
    """Reads inside a seal's transaction (sees its own writes)."""

    def run(sql: str, params: Sequence[Any]) -> list[Any]:
        tx.cursor.execute(tx.store.sql(sql), params)
        return list(tx.cursor.fetchall())

    return run


def _lock(tx: Tx) -> None:
    """Take the seal lock: held until the transaction ends."""
    tx.execute(
        "INSERT INTO {t}ledger_seal_lock VALUES (1, 1)"
        " ON CONFLICT (id) DO UPDATE SET n = excluded.n"
    )


def write_verifier_key(path: Path, key: str) -> None:
    """Add a verifier (public) key line to the file, unless it holds it already.

    Stores initialised beside the same key files (one signing key, each store its
    own origin) each add their line; ``verify`` picks the line of the store's origin.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        held = path.read_text(encoding="ascii").split()
    except FileNotFoundError:
        held = []
    if key in held:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    with os.fdopen(fd, "a", encoding="ascii") as f:
        f.write(key + "\n")
        f.flush()
        os.fsync(f.fileno())


def configured_verifier_key(path: Path | None, origin: str) -> str | None:
    """The key line of ``origin`` in a verifier key file, else its last line (None: no file).

    The origin is the store's, so it is not trusted: a store whose origin was changed
    gets the newest key of the file, under which its signatures fail.
    """
    if path is None or not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").split()
    if not lines:
        return None
    return next((k for k in lines if k.split("+", 1)[0] == origin), lines[-1])


def b64(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")
