"""Where views live: the ledger's own database, one dialect-neutral SQL helper.

Views sit beside the events (same SQLite file, same PostgreSQL schema), so a view
change and its tracking row commit in one transaction on the library's datastore.
SQL is written once with ``?`` placeholders and ``{t}`` for the table prefix (the
schema on PostgreSQL); ``{blob}`` and ``{bigint}`` pick the column types.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg.rows import dict_row, tuple_row
from psycopg.sql import SQL, Identifier

if TYPE_CHECKING:
    from ledger.persistence.store import StoreConfig

TRACKING_TABLE = "ledger_tracking"


class Cursor(Protocol):
    """The part of a DB-API cursor the views use (sqlite3 and psycopg alike)."""

    def execute(self, sql: Any, params: Any = ...) -> Any: ...
    def executemany(self, sql: Any, params: Any) -> Any: ...
    def fetchall(self) -> Any: ...


class Tx:
    """A view transaction: statements in the neutral dialect, tracking beside them."""

    def __init__(self, store: ViewStore, cursor: Cursor) -> None:
        self.store = store
        self.cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self.cursor.execute(self.store.sql(sql), params)

    def insert(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Insert whole rows into a view table: COPY on PostgreSQL, executemany on SQLite."""
        if not rows:
            return
        if self.store.kind == "sqlite":
            marks = ",".join("?" * len(rows[0]))
            self.cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            return
        statement = SQL("COPY {}.{} FROM STDIN").format(
            Identifier(self.store.schema), Identifier(table)
        )
        with self.cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)

    def track(self, projection: str, position: int) -> None:
        """Record the projection's new position (refused if it is not past the last)."""
        self.store.tracking._insert_tracking(self.cursor, Tracking(projection, position))  # type: ignore[arg-type]


class ViewStore:
    """The ledger's database, seen from the read side."""

    def __init__(self, store: StoreConfig, datastore: Any, *, schema: str | None = None) -> None:
        self.kind = store.kind
        self.datastore: Any = datastore
        self.schema = schema or store.schema
        self.prefix = "" if self.kind == "sqlite" else f'"{self.schema}".'
        self.tracking: SQLiteTrackingRecorder | PostgresTrackingRecorder
        if self.kind == "sqlite":
            self.tracking = SQLiteTrackingRecorder(self.datastore)
        else:
            self.tracking = PostgresTrackingRecorder(
                self.datastore, tracking_table_name=TRACKING_TABLE
            )
        self.tracking.create_table()

    def sql(self, text: str) -> str:
        """Neutral SQL to this store's dialect."""
        pg = self.kind != "sqlite"
        text = text.format(
            t=self.prefix,
            blob="bytea" if pg else "BLOB",
            bigint="bigint" if pg else "INTEGER",
        )
        return text.replace("?", "%s") if pg else text

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One committed transaction (rolled back on error)."""
        with self.datastore.transaction(commit=True) as cursor:
            yield Tx(self, cursor)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of one read-only statement; rows are addressable by column name."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self.sql(sql), params)
            return list(cursor.fetchall())

    def stream(self, sql: str, chunk: int = 5000, *, tuples: bool = False) -> Iterator[Any]:
        """Rows of one read-only statement, fetched in chunks (bounded memory).

        On PostgreSQL a named (server-side) cursor, in binary: a plain one would load
        the whole result into the client. SQLite's cursors step through the result
        already. ``tuples`` gives plain tuples (faster) instead of rows by name.
        """
        if self.kind == "sqlite":
            with self.datastore.transaction(commit=False) as cursor:
                cursor.execute(self.sql(sql))
                while rows := cursor.sqlite_cursor.fetchmany(chunk):
                    yield from (tuple(r) for r in rows) if tuples else rows
            return
        factory = tuple_row if tuples else dict_row
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(force_rollback=True),
            conn.cursor(name="ledger_stream", row_factory=factory, binary=True) as cursor,
        ):
            cursor.itersize = chunk
            cursor.execute(self.sql(sql))
            yield from cursor

    def analyze(self, tables: Sequence[str]) -> None:
        """Refresh the planner's statistics after a bulk load (PostgreSQL).

        Right after a rebuild the tables have no statistics, and autovacuum would
        gather them later while queries already run.
        """
        if self.kind == "sqlite":
            return
        with self.datastore.get_connection() as conn:
            for table in tables:
                conn.execute(
                    SQL("ANALYZE {}.{}").format(Identifier(self.schema), Identifier(table))
                )

    def position(self, projection: str) -> int:
        """The last position a projection has applied (0 before the first)."""
        return self.tracking.max_tracking_id(projection) or 0

    @property
    def _tracking(self) -> str:
        """The library's tracking table as this store names it."""
        return "tracking" if self.kind == "sqlite" else f"{self.prefix}{TRACKING_TABLE}"

    def claim(self, tx: Tx, projection: str) -> int:
        """Take ``projection``'s write lock for the rest of ``tx``; its position then.

        Runners in other processes wait here until the holder commits, and then see
        its position. PostgreSQL: a transaction-scoped advisory lock keyed by the
        store's prefix and the projection. SQLite: the database's write lock, taken by
        a write that changes nothing (a deferred transaction that read first could not
        write once another had committed).
        """
        if self.kind == "sqlite":
            tx.cursor.execute(
                f"UPDATE {self._tracking} SET notification_id = notification_id WHERE 0"
            )
        else:
            tx.cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"{self.prefix}{projection}",),
            )
        return self.position_in(tx, projection)

    def position_in(self, tx: Tx, projection: str) -> int:
        """``position``, read through an open transaction (no second connection)."""
        table = self._tracking
        tx.cursor.execute(
            self.sql(f"SELECT MAX(notification_id) AS p FROM {table} WHERE application_name = ?"),
            (projection,),
        )
        rows = tx.cursor.fetchall()
        return int(rows[0]["p"] or 0) if rows else 0

    def forget_position(self, tx: Tx, projection: str) -> None:
        """Drop a projection's tracking row (rebuild)."""
        tx.execute(f"DELETE FROM {self._tracking} WHERE application_name = ?", (projection,))
