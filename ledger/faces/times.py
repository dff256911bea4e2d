"""One time format: RFC 3339 in UTC with ``Z`` in JSON, to the second in tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+\-]\d{2}:\d{2})$")
_TIME_KEYS = frozenset({"at", "since", "until", "first", "last", "start", "end"})
_PERSONAL_VALUES = "fields"
"""Under this key are personal values: printed exactly as recorded, never rewritten."""


def is_time_key(key: str) -> bool:
    """Whether a JSON key or table column holds an instant."""
    return key in _TIME_KEYS or (key.endswith(("_at", "_from")) and key != "derived_from")


def rfc3339(value: datetime, *, seconds: bool = False) -> str:
    """An instant in UTC with ``Z``; fractions of a second only when present and wanted."""
    utc = value.astimezone(UTC)
    if seconds or not utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def human_time(value: datetime | str | None) -> str:
    """An instant as tables and lines show it: UTC, whole seconds, ``Z``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return rfc3339(value, seconds=True)
    if _INSTANT.match(value):
        return rfc3339(datetime.fromisoformat(value), seconds=True)
    return value


def when(at: datetime | None) -> str:
    """An interval's end in a human line: the instant, or ``open``."""
    return "open" if at is None else human_time(at)


def uniform_times(value: Any, key: str | None = None) -> Any:
    """A JSON document with every instant in one format: RFC 3339 in UTC with ``Z``."""
    if isinstance(value, dict):
        return {
            k: v if k == _PERSONAL_VALUES else uniform_times(v, str(k)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [uniform_times(v) for v in value]
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, str) and key is not None and is_time_key(key) and _INSTANT.match(value):
        return rfc3339(datetime.fromisoformat(value))
    return value
