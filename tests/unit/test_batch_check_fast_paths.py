"""The per-line shortcuts of parsing and checking answer exactly as the plain forms.

Each is checked against the code it stands in for, on edge cases and on generated
input: the notice in force taken without a search, the line-class questions asked
once per class, the HMAC pads hashed once per batch, the reference search skipped
for short references, printable ASCII not searched for refused characters.
"""

from __future__ import annotations

import hmac
import re
import tomllib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from ledger.appending import batch
from ledger.domain import rules
from ledger.domain.register import NoticeHistory, NoticeVersion
from ledger.persistence.keys import index_digest, index_digester
from schemas import base
from schemas import events as ev
from schemas.register import RegisterDefinition

REGISTER_FILE = Path(__file__).parents[2] / "examples" / "register.toml"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
_LINE: TypeAdapter[Any] = TypeAdapter(ev.AppendLine)
_ZONES = [UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5, minutes=-30))]


def _definition() -> RegisterDefinition:
    with REGISTER_FILE.open("rb") as handle:
        return RegisterDefinition.model_validate(tomllib.load(handle))


DEFINITION = _definition()


def _registration(number: int, occurred_at: datetime, subject: str) -> batch.ParsedLine:
    raw = {
        "type": "SubjectRegistered",
        "subject": subject,
        "actor": "crm",
        "data": {"kind": "person", "controller": "0209628-8"},
    }
    return batch.ParsedLine(number, _LINE.validate_python(raw), raw, occurred_at)


_instants = st.datetimes(
    min_value=datetime(2019, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2025, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from(_ZONES),
)


@settings(max_examples=200, deadline=None)
@given(
    starts=st.lists(_instants, max_size=4),
    picked=st.lists(_instants, max_size=6),
    nudges=st.lists(st.sampled_from([-1, 0, 1]), min_size=12, max_size=12),
)
def test_each_line_is_checked_against_the_notice_notice_in_force_finds(
    starts: list[datetime], picked: list[datetime], nudges: list[int]
) -> None:
    history = NoticeHistory(
        [NoticeVersion(f"v{i}", at, DEFINITION, f"d{i}") for i, at in enumerate(starts)]
    )
    limit = NOW + rules.FUTURE_TOLERANCE
    edges = [*starts, limit, NOW]
    instants = [*picked]
    for edge, nudge in zip(edges, nudges, strict=False):
        instants.append(edge + timedelta(microseconds=nudge))
        instants.append(edge.astimezone(_ZONES[nudge + 1]))
    parsed = [_registration(n, at, f"c-{n}") for n, at in enumerate(instants, 1)]
    state = batch.BatchState({}, {}, history, frozenset())

    violations, _ = batch.check_batch(parsed, state, NOW)

    expected = []
    for p in parsed:
        notice, problems = rules.notice_in_force(p.number, p.line, p.occurred_at, history, NOW)
        assert p.notice is notice
        if notice is None:
            expected += problems
        else:
            ctx = rules.LineContext(p.number, p.line, p.occurred_at, notice, history, set())
            expected += rules.check_line(ctx)
    assert violations == expected


_LINE_CLASSES = sorted(
    {c for c in vars(ev).values() if isinstance(c, type) and issubclass(c, ev._Line)},
    key=lambda c: c.__name__,
)


@pytest.mark.parametrize("line_class", _LINE_CLASSES)
def test_what_check_batch_asks_of_a_line_class_is_what_isinstance_answers(
    line_class: type,
) -> None:
    kind = batch._kind_of(line_class)
    assert kind.registers_recipient is issubclass(line_class, ev.RecipientRegisteredLine)
    assert kind.of_subject is issubclass(line_class, ev._SubjectLine)
    assert kind.registers_subject is issubclass(line_class, ev.SubjectRegisteredLine)
    holds = issubclass(line_class, ev.PersonalDataRecordedLine | ev.ProfileDerivedLine)
    assert kind.holds_data is holds
    assert kind.derives is issubclass(line_class, ev.ProfileDerivedLine)


@settings(max_examples=300)
@given(key=st.binary(max_size=200), value=st.binary(max_size=300))
def test_the_batch_digest_is_the_index_digest(key: bytes, value: bytes) -> None:
    digest = index_digester(key)
    assert digest(value) == index_digest(key, value) == hmac.digest(key, value, "sha256")
    assert digest(value + b"x") == index_digest(key, value + b"x")  # the pads stay unchanged


@pytest.mark.parametrize("length", [0, 1, 32, 63, 64, 65, 128, 1000])
def test_keys_of_every_length_digest_as_hmac_does(length: int) -> None:
    key = bytes(i % 251 for i in range(length))
    digest = index_digester(key)
    for value in (b"", b"key\x00k1", b"content\x00" + b"z" * 500):
        assert digest(value) == index_digest(key, value)


_references = st.text(alphabet="0123456789-ABCDEFUXYZcx:_.", min_size=1, max_size=20).filter(
    lambda text: text[0].isalnum()
) | st.sampled_from(
    ["131052-308T", "c:131052-308t", "C-131052-308T", "131052-308", "C-101046", "1310523-08T"]
)


@settings(max_examples=300)
@given(reference=_references)
def test_check_line_refuses_a_reference_exactly_as_check_reference_does(reference: str) -> None:
    raw = {
        "type": "SubjectRegistered",
        "subject": reference,
        "actor": "crm",
        "data": {"kind": "person", "controller": "0209628-8"},
    }
    line = _LINE.validate_python(raw)
    notice = NoticeVersion("v1", NOW - timedelta(days=9), DEFINITION, "d1")
    ctx = rules.LineContext(2, line, NOW, notice, NoticeHistory([notice]), set())
    check = rules._check_data.dispatch(type(line.data))
    expected = rules.check_reference(2, line) + check(line.data, ctx)
    assert rules.check_line(ctx) == expected


_FORBIDDEN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_FORBIDDEN_NAMES = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_texts = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0xE000, blacklist_categories=()),
    max_size=12,
) | st.text(alphabet="\x00\t\n\r\x1b\x7f\x80\xa0~ aZ", max_size=8)


