"""Every validator matches the whole value, in ASCII digits only (issue 11, cases 8-12).

Python's ``$`` also matches before a final newline and ``\\d`` matches any Unicode
digit (which ``int`` then reads); each row here was accepted before.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from ledger.domain.rules import (
    INVALID_CHARACTER,
    NUMBER_OUT_OF_RANGE,
    SAFE_INTEGER,
    check_values,
    shown_id,
    shown_name,
    shown_path,
    value_problem,
)
from ledger.errors import Rule
from schemas.base import Reference, Text, Timestamp
from schemas.identifiers import birth_date, business_id_problem, personal_identity_code_problem
from schemas.register import FieldType, RetentionRule

PIC = "131052-308T"
ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + i) for i in range(10)))
FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + i) for i in range(10)))

LOOSE_PICS = [
    f"{PIC}\n",
    f"\n{PIC}",
    f"{PIC} ",
    PIC.translate(ARABIC_INDIC),
    PIC.translate(FULL_WIDTH),
    "13105" + "2".translate(FULL_WIDTH) + "-308T",
    "131052-" + "3".translate(ARABIC_INDIC) + "08T",
]


@pytest.mark.parametrize("code", LOOSE_PICS, ids=ascii)
def test_a_personal_identity_code_with_anything_but_its_eleven_ascii_characters_is_refused(
    code: str,
) -> None:
    assert personal_identity_code_problem(code) is not None
    with pytest.raises(ValueError, match="not a personal identity code"):
        birth_date(code)


@pytest.mark.parametrize(
    "business_id",
    ["0209628-8\n", "0209628-8 ", "0209628-8".translate(FULL_WIDTH),
     "0209628-8".translate(ARABIC_INDIC), "020962" + "8".translate(FULL_WIDTH) + "-8"],
    ids=ascii,
)  # fmt: skip
def test_a_business_id_with_anything_but_ascii_digits_is_refused(business_id: str) -> None:
    assert business_id_problem(business_id) == "must have the form NNNNNNN-C"


def test_the_strict_forms_still_accept_valid_codes() -> None:
    assert personal_identity_code_problem(PIC) is None
    assert business_id_problem("0209628-8") is None


# --- field values ------------------------------------------------------------------

VALUE_ROWS: list[tuple[FieldType, Any, bool]] = [
    (FieldType.EMAIL, "aino@example.fi", True),
    (FieldType.EMAIL, "aino@example.fi\n", False),
    (FieldType.EMAIL, "\naino@example.fi", False),
    (FieldType.EMAIL, "a" * 65 + "@example.fi", False),
    (FieldType.EMAIL, "aino@" + "e" * 250 + ".fi", False),
    (FieldType.PHONE, "+358 40 123 4567", True),
    (FieldType.PHONE, "+358 40 123 4567\n", False),
    (FieldType.PHONE, "+358 40 123 4567".translate(FULL_WIDTH), False),
    (FieldType.DATE, "2024-02-29", True),
    (FieldType.DATE, "2023-13-45", False),
    (FieldType.DATE, "2023-02-29", False),
    (FieldType.DATE, "0000-01-01", False),
    (FieldType.DATE, "2023-01-01\n", False),
    (FieldType.DATE, "2023-01-01".translate(FULL_WIDTH), False),
    (FieldType.DATE, "2023-01-01".translate(ARABIC_INDIC), False),
    (FieldType.DATE, "20230101", False),
    (FieldType.PERSONAL_IDENTITY_CODE, f"{PIC}\n", False),
    (FieldType.BUSINESS_ID, "0209628-8\n", False),
    (FieldType.NUMBER, 12.5, True),
    (FieldType.NUMBER, True, False),
]


@pytest.mark.parametrize(("kind", "value", "valid"), VALUE_ROWS, ids=ascii)
def test_each_field_type_accepts_exactly_its_form(kind: FieldType, value: Any, valid: bool) -> None:
    problem = value_problem(kind, value)
    assert (problem is None) is valid, problem
    if problem is not None:
        assert PIC not in problem[1]
        assert str(value) not in problem[1]


# --- timestamps ---------------------------------------------------------------------

_TIMESTAMP: TypeAdapter[datetime] = TypeAdapter(Timestamp)


def timestamp_error(text: Any, *, recorded: bool = False) -> str | None:
    try:
        _TIMESTAMP.validate_python(text, context={"recorded": recorded})
    except ValidationError as e:
        return str(e.errors()[0]["type"])
    return None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("2023-05-04T10:00:00Z", None),
        ("1900-01-01T00:00:00Z", None),
        ("1900-01-01T02:00:00+02:00", None),
        ("8999-12-31T23:59:59.999999Z", None),
        ("9000-01-01T01:00:00+02:00", None),
        ("2023-05-04T10:00:00Z\n", "invalid_timestamp"),
        ("2023-05-04T10:00:00+03:00\n", "invalid_timestamp"),
        ("2023-05-04T10:00:00".translate(FULL_WIDTH) + "Z", "invalid_timestamp"),
        ("2023-05-04T10:00:00".translate(ARABIC_INDIC) + "Z", "invalid_timestamp"),
        ("2023-13-45T10:00:00Z", "invalid_timestamp"),
        ("9999-12-31T23:59:59-14:00", "timestamp_out_of_range"),
        ("9999-12-31T23:59:59Z", "timestamp_out_of_range"),
        ("9000-01-01T00:00:00Z", "timestamp_out_of_range"),
        ("8999-12-31T23:00:00-01:00", "timestamp_out_of_range"),
        ("0001-01-01T00:00:00+14:00", "timestamp_out_of_range"),
        ("0001-01-01T00:00:00Z", "timestamp_out_of_range"),
        ("1899-12-31T23:59:59.999999Z", "timestamp_out_of_range"),
        ("1900-01-01T01:00:00+02:00", "timestamp_out_of_range"),
    ],
    ids=ascii,
)
def test_an_instant_is_read_whole_in_ascii_and_only_inside_the_window(
    text: str, error: str | None
) -> None:
    assert timestamp_error(text) == error


def test_an_aware_datetime_outside_the_window_is_refused_too() -> None:
    assert timestamp_error(datetime(9500, 1, 1, tzinfo=UTC)) == "timestamp_out_of_range"
    assert timestamp_error(datetime(2024, 1, 1, tzinfo=UTC)) is None


def test_a_stored_instant_is_read_as_it_was_written_whatever_the_window() -> None:
    assert timestamp_error("9999-12-31T23:59:59Z", recorded=True) is None


# --- text ---------------------------------------------------------------------------

_TEXT: TypeAdapter[str] = TypeAdapter(Text)
_REFERENCE: TypeAdapter[str] = TypeAdapter(Reference)


@pytest.mark.parametrize(
    ("adapter", "value", "valid"),
    [
        (_TEXT, "line one\nline two\tend\r\n", True),
        (_TEXT, "Ä Ö ☃ 𝄞", True),
        (_TEXT, "a\x00b", False),
        (_TEXT, "a\x1bb", False),
        (_TEXT, "a\x7fb", False),
        (_REFERENCE, "form-2023-v4#abc", True),
        (_REFERENCE, "K-1\n", False),
        (_REFERENCE, "K\t1", False),
        (_REFERENCE, "K\x00", False),
    ],
    ids=ascii,
)
def test_free_text_keeps_tabs_and_line_breaks_and_references_keep_no_control_character(
    adapter: TypeAdapter[str], value: str, valid: bool
) -> None:
    errors: list[str] = []
    try:
        adapter.validate_python(value)
    except ValidationError as e:
        errors = [str(error["type"]) for error in e.errors()]
    assert errors == ([] if valid else [INVALID_CHARACTER])
    assert adapter.validate_python(value, context={"recorded": True}) == value


# --- retention periods --------------------------------------------------------------


def period_ok(period: str) -> bool:
    errors: list[str] = []
    try:
        RetentionRule(category="billing", period=period, starts="recorded", statement="kept")
    except ValidationError as e:
        errors = [str(error["type"]) for error in e.errors()]
    assert errors in ([], ["invalid_period"])
    return not errors


@pytest.mark.parametrize(
    ("period", "ok"),
    [("P10Y", True), ("P2Y6M", True), ("P200Y", True), ("P2400M", True), ("P73000D", True),
     ("P201Y", False), ("P99999Y", False), ("P199Y24M", False), ("P10Y\n", False),
     ("P10Y".translate(ARABIC_INDIC), False), ("P10Y".translate(FULL_WIDTH), False),
     ("P", False), ("10Y", False)],
    ids=ascii,
)  # fmt: skip
def test_a_retention_period_is_ascii_and_at_most_two_hundred_years(period: str, ok: bool) -> None:
    assert period_ok(period) is ok


# --- the raw walk before the models -------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"actor": "crm", "data": {"fields": {"n": 12}}}, []),
        ({"actor": "c\x00"}, [("actor", INVALID_CHARACTER)]),
        ({"data": {"fields": {"a\x00": "x"}}}, [("data.fields.<not shown: 2 characters>",
                                                INVALID_CHARACTER)]),
        ({"data": {"fields": {"n": "x\ny\tz"}}}, []),
        ({"data": {"purposes": ["ok", "b\x1b"]}}, [("data.purposes.1", INVALID_CHARACTER)]),
        ({"n": SAFE_INTEGER}, []),
        ({"n": -SAFE_INTEGER}, []),
        ({"n": SAFE_INTEGER + 1}, [("n", NUMBER_OUT_OF_RANGE)]),
        ({"n": -(2**80)}, [("n", NUMBER_OUT_OF_RANGE)]),
        ({"n": math.nan}, [("n", NUMBER_OUT_OF_RANGE)]),
        ({"n": -math.inf}, [("n", NUMBER_OUT_OF_RANGE)]),
        ({"n": object()}, [("n", Rule.INVALID_VALUE)]),
        ({"n": True, "m": None, "f": 1e308}, []),
        ({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}},
         [("a.b.c.d.e.f.g.h", Rule.INVALID_VALUE)]),
    ],
    ids=ascii,
)  # fmt: skip
def test_the_raw_walk_refuses_what_no_store_or_reader_can_keep(
    raw: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    violations = check_values(7, "ObjectionRecorded", raw)
    assert [(v.field, v.rule) for v in violations] == expected
    assert all(v.line == 7 and v.type == "ObjectionRecorded" for v in violations)


def test_the_raw_walk_survives_a_cycle_from_a_python_caller() -> None:
    raw: dict[str, Any] = {"data": {}}
    raw["data"]["again"] = raw
    violations = check_values(1, None, raw)
    assert [v.rule for v in violations] == [Rule.INVALID_VALUE]


@pytest.mark.parametrize(
    ("name", "shown"),
    [("name", "name"), ("shoe_size", "shoe_size"), ("_x9", "_x9"), ("a" * 64, "a" * 64),
     ("a" * 65, "<not shown: 65 characters>"), (PIC, "<not shown: 11 characters>"),
     ("Name", "<not shown: 4 characters>"), ("aino@example.fi", "<not shown: 15 characters>"),
     ("näme", "<not shown: 4 characters>"), ("name\n", "<not shown: 5 characters>"),
     ("", "<not shown: 0 characters>")],
    ids=ascii,
)  # fmt: skip
def test_only_names_of_the_register_s_own_shape_are_shown(name: str, shown: str) -> None:
    assert shown_name(name) == shown
    assert shown_path(["data", "fields", name, 0, "[key]"]) == f"data.fields.{shown}.0.[key]"


@pytest.mark.parametrize(
    ("value", "shown"),
    [("acme", "'acme'"), ("print-house", "'print-house'"), ("2021-06-03", "'2021-06-03'"),
     ("1999", "'1999'"), ("v2.1", "'v2.1'"), ("311299-9872", "<not shown: 11 characters>"),
     ("0401234567", "<not shown: 10 characters>"), ("a" * 65, "<not shown: 65 characters>")],
    ids=ascii,
)  # fmt: skip
def test_a_recipient_id_or_notice_version_is_quoted_only_when_it_cannot_be_data(
    value: str, shown: str
) -> None:
    assert shown_id(value) == shown
