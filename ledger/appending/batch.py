"""Turning NDJSON lines into checked, ready-to-store events: parse, validate, resolve.

The pipeline of one append call, every step for the whole batch at once:

1. ``parse_lines``: JSON and the envelope/data models (pydantic) -> ``ParsedLine``;
2. ``Ledger`` looks up idempotency digests and subject references in one query each;
3. ``check_batch``: register rules against the notice in force at each occurred_at,
   subject existence in line order, idempotency duplicates and conflicts.

Any violation rejects the whole batch before anything is written.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import TypeAdapter, ValidationError

from ledger.domain.register import NoticeHistory, NoticeVersion
from ledger.domain.rules import (
    INVALID_CHARACTER,
    TIMESTAMP_OUT_OF_RANGE,
    LineContext,
    check_derivation,
    check_line,
    check_values,
    notice_in_force,
    shown_path,
)
from ledger.errors import Rule, Violation
from schemas import events as ev

_LINE = TypeAdapter[Any](ev.AppendLine)

_PYDANTIC_RULES: dict[str, str] = {
    "missing": Rule.MISSING_FIELD,
    "extra_forbidden": Rule.UNKNOWN_FIELD,
    "timestamp_without_offset": Rule.TIMESTAMP_WITHOUT_OFFSET,
    "invalid_timestamp": Rule.INVALID_TIMESTAMP,
    "invalid_business_id": Rule.INVALID_BUSINESS_ID,
    "transfer_without_safeguard": Rule.TRANSFER_WITHOUT_SAFEGUARD,
    "missing_field": Rule.MISSING_FIELD,
    "timestamp_out_of_range": TIMESTAMP_OUT_OF_RANGE,
    "invalid_character": INVALID_CHARACTER,
}
_TYPE_NAME = re.compile(r"[A-Z][A-Za-z0-9]{0,63}")
_NUMBER_SHAPE = bytes(
    ord("0") if byte in b"0123456789"
    else ord(" ") if byte in b" \t\n\r\f\v:[,"
    else ord("-") if byte == ord("-")
    else ord("x")
    for byte in range(256)
)  # fmt: skip
"""Each byte of JSON text as its part in a number literal: ``0`` a digit, ``-`` a minus
sign, `` `` where JSON may put a number after it (white space, ``:``, ``[``, ``,``), ``x``
anything else."""
_SIXTEEN = b"0" * 16
_LONG = b" " + _SIXTEEN
_LONG_NEGATIVE = b" -" + _SIXTEEN
_LONG_AT_START = (_SIXTEEN, b"-" + _SIXTEEN)
_MAY_HIDE_CONTROL = re.compile(
    rb"\\(?:[bfnrt]|u(?:00[01][0-9A-Fa-f]|007[Ff]|[Dd][89A-Fa-f][0-9A-Fa-f]{2}))|\x7f"
)
r"""What in JSON text may decode to a character ``check_values`` refuses: a short escape
(tab and line breaks are refused in names), a ``\u`` escape of a C0 control, DEL or a
surrogate, or a raw DEL. Matching more (an escaped backslash before such text) only
walks a line that needed no walk. Every match starts with a backslash or is a DEL, so
text with neither is not searched."""
_TEXT = (bytes, str)
"""``isinstance(text, _TEXT)``: a tuple, where ``bytes | str`` would build a union per call."""
_INT_DIGITS = 20
"""A JSON integer literal longer than this (sign included) is beyond 64 bits anyway."""


@dataclass(slots=True)
class ParsedLine:
    """A line that passed the models, with what the later steps derive from it."""

    number: int
    line: Any  # one of the *Line models of schemas.events
    raw: dict[str, Any]
    occurred_at: datetime
    key_digest: bytes | None = None
    content_digest: bytes | None = None
    notice: NoticeVersion | None = None
    subject_id: UUID | None = None
    duplicate: bool = False


def _field(loc: tuple[int | str, ...], kind: str | None) -> str:
    parts = list(loc)
    if parts and kind is not None and parts[0] == kind:
        parts = parts[1:]  # the discriminated union's tag
    return shown_path(parts) or "type"


def shown_type(kind: str | None) -> str | None:
    """The line's type as a refusal may repeat it: only a name of a type's shape.

    ``PascalCase`` of at most 64 characters (``ConsentGiven`` is shown, a personal
    identity code or a megabyte of text sent as a type is not).
    """
    return kind if kind is not None and _TYPE_NAME.fullmatch(kind) else None


def pydantic_violations(
    number: int, raw_kind: str | None, error: ValidationError
) -> list[Violation]:
    """The contract's violations for a pydantic error; input values are never quoted.

    Neither an unknown type nor an unknown field name is repeated unless it has
    the register's own shape (``ledger.domain.rules.shown_name``).
    """
    out: list[Violation] = []
    kind = shown_type(raw_kind)
    for item in error.errors(include_input=False, include_url=False):
        err_type = item["type"]
        if err_type in {"union_tag_invalid", "union_tag_not_found"}:
            if err_type == "union_tag_not_found":
                out.append(Violation(number, kind, "type", Rule.MISSING_FIELD, "type is required"))
            elif kind in ev.EVENT_TYPES:
                message = (
                    f"{kind} is not appended by services; the ledger records it"
                    " (`ledger notice publish`, `ledger erase`)"
                )
                out.append(Violation(number, kind, "type", Rule.NOT_APPENDABLE, message))
            else:
                message = "unknown event type; the appendable types are listed in the contract"
                out.append(Violation(number, kind, "type", Rule.UNKNOWN_TYPE, message))
            continue
        field = _field(item["loc"], raw_kind)
        rule = _PYDANTIC_RULES.get(err_type, Rule.INVALID_VALUE)
        if rule is Rule.TRANSFER_WITHOUT_SAFEGUARD:
            field = "data.safeguard"
        out.append(Violation(number, kind, field, rule, item["msg"]))
    return out


def parse_lines(
    lines: Iterable[tuple[int, str | bytes | Mapping[str, Any]]], now: datetime
) -> tuple[list[ParsedLine], list[Violation]]:
    """Parse and model-check numbered lines; blank lines are skipped."""
    parsed: list[ParsedLine] = []
    violations: list[Violation] = []
    validate = _LINE.validator.validate_python  # TypeAdapter.validate_python, one call less
    for number, text in lines:
        # Text and bytes told apart first: isinstance of the Mapping ABC takes longer.
        if isinstance(text, _TEXT) or not isinstance(text, Mapping):
            if not text or text.isspace():
                continue
            try:
                raw: Any = orjson.loads(text)
            except orjson.JSONDecodeError as e:
                message = f"not valid JSON: {e.msg} at character {e.pos}"
                violations.append(Violation(number, None, None, Rule.INVALID_JSON, message))
                continue
        else:
            raw = dict(text)
        if not isinstance(raw, dict):
            message = "each line must be one JSON object"
            violations.append(Violation(number, None, None, Rule.NOT_AN_OBJECT, message))
            continue
        kind = raw.get("type")
        if not isinstance(kind, str):
            kind = None
        problems = _value_problems(number, kind, text, raw)
        if problems:
            violations += problems
            continue
        try:
            line = validate(raw)
        except ValidationError as e:
            violations += pydantic_violations(number, kind, e)
            continue
        parsed.append(ParsedLine(number, line, raw, line.occurred_at or now))
    return parsed, violations


def _value_problems(
    number: int, kind: str | None, text: str | bytes | Mapping[str, Any], raw: dict[str, Any]
) -> list[Violation]:
    r"""``check_values`` of a line, walked only when its text may hold a problem.

    A Python mapping may hold anything and is always walked. In JSON text a control
    character or a surrogate can only come escaped (orjson refuses them raw): as one
    of the short escapes ``\b \f \n \r \t`` or as a ``\u`` escape of U+0000-U+001F,
    U+007F or U+D800-U+DFFF (``_MAY_HIDE_CONTROL``; other ``\u`` escapes, such as
    the ``\u00e4`` of a Finnish name, cannot); DEL also raw. An integer orjson cannot
    keep exact (it reads one beyond 64 bits as a float) can only come as a literal of
    16 digits or more (``has_long_integer``): such a line is read again keeping
    integers exact, so that the number is refused, never rounded. ``kind`` is the
    line's raw type, shown only as ``shown_type`` lets it be.
    """
    if not isinstance(text, _TEXT) and isinstance(text, Mapping):
        return check_values(number, shown_type(kind), raw)
    data = text.encode() if isinstance(text, str) else text
    long_digits = has_long_integer(data)
    if not (long_digits or _may_hide_control(data)):
        return []
    shown = shown_type(kind)
    problems = check_values(number, shown, raw)  # also bounds the nesting to MAX_DEPTH
    if problems or not long_digits:
        return problems
    return check_values(number, shown, json.loads(data, parse_int=_exact_int))


def has_long_integer(data: bytes) -> bool:
    r"""Whether JSON text may hold an integer literal of 16 digits or more.

    Where JSON puts a number: at the start, or after ``:``, ``[``, ``,`` or white
    space, with an optional minus sign; digits inside a string (an IBAN, an account
    number) do not count, digits after white space inside a string still do. The
    same as searching ``(?:^|[\s:\[,])-?[0-9]{16}``, in one pass over the text.
    """
    shape = data.translate(_NUMBER_SHAPE)
    if shape.find(_SIXTEEN) < 0:
        return False  # no 16 digits in a row: most lines, after one search
    return (
        shape.find(_LONG) >= 0
        or shape.find(_LONG_NEGATIVE) >= 0
        or shape.startswith(_LONG_AT_START)
    )


def _may_hide_control(data: bytes) -> bool:
    # find, not ``in``: ``b"x" in data`` first tries the operand as an integer (a byte
    # value) and raises and clears a TypeError before searching, a microsecond a line.
    return (data.find(b"\\") >= 0 or data.find(b"\x7f") >= 0) and _MAY_HIDE_CONTROL.search(
        data
    ) is not None


def _exact_int(literal: str) -> float | int:
    """An integer literal as an int; one too long to matter as infinity (refused)."""
    return int(literal) if len(literal) <= _INT_DIGITS else math.inf


def digest_idempotency(parsed: list[ParsedLine], digest: Callable[[bytes], bytes]) -> None:
    """Keyed digests of each line's idempotency key and of its content.

    ``digest``: the index key's digester (``ledger.persistence.keys.index_digester``),
    made once per ledger, not per call.
    """
    sort_keys = orjson.OPT_SORT_KEYS
    dumps = orjson.dumps
    for p in parsed:
        key = p.line.idempotency_key
        if key is not None:
            p.key_digest = digest(b"key\x00" + key.encode())
            p.content_digest = digest(b"content\x00" + dumps(p.raw, option=sort_keys))


def time_ordered_uuid() -> UUID:
    """A random UUID whose first 48 bits are the time in ms (RFC 9562 version 7).

    New subjects' streams then sort near each other in every B-tree keyed by
    stream id, so inserts touch few pages instead of random ones.
    """
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return UUID(int=value)


@dataclass(frozen=True, slots=True)
class BatchState:
    """What the store knows that the checks need, fetched in one query per kind."""

    stored_digests: Mapping[bytes, bytes]
    subjects: Mapping[str, UUID]
    notices: NoticeHistory
    recipients: frozenset[str]
    categories: Mapping[UUID, frozenset[str]] = field(default_factory=dict)
    """Categories each stored subject has live data in (for derivations)."""


@dataclass(frozen=True, slots=True)
class _Kind:
    """What ``check_batch`` asks of a line's class, asked once per class."""

    registers_recipient: bool
    of_subject: bool
    registers_subject: bool
    holds_data: bool
    derives: bool

    @classmethod
    def of(cls, line_class: type) -> _Kind:
        return cls(
            registers_recipient=issubclass(line_class, ev.RecipientRegisteredLine),
            of_subject=issubclass(line_class, ev._SubjectLine),
            registers_subject=issubclass(line_class, ev.SubjectRegisteredLine),
            holds_data=issubclass(line_class, ev.PersonalDataRecordedLine | ev.ProfileDerivedLine),
            derives=issubclass(line_class, ev.ProfileDerivedLine),
        )


_KINDS: dict[type, _Kind] = {}
"""``_Kind`` per line class met so far (the line models of ``schemas.events``)."""


def _kind_of(line_class: type) -> _Kind:
    found = _KINDS.get(line_class)
    if found is None:
        found = _KINDS[line_class] = _Kind.of(line_class)
    return found


def _derivation(
    ctx: LineContext, p: ParsedLine, held: dict[UUID, set[str]], kind: _Kind
) -> list[Violation]:
    """Track categories recorded in the batch; check a derivation's sources."""
    assert p.subject_id is not None  # noqa: S101 - resolved by the caller
    categories = held.setdefault(p.subject_id, set())
    if kind.holds_data:
        categories.add(p.line.data.category)
    if kind.derives:
        return check_derivation(ctx, p.line.data, categories)
    return []


_MESSAGES = {
    Rule.IDEMPOTENCY_CONFLICT: "this idempotency key was used before with different content",
    Rule.SUBJECT_EXISTS: "a subject with this reference is already registered",
    Rule.UNKNOWN_SUBJECT: "no subject is registered under this reference (register it first)",
}


def _refused(p: ParsedLine, field: str, rule: Rule) -> Violation:
    """A violation of a rule ``check_batch`` itself checks (the store's state)."""
    return Violation(p.number, p.line.type, field, rule, _MESSAGES[rule])


def _resolve_subject(  # noqa: PLR0917 - check_batch's state, passed as it is
    ctx: LineContext,
    p: ParsedLine,
    kind: _Kind,
    line_problems: list[Violation],
    subjects: dict[str, UUID],
    registered: list[tuple[str, UUID]],
    held: dict[UUID, set[str]],
) -> list[Violation]:
    """A subject line's stream id (a new one for a registration), or why it has none."""
    ref = p.line.subject
    if kind.registers_subject:
        if ref in subjects:
            return [_refused(p, "subject", Rule.SUBJECT_EXISTS)]
        subjects[ref] = p.subject_id = time_ordered_uuid()
        registered.append((ref, p.subject_id))
    elif ref in subjects:
        p.subject_id = subjects[ref]
        if kind.holds_data:
            derivation = _derivation(ctx, p, held, kind)  # no other line holds or derives
            return [] if line_problems else derivation
    else:
        return [_refused(p, "subject", Rule.UNKNOWN_SUBJECT)]
    return []


def check_batch(
    parsed: list[ParsedLine], state: BatchState, now: datetime
) -> tuple[list[Violation], list[tuple[str, UUID]]]:
    """Run every rule over the batch in line order; marks duplicates, assigns ids.

    Returns the violations and the subjects the batch registers (reference, new id).
    """
    violations: list[Violation] = []
    seen_digests: dict[bytes, bytes] = {}
    subjects = dict(state.subjects)
    registered: list[tuple[str, UUID]] = []
    recipients = set(state.recipients)
    held: dict[UUID, set[str]] = {sid: set(c) for sid, c in state.categories.items()}
    stored_digests, notices = state.stored_digests, state.notices
    for p in parsed:
        line = p.line
        if p.key_digest is not None:
            known = stored_digests.get(p.key_digest) or seen_digests.get(p.key_digest)
            if known is not None:
                p.duplicate = True
                if known != p.content_digest:
                    violations.append(_refused(p, "idempotency_key", Rule.IDEMPOTENCY_CONFLICT))
                continue
            assert p.content_digest is not None  # noqa: S101 - set with key_digest
            seen_digests[p.key_digest] = p.content_digest
        notice, problems = notice_in_force(p.number, line, p.occurred_at, notices, now)
        if notice is None:
            violations += problems
            continue
        p.notice = notice
        ctx = LineContext(p.number, line, p.occurred_at, notice, notices, recipients)
        line_problems = check_line(ctx)
        if line_problems:
            violations += line_problems
        kind = _kind_of(type(line))
        if kind.registers_recipient:
            recipients.add(line.data.id)
        if kind.of_subject:
            violations += _resolve_subject(ctx, p, kind, line_problems, subjects, registered, held)
    return violations, registered
