"""Hypothesis-made hostile envelopes: each is refused cleanly, or stored and readable.

Envelopes are mutations of valid lines from ``tests/factories.py``: values of the
wrong type, huge and odd strings, any Unicode, control characters and NUL, lone
surrogates, odd and out-of-range dates, big and non-finite numbers, unknown and
data-like field names and types, deep nesting, broken JSON; sent as JSON text
(stdlib, orjson, truncated) or as Python mappings, several per call.

Every call either raises ``BatchRejected`` with contract-shaped violations (line,
rule, field, message; short; never repeating a value) and writes nothing, or
stores its lines; the refused lines are then dropped and the call repeated until
what is left is stored, so every envelope ends refused or stored. After each
example every read path runs over the subjects it touched (subject view, trail,
lineage, disclosures, every purpose's basis, the export as JSON and HTML,
findings, retention for the whole store).

Per ``make test`` run: 250 examples x 40 envelopes = 10,000 on SQLite and
40 x 40 = 1,600 on PostgreSQL.
"""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.domain.rules import INVALID_CHARACTER, NUMBER_OUT_OF_RANGE, TIMESTAMP_OUT_OF_RANGE
from ledger.errors import BatchRejected, Rule, Violation
from tests import factories as f

pytestmark = pytest.mark.reliability

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
PIC = "131052-308T"
"""A canary: no refusal may ever contain it."""
SUBJECT = "F-1"
NEW_SUBJECT = "F-new"
"""Placeholders, replaced after drawing (drawing may not depend on outside state)."""
PER_CALL = 80
EXAMPLES = {"sqlite": 125, "postgres": 25}
MAX_ECHO = 64
WHOLE_STORE_EVERY = 10
"""Findings and retention read the whole store: after every 10th call and at the end."""
KNOWN_RULES = {str(r) for r in Rule} | {
    TIMESTAMP_OUT_OF_RANGE,
    INVALID_CHARACTER,
    NUMBER_OUT_OF_RANGE,
}
FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + i) for i in range(10)))
_fresh = itertools.count()


def valid_lines() -> list[dict[str, Any]]:
    """One valid line of each kind about SUBJECT (and a new subject's registration)."""
    s = SUBJECT
    return [
        f.subject_registered(NEW_SUBJECT),
        f.personal_data(s),
        f.personal_data(s, {"billing_address": "Kauppakatu 1", "billing_email": "a@b.fi",
                            "billing_phone": "+358 40 123"}, category="billing"),
        f.personal_data(s, {"consumption": 1234.5, "address": "Tie 2"},
                        category="metering_point", source="datahub"),
        f.personal_data(s, {"company_business_id": "0209628-8"}, category="contact_person"),
        f.personal_data(s, {"visit_date": "2023-05-01"}, category="cookies", source="cookies"),
        f.contract_started(s, contract="K-2"),
        f.contract_ended(s, contract="K-2"),
        f.consent_granted(s, data={"expires_at": "2030-01-01T00:00:00Z"}),
        f.consent_withdrawn(s),
        f.objection(s, purpose="development"),
        f.profile_derived(s),
        f.disclosed(s),
        f.recipient_registered(),
        f.automated_decision(s),
        f.erased_fields(s, idempotency_key="erase-1"),
    ]  # fmt: skip


def _timestamp(year: int, month: int, day: int, minutes: int, offset: int) -> str:
    sign = "+" if offset >= 0 else "-"
    hours, mins = divmod(abs(offset), 60)
    clock = f"{minutes // 60:02d}:{minutes % 60:02d}:00"
    return f"{year:04d}-{month:02d}-{day:02d}T{clock}{sign}{hours:02d}:{mins:02d}"


