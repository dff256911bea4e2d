"""The SQLite recorder: the library's events table plus the ledger's side tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.persistence import Notification as _Notification
from eventsourcing.persistence import StoredEvent as _StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

from ledger.persistence.recorders import (
    Chunk,
    JudgedRead,
    KeyRow,
    Prefetch,
    Shredding,
    SideRows,
    merged,
)

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification, StoredEvent
    from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore

_BLOB = bytearray
"""How a blob parameter is handed to ``sqlite3``: ``bytes`` is not among the types it
binds without asking for an adapter (a failed adapter look-up raises and clears two
AttributeErrors per value, 0.3 µs), ``bytearray`` is; the copy costs less."""
_IN_CHUNK = 900
"""Ids per query, below SQLite's bound on parameters per statement."""
_EACH_AT_MOST = 4
"""A call of at most this many events (a service's one line with its findings) inserts
them one statement each, reading each position as it goes (2.5 µs an event); a larger
one uses ``executemany`` between two reads of the last position (about 5 µs a call,
then 1 an event)."""


def _chunks(items: Iterable[Any]) -> Iterable[list[Any]]:
    batch = list(dict.fromkeys(items))
    for start in range(0, len(batch), _IN_CHUNK):
        yield batch[start : start + _IN_CHUNK]


