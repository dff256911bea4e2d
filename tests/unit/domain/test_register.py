"""Which notice version is in force when: ledger.domain.register over plain values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from ledger.domain.register import NoticeHistory, NoticeVersion, RegisterIndex

MakeNotice = Callable[..., NoticeVersion]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def history(make_notice: MakeNotice) -> NoticeHistory:
    """Three versions, given out of order: from 2021-06-03 (+03:00), 2023 and 2024."""
    return NoticeHistory(
        [
            make_notice("2024", at("2024-01-01T00:00:00+00:00")),
            make_notice("2021-06-03"),
            make_notice("2023", at("2023-01-01T00:00:00+00:00")),
        ]
    )


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        pytest.param("2021-06-02T20:59:59+00:00", None, id="before-the-first-version"),
        pytest.param("2021-06-03T00:00:00+03:00", "2021-06-03", id="at-the-first-effective-from"),
        pytest.param("2021-06-02T21:00:00+00:00", "2021-06-03", id="same-instant-other-offset"),
        pytest.param("2022-12-31T23:59:59+00:00", "2021-06-03", id="just-before-the-second"),
        pytest.param("2023-01-01T00:00:00+00:00", "2023", id="at-the-second-effective-from"),
        pytest.param("2023-07-01T12:00:00+00:00", "2023", id="between-second-and-third"),
        pytest.param("2030-01-01T00:00:00+00:00", "2024", id="after-the-last"),
    ],
)
def test_the_notice_in_force_is_the_latest_to_take_effect_at_or_before_the_instant(
    history: NoticeHistory, instant: str, expected: str | None
) -> None:
    found = history.in_force(at(instant))

    assert (None if found is None else found.version) == expected


def test_versions_are_kept_in_order_of_taking_effect(history: NoticeHistory) -> None:
    assert [v.version for v in history.versions] == ["2021-06-03", "2023", "2024"]


def test_a_version_added_later_takes_its_place_in_time(
    history: NoticeHistory, make_notice: MakeNotice
) -> None:
    history.add(make_notice("2022", at("2022-01-01T00:00:00+00:00")))

    assert [v.version for v in history.versions] == ["2021-06-03", "2022", "2023", "2024"]
    found = history.in_force(at("2022-06-01T00:00:00+00:00"))
    assert found is not None
    assert found.version == "2022"


def test_a_version_is_found_by_its_label_and_an_unpublished_label_finds_none(
    history: NoticeHistory,
) -> None:
    found = history.get("2023")

    assert found is not None
    assert found.effective_from == at("2023-01-01T00:00:00+00:00")
    assert history.get("1999") is None


def test_an_empty_history_is_false_and_has_nothing_in_force() -> None:
    empty = NoticeHistory()

    assert not empty
    assert empty.in_force(at("2030-01-01T00:00:00+00:00")) is None


def test_a_history_with_a_version_is_true(notice: NoticeVersion) -> None:
    assert NoticeHistory([notice])


def test_the_index_holds_the_registers_ids_for_look_up(notice: NoticeVersion) -> None:
    index = notice.index

    assert isinstance(index, RegisterIndex)
    assert index.controllers == {"0209628-8", "1993667-7"}
    assert set(index.purposes) == {
        "customer_relationship",
        "service_delivery",
        "billing",
        "marketing",
        "development",
        "profiling",
    }
    assert index.categories["profiles"].derived
    assert "datahub" in index.sources
    assert index.recipients == {
        "print-house",
        "debt-collection",
        "authorities",
        "it-services",
        "analytics-us",
    }
    assert index.retention["billing"].period == "P10Y"
