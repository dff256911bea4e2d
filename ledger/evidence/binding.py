"""Subject references under evidence: each reference bound to its subject by a keyed digest.

``ledger_subjects`` maps a service's reference (``C-1001``) to the subject's stream
and lives outside the log on purpose (erasure removes the row, leaving the log
pseudonymous). So that a row altered behind the ledger's back (two references
swapped, a reference pointed at another stream) is caught, the sealer writes, for
every ``SubjectRegistered`` it seals, a binding row ``(stream id, HMAC(index key,
stream id || reference))`` into ``ledger_subject_bindings``. The index key is
wrapped by the master key, which the store does not hold, so whoever can only
write to the database cannot make a binding for a reference of their choosing;
``verify`` (with the master key) recomputes the digest of every ``ledger_subjects``
row. The binding holds no reference in clear, and it is deleted when the sealer
seals the ``SubjectErased`` that removed the reference.

Subjects registered before bindings existed have none and are counted as
``unbound``, not failures. Which those are is not left to the store: the first
position the sealer binds from is written into every checkpoint record of the
anchor (outside the store), and ``verify`` takes the earliest one it finds there:
a reference registered from that position on that has no binding
(``subject_unbound``) was tampered with, or was sealed by a process that could not
open the master key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import orjson

from ledger.errors import ConfigurationError
from ledger.persistence.keys import index_digest
from ledger.persistence.mapper import as_uuid

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from eventsourcing.persistence import Notification

    from ledger.appending.application import Ledger
    from ledger.persistence.views import Tx

    Query = Callable[[str, Sequence[Any]], list[Any]]

BINDINGS_DDL = (
    "CREATE TABLE IF NOT EXISTS {t}ledger_subject_bindings (subject_id TEXT PRIMARY KEY,"
    " digest {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {t}ledger_binding_start (id INTEGER PRIMARY KEY,"
    " position {bigint} NOT NULL)",
)
_DOMAIN = b"ledger subject reference\x00"


def subject_binding(index_key: bytes, subject_id: UUID, ref: str) -> bytes:
    """The keyed digest binding a reference to its subject's stream."""
    return index_digest(index_key, _DOMAIN + subject_id.bytes + ref.encode("utf-8"))


def readable_index_key(ledger: Ledger) -> bytes | None:
    """The index key, or None when the master key cannot be had here."""
    try:
        return ledger.index_key
    except ConfigurationError:
        return None


def bindings_start(tx: Tx, query: Query, next_position: int) -> int:
    """The first log position whose subjects are bound; set to ``next_position`` once.

    A new store binds from its first event; a store sealed before bindings existed
    binds from the first event sealed after. The sealer writes this position into
    every anchor record, so a later change of it in the store is seen.
    """
    rows = query("SELECT position FROM {t}ledger_binding_start WHERE id = 1", ())
    if rows:
        return int(rows[0]["position"])
    tx.execute("INSERT INTO {t}ledger_binding_start VALUES (1, ?)", (next_position,))
    return next_position


def bind_subjects(
    index_key: bytes | None, tx: Tx, query: Query, page: Sequence[Notification]
) -> None:
    """Write bindings for the subjects registered in ``page``; drop erased references'.

    Everything is read through the seal's own transaction: asking the pool for a
    second connection while holding the write lock deadlocks when the other
    connections are waiting for that lock.
    """
    registered = [as_uuid(n.originator_id) for n in page if n.topic == "SubjectRegistered"]
    removed = [
        as_uuid(n.originator_id).hex
        for n in page
        if n.topic == "SubjectErased" and orjson.loads(n.state)["data"].get("reference_removed")
    ]
    if registered and index_key is not None:
        marks = ", ".join("?" * len(registered))
        rows = query(
            f"SELECT ref, subject_id FROM {{t}}ledger_subjects WHERE subject_id IN ({marks})",
            [sid.hex if tx.store.kind == "sqlite" else sid for sid in registered],
        )
        refs = {as_uuid(r["subject_id"]): r["ref"] for r in rows}
        if refs:
            tx.cursor.executemany(
                tx.store.sql(
                    "INSERT INTO {t}ledger_subject_bindings VALUES (?, ?)"
                    " ON CONFLICT (subject_id) DO NOTHING"
                ),
                [(sid.hex, subject_binding(index_key, sid, ref)) for sid, ref in refs.items()],
            )
    if removed:
        tx.cursor.executemany(
            tx.store.sql("DELETE FROM {t}ledger_subject_bindings WHERE subject_id = ?"),
            [(sid,) for sid in removed],
        )
