"""Pure wording for the access package: durations and times in words, labels with fallback.

Nothing here reads the store: values in, words out, in English or Finnish. The
package shows these instead of the register's ids, ISO 8601 durations and
microsecond timestamps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Lang = Literal["en", "fi"]
LANGUAGES: tuple[Lang, ...] = get_args(Lang)
"""The languages the package is written in."""

Start = Literal["recorded", "contract_ended", "consent_withdrawn"]

_UNITS: dict[Lang, tuple[tuple[str, str], ...]] = {
    "en": (("year", "years"), ("month", "months"), ("day", "days")),
    "fi": (("vuosi", "vuotta"), ("kuukausi", "kuukautta"), ("päivä", "päivää")),
}
"""Each unit as (one, several): Finnish counts other than one take the partitive."""

_AND: dict[Lang, str] = {"en": "and", "fi": "ja"}

_AFTER: dict[Lang, dict[Start, str]] = {
    "en": {
        "recorded": "{period} after the data was recorded",
        "contract_ended": "{period} after your contract ends",
        "consent_withdrawn": "{period} after you withdraw your consent",
    },
    "fi": {
        "recorded": "{period} tietojen tallentamisesta",
        "contract_ended": "{period} sopimuksesi päättymisestä",
        "consent_withdrawn": "{period} suostumuksesi peruuttamisesta",
    },
}
_AFTER_YEAR_END: dict[Lang, dict[Start, str]] = {
    "en": {
        "recorded": "{period} from the end of the year in which the data was recorded",
        "contract_ended": "{period} from the end of the year in which your contract ends",
        "consent_withdrawn": "{period} from the end of the year in which you withdraw your consent",
    },
    "fi": {
        "recorded": "{period} sen kalenterivuoden päättymisestä, jona tiedot tallennettiin",
        "contract_ended": "{period} sen kalenterivuoden päättymisestä, jona sopimuksesi päättyy",
        "consent_withdrawn": "{period} sen kalenterivuoden päättymisestä, jona peruutat"
        " suostumuksesi",
    },
}

_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip

_PERIOD = re.compile(r"P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)D)?")


def language(value: str | None, default: str | None = None) -> Lang:
    """The package language for a requested code: itself if supported, else the default.

    ``default`` is the register's ``language``; English when that is not supported either.
    """
    for candidate in (value, default):
        if candidate in LANGUAGES:
            return candidate
    return "en"


def period_words(years: int, months: int, days: int, lang: Lang) -> str:
    """A period as words: ``10 years``, ``1 vuosi ja 6 kuukautta``, ``13 months``."""
    parts = [
        f"{count} {one if count == 1 else several}"
        for count, (one, several) in zip((years, months, days), _UNITS[lang], strict=True)
        if count
    ]
    if not parts:
        return f"0 {_UNITS[lang][2][1]}"
    if len(parts) == 1:
        return parts[0]
    return f"{', '.join(parts[:-1])} {_AND[lang]} {parts[-1]}"


def parse_period(period: str) -> tuple[int, int, int]:
    """An ISO 8601 period of years, months and days (``P10Y``) as (years, months, days)."""
    match = _PERIOD.fullmatch(period)
    if match is None or period == "P":
        msg = f"not a period of years, months and days: {period!r}"
        raise ValueError(msg)
    years, months, days = (int(g or 0) for g in match.groups())
    return years, months, days


def retention_words(period: str, starts: Start, *, end_of_year: bool, lang: Lang) -> str:
    """How long data is kept, in words: ``10 years after your contract ends``."""
    words = period_words(*parse_period(period), lang)
    table = _AFTER_YEAR_END if end_of_year else _AFTER
    return table[lang][starts].format(period=words)


def zone(name: str | None) -> tzinfo:
    """The register's time zone; UTC when it names none (or one this machine lacks)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def _instant(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def local_date(value: datetime | str, where: tzinfo, lang: Lang) -> str:
    """The calendar day of an instant in a zone: ``1 March 2024``, ``1.3.2024``."""
    local = _instant(value).astimezone(where)
    if lang == "fi":
        return f"{local.day}.{local.month}.{local.year}"
    return f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}"


def local_time(value: datetime | str | None, where: tzinfo, lang: Lang) -> str:
    """An instant to the minute in a zone: ``1 March 2024, 14:00``, ``1.3.2024 klo 14.00``.

    Seconds and their fractions are dropped (truncated, never rounded up into the next
    minute); ``None`` gives an empty string.
    """
    if value is None:
        return ""
    local = _instant(value).astimezone(where)
    if lang == "fi":
        return f"{local_date(local, where, lang)} klo {local.hour}.{local.minute:02d}"
    return f"{local_date(local, where, lang)}, {local.hour:02d}:{local.minute:02d}"


def id_words(identifier: str) -> str:
    """An id as words, the last resort when nothing readable is known: ``billing email``."""
    words = re.sub(r"[_\-.]+", " ", identifier).strip()
    return words[:1].upper() + words[1:] if words else identifier


def choose(labels: Mapping[str, str] | None, lang: Lang, fallback: str) -> str:
    """The label in ``lang``; else ``fallback`` (the description or name, never a raw id)."""
    if labels:
        chosen = labels.get(lang)
        if chosen:
            return chosen
    return fallback


def in_languages(labels: Mapping[str, str] | None, fallback: str) -> dict[str, str]:
    """A label in every package language, each falling back to ``fallback``."""
    return {lang: choose(labels, lang, fallback) for lang in LANGUAGES}
