"""What the pages share: picker instants, the register's words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.bootstrap import Core
from ledger.console.web import Words, instant, picker_value, shown_time
from ledger.errors import InvalidRequest


def test_a_picker_without_an_offset_is_helsinki_time() -> None:
    assert instant("2024-07-01T12:00", "at") == datetime(2024, 7, 1, 9, 0, tzinfo=UTC)
    assert instant("2024-01-01T12:00:30", "at") == datetime(2024, 1, 1, 10, 0, 30, tzinfo=UTC)


def test_a_picker_with_an_offset_or_z_is_taken_as_given() -> None:
    assert instant("2024-03-01T12:00:00Z", "at") == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    assert instant("2024-03-01T12:00:00+05:00", "at") == datetime(2024, 3, 1, 7, 0, tzinfo=UTC)


def test_an_empty_picker_means_none() -> None:
    assert instant("", "at") is None
    assert instant(None, "known_at") is None


def test_a_bad_instant_names_its_field_and_does_not_echo_the_value() -> None:
    with pytest.raises(InvalidRequest) as raised:
        instant("131052-308T", "known_at")
    assert raised.value.field == "known_at"
    assert "131052-308T" not in str(raised.value)


def test_an_instant_is_shown_and_picked_in_helsinki_time() -> None:
    summer = datetime(2024, 7, 1, 9, 0, tzinfo=UTC)
    assert shown_time(summer) == "2024-07-01 12:00:00 +03:00"
    assert picker_value(summer) == "2024-07-01T12:00:00"
    assert shown_time(None) == picker_value(None) == ""


def test_the_registers_words_replace_its_ids(core: Core) -> None:
    words = Words.of(core)
    assert words.category("customer_basic").startswith("General customer data")
    assert words.recipient("print-house") == "Invoice print and mail house"
    assert words.controller("0209628-8") == "Vaasan Sähkö Oy"
    assert words.purpose("not_in_the_register") == "not_in_the_register"
    assert words.purpose(None) == ""


def test_an_instant_outside_the_ledgers_window_is_refused() -> None:
    for value in ("0001-01-01T00:00", "9999-12-31T23:59:59+00:00", "1800-01-01T00:00Z"):
        with pytest.raises(InvalidRequest, match="must lie from 1900-01-01"):
            instant(value, "since")