@settings(max_examples=500)
@given(value=_texts)
def test_a_refused_character_is_found_as_the_regular_expressions_find_it(value: str) -> None:
    assert base.invalid_character(value) is (_FORBIDDEN_TEXT.search(value) is not None)
    names = _FORBIDDEN_NAMES.search(value) is not None
    assert base.invalid_character(value, free_text=False) is names


_REFERENCE: TypeAdapter[str] = TypeAdapter(base.Reference)
_TEXT: TypeAdapter[str] = TypeAdapter(base.Text)


@settings(max_examples=300)
@given(value=_texts.filter(bool))
def test_the_model_refuses_exactly_the_strings_with_refused_characters(value: str) -> None:
    for adapter, pattern in ((_REFERENCE, _FORBIDDEN_NAMES), (_TEXT, _FORBIDDEN_TEXT)):
        try:
            adapter.validate_python(value)
            refused = False
        except ValidationError:
            refused = True  # invalid_character (a lone surrogate: pydantic's own error)
        assert refused is (pattern.search(value) is not None)


_digit_runs = st.lists(
    st.sampled_from(["0" * 15, "1" * 16, "9" * 17, "-", " ", ":", ",", "[", '"', "x", "\t", "5"]),
    max_size=8,
).map("".join)


@settings(max_examples=500)
@given(text=_digit_runs)
def test_long_runs_of_digits_are_found_as_the_regular_expression_finds_them(text: str) -> None:
    data = text.encode()
    expected = re.search(rb"(?:^|[\s:\[,])-?[0-9]{16}", data) is not None
    assert batch.has_long_integer(data) is expected


@pytest.mark.parametrize("zone", _ZONES)
def test_a_line_a_moment_past_the_clock_tolerance_is_still_refused(zone: timezone) -> None:
    notice = NoticeVersion("v1", NOW - timedelta(days=9), DEFINITION, "d1")
    limit = (NOW + rules.FUTURE_TOLERANCE).astimezone(zone)
    at_limit = _registration(1, limit, "c-1")
    beyond = _registration(2, limit + timedelta(microseconds=1), "c-2")
    state = batch.BatchState({}, {}, NoticeHistory([notice]), frozenset())
    violations, registered = batch.check_batch([at_limit, beyond], state, NOW)
    assert [(v.line, v.rule) for v in violations] == [(2, rules.Rule.OCCURRED_IN_FUTURE)]
    assert [ref for ref, _ in registered] == ["c-1"]
    assert at_limit.notice is notice
    assert beyond.notice is None
