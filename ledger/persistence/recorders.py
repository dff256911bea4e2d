"""Application recorders for SQLite and PostgreSQL with the ledger's side tables.

The library's recorders store the events; these subclasses add, in the same
transaction as the events (the ``_insert_events`` hook), the rows an append
creates beside them:

* ``ledger_subjects``: the services' subject references -> internal stream ids;
* ``ledger_idempotency``: keyed digests of idempotency keys and of the content;
* ``ledger_keys``: per (subject, category) data keys, wrapped by the master key;
* ``ledger_meta``: the master key's id and the wrapped index key.

A uniqueness violation in any of them (a concurrent writer got there first) rolls
the whole append back; the application re-reads and retries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.persistence import Notification as _Notification
from eventsourcing.persistence import StoredEvent as _StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification, StoredEvent
    from eventsourcing.postgres import PostgresDatastore
    from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore
    from psycopg import Cursor
    from psycopg.rows import DictRow

_IN_CHUNK = 900
"""Ids per query, below SQLite's bound on parameters per statement."""


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One wrapped data key."""

    subject_id: UUID
    category: str
    key_version: int
    wrapped: bytes | None
    master_key_id: str
    created_at: datetime
    destroyed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Shredding:
    """An erasure's changes beside its event: keys destroyed, mappings removed."""

    subject_id: UUID
    categories: Sequence[str]
    at: datetime
    remove_reference: bool


@dataclass(frozen=True, slots=True)
class SideRows:
    """What an append writes beside its events."""

    subjects: Sequence[tuple[str, UUID, datetime]] = ()
    idempotency: Sequence[tuple[bytes, bytes, UUID, int]] = ()
    keys: Sequence[KeyRow] = ()
    shredding: Shredding | None = None


