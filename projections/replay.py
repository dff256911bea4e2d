"""``ledger replay --compare``: rebuild every view into a scratch store and diff it.

The scratch store is a temporary SQLite file beside nothing (SQLite ledgers) or a
temporary schema in the same database (PostgreSQL); it is removed afterwards. Both
sides are brought to the same log position first, then every table is compared
row by row in primary-key order, streaming, so memory stays bounded.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import zip_longest
from pathlib import Path
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from ledger.appending.application import Ledger
from ledger.persistence.store import ensure_postgres_schema
from ledger.persistence.views import ViewStore
from projections.runner import Progress, ProjectionRunner

_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Difference:
    """One row that differs between the live and the replayed view."""

    table: str
    live: dict[str, Any] | None
    replayed: dict[str, Any] | None


@contextmanager
def scratch_store(ledger: Ledger) -> Iterator[ViewStore]:
    """A temporary, empty place for views next to the ledger."""
    if ledger.store.kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ledger-replay-") as folder:
            datastore = SQLiteDatastore(str(Path(folder) / "views.db"))
            try:
                yield ViewStore(ledger.store, datastore)
            finally:
                datastore.close()
        return
    env = ledger.store.env
    schema = f"{ledger.store.schema}_replay"[:63]
    ensure_postgres_schema(replace(ledger.store, schema=schema))
    pg = PostgresDatastore(
        env["POSTGRES_DBNAME"], env["POSTGRES_HOST"], env["POSTGRES_PORT"],
        env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], schema=schema,
    )  # fmt: skip
    try:
        yield ViewStore(ledger.store, pg, schema=schema)
    finally:
        with pg.transaction(commit=True) as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        pg.close()


def _rows(store: ViewStore, table: str) -> Iterator[dict[str, Any]]:
    for row in store.stream(f"SELECT * FROM {{t}}{table} ORDER BY 1, 2, 3"):
        yield dict(row)


def replay_compare(
    ledger: Ledger, store: ViewStore, progress: Progress | None = None
) -> tuple[int, list[Difference], int]:
    """Replay into scratch and compare; returns (position, differences, rows compared)."""
    live = ProjectionRunner(ledger, store=store)
    head = live.head()
    live.catch_up(until=head)
    differences: list[Difference] = []
    compared = 0
    with scratch_store(ledger) as scratch:
        replayed = ProjectionRunner(ledger, store=scratch)
        replayed.catch_up(until=head, progress=progress)
        for projection in live.projections:
            for table in projection.tables:
                pairs = zip_longest(_rows(live.store, table), _rows(scratch, table))
                for left, right in pairs:
                    compared += 1
                    if left != right:
                        differences.append(Difference(table, left, right))
            if live.store.position(projection.name) != scratch.position(projection.name):
                differences.append(Difference(f"{projection.name} position", None, None))
    return head, differences, compared
