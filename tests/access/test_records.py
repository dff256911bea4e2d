"""Reads of personal data recorded in the subject's stream and listed by the access log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.access.records import (
    Access,
    check_purpose,
    export_categories,
    record_accesses,
    subject_categories,
)
from ledger.bootstrap import Core
from ledger.clock import FixedClock
from ledger.errors import InvalidRequest, SubjectNotFound
from ledger.evidence.verification import verify
from ledger.rights.erasure import erase
from projections.export.build import build_export
from projections.replay import replay_compare
from tests import factories as f

TOKEN_ID = "tok_0123456789abcdef"  # noqa: S105 - a public id


def read(subject: str, **change: object) -> Access:
    values: dict[str, object] = {
        "subject": subject, "categories": ("customer_basic",), "purpose": "support case 311",
        "actor": "anna", "token_id": None, "via": "cli", "what": "subject",
    }  # fmt: skip
    values.update(change)
    return Access(**values)  # type: ignore[arg-type]


@pytest.fixture
def customers(core: Core) -> Core:
    f.append(
        core.ledger,
        f.subject_registered("C-1"), f.personal_data("C-1"),
        f.subject_registered("C-2"),
        f.personal_data("C-2", {"cookie_id": "ck-77"}, category="cookies", source="cookies"),
    )  # fmt: skip
    return core


def test_a_read_is_recorded_in_the_subjects_stream_and_listed(
    customers: Core, clock: FixedClock
) -> None:
    (position,) = record_accesses(customers.ledger, [read("C-1")])
    views = customers.views()
    assert [(e.position, e.type, e.actor) for e in views.trail("C-1").events][-1] == (
        position, "PersonalDataAccessed", "anna",
    )  # fmt: skip
    (record,) = views.access_log().records
    assert record.model_dump() == {
        "position": position, "occurred_at": clock.now(), "subject": "C-1", "actor": "anna",
        "token_id": None, "via": "cli", "what": "subject", "categories": ["customer_basic"],
        "purpose": "support case 311",
    }  # fmt: skip
    assert verify(customers.sealer).ok


def test_reads_of_several_subjects_are_recorded_together_in_order(customers: Core) -> None:
    positions = record_accesses(
        customers.ledger,
        [read("C-1"), read("C-2", categories=("cookies",), token_id=TOKEN_ID, via="http",
                           what="export", actor="dpo-anna")],
    )  # fmt: skip
    assert positions == sorted(positions)
    assert len(set(positions)) == 2
    log = customers.views().access_log().records
    assert [(r.position, r.subject, r.via, r.token_id) for r in log] == [
        (positions[0], "C-1", "cli", None), (positions[1], "C-2", "http", TOKEN_ID),
    ]  # fmt: skip


def test_the_access_log_filters_by_time_and_subject(customers: Core, clock: FixedClock) -> None:
    record_accesses(customers.ledger, [read("C-1")])
    clock.advance(timedelta(hours=1))
    later = clock.now()
    record_accesses(customers.ledger, [read("C-2"), read("C-1", purpose="audit")])
    views = customers.views()
    assert [r.subject for r in views.access_log(since=later).records] == ["C-2", "C-1"]
    assert [r.purpose for r in views.access_log(subject="C-1").records] == [
        "support case 311", "audit",
    ]  # fmt: skip
    assert [r.purpose for r in views.access_log(since=later, subject="C-1").records] == ["audit"]
    with pytest.raises(SubjectNotFound):
        views.access_log(subject="C-404")


def test_an_erased_subject_shows_as_null_and_can_no_longer_be_read(customers: Core) -> None:
    record_accesses(customers.ledger, [read("C-2", categories=("cookies",))])
    assert erase(customers.ledger, "C-2", reason="request R-1").reference_removed
    (record,) = customers.views().access_log().records
    assert (record.subject, record.categories) == (None, ["cookies"])
    with pytest.raises(SubjectNotFound):
        record_accesses(customers.ledger, [read("C-2")])


def test_an_unknown_subject_records_nothing(customers: Core) -> None:
    head = customers.ledger.recorder.max_notification_id()
    with pytest.raises(SubjectNotFound, match="'C-404'"):
        record_accesses(customers.ledger, [read("C-1"), read("C-404")])
    with pytest.raises(SubjectNotFound, match="not shown"):
        record_accesses(customers.ledger, [read("131052-308T")])
    assert customers.ledger.recorder.max_notification_id() == head


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"purpose": ""}, "purpose", "invalid_value"),
        ({"purpose": " padded"}, "purpose", "invalid_value"),
        ({"purpose": "x" * 501}, "purpose", "invalid_value"),
        ({"purpose": "line\nbreak"}, "purpose", "invalid_character"),
        ({"purpose": "nul\x00"}, "purpose", "invalid_character"),
        ({"via": "carrier-pigeon"}, "via", "invalid_value"),
        ({"what": "everything"}, "what", "invalid_value"),
        ({"token_id": "secret-token"}, "token_id", "invalid_value"),
        ({"categories": ("Not A Code",)}, "categories", "invalid_value"),
    ],
)
def test_a_bad_access_record_is_refused_naming_the_field(
    customers: Core, change: dict[str, object], field: str, rule: str
) -> None:
    head = customers.ledger.recorder.max_notification_id()
    with pytest.raises(InvalidRequest) as refused:
        record_accesses(customers.ledger, [read("C-1", **change)])
    assert (refused.value.field, str(refused.value.rule)) == (field, rule)
    assert "secret-token" not in str(refused.value)
    assert customers.ledger.recorder.max_notification_id() == head


def test_a_purpose_of_500_characters_is_accepted() -> None:
    assert check_purpose("p" * 500) == "p" * 500


def test_the_categories_of_a_read_are_those_it_shows_a_value_of(customers: Core) -> None:
    views = customers.views()
    now = customers.ledger.clock.now()
    assert subject_categories(views.subject("C-1", at=now, known_at=None)) == ("customer_basic",)
    assert export_categories(build_export(views, "C-2")) == ("cookies",)
    assert erase(customers.ledger, "C-2", reason="R-2", categories=["cookies"]).erased == (
        "cookies",
    )
    views = customers.views()
    assert subject_categories(views.subject("C-2", at=now, known_at=None)) == ()
    assert export_categories(build_export(views, "C-2")) == ()


def test_recorded_reads_replay_into_the_same_views(customers: Core) -> None:
    record_accesses(customers.ledger, [read("C-1"), read("C-2", categories=("cookies",))])
    customers.views()
    _, differences, _ = replay_compare(customers.ledger, customers.store)
    assert differences == []
