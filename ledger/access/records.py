"""Reads of decrypted personal data, recorded in the log itself before they are shown.

Every answer that carries decrypted personal values (the subject view, the export,
lineage with values) is recorded as a ``PersonalDataAccessed`` event in the
subject's own stream: who (the token's id and name, or the OS user on the command
line), how (``http`` or ``cli``), what answer, which categories and the purpose the
reader stated. The event holds no personal data and is sealed into the Merkle log
like any other, so who saw what is as tamper-evident as what happened. A face
records first and shows after: when recording fails, nothing is shown.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from pydantic import ValidationError

from ledger.appending.outcomes import Recorded
from ledger.errors import InvalidRequest, Rule, WriteConflict
from schemas import events as ev
from schemas.base import invalid_character

if TYPE_CHECKING:
    from ledger.appending.application import Ledger
    from schemas.answers import SubjectAnswer

ACCESSED = "PersonalDataAccessed"
MAX_PURPOSE = 500
"""The longest purpose a reader may state (characters)."""
_RETRIES = 8


@dataclass(frozen=True, slots=True)
class Access:
    """One read of a subject's decrypted data, to be recorded."""

    subject: str
    categories: tuple[str, ...]
    purpose: str
    actor: str
    token_id: str | None
    via: str
    what: str


def check_purpose(purpose: str, *, field: str = "purpose") -> str:
    """The stated purpose, refused (naming ``field``) when empty, too long or unprintable.

    One line of at most ``MAX_PURPOSE`` characters, no control character (tabs and
    line breaks included), not starting or ending with a space. Never echoed.

    Raises:
        InvalidRequest: with rule ``invalid_character`` or ``invalid_value``.
    """
    if invalid_character(purpose, free_text=False):
        msg = (
            f"the {field} holds a control character (tabs and line breaks included), DEL or"
            " an unpaired surrogate (not shown)"
        )
        raise InvalidRequest(msg, rule=Rule.INVALID_CHARACTER, field=field)
    if not purpose.strip() or purpose != purpose.strip() or len(purpose) > MAX_PURPOSE:
        msg = (
            f"the {field} must be 1 to {MAX_PURPOSE} characters, not starting or ending"
            " with a space"
        )
        raise InvalidRequest(msg, rule=Rule.INVALID_VALUE, field=field)
    return purpose


def subject_categories(answer: SubjectAnswer) -> tuple[str, ...]:
    """The categories a subject view shows a value of (an erased value shows none)."""
    shown = (c for c, values in answer.fields.items() if any(not v.erased for v in values.values()))
    return tuple(sorted(shown))


def export_categories(document: Mapping[str, Any]) -> tuple[str, ...]:
    """The categories an export shows a value of: current values and their history."""
    shown = {
        c for c, d in document.get("data", {}).items()
        if any(not v.get("erased") for v in d.get("fields", {}).values())
    }  # fmt: skip
    shown |= {
        h["data"]["category"]
        for h in document.get("history", ())
        if h.get("type") in ev.SEALED_TYPES and h.get("data", {}).get("fields")
    }
    return tuple(sorted(shown))


def _data(access: Access) -> ev.PersonalDataAccessedData:
    check_purpose(access.purpose)
    try:
        return ev.PersonalDataAccessedData.model_validate(
            {
                "token_id": access.token_id, "actor": access.actor, "via": access.via,
                "what": access.what, "categories": sorted(set(access.categories)),
                "purpose": access.purpose,
            }
        )  # fmt: skip
    except ValidationError as e:
        fields = sorted({str(item["loc"][0]) for item in e.errors() if item["loc"]})
        msg = f"the access record is not valid in: {', '.join(fields)} (values not shown)"
        raise InvalidRequest(msg, rule=Rule.INVALID_VALUE, field=",".join(fields)) from None


def _streams(ledger: Ledger, refs: Iterable[str]) -> dict[str, UUID]:
    """Each reference's stream; ``SubjectNotFound`` (never echoing a code) when one has none."""
    wanted = sorted(set(refs))
    found = dict(ledger.ledger_recorder.select_subjects(wanted))
    for ref in wanted:
        if ref not in found:
            found[ref] = ledger.subject_id(ref)  # raises SubjectNotFound, safely worded
    return found


def record_accesses(ledger: Ledger, accesses: Sequence[Access]) -> list[int]:
    """Record the reads in one transaction, before they are shown; their positions.

    Raises:
        SubjectNotFound: a reference has no subject (erased, or never registered).
        InvalidRequest: a purpose, actor, token id, via, what or category is not valid.
        WriteConflict: other writers kept appending to the same subjects meanwhile.
    """
    if not accesses:
        return []
    data = [_data(a) for a in accesses]
    streams = _streams(ledger, (a.subject for a in accesses))
    for attempt in range(_RETRIES):
        now = ledger.clock.now()
        entries = [
            Recorded(stream=streams[a.subject], topic=ACCESSED, data=d, occurred_at=now,
                     actor=a.actor)
            for a, d in zip(accesses, data, strict=True)
        ]  # fmt: skip
        try:
            return ledger.record_many(entries)
        except IntegrityError:
            time.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - jitter
    msg = "other writers kept appending to the subject; the read was not recorded: retry"
    raise WriteConflict(msg)
