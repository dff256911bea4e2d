"""Group commit: many callers' requests in one transaction, each all or nothing."""

from __future__ import annotations

from typing import Any

import orjson

from ledger.appending.application import Ledger
from ledger.appending.outcomes import AppendResult
from ledger.errors import BatchRejected, Rule
from tests import factories as f


def _group(ledger: Ledger, *requests: list[dict[str, Any]]) -> list[AppendResult | BatchRejected]:
    return ledger.append_group([[orjson.dumps(x) for x in r] for r in requests])


class _Counting:
    def __init__(self) -> None:
        self.commits = 0

    def committed(self) -> None:
        self.commits += 1

    def closing(self) -> None:
        pass


def test_good_requests_commit_together_in_one_transaction(ledger: Ledger) -> None:
    counting = _Counting()
    ledger.listener = counting
    first, second = _group(
        ledger,
        [f.subject_registered("C-1"), f.personal_data("C-1")],
        [f.subject_registered("C-2")],
    )
    assert isinstance(first, AppendResult)
    assert isinstance(second, AppendResult)
    assert (first.appended, first.duplicates, second.appended) == (2, 0, 1)
    assert counting.commits == 1
    assert first.last_position == max(ledger.positions(ledger.subject_id("C-1")).values())
    assert second.last_position == max(ledger.positions(ledger.subject_id("C-2")).values())


def test_a_malformed_request_is_refused_with_its_own_line_numbers_and_the_rest_commit(
    ledger: Ledger,
) -> None:
    good, bad = _group(
        ledger,
        [f.subject_registered("C-1")],
        [f.subject_registered("C-2"), {"type": "SubjectRegistered"}],
    )
    assert isinstance(good, AppendResult)
    assert good.appended == 1
    assert isinstance(bad, BatchRejected)
    assert {v.line for v in bad.violations} == {2}
    assert ledger.ledger_recorder.select_subjects(["C-2"]) == {}


def test_a_request_refused_by_the_store_leaves_the_others_committed(ledger: Ledger) -> None:
    first, refused, third = _group(
        ledger,
        [f.subject_registered("C-1")],
        [f.personal_data("C-404")],
        [f.personal_data("C-1")],
    )
    assert isinstance(refused, BatchRejected)
    assert [(v.line, v.rule) for v in refused.violations] == [(1, Rule.UNKNOWN_SUBJECT)]
    assert isinstance(first, AppendResult)
    assert isinstance(third, AppendResult)
    assert [e.type for e in ledger.stream(ledger.subject_id("C-1"))] == [
        "SubjectRegistered",
        "PersonalDataRecorded",
    ]


def test_requests_are_judged_as_if_appended_one_after_another(ledger: Ledger) -> None:
    first, again = _group(ledger, [f.subject_registered("C-1")], [f.subject_registered("C-1")])
    assert isinstance(first, AppendResult)
    assert isinstance(again, BatchRejected)
    assert [v.rule for v in again.violations] == [Rule.SUBJECT_EXISTS]


def test_a_request_leaning_on_a_refused_one_is_refused_too(ledger: Ledger) -> None:
    refused, leaning = _group(
        ledger,
        [f.subject_registered("C-9"), f.personal_data("C-404")],
        [f.personal_data("C-9")],
    )
    assert isinstance(refused, BatchRejected)
    assert [(v.line, v.rule) for v in refused.violations] == [(2, Rule.UNKNOWN_SUBJECT)]
    assert isinstance(leaning, BatchRejected)
    assert [(v.line, v.rule) for v in leaning.violations] == [(1, Rule.UNKNOWN_SUBJECT)]
    assert ledger.ledger_recorder.select_subjects(["C-9"]) == {}


def test_a_retry_in_the_same_group_is_a_duplicate(ledger: Ledger) -> None:
    line = f.subject_registered("C-1", idempotency_key="crm:1")
    first, retry = _group(ledger, [line], [line])
    assert isinstance(first, AppendResult)
    assert isinstance(retry, AppendResult)
    assert (first.appended, retry.appended, retry.duplicates) == (1, 0, 1)
    assert retry.last_position is None


def test_findings_are_reported_to_the_request_whose_line_was_judged(ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1"))
    clean, judged = _group(
        ledger,
        [f.subject_registered("C-2")],
        [f.subject_registered("C-3"), f.disclosed("C-1")],
    )
    assert isinstance(clean, AppendResult)
    assert clean.findings == ()
    assert isinstance(judged, AppendResult)
    assert judged.findings
    assert {x["line"] for x in judged.findings} == {2}
    assert {x["subject"] for x in judged.findings} == {"C-1"}


def test_one_request_alone_answers_as_append_batch_does(ledger: Ledger) -> None:
    lines = [f.subject_registered("C-1"), f.personal_data("C-1")]
    (grouped,) = _group(ledger, lines)
    alone = f.append(ledger, f.subject_registered("C-2"), f.personal_data("C-2"))
    assert isinstance(grouped, AppendResult)
    assert (grouped.appended, grouped.duplicates) == (alone.appended, alone.duplicates)
    assert grouped.last_position is not None
    assert alone.last_position is not None
    assert alone.last_position > grouped.last_position
