"""The access package's words: durations and times in English and Finnish, label fallback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from projections.export.words import (
    choose,
    id_words,
    in_languages,
    language,
    local_date,
    local_time,
    parse_period,
    period_words,
    retention_words,
    zone,
)

HELSINKI = zone("Europe/Helsinki")


@pytest.mark.parametrize(
    ("parts", "en", "fi"),
    [
        ((10, 0, 0), "10 years", "10 vuotta"),
        ((1, 0, 0), "1 year", "1 vuosi"),
        ((0, 13, 0), "13 months", "13 kuukautta"),
        ((0, 1, 0), "1 month", "1 kuukausi"),
        ((0, 0, 30), "30 days", "30 päivää"),
        ((0, 0, 1), "1 day", "1 päivä"),
        ((2, 6, 0), "2 years and 6 months", "2 vuotta ja 6 kuukautta"),
        ((1, 2, 3), "1 year, 2 months and 3 days", "1 vuosi, 2 kuukautta ja 3 päivää"),
    ],
)
def test_a_period_reads_as_words_in_english_and_finnish(
    parts: tuple[int, int, int], en: str, fi: str
) -> None:
    assert period_words(*parts, "en") == en
    assert period_words(*parts, "fi") == fi


@pytest.mark.parametrize(
    ("period", "starts", "end_of_year", "en", "fi"),
    [
        ("P10Y", "contract_ended", False, "10 years after your contract ends",
         "10 vuotta sopimuksesi päättymisestä"),
        ("P13M", "recorded", False, "13 months after the data was recorded",
         "13 kuukautta tietojen tallentamisesta"),
        ("P30D", "consent_withdrawn", False, "30 days after you withdraw your consent",
         "30 päivää suostumuksesi peruuttamisesta"),
        ("P10Y", "contract_ended", True,
         "10 years from the end of the year in which your contract ends",
         "10 vuotta sen kalenterivuoden päättymisestä, jona sopimuksesi päättyy"),
        ("P6Y", "recorded", True,
         "6 years from the end of the year in which the data was recorded",
         "6 vuotta sen kalenterivuoden päättymisestä, jona tiedot tallennettiin"),
        ("P1Y", "consent_withdrawn", True,
         "1 year from the end of the year in which you withdraw your consent",
         "1 vuosi sen kalenterivuoden päättymisestä, jona peruutat suostumuksesi"),
    ],
)  # fmt: skip
def test_a_retention_rule_reads_as_a_sentence_without_its_iso_duration(
    period: str, starts: str, end_of_year: bool, en: str, fi: str
) -> None:
    assert retention_words(period, starts, end_of_year=end_of_year, lang="en") == en  # type: ignore[arg-type]
    assert retention_words(period, starts, end_of_year=end_of_year, lang="fi") == fi  # type: ignore[arg-type]


@pytest.mark.parametrize("period", ["P", "10Y", "P10W", "P1Y ", "PT1H"])
def test_a_period_that_is_not_years_months_and_days_is_refused(period: str) -> None:
    with pytest.raises(ValueError, match="not a period of years, months and days"):
        parse_period(period)


def test_a_time_shows_to_the_minute_in_the_registers_zone_in_summer_and_winter() -> None:
    summer = datetime(2021, 9, 1, 0, 0, 59, 999_999, tzinfo=UTC)  # EEST, UTC+3
    winter = "2024-03-01T12:00:00.123456+00:00"  # EET, UTC+2, as the export writes it
    assert local_time(summer, HELSINKI, "en") == "1 September 2021, 03:00"
    assert local_time(summer, HELSINKI, "fi") == "1.9.2021 klo 3.00"
    assert local_time(winter, HELSINKI, "en") == "1 March 2024, 14:00"
    assert local_time(winter, HELSINKI, "fi") == "1.3.2024 klo 14.00"


def test_the_day_of_an_instant_is_the_day_in_the_registers_zone() -> None:
    late_evening_utc = datetime(2025, 12, 31, 22, 30, tzinfo=UTC)  # already 2026 in Helsinki
    assert local_date(late_evening_utc, HELSINKI, "en") == "1 January 2026"
    assert local_date(late_evening_utc, HELSINKI, "fi") == "1.1.2026"
    assert local_date(late_evening_utc, UTC, "en") == "31 December 2025"


def test_an_offset_of_the_input_does_not_change_the_shown_time() -> None:
    same = datetime(2024, 3, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert local_time(same, HELSINKI, "en") == "1 March 2024, 14:00"


def test_without_a_known_time_zone_times_are_shown_in_utc() -> None:
    assert zone(None) is UTC
    assert zone("Europe/Nowhere") is UTC
    assert local_time("2024-03-01T12:00:00+00:00", zone(None), "en") == "1 March 2024, 12:00"


def test_a_missing_time_is_empty() -> None:
    assert local_time(None, HELSINKI, "fi") == ""


def test_a_label_in_the_language_is_chosen_else_the_description_never_the_id() -> None:
    labels = {"en": "Billing data", "fi": "Laskutustiedot"}
    description = "Billing data and the contact data used for billing."
    assert choose(labels, "fi", description) == "Laskutustiedot"
    assert choose({"en": "Billing data"}, "fi", description) == description
    assert choose(None, "en", description) == description
    assert choose({"fi": ""}, "fi", description) == description
    assert in_languages({"fi": "Laskutustiedot"}, description) == {
        "en": description, "fi": "Laskutustiedot",
    }  # fmt: skip


def test_an_id_without_any_words_reads_as_words() -> None:
    assert id_words("personal_identity_code") == "Personal identity code"
    assert id_words("print-house") == "Print house"


@pytest.mark.parametrize(
    ("asked", "register", "chosen"),
    [("fi", "en", "fi"), (None, "fi", "fi"), (None, "en", "en"), ("sv", "fi", "fi"),
     (None, "sv", "en"), ("en", "fi", "en")],
)  # fmt: skip
def test_the_package_language_is_the_asked_one_else_the_registers_else_english(
    asked: str | None, register: str, chosen: str
) -> None:
    assert language(asked, register) == chosen
