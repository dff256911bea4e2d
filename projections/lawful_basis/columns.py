"""Views made before a column was added are rebuilt: dropped, then replayed by the runner.

A projection lists the columns added to its tables after stores existed
(``added_columns``); when one of its tables exists without one of them, ``create``
drops the projection's tables and forgets its position, so the runner's next
catch-up replays the log into the new shape (``ledger rebuild`` for that view only).
"""

from __future__ import annotations

from collections.abc import Mapping
from weakref import WeakKeyDictionary

from ledger.persistence.views import ViewStore
from projections.base import Projection


def existing_columns(store: ViewStore, table: str) -> set[str]:
    """The columns of a view table; empty when the table does not exist yet."""
    if store.kind == "sqlite":
        rows = store.query("SELECT name FROM pragma_table_info(?)", (table,))
        return {r["name"] for r in rows}
    rows = store.query(
        "SELECT column_name AS name FROM information_schema.columns"
        " WHERE table_schema = ? AND table_name = ?",
        (store.schema, table),
    )
    return {r["name"] for r in rows}


def outdated(store: ViewStore, added: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether a table exists without a column added to it since."""
    for table, columns in added.items():
        present = existing_columns(store, table)
        if present and not set(columns) <= present:
            return True
    return False


_checked: WeakKeyDictionary[ViewStore, set[str]] = WeakKeyDictionary()
"""Projections whose columns were checked in this store (once per process, not per query)."""


def drop_if_outdated(projection: Projection, added: Mapping[str, tuple[str, ...]]) -> None:
    """Drop the projection's tables and position if a table predates a column added since.

    Checked once per store object and projection; the projection's own ``create``
    then makes its tables in the current shape, and the runner replays the log.
    """
    store = projection.store
    checked = _checked.setdefault(store, set())
    if projection.name in checked:
        return
    if outdated(store, added):
        with store.transaction() as tx:
            projection.drop(tx)
    checked.add(projection.name)
