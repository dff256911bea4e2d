"""Retention as one library call: what is due and held, and erasing what is due.

The list comes from the views (``projections.retention.view``); each due subject
is then erased through ``ledger.rights.erasure`` (which re-judges from the
subject's own stream, so a stale view can never erase what is held). Every face
calls this; the ledger's sealing policy seals what the erasures commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.appending.application import Ledger
from ledger.persistence.views import ViewStore
from ledger.rights.erasure import erase, erasure_answer
from projections.retention.view import list_retention
from projections.runner import ProjectionRunner
from schemas.answers import RetentionAnswer, RetentionEntry


def retention(
    ledger: Ledger,
    store: ViewStore,
    *,
    at: datetime | None = None,
    apply: bool = False,
    kept: bool = False,
) -> RetentionAnswer:
    """Due and held categories at ``at`` (default now); with ``apply``, erase the due ones."""
    ProjectionRunner(ledger, store=store).catch_up()
    when = at or ledger.clock.now()
    entries = list_retention(store, ledger.ledger_recorder.select_refs, ledger.notices, when,
                             kept=kept)  # fmt: skip
    due = [e for e in entries if e.status == "due"]
    return RetentionAnswer(
        at=when,
        due=due,
        held=[e for e in entries if e.status == "held"],
        kept=[e for e in entries if e.status == "kept"] if kept else None,
        applied=_apply(ledger, due) if apply else None,
    )


def _apply(ledger: Ledger, due: list[RetentionEntry]) -> list[dict[str, Any]]:
    by_subject: dict[str, list[str]] = {}
    for entry in due:
        by_subject.setdefault(entry.subject, []).append(entry.category)
    done = []
    with ledger.one_call():
        for subject, categories in sorted(by_subject.items()):
            result = erase(
                ledger, subject, reason="retention period ended", categories=categories,
                scope="retention",
            )  # fmt: skip
            done.append(erasure_answer(result).model_dump(mode="json"))
    return done
