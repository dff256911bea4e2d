"""Building blocks shared by every model: frozen base, ids, RFC 3339 timestamps."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from schemas.identifiers import business_id_problem

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+\-]\d{2}:\d{2})?$"
)


class Frozen(BaseModel):
    """Immutable, strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_timestamp(value: Any) -> Any:
    """Accept RFC 3339 strings with an offset (and aware datetimes) only."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PydanticCustomError("timestamp_without_offset", "a timestamp needs a UTC offset")
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_timestamp", "must be an RFC 3339 timestamp string")
    match = _RFC3339.match(value)
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
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise PydanticCustomError("invalid_timestamp", "the date or time does not exist") from None


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

Text = Annotated[str, Field(min_length=1, max_length=2000)]
"""Free text that may not be empty."""

Reference = Annotated[str, Field(min_length=1, max_length=200)]
"""An opaque reference chosen by the appending service; never personal data."""

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2."""
