"""A call about subjects this process wrote before skips its prefetch, never its checks.

``ledger.appending.known``: what the process remembers of its own writes stands in
for the read, and the write itself refuses anything another writer changed since
(a stream version, a reference, an idempotency key, the notice and recipient
streams); the call is then checked again after a full read.
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger import open_core
from ledger.appending.application import Ledger
from ledger.errors import BatchRejected
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url
from ledger.rights.erasure import erase
from tests import factories as f
from tests.integration.test_notice_versions import V2_FROM, with_research


def at(day: int) -> str:
    return f"2024-02-{day:02d}T10:00:00+02:00"


def prefetches(ledger: Ledger) -> list[int]:
    """The number of stored events each prefetch of ``ledger`` returned, as they come."""
    read: list[int] = []
    prefetch = ledger.ledger_recorder.prefetch

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = prefetch(*args, **kwargs)
        read.append(len(found.streams))
        return found

    ledger.ledger_recorder.prefetch = counted  # type: ignore[method-assign]
    return read


def judged_lines() -> list[dict[str, Any]]:
    """One subject's life, a call per line: uses judged lawful, unlawful, and again."""
    return [
        f.subject_registered("C-1", occurred_at=at(1)),
        f.personal_data("C-1", occurred_at=at(2)),
        f.consent_granted("C-1", occurred_at=at(3)),
        f.processed("C-1", occurred_at=at(4)),
        f.processed("C-1", occurred_at=at(6)),
        f.consent_withdrawn("C-1", occurred_at=at(5)),  # late: the use of day 6 again
        f.processed("C-1", occurred_at=at(7)),
        f.consent_granted("C-1", occurred_at=at(4)),  # late grant: nothing to lift
        f.personal_data("C-1", {"name": "Aino Korhonen"}, occurred_at=at(8)),
    ]


def test_calls_about_subjects_this_process_wrote_read_nothing_before_writing(
    ledger: Ledger,
) -> None:
    read = prefetches(ledger)
    for line in judged_lines():
        f.append(ledger, line)
    assert read == []


def test_calls_that_skip_the_read_get_the_findings_a_full_read_gives(
    ledger: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    remembered = [f.append(ledger, line).as_dict()["findings"] for line in judged_lines()]
    fresh_lines = [
        {**line, "subject": "C-2"} for line in judged_lines()
    ]  # the same life of another subject, each call by a process that knows nothing
    read_first = []
    for line in fresh_lines:
        writer = Ledger(parse_store_url(store_url), key_source)
        try:
            read_first.append(f.append(writer, line).as_dict()["findings"])
        finally:
            writer.close()
    for findings in read_first:
        for finding in findings:
            finding["subject"] = "C-1"
    assert remembered == read_first
    assert any(remembered)


def test_a_stream_another_writer_appended_to_is_read_again_past_what_was_known(
    ledger: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    f.append(ledger, f.subject_registered("C-1", occurred_at=at(1)))
    f.append(ledger, f.consent_granted("C-1", occurred_at=at(2)))
    read = prefetches(ledger)
    with open_core(store_url, key_file=key_source.path) as other:
        f.append(other.ledger, f.consent_withdrawn("C-1", occurred_at=at(3)))
    unlawful = f.append(ledger, f.processed("C-1", occurred_at=at(4)))
    assert [x["rule"] for x in unlawful.as_dict()["findings"]] == ["no_lawful_basis"]
    assert read == [1]  # refused at the write, then read: only the other's withdrawal


def test_a_notice_published_by_another_writer_is_the_one_the_next_call_is_checked_against(
    ledger: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    other = Ledger(parse_store_url(store_url), key_source)
    try:
        f.append(other, f.subject_registered("C-1"))
        ledger.publish_notice(
            with_research(ledger.notices.versions[0].definition), "d" * 64, effective_from=V2_FROM
        )
        f.append(other, f.consent_granted("C-1"))
        consent = other.stream(other.subject_id("C-1"))[-1]
        assert consent.data.notice_version == "2023-01-01"
    finally:
        other.close()


def test_a_reference_another_writer_registered_meanwhile_is_refused_as_registered(
    ledger: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    other = Ledger(parse_store_url(store_url), key_source)
    try:
        f.append(other, f.subject_registered("C-0"))  # the other knows the notice now
        f.append(ledger, f.subject_registered("C-9"))
        with pytest.raises(BatchRejected) as refused:
            f.append(other, f.subject_registered("C-9"))
        assert [v.rule for v in refused.value.violations] == ["subject_exists"]
    finally:
        other.close()


def test_a_subject_another_writer_erased_is_not_written_to_again(
    ledger: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    f.append(ledger, f.subject_registered("C-5"))
    with open_core(store_url, key_file=key_source.path) as other:
        assert erase(other.ledger, "C-5", reason="the subject asked").reference_removed
    with pytest.raises(BatchRejected) as refused:
        f.append(ledger, f.personal_data("C-5"))
    assert [v.rule for v in refused.value.violations] == ["unknown_subject"]


def test_a_line_sent_again_is_a_duplicate_though_the_process_assumed_its_key_unused(
    ledger: Ledger,
) -> None:
    f.append(ledger, f.subject_registered("C-1"))
    line = f.personal_data("C-1", idempotency_key="k-1")
    assert f.append(ledger, line).appended == 1
    again = f.append(ledger, line)
    assert (again.appended, again.duplicates) == (0, 1)
    with pytest.raises(BatchRejected) as refused:
        f.append(ledger, f.personal_data("C-1", {"name": "Other"}, idempotency_key="k-1"))
    assert [v.rule for v in refused.value.violations] == ["idempotency_conflict"]


def test_a_refusal_rests_on_a_full_read_of_the_store(ledger: Ledger) -> None:
    f.append(ledger, f.subject_registered("C-1"))
    read = prefetches(ledger)
    with pytest.raises(BatchRejected) as refused:
        f.append(ledger, f.processed("C-1", purpose="no_such_purpose"))
    assert refused.value.violations[0].rule == "unknown_purpose"
    assert len(read) == 1


def test_a_line_sent_again_makes_the_process_read_only_its_own_subject_again(
    ledger: Ledger,
) -> None:
    f.append(ledger, f.subject_registered("C-1"), f.subject_registered("C-2"))
    line = f.personal_data("C-1", idempotency_key="k-1")
    f.append(ledger, line)
    f.append(ledger, f.personal_data("C-2"))
    read = prefetches(ledger)
    assert f.append(ledger, line).duplicates == 1  # refused by the store, then read
    f.append(ledger, f.personal_data("C-2", {"name": "Aino Korhonen"}))
    assert len(read) == 1
    stored = ledger.stream(ledger.subject_id("C-2"))
    assert [e.data.fields for e in stored[-2:]] == [
        {"name": "Aino Virtanen", "personal_identity_code": "131052-308T"},
        {"name": "Aino Korhonen"},
    ]