timestamps = st.builds(
    _timestamp,
    st.integers(1, 9999),
    st.integers(1, 12),
    st.integers(1, 31),
    st.integers(0, 24 * 60),
    st.integers(-14 * 60, 14 * 60),
)
controls = st.text(
    st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from("\x7f\ud800\udfff"),
    min_size=1,
    max_size=3,
)
odd_text = st.builds(lambda a, c, b: a + c + b, st.text(max_size=8), controls, st.text(max_size=8))
huge_text = st.builds(
    lambda c, n: c * n, st.sampled_from(["a", "ä", PIC, "\x00", "𝄞"]), st.integers(100, 200_000)
)
known_odd = st.sampled_from(
    [PIC, f"{PIC}\n", PIC.translate(FULL_WIDTH), "0209628-8\n", "2023-13-45", "2023-02-29",
     "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2023-05-04T10:00:00Z\n",
     "8999-12-31T23:59:59Z", "1900-01-01T00:00:00Z", "a@b.fi\n", "", " ", "null"]
)  # fmt: skip
numbers = st.one_of(
    st.integers(-(2**80), 2**80),
    st.sampled_from([2**53 - 1, 2**53, -(2**53), 2**63, 2**64, -(2**63) - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(
    st.text(max_size=30), odd_text, huge_text, known_odd, timestamps, numbers,
    st.booleans(), st.none(),
)  # fmt: skip
names = st.one_of(
    st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True),
    st.text(max_size=12),
    odd_text,
    st.sampled_from([PIC, "a" * 1_000_000, "type", "data", "fields", "subject"]),
)


def _nest(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"x": value}
    return value


values = st.one_of(
    scalars,
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
        max_leaves=6,
    ),
    st.integers(5, 300).map(_nest),
)
types = st.one_of(
    st.sampled_from(["SubjectRegistered", "ConsentGranted", "NoticePublished", "SubjectErased",
                     "FindingRecorded", "Nope", PIC, "a" * 100_000]),
    scalars,
)  # fmt: skip


def paths(line: dict[str, Any]) -> list[tuple[str, ...]]:
    """Every key path of a line down to its data's fields."""
    out: list[tuple[str, ...]] = [(k,) for k in line]
    data = line.get("data")
    if isinstance(data, dict):
        out += [("data", k) for k in data]
        fields = data.get("fields")
        if isinstance(fields, dict):
            out += [("data", "fields", k) for k in fields]
    return out


def _parent(line: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    node: Any = line
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


@st.composite
def envelopes(draw: st.DrawFn) -> Any:
    """A valid line with 0-3 mutations, encoded as a mapping or as (maybe broken) text."""
    line = copy.deepcopy(draw(st.sampled_from(valid_lines())))
    for _ in range(draw(st.integers(0, 3))):
        how = draw(st.sampled_from(["set", "set", "add", "delete", "type"]))
        path = draw(st.sampled_from(paths(line)))
        parent = _parent(line, path)
        if parent is None:
            continue
        if how == "set":
            parent[path[-1]] = draw(values)
        elif how == "add":
            parent[draw(names)] = draw(values)
        elif how == "delete":
            parent.pop(path[-1], None)
        else:
            line["type"] = draw(types)
    encoding = draw(st.sampled_from(["mapping", "json", "ascii", "orjson", "truncated"]))
    if encoding == "mapping":
        return line
    text = json.dumps(line, ensure_ascii=encoding == "ascii", allow_nan=True)
    if encoding == "orjson":
        try:
            return orjson.dumps(line)
        except TypeError:
            return text
    if encoding == "truncated":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    return text


def strings_of(value: Any) -> list[str]:
    """Every string (keys too) in a line, or the line's text."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes):
        return [value.decode(errors="replace")]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings_of(k), *strings_of(v))]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_of(v)]
    return []


def check_refusal(violations: tuple[Violation, ...], sent: list[Any]) -> None:
    """Contract-shaped, short, and repeating no value."""
    assert violations
    for v in violations:
        assert 1 <= v.line <= len(sent)
        assert str(v.rule) in KNOWN_RULES, v.rule
        assert v.type is None or (isinstance(v.type, str) and len(v.type) <= MAX_ECHO)
        assert v.field is None or (isinstance(v.field, str) and len(v.field) <= 200), v.field
        assert isinstance(v.message, str)
        assert 0 < len(v.message) <= 400, v.message
        text = orjson.dumps(v.as_dict()).decode()
        assert PIC not in text, text
        for s in strings_of(sent[v.line - 1]):
            if len(s) > MAX_ECHO:
                assert s[: MAX_ECHO + 1] not in text, text
                assert s[-MAX_ECHO - 1 :] not in text, text


def head(ledger: Ledger) -> int:
    return ledger.recorder.max_notification_id() or 0


def append_until_stored(ledger: Ledger, lines: list[Any]) -> list[Any]:
    """Append; on refusal drop the refused lines and append the rest again."""
    pending = list(lines)
    while pending:
        before = head(ledger)
        try:
            result = ledger.append_batch(pending)
        except BatchRejected as e:
            assert head(ledger) == before, "a refused call wrote something"
            check_refusal(e.violations, pending)
            refused = {v.line for v in e.violations}
            pending = [x for i, x in enumerate(pending, start=1) if i not in refused]
            continue
        kept = [x for x in pending if isinstance(x, dict) or x.strip()]  # blank lines skip
        assert result.appended + result.duplicates == len(kept)
        return kept
    return []


def subjects_of(lines: list[Any]) -> set[str]:
    """The subjects the stored lines are about or register."""
    out: set[str] = set()
    for x in lines:
        raw = x if isinstance(x, dict) else orjson.loads(x)
        if isinstance(raw.get("subject"), str):
            out.add(raw["subject"])
    return out


def about(line: Any, subject: str, number: int) -> Any:
    """The line about ``subject`` (a new subject: ``subject``-``number``)."""
    swaps = {SUBJECT: subject, NEW_SUBJECT: f"{subject}-{number}"}
    if isinstance(line, dict):
        ref = line.get("subject")
        return {**line, "subject": swaps[ref]} if isinstance(ref, str) and ref in swaps else line
    for old, new in swaps.items():
        if isinstance(line, str):
            line = line.replace(f'"{old}"', f'"{new}"')
        else:
            line = line.replace(f'"{old}"'.encode(), f'"{new}"'.encode())
    return line


def register(ledger: Ledger, subject: str) -> None:
    """A subject with a contract and the data a profile is derived from."""
    f.append(
        ledger,
        f.subject_registered(subject),
        f.contract_started(subject),
        f.personal_data(subject, {"cookie_id": "c-1"}, category="cookies", source="cookies"),
        f.personal_data(subject, {"ip_address": "10.0.0.1"}, category="web_logs",
                        source="web_services"),
    )  # fmt: skip


def test_every_generated_envelope_is_refused_cleanly_or_stored_and_readable(
    core: Core, store_url: str
) -> None:
    ledger = core.ledger
    store = "sqlite" if store_url.startswith("sqlite") else "postgres"
    counted = {"calls": 0, "envelopes": 0, "stored": 0}

    @settings(
        max_examples=EXAMPLES[store],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(envelopes(), min_size=PER_CALL, max_size=PER_CALL))
    def one_call(lines: list[Any]) -> None:
        subject = f"F-{next(_fresh)}"  # a fresh subject per call keeps each read small
        register(ledger, subject)
        lines = [about(x, subject, i) for i, x in enumerate(lines)]
        stored = append_until_stored(ledger, lines)
        counted["calls"] += 1
        counted["envelopes"] += len(lines)
        counted["stored"] += len(stored)
        f.read_everything(core, sorted(subjects_of(stored) | {subject}), NOW,
                          whole_store=counted["calls"] % WHOLE_STORE_EVERY == 0)  # fmt: skip

    one_call()
    f.read_everything(core, [], NOW)
    assert counted["envelopes"] >= EXAMPLES[store] * PER_CALL
    assert counted["stored"] > 0, "nothing generated was ever stored: the mutations are too heavy"
