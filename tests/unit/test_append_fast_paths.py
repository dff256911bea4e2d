"""The append path's shortcuts answer exactly as the slower code they stand in for.

Each shortcut (a byte translation for a regular expression, precomputed HMAC
states, a registry read for a dispatch, attributes for a model dump) is checked
against the plain form it replaces, on edge cases and on generated input.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from ledger.appending import batch
from ledger.appending.judging import fact, restriction, use
from ledger.domain import rules
from ledger.persistence.keys import KeyRing, _wrap_aad, index_digest, index_digester
from schemas import base, identifiers
from schemas import events as ev
from schemas.base import Frozen

LONG_DIGITS = re.compile(rb"(?:^|[\s:\[,])-?[0-9]{16}")
"""The search ``has_long_integer`` stands in for."""
NOW = datetime(2024, 1, 1, tzinfo=UTC)

_NUMBERISH = st.text(alphabet='0123456789-:[, \t\n\r\f\vx"a.e+', max_size=60)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"1234567890123456", True),
        (b"-1234567890123456", True),
        (b'{"n":12345678901234567}', True),
        (b'{"n":-12345678901234567}', True),
        (b'{"n": [1,1234567890123456]}', True),
        (b'{"n":\x0b1234567890123456}', True),
        (b'{"iban":"FI2112345600000785"}', False),
        (b'{"s":"x 1234567890123456"}', True),
        (b'{"s":"x-1234567890123456"}', False),
        (b'{"n":123456789012345}', False),
        (b'{"n":1.234567890123456}', False),
        (b"", False),
    ],
)
def test_a_long_integer_is_found_where_the_regular_expression_finds_one(
    text: bytes, expected: bool
) -> None:
    assert (LONG_DIGITS.search(text) is not None) is expected
    assert batch.has_long_integer(text) is expected


@given(_NUMBERISH)
def test_the_long_integer_check_agrees_with_the_regular_expression(text: str) -> None:
    data = text.encode()
    assert batch.has_long_integer(data) is (LONG_DIGITS.search(data) is not None)


@given(st.text(alphabet='\\ubfnrt0123456789aAdDfF"x\x7f', max_size=30))
def test_the_control_prefilter_agrees_with_the_regular_expression(text: str) -> None:
    data = text.encode()
    expected = batch._MAY_HIDE_CONTROL.search(data) is not None
    assert batch._may_hide_control(data) is expected


@pytest.mark.parametrize(
    "text",
    [
        b'{"type":"X","actor":"crm","data":{"n":12345678901234567890123}}',
        '{"type":"X","actor":"crm","data":{"n":12345678901234567890123}}',
        b'{"type":"X","actor":"c\\u0000rm","data":{}}',
        b'{"type":"X","actor":"crm","data":{"n\\u001b":1}}',
    ],
)
def test_a_line_hiding_a_refused_value_is_still_walked_and_refused(text: str | bytes) -> None:
    parsed, violations = batch.parse_lines([(7, text)], NOW)
    assert parsed == []
    assert [v.rule for v in violations] in (
        [rules.NUMBER_OUT_OF_RANGE],
        [rules.INVALID_CHARACTER],
    )
    assert {v.line for v in violations} == {7}


@pytest.mark.parametrize("blank", [b"", b"  \t\r\n", "", " \n"])
def test_blank_lines_are_still_skipped(blank: str | bytes) -> None:
    assert batch.parse_lines([(1, blank)], NOW) == ([], [])


@pytest.mark.parametrize("length", [0, 1, 31, 32, 63, 64, 65, 200])
@pytest.mark.parametrize("prefix", [b"", b"key\x00", b"content\x00"])
def test_the_index_digest_is_the_hmac_sha256_of_the_value(length: int, prefix: bytes) -> None:
    key = bytes(range(length % 256)) * (1 + length // 256)
    key = key[:length]
    for value in (b"", b"a", b"x" * 63, b"y" * 64, b"z" * 1000):
        expected = hmac.new(key, prefix + value, hashlib.sha256).digest()
        assert index_digest(key, prefix + value) == expected


def test_digests_of_the_same_line_do_not_change_with_the_order_of_its_fields() -> None:
    a = b'{"type":"SubjectRegistered","subject":"c-1","actor":"crm","idempotency_key":"k1",'
    a += b'"data":{"kind":"person","controller":"0209628-8"}}'
    b = b'{"data":{"controller":"0209628-8","kind":"person"},"idempotency_key":"k1",'
    b += b'"actor":"crm","subject":"c-1","type":"SubjectRegistered"}'
    parsed, _ = batch.parse_lines([(1, a), (2, b)], NOW)
    batch.digest_idempotency(parsed, index_digester(b"i" * 32))
    first, second = parsed
    assert first.key_digest == index_digest(b"i" * 32, b"key\x00k1")
    assert first.key_digest == second.key_digest
    assert first.content_digest == second.content_digest is not None


@given(st.text(alphabet="0123456789-+:TtZz .x\u0663", max_size=32))
def test_a_plain_timestamp_is_one_the_regular_expression_accepts_as_it_is(text: str) -> None:
    if base._plain_timestamp(text):
        assert base._iso_text(text) == text


@pytest.mark.parametrize(
    "text",
    ["2024-01-01T10:00:00+02:00", "2024-01-01T10:00:00Z", "2024-01-01T10:00:00-05:30"],
)
def test_the_usual_timestamps_take_the_plain_path(text: str) -> None:
    assert base._plain_timestamp(text)


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01t10:00:00+02:00",
        "2024-01-01T10:00:00.5+02:00",
        "2024-01-01T10:00:00",
        "2024-01-01T10:00:00z",
        "2024-01-01T10:00:00+0200",
        "2024-01-01T10:00:0\u0663+02:00",
    ],
)
def test_other_timestamps_take_the_regular_expression(text: str) -> None:
    assert not base._plain_timestamp(text)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("2024-02-30T10:00:00+02:00", "invalid_timestamp"),
        ("1899-12-31T21:59:59-00:00", "timestamp_out_of_range"),
        ("9000-01-01T00:00:00Z", "timestamp_out_of_range"),
        ("0001-01-01T00:00:00+23:59", "timestamp_out_of_range"),
        ("9999-12-31T23:59:59-23:59", "timestamp_out_of_range"),
        ("2024-01-01T10:00:00", "timestamp_without_offset"),
    ],
)
def test_timestamps_are_refused_as_before(text: str, error: str) -> None:
    adapter: TypeAdapter[datetime] = TypeAdapter(base.Timestamp)
    with pytest.raises(ValueError, match=error):
        adapter.validate_python(text)


def test_a_stored_timestamp_outside_the_window_is_read_as_written() -> None:
    adapter: TypeAdapter[datetime] = TypeAdapter(base.Timestamp)
    read = adapter.validate_python("1800-01-01T00:00:00Z", context={"recorded": True})
    assert read == datetime(1800, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("value", ["0209628-8", "0209628-7", "1572860-1", "02096288", "x"])
def test_a_remembered_business_id_answer_is_the_computed_one(value: str) -> None:
    computed = identifiers.business_id_problem.__wrapped__(value)
    assert identifiers.business_id_problem(value) == computed
    assert identifiers.business_id_problem(value) == computed


@pytest.mark.parametrize(
    ("reference", "holds"),
    [("C-101046", False), ("131052-308T", True), ("c:131052-308t", True), ("131052-308", False)],
)
def test_a_reference_too_short_for_a_code_is_not_searched(reference: str, holds: bool) -> None:
    assert rules.reference_holds_identity_code(reference) is holds


@pytest.mark.parametrize("data_class", [*rules._check_data.registry])
def test_each_data_class_is_checked_by_the_function_its_dispatch_would_pick(
    data_class: type,
) -> None:
    picked = rules._check_data.registry.get(data_class) or rules._check_data.dispatch(data_class)
    assert picked is rules._check_data.dispatch(data_class)


BASIS_DATA = [
    ev.ConsentGrantedData(purpose="marketing", channel="web_form", evidence="f-1"),
    ev.ConsentGrantedData(
        purpose="marketing",
        channel="web_form",
        evidence="f-1",
        notice_version="2021-06-03",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
        controller="0209628-8",
    ),
    ev.ConsentWithdrawnData(purpose="marketing", channel="phone", withdrawn_by="controller"),
    ev.ObjectionRecordedData(purpose="marketing", controller="0209628-8"),
    ev.ContractStartedData(controller="0209628-8", contract="K-1", metering_point="643007"),
    ev.ContractEndedData(controller="0209628-8", contract="K-1"),
]


@pytest.mark.parametrize("data", BASIS_DATA)
def test_a_fact_from_a_line_is_the_fact_from_its_dumped_data(data: Frozen) -> None:
    at = datetime(2024, 5, 1, tzinfo=UTC)
    kind = type(data).__name__.removesuffix("Data")
    assert fact(4, kind, at, NOW, data) == fact(4, kind, at, NOW, data.model_dump())
    stored = data.model_dump(mode="json")
    assert fact(4, kind, at, NOW, data) == fact(4, kind, at, NOW, stored)


@pytest.mark.parametrize(
    "data",
    [
        ev.ProcessingRestrictedData(reason="disputed accuracy"),
        ev.ProcessingRestrictedData(
            reason="disputed", categories=("billing",), controller="0209628-8"
        ),
    ],
)
def test_a_restriction_from_a_line_is_the_one_from_its_dumped_data(data: Frozen) -> None:
    at = datetime(2024, 5, 1, tzinfo=UTC)
    kind = "ProcessingRestricted"
    assert restriction(3, kind, at, data) == restriction(3, kind, at, data.model_dump())


def test_a_use_from_a_line_is_the_use_from_its_stored_data() -> None:
    data = ev.DataDisclosedData(
        recipient="print-house", categories=("billing",), purpose="billing",
        controller="0209628-8",
    )  # fmt: skip
    at = datetime(2024, 5, 1, tzinfo=UTC)
    stored = data.model_dump(mode="json")
    assert use(5, "DataDisclosed", at, data) == use(5, "DataDisclosed", at, stored)


class _NoStore:
    def select_keys(self, subject_ids: object) -> list[object]:
        return []


def test_a_new_key_its_wrap_and_its_first_seal_draw_different_random_bytes() -> None:
    keyring = KeyRing(_NoStore(), b"m" * 32)  # type: ignore[arg-type]
    subject = uuid4()
    sealed = base64.b64decode(keyring.seal(subject, 1, "billing", b"v", NOW), validate=True)
    (row,) = keyring.pending
    assert row.wrapped is not None
    wrap_nonce, seal_nonce = row.wrapped[:12], sealed[5:17]
    aad = _wrap_aad(row.subject_id, row.category, row.key_version)
    key = keyring._master.decrypt(wrap_nonce, row.wrapped[12:], aad)
    assert len(key) == 32
    assert len({wrap_nonce, seal_nonce, key[:12], key[12:24]}) == 4
    assert sealed[:5] == bytes([1]) + (1).to_bytes(4)
    again = base64.b64decode(keyring.seal(subject, 2, "billing", b"v", NOW))
    assert again[5:17] != seal_nonce
    assert keyring.open(subject, 2, "billing", base64.b64encode(again).decode()) == b"v"
