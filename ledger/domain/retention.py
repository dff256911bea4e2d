"""Retention: when a category of a subject's data is due for erasure, or held by law.

A category's rule (from the notice in force) counts its period from

* ``recorded``: the last time a value of the category was recorded;
* ``contract_ended``: the end of the subject's last contract (held while one runs);
* ``consent_withdrawn``: the last withdrawal of a consent, once no consent is active.

A rule with a legal reference is a statutory hold: an erasure request cannot
destroy the category before the period ends. A rule without one is the register
author's choice: it says when the data becomes due, but an erasure request may
end it sooner (GDPR Art. 17).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ledger.domain.basis import Fact, Interval, contract_spans, retention_end
from schemas.register import RetentionRule


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


def _start(
    rule: RetentionRule,
    last_recorded: datetime | None,
    spans: Sequence[Interval],
    facts: Sequence[Fact],
) -> tuple[datetime | None, str]:
    """When the period starts counting, or None with why it has not started."""
    if rule.starts == "recorded":
        return last_recorded, "counted from the last recorded value"
    if rule.starts == "contract_ended":
        return _contract_start(last_recorded, spans)
    return _consent_start(last_recorded, facts)


def _contract_start(
    last_recorded: datetime | None, spans: Sequence[Interval]
) -> tuple[datetime | None, str]:
    if not spans:
        return last_recorded, "no contract: counted from the last recorded value"
    if any(s.until is None for s in spans):
        return None, "a contract is running"
    return max(s.until for s in spans if s.until is not None), "counted from the contract's end"


def _consent_start(
    last_recorded: datetime | None, facts: Sequence[Fact]
) -> tuple[datetime | None, str]:
    grants = [f for f in facts if f.type == "ConsentGranted"]
    withdrawals = [f for f in facts if f.type == "ConsentWithdrawn"]
    if not withdrawals:
        if grants:
            return None, "a consent is active"
        return last_recorded, "no consent given: counted from the last recorded value"
    last = max(withdrawals, key=lambda f: (f.occurred_at, f.position))
    if any((g.occurred_at, g.position) > (last.occurred_at, last.position) for g in grants):
        return None, "a consent is active"
    return last.occurred_at, "counted from the last withdrawal of consent"


def status(
    rule: RetentionRule,
    *,
    last_recorded: datetime | None,
    facts: Sequence[Fact],
    at: datetime,
) -> Status:
    """The category's status at ``at`` under ``rule``."""
    spans = contract_spans(sorted(facts, key=lambda f: (f.occurred_at, f.position)))
    start, why = _start(rule, last_recorded, spans, facts)
    statutory = rule.legal_reference is not None
    if start is None:
        return Status(rule.category, False, statutory, None, None, why)
    until = retention_end(rule, start)
    return Status(rule.category, at >= until, statutory, start, until, why)
