"""Appends through the Ledger API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import orjson
import pytest

from ledger.appending.application import Ledger
from ledger.errors import BatchRejected
from tests import factories as f


def test_a_batch_is_appended_and_read_back_in_order(ledger: Ledger) -> None:
    result = f.append(
        ledger,
        f.subject_registered("C-1001"),
        f.personal_data("C-1001"),
        f.consent_granted("C-1001"),
    )
    assert (result.appended, result.duplicates) == (3, 0)
    events = ledger.stream(ledger.subject_id("C-1001"))
    assert [e.type for e in events] == [
        "SubjectRegistered",
        "PersonalDataRecorded",
        "ConsentGranted",
    ]
    assert events[1].data.fields == {
        "name": "Aino Virtanen",
        "personal_identity_code": "131052-308T",
    }
    positions = ledger.positions(ledger.subject_id("C-1001"))
    assert result.last_position == max(positions.values())


def test_every_event_carries_both_clocks_and_its_actor(ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1", occurred_at="2022-01-02T03:04:05+02:00"))
    (event,) = ledger.stream(ledger.subject_id("C-1"))
    assert event.occurred_at == datetime(2022, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert event.recorded_at == ledger.clock.now()
    assert event.actor == "crm"


def test_occurred_at_defaults_to_now(ledger: Ledger) -> None:
    line = f.subject_registered("C-1")
    del line["occurred_at"]
    f.append(ledger, line)
    (event,) = ledger.stream(ledger.subject_id("C-1"))
    assert event.occurred_at == ledger.clock.now()


def test_a_consent_records_the_notice_version_in_force(ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1"), f.consent_granted("C-1"))
    consent = ledger.stream(ledger.subject_id("C-1"))[-1]
    assert consent.data.notice_version == "2021-06-03"


def test_a_batch_with_one_bad_line_among_good_ones_writes_nothing(
    ledger: Ledger,
) -> None:
    before = ledger.recorder.max_notification_id()
    bad = f.consent_granted("C-1", purpose="billing")
    with pytest.raises(
        BatchRejected, match=re.escape("1 problem(s); line 3: data.purpose: consent_not_a_basis")
    ) as refused:
        f.append(
            ledger,
            f.subject_registered("C-1"),
            f.personal_data("C-1"),
            bad,
            f.contract_started("C-1"),
        )
    assert [(v.line, v.rule) for v in refused.value.violations] == [(3, "consent_not_a_basis")]
    assert ledger.recorder.max_notification_id() == before
    assert ledger.ledger_recorder.select_subjects(["C-1"]) == {}


def test_events_for_an_unregistered_subject_are_refused(ledger: Ledger) -> None:
    with pytest.raises(
        BatchRejected, match=re.escape("1 problem(s); line 1: subject: unknown_subject")
    ) as refused:
        f.append(ledger, f.personal_data("C-404"))
    (v,) = refused.value.violations
    assert (v.line, v.field, v.rule) == (1, "subject", "unknown_subject")


def test_a_subject_must_be_registered_before_its_events_in_a_batch(
    ledger: Ledger,
) -> None:
    with pytest.raises(
        BatchRejected, match=re.escape("1 problem(s); line 1: subject: unknown_subject")
    ) as refused:
        f.append(ledger, f.personal_data("C-1"), f.subject_registered("C-1"))
    assert [(v.line, v.rule) for v in refused.value.violations] == [(1, "unknown_subject")]


def test_registering_a_reference_twice_is_refused(ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1"))
    with pytest.raises(
        BatchRejected, match=re.escape("1 problem(s); line 1: subject: subject_exists")
    ) as refused:
        f.append(ledger, f.subject_registered("C-1"))
    assert refused.value.violations[0].rule == "subject_exists"


def test_a_retry_with_the_same_key_and_content_is_a_duplicate(ledger: Ledger) -> None:
    batch = (
        f.subject_registered("C-1", idempotency_key="r-1"),
        f.personal_data("C-1", idempotency_key="r-2"),
    )
    first = f.append(ledger, *batch)
    again = f.append(ledger, *batch)
    assert (first.appended, first.duplicates) == (2, 0)
    assert (again.appended, again.duplicates, again.last_position) == (0, 2, None)
    assert len(ledger.stream(ledger.subject_id("C-1"))) == 2


def test_a_retry_within_one_batch_is_a_duplicate(ledger: Ledger) -> None:
    registered = f.subject_registered("C-1", idempotency_key="r-1")
    result = f.append(ledger, registered, registered)
    assert (result.appended, result.duplicates) == (1, 1)


def test_the_same_key_with_other_content_is_refused(ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1"), f.personal_data("C-1", idempotency_key="k"))
    other = f.personal_data("C-1", {"name": "Aino Korhonen"}, idempotency_key="k")
    with pytest.raises(
        BatchRejected,
        match=re.escape("1 problem(s); line 1: idempotency_key: idempotency_conflict"),
    ) as refused:
        f.append(ledger, other)
    (v,) = refused.value.violations
    assert (v.field, v.rule) == ("idempotency_key", "idempotency_conflict")


def test_a_partially_stored_batch_resumes_with_the_same_keys(ledger: Ledger) -> None:
    lines = [f.subject_registered(f"C-{i}", idempotency_key=f"reg-{i}") for i in range(1, 8)]
    lines[5]["data"]["controller"] = "0209628-7"  # line 6 is malformed
    with pytest.raises(
        BatchRejected, match=re.escape("1 problem(s); line 6: data.controller: invalid_business_id")
    ) as refused:
        list(ledger.append_stream((orjson.dumps(x) for x in lines), batch_size=2))
    assert refused.value.committed == 4
    assert [(v.line, v.rule) for v in refused.value.violations] == [(6, "invalid_business_id")]
    lines[5]["data"]["controller"] = f.RETAIL
    results = list(ledger.append_stream((orjson.dumps(x) for x in lines), batch_size=2))
    assert sum(r.duplicates for r in results) == 4
    assert sum(r.appended for r in results) == 3


def test_recipients_registered_by_event_can_receive_disclosures(ledger: Ledger) -> None:
    f.append(ledger, f.recipient_registered("mailer"), f.subject_registered("C-1"))
    result = f.append(ledger, f.disclosed("C-1", recipient="mailer"))
    assert result.appended == 1


def test_every_event_type_is_accepted_when_well_formed(ledger: Ledger) -> None:
    result = f.append(
        ledger,
        f.recipient_registered(
            "us-cloud",
            country="US",
            data={"safeguard": "standard_contractual_clauses"},
        ),
        f.subject_registered("C-1"),
        f.personal_data("C-1"),
        f.contract_started("C-1"),
        f.consent_granted("C-1", data={"expires_at": "2025-01-01T00:00:00Z"}),
        f.consent_withdrawn("C-1"),
        f.objection("C-1"),
        f.personal_data("C-1", {"cookie_id": "ck-1"}, category="cookies", source="cookies"),
        f.personal_data("C-1", {"usage": "evenings"}, category="web_logs", source="web_services"),
        f.profile_derived("C-1"),
        f.disclosed("C-1"),
        f.automated_decision("C-1"),
        f.erased_fields("C-1"),
        f.contract_ended("C-1"),
    )
    assert result.appended == 14
    kinds = [e.type for e in ledger.stream(ledger.subject_id("C-1"))]
    assert len(kinds) - kinds.count("FindingRecorded") == 13