class SQLiteLedgerRecorder(SQLiteApplicationRecorder):
    """SQLite store: the library's events table plus the ledger's side tables."""

    datastore: SQLiteDatastore

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements += [
            "CREATE TABLE IF NOT EXISTS ledger_subjects (ref TEXT PRIMARY KEY,"
            " subject_id TEXT NOT NULL UNIQUE, registered_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS ledger_idempotency (key_digest BLOB PRIMARY KEY,"
            " content_digest BLOB NOT NULL, originator_id TEXT NOT NULL,"
            " originator_version INTEGER NOT NULL) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS ledger_keys (subject_id TEXT NOT NULL,"
            " category TEXT NOT NULL, key_version INTEGER NOT NULL, wrapped BLOB,"
            " master_key_id TEXT NOT NULL, created_at TEXT NOT NULL, destroyed_at TEXT,"
            " PRIMARY KEY (subject_id, category, key_version)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS ledger_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
        ]
        return statements

    def release(self) -> None:
        """Nothing kept between calls: the library's pool holds the connections."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """One call's rows in one write transaction (``BEGIN IMMEDIATE``).

        The library's ``insert_events`` reaches the same transaction through three
        generator-based context managers (the datastore's transaction, its
        connection, the connection's transaction); taking the writer's connection
        from the pool directly leaves one, about 5 µs of a one-line call.
        """
        pool = self.datastore.pool
        connection = pool.get_connection(is_writer=True)
        try:
            with connection.transaction(commit=True) as c:
                return self._insert_events(c, stored_events, **kwargs)
        finally:
            pool.put_connection(connection)

    def insert_chunks(
        self, chunks: Iterable[Chunk], *, meanwhile: Callable[[], None] | None = None
    ) -> Sequence[int]:
        """A call's chunks in one transaction, once all are made.

        SQLite works in this process: there is no server to write one chunk while
        the next is made, nor to commit while ``meanwhile`` runs (not called here).
        """
        events, side = merged(chunks)
        return self.insert_events(events, side=side) or []

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        side: SideRows = kwargs.get("side") or SideRows()
        if side.subjects:
            c.executemany(
                "INSERT INTO ledger_subjects VALUES (?,?,?)",
                [(ref, sid.hex, at.isoformat()) for ref, sid, at in side.subjects],
            )
        if side.idempotency:
            c.executemany(
                "INSERT INTO ledger_idempotency VALUES (?,?,?,?)",
                [(_BLOB(k), _BLOB(d), oid.hex, v) for k, d, oid, v in side.idempotency],
            )
        if side.keys:
            c.executemany(
                "INSERT INTO ledger_keys VALUES (?,?,?,?,?,?,NULL)",
                [
                    (k.subject_id.hex, k.category, k.key_version, k.wrapped,
                     k.master_key_id, k.created_at.isoformat())
                    for k in side.keys
                ],
            )  # fmt: skip
        if side.shredding is not None:
            self._shred(c, side.shredding)
        ids = self._insert_rows(c, stored_events)
        if side.expected:
            self._check_unmoved(c, side.expected)
        return ids

    def _check_unmoved(self, c: SQLiteCursor, expected: Sequence[tuple[UUID, int]]) -> None:
        """Refuse the write when a stream it was checked against moved since it was read.

        Run after the inserts: this transaction holds the writer's lock then, and
        its snapshot is the newest (a stale one could not have written). One
        statement of one ``MAX`` per stream (each an index probe).
        """
        table = self.events_table_name
        probe = f"(SELECT MAX(originator_version) FROM {table} WHERE originator_id = ?)"
        c.execute("SELECT " + ", ".join([probe] * len(expected)), [s.hex for s, _ in expected])
        heads = c.fetchone()
        for (stream, version), head in zip(expected, heads, strict=True):
            if (head or 0) != version:
                msg = f"stream {stream} changed since this call read it"
                raise IntegrityError(msg)

    def _shred(self, c: SQLiteCursor, shred: Shredding) -> None:
        """Destroy keys; secure_delete zeroes the freed bytes in the file's pages."""
        c.execute("PRAGMA secure_delete = ON")
        sid = shred.subject_id.hex
        c.executemany(
            "UPDATE ledger_keys SET wrapped = NULL, destroyed_at = ?"
            " WHERE subject_id = ? AND category = ? AND wrapped IS NOT NULL",
            [(shred.at.isoformat(), sid, category) for category in shred.categories],
        )
        if shred.remove_reference:
            c.execute("DELETE FROM ledger_subjects WHERE subject_id = ?", (sid,))
            c.execute("DELETE FROM ledger_idempotency WHERE originator_id = ?", (sid,))

    def select_all_keys(self) -> list[KeyRow]:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT * FROM ledger_keys WHERE wrapped IS NOT NULL")
            return [
                KeyRow(UUID(r[0]), r[1], r[2], bytes(r[3]), r[4], datetime.fromisoformat(r[5]))
                for r in c.fetchall()
            ]

    def rewrap(self, rows: Sequence[KeyRow], meta: dict[str, bytes]) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute("PRAGMA secure_delete = ON")
            c.executemany(
                "UPDATE ledger_keys SET wrapped = ?, master_key_id = ?"
                " WHERE subject_id = ? AND category = ? AND key_version = ?",
                [(k.wrapped, k.master_key_id, k.subject_id.hex, k.category, k.key_version)
                 for k in rows],
            )  # fmt: skip
            c.executemany("UPDATE ledger_meta SET value = ? WHERE name = ?",
                          [(v, n) for n, v in meta.items()])  # fmt: skip
        self.checkpoint_wal()

    def checkpoint_wal(self) -> None:
        """Fold the write-ahead log into the file and empty it (old page images go)."""
        with self.datastore.get_connection(commit=True) as conn:
            conn.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _insert_rows(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> list[int]:
        """The events' rows; their positions (rowids), in order.

        The library inserts row by row to read each ``lastrowid``: so does a small
        call (``_EACH_AT_MOST``). A larger one is one executemany; the writer lock
        makes the new rowids max+1 .. max+n, read before and checked after.
        """
        rows = [
            (e.originator_id.hex, e.originator_version, e.topic, _BLOB(e.state))  # type: ignore[union-attr]
            for e in stored_events
        ]
        if len(rows) <= _EACH_AT_MOST:
            return self._insert_each(c, rows)
        c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
        start = (c.fetchone()[0] or 0) + 1
        c.executemany(self.insert_events_statement, rows)
        ids = list(range(start, start + len(rows)))
        c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
        if ids and c.fetchone()[0] != ids[-1]:
            msg = "SQLite did not number the batch consecutively"
            raise IntegrityError(msg)
        return ids

    def _insert_each(self, c: SQLiteCursor, rows: list[tuple[Any, ...]]) -> list[int]:
        ids = []
        for row in rows:
            c.execute(self.insert_events_statement, row)
            ids.append(c.lastrowid)
        return ids

    def _select_in(self, sql: str, values: Iterable[Any]) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            return _rows_in(c, sql, values)

    def select_subjects(self, refs: Iterable[str]) -> dict[str, UUID]:
        with self.datastore.transaction(commit=False) as c:
            return _subjects(c, refs)

    def prefetch(
        self,
        refs: Sequence[str],
        digests: Sequence[bytes],
        judged: Sequence[JudgedRead],
        streams: Sequence[UUID],
    ) -> Prefetch:
        """The look-ups in one read transaction: one snapshot, one BEGIN and one end.

        An embedded store has no round trips to save, but each transaction of its
        own costs a lock and a connection check-out, which is most of a one-line
        call's reads.
        """
        with self.datastore.transaction(commit=False) as c:
            subjects = _subjects(c, refs) if refs else {}
            ids = list(subjects.values())
            since = {
                subjects[ref]: version if known == subjects[ref] else 0
                for ref, known, version in judged
                if ref in subjects
            }
            return Prefetch(
                subjects=subjects,
                idempotency=_idempotency(c, digests) if digests else {},
                versions=self._versions(c, [*ids, *streams]),
                keys=_keys(c, ids) if ids else [],
                streams=self._streams_since(c, since) if since else [],
            )

    def select_streams(self, ids: Iterable[UUID]) -> list[StoredEvent]:
        with self.datastore.transaction(commit=False) as c:
            return self._streams(c, ids)

    def _streams(self, c: SQLiteCursor, ids: Iterable[UUID]) -> list[StoredEvent]:
        sql = (
            f"SELECT originator_id, originator_version, topic, state FROM {self.events_table_name}"
            " WHERE originator_id IN ({}) ORDER BY originator_id, originator_version"
        )
        return [
            _StoredEvent(originator_id=UUID(r[0]), originator_version=r[1], topic=r[2],
                         state=bytes(r[3]))
            for r in _rows_in(c, sql, (i.hex for i in ids))
        ]  # fmt: skip

    def _streams_since(self, c: SQLiteCursor, since: dict[UUID, int]) -> list[StoredEvent]:
        """Each stream's events past its version, in stream order (one query)."""
        rows: list[Any] = []
        for chunk in _chunks((i.hex, v) for i, v in since.items()):
            values = ", ".join("(?, ?)" for _ in chunk)
            sql = (
                f"WITH j(id, since) AS (VALUES {values})"
                " SELECT e.originator_id, e.originator_version, e.topic, e.state"
                f" FROM j JOIN {self.events_table_name} e ON e.originator_id = j.id"
                " AND e.originator_version > j.since"
            )
            c.execute(sql, [x for pair in chunk for x in pair])
            rows += c.fetchall()
        rows.sort(key=lambda r: (r[0], r[1]))
        return [
            _StoredEvent(originator_id=UUID(r[0]), originator_version=r[1], topic=r[2],
                         state=bytes(r[3]))
            for r in rows
        ]  # fmt: skip

    def select_refs(self, subject_ids: Iterable[UUID]) -> dict[UUID, str]:
        sql = "SELECT ref, subject_id FROM ledger_subjects WHERE subject_id IN ({})"
        return {UUID(r[1]): r[0] for r in self._select_in(sql, (i.hex for i in subject_ids))}

    def select_idempotency(self, digests: Iterable[bytes]) -> dict[bytes, bytes]:
        with self.datastore.transaction(commit=False) as c:
            return _idempotency(c, digests)

    def select_stream_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        with self.datastore.transaction(commit=False) as c:
            return self._versions(c, ids)

    def _versions(self, c: SQLiteCursor, ids: Iterable[UUID]) -> dict[UUID, int]:
        sql = (
            f"SELECT originator_id, MAX(originator_version) FROM {self.events_table_name}"
            " WHERE originator_id IN ({}) GROUP BY originator_id"
        )
        return {UUID(r[0]): r[1] for r in _rows_in(c, sql, (i.hex for i in ids))}

    def select_keys(self, subject_ids: Iterable[UUID]) -> list[KeyRow]:
        with self.datastore.transaction(commit=False) as c:
            return _keys(c, subject_ids)

    def select_positions(self, originator_id: UUID) -> dict[int, int]:
        sql = (
            f"SELECT originator_version, rowid FROM {self.events_table_name}"
            " WHERE originator_id = ?"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, (originator_id.hex,))
            return {r[0]: r[1] for r in c.fetchall()}

    def select_at_positions(self, positions: Iterable[int]) -> list[Notification]:
        sql = f"SELECT rowid, * FROM {self.events_table_name} WHERE rowid IN ({{}})"
        return [
            _Notification(
                id=r[0], originator_id=UUID(r[1]), originator_version=r[2], topic=r[3],
                state=bytes(r[4]),
            )
            for r in self._select_in(sql, positions)
        ]  # fmt: skip

    def get_meta(self, name: str) -> bytes | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT value FROM ledger_meta WHERE name = ?", (name,))
            row = c.fetchone()
        return None if row is None else bytes(row[0])

    def put_meta(self, values: dict[str, bytes]) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.executemany("INSERT INTO ledger_meta VALUES (?,?)", list(values.items()))

    def has_ledger_tables(self) -> bool:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='ledger_meta'")
            return c.fetchone() is not None


def _rows_in(c: SQLiteCursor, sql: str, values: Iterable[Any]) -> list[Any]:
    """Rows of ``sql`` with its ``IN ({})`` list filled, in chunks SQLite accepts."""
    rows: list[Any] = []
    for chunk in _chunks(values):
        c.execute(sql.format(",".join("?" * len(chunk))), chunk)
        rows += c.fetchall()
    return rows


def _subjects(c: SQLiteCursor, refs: Iterable[str]) -> dict[str, UUID]:
    sql = "SELECT ref, subject_id FROM ledger_subjects WHERE ref IN ({})"
    return {r[0]: UUID(r[1]) for r in _rows_in(c, sql, refs)}


def _idempotency(c: SQLiteCursor, digests: Iterable[bytes]) -> dict[bytes, bytes]:
    sql = "SELECT key_digest, content_digest FROM ledger_idempotency WHERE key_digest IN ({})"
    return {bytes(r[0]): bytes(r[1]) for r in _rows_in(c, sql, digests)}


def _keys(c: SQLiteCursor, subject_ids: Iterable[UUID]) -> list[KeyRow]:
    sql = "SELECT * FROM ledger_keys WHERE subject_id IN ({})"
    return [
        KeyRow(
            UUID(r[0]), r[1], r[2], None if r[3] is None else bytes(r[3]), r[4],
            datetime.fromisoformat(r[5]),
            None if r[6] is None else datetime.fromisoformat(r[6]),
        )
        for r in _rows_in(c, sql, (i.hex for i in subject_ids))
    ]  # fmt: skip
