"""After the demo load: catch the views up and put a DPO's questions to them."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import TextIO
from uuid import UUID

from projections.base import instant
from projections.queries import Views
from schemas.answers import BasisAnswer


def _first(views: Views, fact: str) -> tuple[UUID, datetime, str | None] | None:
    rows = views.store.query(
        "SELECT subject_id, occurred_at, purpose FROM {t}v_basis_facts WHERE type = ?"
        " ORDER BY position LIMIT 1",
        (fact,),
    )
    if not rows:
        return None
    return UUID(rows[0]["subject_id"]), instant(rows[0]["occurred_at"]), rows[0]["purpose"]


def _show(out: TextIO, question: str, answer: BasisAnswer) -> None:
    verdict = "yes" if answer.lawful else "no"
    out.write(f"\nQ: {question}\nA: {verdict}, under notice {answer.notice_version}\n")
    for interval in answer.bases or []:
        until = "open" if interval.until is None else interval.until.date().isoformat()
        evidence = ", ".join(f"#{e.position} {e.type} {e.hash[:12]}…" for e in interval.evidence)
        out.write(f"   {interval.basis} {interval.since.date()} .. {until}  [{evidence}]\n")


def tour(views: Views, out: TextIO) -> None:
    """Ask the questions a DPO asks, of subjects whose histories answer them."""
    started = time.monotonic()
    count = views.runner.catch_up()
    elapsed = time.monotonic() - started
    out.write(f"\nprojections caught up: {count} events in {elapsed:.2f} s\n")
    refs = views.ledger.ledger_recorder.select_refs
    cases = [
        ("ConsentWithdrawn", None, timedelta(days=1),
         "a day after {ref} withdrew their consent, may we still process for this purpose?"),
        ("ObjectionRecorded", "marketing", timedelta(days=1),
         "a day after {ref} objected, may we send them marketing?"),
        ("ObjectionRecorded", "marketing", -timedelta(days=1),
         "the day before {ref} objected, on what basis did we market to them?"),
        ("ContractEnded", "billing", timedelta(days=30),
         "a month after {ref}'s contract ended, may we still keep and process their billing data?"),
    ]  # fmt: skip
    for fact, purpose, offset, question in cases:
        found = _first(views, fact)
        if found is None:
            continue
        subject_id, when, fact_purpose = found
        asked = purpose or fact_purpose or "marketing"
        ref = refs([subject_id])[subject_id]
        answer = views.basis(ref, asked, at=when + offset, known_at=None)
        _show(out, f"({asked}, {(when + offset).date()}) " + question.format(ref=ref), answer)
