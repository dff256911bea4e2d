"""Retention rules a DPO checked (issue 12), through the views and erasure, on both stores.

* profiles made under a consent that expired are due 30 days after the expiry, as
  after a withdrawal (Art. 5(1)(e) storage limitation);
* a consent to another purpose does not keep profiles made for profiling;
* "to the end of the year" is the end of the year in Helsinki: billing of a
  contract that ended on New Year's night, Finnish time, is held a year longer
  than a UTC reading would hold it (Accounting Act 1336/1997, 2:10).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.clock import FixedClock
from ledger.rights.erasure import erase
from projections.retention.apply import retention
from schemas.answers import RetentionEntry
from tests import factories as f

HELSINKI = ZoneInfo("Europe/Helsinki")


def profiled(ledger: Ledger, subject: str, *consent: dict[str, object]) -> None:
    """A subject with cookie and log data, the given consent events and one profile."""
    f.append(
        ledger,
        f.subject_registered(subject, occurred_at="2023-01-01T00:00:00Z"),
        f.personal_data(subject, {"cookie_id": "ck-1"}, category="cookies", source="cookies",
                        occurred_at="2023-01-02T00:00:00Z"),
        f.personal_data(subject, {"ip_address": "192.0.2.1"}, category="web_logs",
                        source="web_services", occurred_at="2023-01-02T00:00:00Z"),
        *consent,
        f.profile_derived(subject, occurred_at="2023-02-01T00:00:00Z"),
    )  # fmt: skip


def entry(core: Core, subject: str, category: str, at: datetime) -> RetentionEntry | None:
    answer = retention(core.ledger, core.store, at=at, kept=True)
    found = [
        e
        for e in [*answer.due, *answer.held, *(answer.kept or [])]
        if (e.subject, e.category) == (subject, category)
    ]
    return found[0] if found else None


def test_profiles_under_an_expired_consent_are_due_30_days_after_the_expiry(
    core: Core, ledger: Ledger
) -> None:
    grant = f.consent_granted(
        "C-1", purpose="profiling", occurred_at="2023-01-05T00:00:00Z",
        data={"expires_at": "2023-06-01T00:00:00Z"},
    )  # fmt: skip
    profiled(ledger, "C-1", grant)

    kept = entry(core, "C-1", "profiles", datetime(2023, 6, 30, tzinfo=UTC))
    due = entry(core, "C-1", "profiles", datetime(2023, 7, 1, tzinfo=UTC))

    assert kept is not None
    assert (kept.status, kept.since, kept.until) == (
        "kept", datetime(2023, 6, 1, tzinfo=UTC), datetime(2023, 7, 1, tzinfo=UTC),
    )  # fmt: skip
    assert due is not None
    assert (due.status, due.reason) == ("due", "counted from the consent's expiry")


def test_retention_apply_erases_profiles_whose_consent_expired(core: Core, ledger: Ledger) -> None:
    grant = f.consent_granted(
        "C-1", purpose="profiling", occurred_at="2023-01-05T00:00:00Z",
        data={"expires_at": "2023-06-01T00:00:00Z"},
    )  # fmt: skip
    profiled(ledger, "C-1", grant)

    answer = retention(ledger, core.store, at=datetime(2023, 7, 1, tzinfo=UTC), apply=True)

    assert answer.applied is not None
    assert [(a["subject"], a["erased"]) for a in answer.applied] == [("C-1", ["profiles"])]


def test_a_consent_to_another_purpose_does_not_keep_profiles(core: Core, ledger: Ledger) -> None:
    profiled(
        ledger, "C-2",
        f.consent_granted("C-2", purpose="profiling", occurred_at="2023-01-05T00:00:00Z"),
        f.consent_withdrawn("C-2", purpose="profiling", occurred_at="2023-03-01T00:00:00Z"),
        f.consent_granted("C-2", purpose="marketing", occurred_at="2023-03-15T00:00:00Z"),
    )  # fmt: skip

    found = entry(core, "C-2", "profiles", datetime(2023, 4, 1, tzinfo=UTC))

    assert found is not None
    assert (found.status, found.since, found.reason) == (
        "due", datetime(2023, 3, 1, tzinfo=UTC), "counted from the last withdrawal of consent",
    )  # fmt: skip


@pytest.fixture
def ended_on_new_years_night(ledger: Ledger) -> Ledger:
    f.append(
        ledger,
        f.subject_registered("C-3", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-3", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-3", {"billing_email": "a@example.fi"}, category="billing",
                        occurred_at="2021-07-02T00:00:00Z"),
        f.contract_ended("C-3", occurred_at="2024-01-01T00:30:00+02:00"),
    )  # fmt: skip
    return ledger


def test_billing_of_a_contract_ended_on_new_years_night_in_helsinki_is_held_to_2035(
    core: Core, ended_on_new_years_night: Ledger
) -> None:
    found = entry(core, "C-3", "billing", datetime(2034, 6, 1, tzinfo=UTC))

    assert found is not None
    assert (found.status, found.until) == ("held", datetime(2035, 1, 1, tzinfo=HELSINKI))


def test_an_erasure_request_keeps_that_billing_until_helsinkis_new_year(
    ended_on_new_years_night: Ledger, clock: FixedClock
) -> None:
    clock.at = datetime(2034, 6, 1, tzinfo=UTC)

    result = erase(ended_on_new_years_night, "C-3", reason="request R-3")

    assert [(h.category, h.until) for h in result.held] == [
        ("billing", datetime(2035, 1, 1, tzinfo=HELSINKI))
    ]
    assert "billing" not in result.erased
