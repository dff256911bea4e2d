"""Erasure by crypto-shredding: destroy what may go, keep what the law holds, record it.

``erase`` works from the subject's own stream (the write side never reads a view):
it finds the categories holding data, the contracts and consents, and the
retention rule of each category in the notice in force. Categories under a
statutory hold keep their key and are reported with the rule and the date the
hold ends; the others' keys are destroyed. One transaction appends the
``SubjectErased`` event (no personal data), destroys the keys and, when nothing
is held any more, removes the subject reference and its idempotency digests so
the reference no longer finds the subject. The log is untouched, so ``verify``
still passes.

An erasure request of the whole subject (scope ``subject``) is recorded even when
every category is held: the request itself ends the consent-based bases and
direct marketing (``ledger.domain.basis``), and held data may then serve only the
hold's purposes (``ledger.domain.findings``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from ledger.appending.judging import read_histories
from ledger.domain.retention import Status, status
from ledger.domain.rules import shown_name
from ledger.errors import ConfigurationError, InvalidRequest, Rule, WriteConflict
from ledger.persistence.recorders import Shredding, SideRows
from schemas import events as ev
from schemas.answers import ErasureAnswer
from schemas.base import invalid_character

if TYPE_CHECKING:
    from ledger.appending.application import Ledger


@dataclass(frozen=True, slots=True)
class ErasureResult:
    """What an erasure did."""

    subject: str
    erased: tuple[str, ...]
    held: tuple[ev.HeldCategory, ...]
    reference_removed: bool
    position: int | None


def erasure_answer(result: ErasureResult) -> ErasureAnswer:
    """The contract's answer to an erasure."""
    return ErasureAnswer(
        subject=result.subject,
        erased=list(result.erased),
        held=[h.model_dump(mode="json") for h in result.held],
        reference_removed=result.reference_removed,
        position=result.position,
    )


def _live_categories(ledger: Ledger, subject_id: UUID) -> set[str]:
    return {k.category for k in ledger.ledger_recorder.select_keys([subject_id]) if k.wrapped}


def _hold(state: Status, legal_reference: str, statement: str) -> ev.HeldCategory:
    return ev.HeldCategory(
        category=state.category,
        rule=statement,
        legal_reference=legal_reference,
        until=state.until,
        reason=state.reason,
    )


def _refuse_unknown(ledger: Ledger, categories: list[str], live: set[str]) -> None:
    """Categories no notice version defines and the subject has no data in: refused."""
    known = set(live)
    for version in ledger.notices.versions:
        known.update(version.index.categories)
    unknown = sorted(set(categories) - known)
    if unknown:
        names = ", ".join(map(shown_name, unknown))
        msg = f"unknown category: {names} (no notice version defines it)"
        raise InvalidRequest(msg, rule=Rule.UNKNOWN_CATEGORY, field="categories")


def erase(
    ledger: Ledger,
    subject: str,
    *,
    reason: str,
    categories: list[str] | None = None,
    scope: Literal["subject", "category", "retention"] = "subject",
    actor: str = "ledger",
) -> ErasureResult:
    """Erase every category (or the given ones) that may be erased now.

    The ledger is held alone throughout (``Ledger.exclusive``): no call of another
    thread seals under a key between the erasure's write and the key ring's reset.
    """
    if invalid_character(reason):
        msg = "the reason holds a control character, DEL or an unpaired surrogate (not shown)"
        raise InvalidRequest(msg, rule=Rule.INVALID_CHARACTER, field="reason")
    with ledger.exclusive():
        return _erase(
            ledger, subject, reason=reason, categories=categories, scope=scope, actor=actor
        )


def _erase(
    ledger: Ledger,
    subject: str,
    *,
    reason: str,
    categories: list[str] | None,
    scope: Literal["subject", "category", "retention"],
    actor: str,
) -> ErasureResult:
    subject_id = ledger.subject_id(subject)
    now = ledger.clock.now()
    notice = ledger.notices.in_force(now)
    if notice is None:
        msg = "no notice is in force: its retention rules decide what is held"
        raise ConfigurationError(msg)
    rows = ledger.ledger_recorder.select_streams([subject_id])
    history = read_histories(rows, ledger.mapper)[subject_id]
    live = _live_categories(ledger, subject_id)
    if categories is not None:
        _refuse_unknown(ledger, categories, live)
    wanted = live if categories is None else live & set(categories)
    erased: list[str] = []
    held: list[ev.HeldCategory] = []
    for category in sorted(wanted):
        rule = notice.index.retention.get(category)
        state = None if rule is None else status(
            rule, last_recorded=history.last_recorded.get(category), facts=history.facts, at=now
        )  # fmt: skip
        if rule is not None and state is not None and state.held and rule.legal_reference:
            held.append(_hold(state, rule.legal_reference, rule.statement))
        else:
            erased.append(category)
    remove_reference = categories is None and not held
    if not erased and not remove_reference and scope != "subject":
        return ErasureResult(subject, (), tuple(held), False, None)
    data = ev.SubjectErasedData(
        scope=scope, erased=tuple(erased), held=tuple(held), reason=reason,
        reference_removed=remove_reference,
    )  # fmt: skip
    side = SideRows(shredding=Shredding(subject_id, erased, now, remove_reference))
    try:
        position = ledger.record(
            subject_id, "SubjectErased", data, occurred_at=now, actor=actor, side=side
        )
    except IntegrityError:
        msg = (
            f"another writer appended to {subject!r} while it was being erased; nothing was"
            " erased: retry"
        )
        raise WriteConflict(msg) from None
    ledger.ledger_recorder.checkpoint_wal()
    ledger.keyring.forget()
    return ErasureResult(subject, tuple(erased), tuple(held), remove_reference, position)