class LedgerRecorder(Protocol):
    """What the ledger needs of a store beyond the library's ApplicationRecorder."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        """Insert events and side rows atomically."""
        ...

    def select_events(self, originator_id: UUID, *, gt: int | None = None) -> Any:
        """The stored events of one stream."""
        ...

    def select_subjects(self, refs: Iterable[str]) -> dict[str, UUID]:
        """Internal ids of the given subject references that exist."""
        ...

    def select_refs(self, subject_ids: Iterable[UUID]) -> dict[UUID, str]:
        """Subject references of the given internal ids (those not erased)."""
        ...

    def select_streams(self, ids: Iterable[UUID]) -> list[StoredEvent]:
        """Every stored event of the given streams, in stream order (one query)."""
        ...

    def select_idempotency(self, digests: Iterable[bytes]) -> dict[bytes, bytes]:
        """Content digests recorded under the given idempotency key digests."""
        ...

    def select_stream_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        """The last version of each given stream that has events."""
        ...

    def select_keys(self, subject_ids: Iterable[UUID]) -> list[KeyRow]:
        """Every data key row of the given subjects, destroyed ones included."""
        ...

    def select_positions(self, originator_id: UUID) -> dict[int, int]:
        """Log position (notification id) of each version of one stream."""
        ...

    def select_at_positions(self, positions: Iterable[int]) -> list[Notification]:
        """The stored events at the given log positions."""
        ...

    def get_meta(self, name: str) -> bytes | None:
        """A value from ledger_meta."""
        ...

    def put_meta(self, values: dict[str, bytes]) -> None:
        """Insert values into ledger_meta; an existing name is an integrity error."""
        ...

    def has_ledger_tables(self) -> bool:
        """Whether ``ledger init`` has created this store."""
        ...

    def checkpoint_wal(self) -> None:
        """After an erasure: leave no old page images in a write-ahead log."""
        ...

    def select_all_keys(self) -> list[KeyRow]:
        """Every live data key (for re-wrapping under a new master key)."""
        ...

    def rewrap(self, rows: Sequence[KeyRow], meta: dict[str, bytes]) -> None:
        """Replace wrapped keys and meta values in one transaction."""
        ...


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
                [(k, d, oid.hex, v) for k, d, oid, v in side.idempotency],
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
        return self._insert_rows(c, stored_events)

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
        """One executemany; the writer lock makes the new rowids max+1 .. max+n.

        The library inserts row by row to read each ``lastrowid``; under SQLite's
        single writer the ids of a batch are consecutive, so one statement does.
        """
        c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
        start = (c.fetchone()[0] or 0) + 1
        c.executemany(
            self.insert_events_statement,
            [
                (e.originator_id.hex, e.originator_version, e.topic, e.state)  # type: ignore[union-attr]
                for e in stored_events
            ],
        )
        ids = list(range(start, start + len(stored_events)))
        c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
        if ids and c.fetchone()[0] != ids[-1]:
            msg = "SQLite did not number the batch consecutively"
            raise IntegrityError(msg)
        return ids

    def _select_in(self, sql: str, values: Iterable[Any]) -> list[Any]:
        rows: list[Any] = []
        with self.datastore.transaction(commit=False) as c:
            for chunk in _chunks(values):
                c.execute(sql.format(",".join("?" * len(chunk))), chunk)
                rows += c.fetchall()
        return rows

    def select_subjects(self, refs: Iterable[str]) -> dict[str, UUID]:
        sql = "SELECT ref, subject_id FROM ledger_subjects WHERE ref IN ({})"
        return {r[0]: UUID(r[1]) for r in self._select_in(sql, refs)}

    def select_streams(self, ids: Iterable[UUID]) -> list[StoredEvent]:
        sql = (
            f"SELECT originator_id, originator_version, topic, state FROM {self.events_table_name}"
            " WHERE originator_id IN ({}) ORDER BY originator_id, originator_version"
        )
        return [
            _StoredEvent(originator_id=UUID(r[0]), originator_version=r[1], topic=r[2],
                         state=bytes(r[3]))
            for r in self._select_in(sql, (i.hex for i in ids))
        ]  # fmt: skip

    def select_refs(self, subject_ids: Iterable[UUID]) -> dict[UUID, str]:
        sql = "SELECT ref, subject_id FROM ledger_subjects WHERE subject_id IN ({})"
        return {UUID(r[1]): r[0] for r in self._select_in(sql, (i.hex for i in subject_ids))}

    def select_idempotency(self, digests: Iterable[bytes]) -> dict[bytes, bytes]:
        sql = "SELECT key_digest, content_digest FROM ledger_idempotency WHERE key_digest IN ({})"
        return {bytes(r[0]): bytes(r[1]) for r in self._select_in(sql, digests)}

    def select_stream_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        sql = (
            f"SELECT originator_id, MAX(originator_version) FROM {self.events_table_name}"
            " WHERE originator_id IN ({}) GROUP BY originator_id"
        )
        return {UUID(r[0]): r[1] for r in self._select_in(sql, (i.hex for i in ids))}

    def select_keys(self, subject_ids: Iterable[UUID]) -> list[KeyRow]:
        sql = "SELECT * FROM ledger_keys WHERE subject_id IN ({})"
        return [
            KeyRow(
                UUID(r[0]),
                r[1],
                r[2],
                None if r[3] is None else bytes(r[3]),
                r[4],
                datetime.fromisoformat(r[5]),
                None if r[6] is None else datetime.fromisoformat(r[6]),
            )
            for r in self._select_in(sql, (i.hex for i in subject_ids))
        ]

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


class PostgresLedgerRecorder(PostgresApplicationRecorder):
    """PostgreSQL store: the library's events table plus the ledger's side tables."""

    datastore: PostgresDatastore

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "ledger_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements += [
            SQL(s).format(schema=schema)
            for s in (
                "CREATE TABLE IF NOT EXISTS {schema}.ledger_subjects (ref text PRIMARY KEY,"
                " subject_id uuid NOT NULL UNIQUE, registered_at timestamptz NOT NULL)",
                "CREATE TABLE IF NOT EXISTS {schema}.ledger_idempotency ("
                " key_digest bytea PRIMARY KEY, content_digest bytea NOT NULL,"
                " originator_id uuid NOT NULL, originator_version bigint NOT NULL)",
                "CREATE TABLE IF NOT EXISTS {schema}.ledger_keys (subject_id uuid NOT NULL,"
                " category text NOT NULL, key_version integer NOT NULL, wrapped bytea,"
                " master_key_id text NOT NULL, created_at timestamptz NOT NULL,"
                " destroyed_at timestamptz,"
                " PRIMARY KEY (subject_id, category, key_version))",
                "CREATE TABLE IF NOT EXISTS {schema}.ledger_meta (name text PRIMARY KEY,"
                " value bytea NOT NULL)",
            )
        ]
        self._schema = schema
        # One statement with four arrays: psycopg dumps arrays of primitives in C,
        # far faster than the library's array of composite values.
        self._insert_arrays = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[])"
            " RETURNING notification_id"
        ).format(schema=schema, table=Identifier(self.events_table_name))

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        side: SideRows = kwargs.get("side") or SideRows()
        if side.subjects:
            curs.execute(
                SQL(
                    "INSERT INTO {schema}.ledger_subjects"
                    " SELECT * FROM unnest(%b::text[], %b::uuid[], %b::timestamptz[])"
                ).format(schema=self._schema),
                [list(col) for col in zip(*side.subjects, strict=True)],
            )
        if side.idempotency:
            curs.execute(
                SQL(
                    "INSERT INTO {schema}.ledger_idempotency"
                    " SELECT * FROM unnest(%b::bytea[], %b::bytea[], %b::uuid[], %b::bigint[])"
                ).format(schema=self._schema),
                [list(col) for col in zip(*side.idempotency, strict=True)],
            )
        if side.keys:
            curs.execute(
                SQL(
                    "INSERT INTO {schema}.ledger_keys SELECT *, NULL FROM unnest(%b::uuid[],"
                    " %b::text[], %b::integer[], %b::bytea[], %b::text[], %b::timestamptz[])"
                ).format(schema=self._schema),
                [
                    [k.subject_id for k in side.keys],
                    [k.category for k in side.keys],
                    [k.key_version for k in side.keys],
                    [k.wrapped for k in side.keys],
                    [k.master_key_id for k in side.keys],
                    [k.created_at for k in side.keys],
                ],
            )

        if side.shredding is not None:
            self._shred(curs, side.shredding)

    def _shred(self, curs: Cursor[DictRow], shred: Shredding) -> None:
        curs.execute(
            SQL(
                "UPDATE {schema}.ledger_keys SET wrapped = NULL, destroyed_at = %s"
                " WHERE subject_id = %s AND category = ANY(%s) AND wrapped IS NOT NULL"
            ).format(schema=self._schema),
            (shred.at, shred.subject_id, list(shred.categories)),
        )
        if shred.remove_reference:
            for table in ("ledger_subjects", "ledger_idempotency"):
                column = "subject_id" if table == "ledger_subjects" else "originator_id"
                curs.execute(
                    SQL("DELETE FROM {schema}.{table} WHERE {column} = %s").format(
                        schema=self._schema, table=Identifier(table), column=Identifier(column)
                    ),
                    (shred.subject_id,),
                )

    def select_all_keys(self) -> list[KeyRow]:
        rows = self._select("SELECT * FROM {schema}.ledger_keys WHERE wrapped IS NOT NULL", [])
        return [
            KeyRow(r["subject_id"], r["category"], r["key_version"], bytes(r["wrapped"]),
                   r["master_key_id"], r["created_at"])
            for r in rows
        ]  # fmt: skip

    def rewrap(self, rows: Sequence[KeyRow], meta: dict[str, bytes]) -> None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.executemany(
                SQL(
                    "UPDATE {schema}.ledger_keys SET wrapped = %s, master_key_id = %s"
                    " WHERE subject_id = %s AND category = %s AND key_version = %s"
                ).format(schema=self._schema),
                [(k.wrapped, k.master_key_id, k.subject_id, k.category, k.key_version)
                 for k in rows],
            )  # fmt: skip
            curs.executemany(
                SQL("UPDATE {schema}.ledger_meta SET value = %s WHERE name = %s").format(
                    schema=self._schema
                ),
                [(v, n) for n, v in meta.items()],
            )

    def checkpoint_wal(self) -> None:
        """Nothing to fold on PostgreSQL (dead tuples go with VACUUM)."""

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self._insert_arrays,
            [
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ],
            prepare=True,
        )

    def _select(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(sql).format(schema=self._schema, table=Identifier(self.events_table_name)),
                params,
            )
            return list(curs.fetchall())

    def select_subjects(self, refs: Iterable[str]) -> dict[str, UUID]:
        sql = (
            "SELECT s.ref, s.subject_id FROM unnest(%b::text[]) AS k(ref)"
            " JOIN {schema}.ledger_subjects s ON s.ref = k.ref"
        )
        return {r["ref"]: r["subject_id"] for r in self._select(sql, [list(refs)])}

    def select_streams(self, ids: Iterable[UUID]) -> list[StoredEvent]:
        sql = (
            "SELECT e.originator_id, e.originator_version, e.topic, e.state"
            " FROM unnest(%b::uuid[]) AS k(id) JOIN {schema}.{table} e ON e.originator_id = k.id"
            " ORDER BY e.originator_id, e.originator_version"
        )
        return [
            _StoredEvent(
                originator_id=r["originator_id"], originator_version=r["originator_version"],
                topic=r["topic"], state=bytes(r["state"]),
            )
            for r in self._select(sql, [list(ids)])
        ]  # fmt: skip

    def select_refs(self, subject_ids: Iterable[UUID]) -> dict[UUID, str]:
        sql = (
            "SELECT s.ref, s.subject_id FROM unnest(%b::uuid[]) AS k(id)"
            " JOIN {schema}.ledger_subjects s ON s.subject_id = k.id"
        )
        return {r["subject_id"]: r["ref"] for r in self._select(sql, [list(subject_ids)])}

    def select_idempotency(self, digests: Iterable[bytes]) -> dict[bytes, bytes]:
        sql = (
            "SELECT i.key_digest, i.content_digest FROM unnest(%b::bytea[]) AS k(d)"
            " JOIN {schema}.ledger_idempotency i ON i.key_digest = k.d"
        )
        rows = self._select(sql, [list(digests)])
        return {bytes(r["key_digest"]): bytes(r["content_digest"]) for r in rows}

    def select_stream_versions(self, ids: Iterable[UUID]) -> dict[UUID, int]:
        # One backward index probe per stream (a 1000-value ANY() tempts a seq scan).
        sql = (
            "SELECT k.id, (SELECT MAX(e.originator_version) FROM {schema}.{table} e"
            " WHERE e.originator_id = k.id) AS v FROM unnest(%b::uuid[]) AS k(id)"
        )
        rows = self._select(sql, [list(ids)])
        return {r["id"]: r["v"] for r in rows if r["v"] is not None}

    def select_keys(self, subject_ids: Iterable[UUID]) -> list[KeyRow]:
        sql = (
            "SELECT s.* FROM unnest(%b::uuid[]) AS k(id)"
            " JOIN {schema}.ledger_keys s ON s.subject_id = k.id"
        )
        return [
            KeyRow(r["subject_id"], r["category"], r["key_version"],
                   None if r["wrapped"] is None else bytes(r["wrapped"]),
                   r["master_key_id"], r["created_at"], r["destroyed_at"])
            for r in self._select(sql, [list(subject_ids)])
        ]  # fmt: skip

    def select_positions(self, originator_id: UUID) -> dict[int, int]:
        sql = (
            "SELECT originator_version, notification_id FROM {schema}.{table}"
            " WHERE originator_id = %s"
        )
        rows = self._select(sql, [originator_id])
        return {r["originator_version"]: r["notification_id"] for r in rows}

    def select_at_positions(self, positions: Iterable[int]) -> list[Notification]:
        sql = (
            "SELECT e.* FROM unnest(%b::bigint[]) AS k(p)"
            " JOIN {schema}.{table} e ON e.notification_id = k.p"
        )
        return [
            _Notification(
                id=r["notification_id"], originator_id=r["originator_id"],
                originator_version=r["originator_version"], topic=r["topic"],
                state=bytes(r["state"]),
            )
            for r in self._select(sql, [list(positions)])
        ]  # fmt: skip

    def get_meta(self, name: str) -> bytes | None:
        rows = self._select("SELECT value FROM {schema}.ledger_meta WHERE name = %s", [name])
        return bytes(rows[0]["value"]) if rows else None

    def put_meta(self, values: dict[str, bytes]) -> None:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            curs.executemany(
                SQL("INSERT INTO {schema}.ledger_meta VALUES (%s, %s)").format(schema=self._schema),
                list(values.items()),
            )

    def has_ledger_tables(self) -> bool:
        rows = self._select(
            "SELECT to_regclass(%s) IS NOT NULL AS present",
            [f'"{self.datastore.schema}".ledger_meta'],
        )
        return bool(rows[0]["present"])
