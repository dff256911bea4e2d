"""Building blocks shared by every model: frozen base, ids, RFC 3339 timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError

from schemas.identifiers import business_id_problem

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+\-][0-9]{2}:[0-9]{2})?"
)
"""Used with ``fullmatch``: ASCII digits only, nothing after (not even a newline)."""
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_PLAIN_SHAPES = frozenset(
    {b"0000-00-00T00:00:00Z", b"0000-00-00T00:00:00+00:00", b"0000-00-00T00:00:00-00:00"}
)
"""``_plain_timestamp``: the shapes of most timestamps, each ASCII digit read as ``0``."""

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""Every instant the ledger accepts lies in [EARLIEST, LATEST) in UTC, so that adding
a retention period (at most ``MAX_PERIOD_YEARS``) or converting to any local time
stays inside Python's and PostgreSQL's ranges."""

MAX_PERIOD_YEARS = 200
"""The longest retention period a register may state (years, months and days together)."""

_FORBIDDEN_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""C0 controls other than tab, line feed and carriage return; DEL; lone surrogates."""

_FORBIDDEN_IN_NAMES = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
"""Every C0 control (tab and line breaks too), DEL and lone surrogates."""


class Frozen(BaseModel):
    """Immutable, strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def invalid_character(value: str, *, free_text: bool = True) -> bool:
    """Whether a string holds a character no store may keep or no reader expects.

    NUL cannot be stored in PostgreSQL text; other C0 controls, DEL and unpaired
    surrogates break readers (terminals, JSON encoders, UTF-8). Free text may hold
    tabs and line breaks; names and references may not.
    """
    if value.isascii() and value.isprintable():
        return False  # only U+0020-U+007E: none is refused (the common case, no search)
    pattern = _FORBIDDEN_IN_TEXT if free_text else _FORBIDDEN_IN_NAMES
    return pattern.search(value) is not None


def printable(*, free_text: bool) -> Any:
    """A validator refusing ``invalid_character`` strings, except in stored events."""
    search = (_FORBIDDEN_IN_TEXT if free_text else _FORBIDDEN_IN_NAMES).search

    def check(value: str, info: ValidationInfo) -> str:
        # invalid_character(value, free_text=free_text), the context read only then;
        # printable ASCII (U+0020-U+007E) holds nothing refused and is not searched.
        if (
            not (value.isascii() and value.isprintable())
            and search(value) is not None
            and not (info.context or {}).get("recorded")
        ):
            raise PydanticCustomError(
                "invalid_character",
                "contains a control character, DEL or an unpaired surrogate"
                + ("" if free_text else " (tabs and line breaks included)"),
            )
        return value

    return AfterValidator(check)


def in_window(value: datetime) -> bool:
    """Whether an aware instant lies in [EARLIEST, LATEST) once converted to UTC."""
    try:
        return EARLIEST <= value.astimezone(UTC) < LATEST
    except OverflowError:
        return False


def _out_of_window() -> PydanticCustomError:
    return PydanticCustomError(
        "timestamp_out_of_range",
        "must lie from 1900-01-01 up to (not including) 9000-01-01 in UTC",
    )


def _parse_timestamp(value: Any, info: ValidationInfo) -> Any:
    """Accept RFC 3339 strings with an offset (and aware datetimes) only, in the window.

    Stored events (validated with ``context={"recorded": True}``) are read as they
    were written: the window applies to what comes in.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PydanticCustomError("timestamp_without_offset", "a timestamp needs a UTC offset")
        if not in_window(value) and not _recorded(info):
            raise _out_of_window()
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_timestamp", "must be an RFC 3339 timestamp string")
    text = value if _plain_timestamp(value) else _iso_text(value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise PydanticCustomError("invalid_timestamp", "the date or time does not exist") from None
    # in_window(parsed): a parsed offset is fixed, so the instants compare as they are
    # (one that cannot be converted to UTC lies outside the window either way).
    if not EARLIEST <= parsed < LATEST and not _recorded(info):
        raise _out_of_window()
    return parsed


def _plain_timestamp(value: str) -> bool:
    """Whether ``value`` has the usual shape, ``2021-12-01T09:00:00+02:00`` (or ``Z``).

    Such a value matches ``_RFC3339`` with an offset and no fraction, and
    ``fromisoformat`` reads it as it is: one translation of its bytes and a set
    look-up instead of the regular expression, which takes several times longer.
    """
    return value.isascii() and value.encode().translate(_DIGITS_AS_ZERO) in _PLAIN_SHAPES


def _iso_text(value: str) -> str:
    """An RFC 3339 timestamp with an offset, as ``datetime.fromisoformat`` reads it."""
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise PydanticCustomError(
            "invalid_timestamp",
            "must be an RFC 3339 timestamp, e.g. 2021-12-01T09:00:00+02:00",
        )
    if match.group(2) is None:
        raise PydanticCustomError(
            "timestamp_without_offset",
            "a timestamp needs a UTC offset (Z or +hh:mm)",
        )
    text = value.replace("z", "Z").replace("t", "T")
    fraction = match.group(1)
    if fraction and len(fraction) > 7:  # noqa: PLR2004 - '.' + 6 digits
        text = text.replace(fraction, fraction[:7])
    return text


def _recorded(info: ValidationInfo) -> bool:
    """Whether a stored event is being read (``context={"recorded": True}``)."""
    return bool((info.context or {}).get("recorded"))


Timestamp = Annotated[
    datetime,
    BeforeValidator(_parse_timestamp),
    Field(json_schema_extra={"format": "date-time"}),
]
"""An instant with an explicit offset: RFC 3339 in, aware datetime out."""


def _check_business_id(value: str) -> str:
    problem = business_id_problem(value)
    if problem is not None:
        raise PydanticCustomError(
            "invalid_business_id",
            "not a valid Finnish business ID: {problem}",
            {"problem": problem},
        )
    return value


BusinessId = Annotated[str, AfterValidator(_check_business_id), Field(examples=["0209628-8"])]
"""A Finnish business ID (Y-tunnus) with a correct check digit."""

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
"""A register id: purposes, categories, sources, fields (lower snake case)."""

RecipientId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,63}$")]
"""A recipient id from the register or a RecipientRegistered event."""

Text = Annotated[str, Field(min_length=1, max_length=2000), printable(free_text=True)]
"""Free text that may not be empty; tabs and line breaks, no other control character."""

Reference = Annotated[str, Field(min_length=1, max_length=200), printable(free_text=False)]
"""An opaque reference chosen by the appending service; never personal data."""

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2."""
