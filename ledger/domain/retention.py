"""Retention: when a category of a subject's data is due for erasure, or held by law.

A category's rule (from the notice in force) counts its period from

* ``recorded``: the last time a value of the category was recorded;
* ``contract_ended``: the end of the subject's last contract (held while one runs);
* ``consent_withdrawn``: the end of the last consent, by withdrawal, by expiry
  (``expires_at``) or, for a direct-marketing purpose, by an objection, once no
  consent is active; only the consents of the purposes the category serves count
  (a derived category: the purposes it was derived for; any other: every purpose).

A rule ``end_of_year`` counts from the end of the calendar year in Finland
(Europe/Helsinki): a contract that ended at 00:30 on 1 January, Helsinki time, ended
in the new year, though it is still 31 December in UTC (Accounting Act 1336/1997,
2:10 counts from the end of the financial year; the register's years are Finnish).

A rule with a legal reference is a statutory hold: an erasure request cannot
destroy the category before the period ends. A rule without one is the register
author's choice: it says when the data becomes due, but an erasure request may
end it sooner (GDPR Art. 17).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from ledger.domain.basis import Fact, Interval, contract_spans, retention_end
from schemas.register import RetentionRule

"""Where the register's calendar years end (the controllers are Finnish)."""

ACTIVE = "a consent is active"
NO_CONSENT = "no consent given: counted from the last recorded value"
ENDED_BY = {
    "ConsentWithdrawn": "counted from the last withdrawal of consent",
    "ObjectionRecorded": "counted from the objection to direct marketing",
    None: "counted from the consent's expiry",
}
"""Why a consent rule counts from where it does, by what ended the last consent."""


@dataclass(frozen=True, slots=True)
class Status:
    """Where one category of one subject stands under its retention rule."""

    category: str
    due: bool
    statutory: bool
    since: datetime | None
    until: datetime | None
    reason: str

    @property
    def held(self) -> bool:
        """A statutory rule keeps the category now."""
        return self.statutory and not self.due


@dataclass(frozen=True, slots=True)
class Consents:
    """Which consents a ``consent_withdrawn`` rule reads for one category.

    ``purposes``: the purposes the category's data serve (None: every purpose);
    ``direct_marketing``: the purposes an objection ends at once (Art. 21(3)).
    """

    purposes: Collection[str] | None = None
    direct_marketing: Collection[str] = ()


def _start(
    rule: RetentionRule,
    last_recorded: datetime | None,
    spans: Sequence[Interval],
    facts: Sequence[Fact],
    consents: Consents,
) -> tuple[datetime | None, str]:
    """When the period starts counting, or None with why it has not started."""
    if rule.starts == "recorded":
        return last_recorded, "counted from the last recorded value"
    if rule.starts == "contract_ended":
        return _contract_start(last_recorded, spans)
    return _consent_start(last_recorded, facts, consents)


def _contract_start(
    last_recorded: datetime | None, spans: Sequence[Interval]
) -> tuple[datetime | None, str]:
    if not spans:
        return last_recorded, "no contract: counted from the last recorded value"
    if any(s.until is None for s in spans):
        return None, "a contract is running"
    return max(s.until for s in spans if s.until is not None), "counted from the contract's end"


def _after(fact: Fact, other: Fact) -> bool:
    return (fact.occurred_at, fact.position) > (other.occurred_at, other.position)


def consent_end(
    grant: Fact, facts: Sequence[Fact], direct_marketing: Collection[str] = ()
) -> tuple[datetime, str | None] | None:
    """When a grant's consent ended and by what type (None: expiry); None if it holds.

    The first of: its expiry, the next withdrawal for its purpose, and for a
    direct-marketing purpose the next objection to it.
    """
    ends: list[tuple[datetime, str | None]] = []
    if grant.expires_at is not None:
        ends.append((grant.expires_at, None))
    enders = {"ConsentWithdrawn"} | (
        {"ObjectionRecorded"} if grant.purpose in direct_marketing else set()
    )
    later = [f for f in facts if f.type in enders and f.purpose == grant.purpose]
    first = min((f for f in later if _after(f, grant)),
                key=lambda f: (f.occurred_at, f.position), default=None)  # fmt: skip
    if first is not None:
        ends.append((first.occurred_at, first.type))
    return min(ends, key=lambda e: e[0]) if ends else None


def _consent_start(
    last_recorded: datetime | None, facts: Sequence[Fact], consents: Consents
) -> tuple[datetime | None, str]:
    def of(kind: str) -> list[Fact]:
        wanted = consents.purposes
        return [f for f in facts if f.type == kind and (wanted is None or f.purpose in wanted)]

    grants = of("ConsentGranted")
    if not grants:
        withdrawals = of("ConsentWithdrawn")
        if withdrawals:
            last = max(withdrawals, key=lambda f: (f.occurred_at, f.position))
            return last.occurred_at, ENDED_BY["ConsentWithdrawn"]
        return last_recorded, NO_CONSENT
    ends = [consent_end(g, facts, consents.direct_marketing) for g in grants]
    if any(end is None for end in ends):
        return None, ACTIVE
    until, by = max((e for e in ends if e is not None), key=lambda e: e[0])
    return until, ENDED_BY[by]


def status(
    rule: RetentionRule,
    *,
    last_recorded: datetime | None,
    facts: Sequence[Fact],
    at: datetime,
    consents: Consents | None = None,
) -> Status:
    """The category's status at ``at`` under ``rule``."""
    spans = contract_spans(sorted(facts, key=lambda f: (f.occurred_at, f.position)))
    start, why = _start(rule, last_recorded, spans, facts, consents or Consents())
    statutory = rule.legal_reference is not None
    if start is None:
        return Status(rule.category, False, statutory, None, None, why)
    until = retention_end(rule, start)
    return Status(rule.category, at >= until, statutory, start, until, why)
