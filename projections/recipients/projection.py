"""RecipientRegistered / RecipientEnded -> rows of ``v_agreements``."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from ledger.persistence.mapper import RawEvent
from ledger.persistence.views import Tx
from projections.base import Projection, micros


class RecipientsProjection(Projection):
    """One row per change of a recipient's agreement (an end is a row with ended = 1)."""

    name = "recipients"
    tables = ("v_agreements",)
    ddl = (
        "CREATE TABLE IF NOT EXISTS {t}v_agreements (recipient TEXT NOT NULL,"
        " position {bigint} NOT NULL, occurred_at {bigint} NOT NULL,"
        " recorded_at {bigint} NOT NULL, ended INTEGER NOT NULL, terms TEXT,"
        " PRIMARY KEY (recipient, position))",
    )

    def apply(self, tx: Tx, events: Sequence[RawEvent]) -> None:
        rows: list[tuple[str, int, int, int, int, str | None]] = []
        for e in events:
            if e.type == "RecipientRegistered":
                terms = orjson.dumps(e.data).decode()
                rows.append((e.data["id"], e.position, micros(e.occurred_at),
                             micros(e.recorded_at), 0, terms))  # fmt: skip
            elif e.type == "RecipientEnded":
                rows.append((e.data["id"], e.position, micros(e.occurred_at),
                             micros(e.recorded_at), 1, None))  # fmt: skip
        tx.insert("v_agreements", rows)
