"""One function per rule: what makes an append line malformed against the register.

Every function returns violations, never raises; ``check_line`` runs the ones that
apply to a line's type. Store-dependent rules (unknown subject, idempotency) live in
``ledger.appending`` because they need the store's state.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import singledispatch
from typing import Any

from ledger.domain.register import NoticeHistory, NoticeVersion
from ledger.errors import Rule, Violation
from schemas import events as ev
from schemas.base import invalid_character
from schemas.identifiers import business_id_problem, personal_identity_code_problem
from schemas.register import FieldType, LegalBasis

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far ahead of the ledger's clock an occurred_at may be (clock skew)."""

# Rule codes of hostile input (issue 11).
TIMESTAMP_OUT_OF_RANGE = Rule.TIMESTAMP_OUT_OF_RANGE
"""An instant before 1900-01-01 or from 9000-01-01 on, in UTC."""
INVALID_CHARACTER = Rule.INVALID_CHARACTER
"""A control character (NUL, ESC, ...), DEL or an unpaired surrogate in a string."""
NUMBER_OUT_OF_RANGE = Rule.NUMBER_OUT_OF_RANGE
"""An integer beyond +-(2**53 - 1), or a number that is not finite."""
REFERENCE_IS_IDENTITY_CODE = Rule.REFERENCE_IS_IDENTITY_CODE
"""A subject reference that is, or holds, a valid Finnish personal identity code."""

SAFE_INTEGER = 2**53 - 1
"""The largest integer every JSON reader keeps exact (RFC 7493 I-JSON)."""
MAX_DEPTH = 8
"""No line nests deeper than data.fields.name (or data.purposes.0): 8 is generous."""

# Every pattern is used with fullmatch: `$` would also match before a final newline.
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9 ()\-]{5,20}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SAFE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")
_SAFE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,63}|[0-9]{4}(?:-[0-9]{2}){0,2}")
_EMAIL_MAX = 254


def shown_name(name: str) -> str:
    """A name as a refusal may show it: only register-like names, never data.

    A field name or an unknown key may be a personal identity code, an email
    address or a megabyte of anything: only names of the register's own shape
    (``[a-z_][a-z0-9_]{0,63}``) are repeated, others by their length only.
    """
    if _SAFE_NAME.fullmatch(name):
        return name
    return f"<not shown: {len(name)} characters>"


def shown_id(value: str) -> str:
    """A recipient id or notice version as a refusal may quote it.

    Quoted (``'acme'``, ``'2021-06-03'``) when it starts with a letter or is a
    date-like version; otherwise (a personal identity code or a phone number
    sent as an id) shown by its length only.
    """
    if _SAFE_ID.fullmatch(value):
        return repr(value)
    return f"<not shown: {len(value)} characters>"


def shown_path(parts: Collection[int | str]) -> str:
    """A dotted field path whose unsafe names are replaced by their lengths."""
    return ".".join(str(p) if isinstance(p, int) or p == "[key]" else shown_name(p) for p in parts)


def _valid_date(value: str) -> bool:
    if _DATE.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _scalar_problem(value: Any) -> tuple[str, str] | None:
    """Why one scalar of a raw line is refused (rule, message), or None."""
    problem: tuple[str, str] | None = None
    if isinstance(value, str):
        if invalid_character(value):
            problem = (
                INVALID_CHARACTER,
                "contains a control character, DEL or an unpaired surrogate",
            )
    elif isinstance(value, float):
        if not math.isfinite(value):
            problem = (NUMBER_OUT_OF_RANGE, "numbers must be finite")
    elif isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > SAFE_INTEGER:
            message = "integers must lie within +-(2**53 - 1); send larger ones as text"
            problem = (NUMBER_OUT_OF_RANGE, message)
    elif not (value is None or isinstance(value, bool | datetime)):
        message = "must be a JSON value (text, number, true/false, null, object or list)"
        problem = (Rule.INVALID_VALUE, message)
    return problem


def check_values(index: int, kind: str | None, raw: Any) -> list[Violation]:
    """Every string (names too) and number of a raw line, before any model reads it.

    Refuses what would break a store or a reader later: control characters (NUL
    cannot be stored in PostgreSQL text), unpaired surrogates (not UTF-8), integers
    no JSON reader keeps exact, non-finite numbers, nesting deeper than any line
    needs. The violations never quote a value.
    """
    out: list[Violation] = []
    todo: list[tuple[tuple[int | str, ...], Any]] = [((), raw)]
    while todo:
        path, value = todo.pop()
        items: list[tuple[int | str, Any]]
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
        else:
            problem = _scalar_problem(value)
            if problem is not None:
                out.append(Violation(index, kind, shown_path(path) or None, *problem))
            continue
        if len(path) >= MAX_DEPTH:
            message = f"nested deeper than {MAX_DEPTH} levels"
            out.append(Violation(index, kind, shown_path(path), Rule.INVALID_VALUE, message))
            continue
        for key, item in reversed(items):
            if isinstance(key, str) and invalid_character(key, free_text=False):
                message = "a name contains a control character, DEL or an unpaired surrogate"
                out.append(
                    Violation(index, kind, shown_path((*path, key)), INVALID_CHARACTER, message)
                )
            todo.append(((*path, key), item))
    return out


@dataclass(slots=True)
class LineContext:
    """What a line is checked against; never changed once made.

    Not ``frozen``: one is made per line, and a frozen dataclass's ``__init__``
    (``object.__setattr__`` per field) takes four times as long.
    """

    index: int
    line: ev._Line
    occurred_at: datetime
    notice: NoticeVersion
    notices: NoticeHistory
    recipients: Collection[str]


def _violation(ctx: LineContext, field: str, rule: Rule, message: str) -> Violation:
    return Violation(ctx.index, ctx.line.type, field, rule, message)  # type: ignore[attr-defined]


def notice_in_force(
    index: int,
    line: ev._Line,
    occurred_at: datetime,
    notices: NoticeHistory,
    now: datetime,
) -> tuple[NoticeVersion | None, list[Violation]]:
    """The notice version a line is checked against, or why there is none."""
    kind = line.type  # type: ignore[attr-defined]
    field = "occurred_at"
    if occurred_at > now + FUTURE_TOLERANCE:
        message = "occurred_at is in the future of the ledger's clock"
        return None, [Violation(index, kind, field, Rule.OCCURRED_IN_FUTURE, message)]
    notice = notices.in_force(occurred_at)
    if notice is None:
        message = "no version of the privacy notice was in force at occurred_at"
        return None, [Violation(index, kind, field, Rule.NO_NOTICE_IN_FORCE, message)]
    return notice, []


def check_controller(ctx: LineContext, business_id: str, field: str) -> list[Violation]:
    """A business ID must be one of the register's controllers."""
    if business_id in ctx.notice.index.controllers:
        return []
    message = f"controller {business_id} is not in notice {ctx.notice.version}"
    return [_violation(ctx, field, Rule.UNKNOWN_CONTROLLER, message)]


CONTROLLER_REQUIRED = Rule.CONTROLLER_REQUIRED
"""A line for a purpose of several controllers does not name its controller (Art. 26)."""
CONTROLLER_NOT_FOR_PURPOSE = Rule.CONTROLLER_NOT_FOR_PURPOSE
"""A line names a controller whose purpose it is not in the notice in force."""


def check_purpose_controller(
    ctx: LineContext, purpose: str, controller: str | None, *, required: bool
) -> list[Violation]:
    """The controller must be one the purpose belongs to; named when several share it.

    ``required`` False (consents, withdrawals, objections: given to or addressed to
    the joint controllers): no controller means every controller of the purpose.
    ``required`` True (processing: one controller acted): needed when the purpose
    has several controllers. Disclosures keep the contract's shape (version 1 has no
    controller on ``DataDisclosed``): without one, any controller of the purpose.
    """
    owners = ctx.notice.definition.controllers_of(purpose)
    if not owners:
        return []  # an unknown purpose: reported by check_purpose
    kind, field, version = ctx.line.type, "data.controller", ctx.notice.version  # type: ignore[attr-defined]
    if controller is None:
        if not required or len(owners) == 1:
            return []
        message = (
            f"purpose {purpose!r} belongs to controllers {', '.join(owners)} in notice"
            f" {version}: name one in data.controller"
        )
        return [Violation(ctx.index, kind, field, CONTROLLER_REQUIRED, message)]
    if controller not in ctx.notice.index.controllers:
        return check_controller(ctx, controller, field)
    if controller in owners:
        return []
    message = f"purpose {purpose!r} is not a purpose of controller {controller} in notice {version}"
    return [Violation(ctx.index, kind, field, CONTROLLER_NOT_FOR_PURPOSE, message)]


def check_purpose(ctx: LineContext, purpose: str, field: str) -> list[Violation]:
    """A purpose must be listed in the notice in force."""
    if purpose in ctx.notice.index.purposes:
        return []
    message = f"purpose {purpose!r} is not in notice {ctx.notice.version}"
    return [_violation(ctx, field, Rule.UNKNOWN_PURPOSE, message)]


def check_category(
    ctx: LineContext, category: str, field: str, *, derived: bool | None = None
) -> list[Violation]:
    """A category must be in the notice; ``derived`` demands it be (or not be) derived."""
    found = ctx.notice.index.categories.get(category)
    if found is None:
        message = f"category {category!r} is not in notice {ctx.notice.version}"
        return [_violation(ctx, field, Rule.UNKNOWN_CATEGORY, message)]
    if derived is True and not found.derived:
        message = f"category {category!r} is not a derived category"
        return [_violation(ctx, field, Rule.CATEGORY_NOT_DERIVED, message)]
    if derived is False and found.derived:
        message = f"category {category!r} is derived; record it with ProfileDerived"
        return [_violation(ctx, field, Rule.CATEGORY_DERIVED, message)]
    return []


def check_source(ctx: LineContext, *, required: bool) -> list[Violation]:
    """Data events name a source listed in the notice (Art. 14(2)(f))."""
    source = ctx.line.source
    if source is None:
        if not required:
            return []
        message = "events that record personal data must name their source"
        return [_violation(ctx, "source", Rule.MISSING_SOURCE, message)]
    if source in ctx.notice.index.sources:
        return []
    message = f"source {source!r} is not in notice {ctx.notice.version}"
    return [_violation(ctx, "source", Rule.UNKNOWN_SOURCE, message)]


_VALUE_CHECKS: dict[FieldType, Callable[[ev.FieldValue], bool]] = {
    FieldType.TEXT: lambda v: isinstance(v, str) and 0 < len(v) <= 2000,  # noqa: PLR2004
    FieldType.EMAIL: lambda v: (
        isinstance(v, str) and len(v) <= _EMAIL_MAX and _EMAIL.fullmatch(v) is not None
    ),
    FieldType.PHONE: lambda v: isinstance(v, str) and _PHONE.fullmatch(v) is not None,
    FieldType.DATE: lambda v: isinstance(v, str) and _valid_date(v),
    FieldType.NUMBER: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    FieldType.BOOLEAN: lambda v: isinstance(v, bool),
}


def value_problem(kind: FieldType, value: ev.FieldValue) -> tuple[Rule, str] | None:
    """Why a value does not fit its field type. Never quotes the value."""
    if kind is FieldType.PERSONAL_IDENTITY_CODE:
        problem = (
            personal_identity_code_problem(value) if isinstance(value, str) else "must be text"
        )
        return None if problem is None else (Rule.INVALID_PERSONAL_IDENTITY_CODE, problem)
    if kind is FieldType.BUSINESS_ID:
        problem = business_id_problem(value) if isinstance(value, str) else "must be text"
        return None if problem is None else (Rule.INVALID_BUSINESS_ID, problem)
    if _VALUE_CHECKS[kind](value):
        return None
    return Rule.INVALID_VALUE, f"must be a valid {kind.value}"


def check_fields(
    ctx: LineContext,
    category: str,
    names: Collection[str],
    values: dict[str, ev.FieldValue] | None,
) -> list[Violation]:
    """Field names must belong to the category; values must fit the field types."""
    found = ctx.notice.index.categories.get(category)
    if found is None:
        return []  # reported by check_category
    out: list[Violation] = []
    types = found.fields
    for name in names:
        kind = types.get(name)
        if kind is None:
            shown = shown_name(name)
            named = f"{name!r}" if shown == name else f"of that name ({shown[1:-1]})"
            message = f"category {category!r} has no field {named}"
            out.append(_violation(ctx, f"data.fields.{shown}", Rule.UNKNOWN_DATA_FIELD, message))
        elif values is not None and (problem := value_problem(kind, values[name])):
            field = f"data.fields.{shown_name(name)}"
            out.append(_violation(ctx, field, problem[0], problem[1]))
    return out


def check_consent(ctx: LineContext, data: ev.ConsentGrantedData) -> list[Violation]:
    """Consent only for purposes whose bases include it, under a notice listing them."""
    out = check_purpose(ctx, data.purpose, "data.purpose")
    purpose = ctx.notice.index.purposes.get(data.purpose)
    if purpose is not None and LegalBasis.CONSENT not in purpose.bases:
        message = (
            f"purpose {data.purpose!r} does not rest on consent in notice {ctx.notice.version}"
        )
        out.append(_violation(ctx, "data.purpose", Rule.CONSENT_NOT_A_BASIS, message))
    if data.notice_version is not None:
        agreed = ctx.notices.get(data.notice_version)
        if agreed is None:
            message = f"notice version {shown_id(data.notice_version)} was never published"
            out.append(_violation(ctx, "data.notice_version", Rule.UNKNOWN_NOTICE_VERSION, message))
        elif data.purpose not in agreed.index.purposes:
            message = f"notice {agreed.version} does not list purpose {data.purpose!r}"
            out.append(_violation(ctx, "data.notice_version", Rule.PURPOSE_NOT_IN_NOTICE, message))
    if data.expires_at is not None and data.expires_at <= ctx.occurred_at:
        message = "expires_at must be after occurred_at"
        out.append(_violation(ctx, "data.expires_at", Rule.EXPIRES_BEFORE_GRANT, message))
    return out


def check_recipient_registration(
    ctx: LineContext, data: ev.RecipientRegisteredData
) -> list[Violation]:
    """A recipient's purposes must be in the notice (the model demands a safeguard)."""
    out: list[Violation] = []
    for i, purpose in enumerate(data.purposes):
        out += check_purpose(ctx, purpose, f"data.purposes.{i}")
    return out


def check_disclosure(ctx: LineContext, data: ev.DataDisclosedData) -> list[Violation]:
    """A disclosure names a known recipient, a purpose and categories of the notice."""
    out = check_purpose(ctx, data.purpose, "data.purpose")
    for i, category in enumerate(data.categories):
        out += check_category(ctx, category, f"data.categories.{i}")
    if data.recipient not in ctx.notice.index.recipients and data.recipient not in ctx.recipients:
        message = f"recipient {shown_id(data.recipient)} is neither in the notice nor registered"
        out.append(_violation(ctx, "data.recipient", Rule.UNKNOWN_RECIPIENT, message))
    return out


@singledispatch
def _check_data(data: object, ctx: LineContext) -> list[Violation]:
    """The rules for a line's ``data``, one registered function per data class."""
    return []


@_check_data.register
def _subject_registered(data: ev.SubjectRegisteredData, ctx: LineContext) -> list[Violation]:
    return check_controller(ctx, data.controller, "data.controller")


@_check_data.register
def _personal_data_recorded(data: ev.PersonalDataRecordedData, ctx: LineContext) -> list[Violation]:
    category = check_category(ctx, data.category, "data.category", derived=False)
    fields = [] if category else check_fields(ctx, data.category, data.fields, data.fields)
    return check_source(ctx, required=True) + category + fields


@_check_data.register
def _personal_data_erased(data: ev.PersonalDataErasedData, ctx: LineContext) -> list[Violation]:
    category = check_category(ctx, data.category, "data.category")
    fields = [] if category else check_fields(ctx, data.category, data.fields, None)
    return check_source(ctx, required=False) + category + fields


@_check_data.register
def _contract_started(data: ev.ContractStartedData, ctx: LineContext) -> list[Violation]:
    return check_source(ctx, required=False) + check_controller(
        ctx, data.controller, "data.controller"
    )


@_check_data.register
def _contract_ended(data: ev.ContractEndedData, ctx: LineContext) -> list[Violation]:
    return check_source(ctx, required=False) + check_controller(
        ctx, data.controller, "data.controller"
    )


@_check_data.register
def _consent_granted(data: ev.ConsentGrantedData, ctx: LineContext) -> list[Violation]:
    consent = check_consent(ctx, data)
    owner = check_purpose_controller(ctx, data.purpose, data.controller, required=False)
    return check_source(ctx, required=False) + consent + ([] if consent else owner)


@_check_data.register
def _consent_withdrawn(data: ev.ConsentWithdrawnData, ctx: LineContext) -> list[Violation]:
    owner = check_purpose_controller(ctx, data.purpose, data.controller, required=False)
    return (
        check_source(ctx, required=False) + check_purpose(ctx, data.purpose, "data.purpose") + owner
    )


@_check_data.register
def _objection_recorded(data: ev.ObjectionRecordedData, ctx: LineContext) -> list[Violation]:
    owner = check_purpose_controller(ctx, data.purpose, data.controller, required=False)
    return (
        check_source(ctx, required=False) + check_purpose(ctx, data.purpose, "data.purpose") + owner
    )


@_check_data.register
def _profile_derived(data: ev.ProfileDerivedData, ctx: LineContext) -> list[Violation]:
    not_derived = check_category(ctx, data.category, "data.category", derived=True)
    out = check_source(ctx, required=True) + not_derived
    out += [] if not_derived else check_fields(ctx, data.category, data.fields, data.fields)
    out += check_purpose(ctx, data.purpose, "data.purpose")
    for i, origin in enumerate(data.derived_from):
        out += check_category(ctx, origin, f"data.derived_from.{i}")
    return out


@_check_data.register
def _data_disclosed(data: ev.DataDisclosedData, ctx: LineContext) -> list[Violation]:
    owner = check_purpose_controller(ctx, data.purpose, data.controller, required=False)
    return check_source(ctx, required=False) + check_disclosure(ctx, data) + owner


@_check_data.register
def _data_processed(data: ev.DataProcessedData, ctx: LineContext) -> list[Violation]:
    out = check_source(ctx, required=False) + check_purpose(ctx, data.purpose, "data.purpose")
    for i, category in enumerate(data.categories):
        out += check_category(ctx, category, f"data.categories.{i}")
    return out + check_purpose_controller(ctx, data.purpose, data.controller, required=True)


def _check_restriction(
    data: ev.ProcessingRestrictedData | ev.RestrictionLiftedData, ctx: LineContext
) -> list[Violation]:
    """Its categories must be in the notice in force; its controller one of the register's."""
    out = check_source(ctx, required=False)
    for i, category in enumerate(data.categories or ()):
        out += check_category(ctx, category, f"data.categories.{i}")
    if data.controller is not None:
        out += check_controller(ctx, data.controller, "data.controller")
    return out


@_check_data.register
def _processing_restricted(data: ev.ProcessingRestrictedData, ctx: LineContext) -> list[Violation]:
    return _check_restriction(data, ctx)


@_check_data.register
def _restriction_lifted(data: ev.RestrictionLiftedData, ctx: LineContext) -> list[Violation]:
    return _check_restriction(data, ctx)


@_check_data.register
def _recipient_notified(data: ev.RecipientNotifiedData, ctx: LineContext) -> list[Violation]:
    """The recipient must be known; "impossible" needs its reason (Art. 19).

    Whether ``regarding`` is a rectification, erasure or restriction of this subject
    needs the subject's stream: a notification regarding anything else closes
    nothing in the ``notifications`` view.
    """
    out = check_source(ctx, required=False)
    if data.recipient not in ctx.recipients and data.recipient not in ctx.notice.index.recipients:
        message = f"recipient {shown_id(data.recipient)} is neither in the notice nor registered"
        out.append(_violation(ctx, "data.recipient", Rule.UNKNOWN_RECIPIENT, message))
    if data.impossible and data.reason is None:
        message = "a notification marked impossible must give its reason (Art. 19)"
        out.append(_violation(ctx, "data.reason", Rule.MISSING_FIELD, message))
    return out


@_check_data.register
def _recipient_registered(data: ev.RecipientRegisteredData, ctx: LineContext) -> list[Violation]:
    return check_source(ctx, required=False) + check_recipient_registration(ctx, data)


@_check_data.register
def _recipient_ended(data: ev.RecipientEndedData, ctx: LineContext) -> list[Violation]:
    if data.id in ctx.recipients or data.id in ctx.notice.index.recipients:
        return check_source(ctx, required=False)
    message = f"recipient {shown_id(data.id)} is neither in the notice nor registered"
    return [_violation(ctx, "data.id", Rule.UNKNOWN_RECIPIENT, message)]


@_check_data.register
def _automated_decision_made(
    data: ev.AutomatedDecisionMadeData, ctx: LineContext
) -> list[Violation]:
    return check_source(ctx, required=False) + check_purpose(ctx, data.purpose, "data.purpose")


def check_derivation(
    ctx: LineContext, data: ev.ProfileDerivedData, held: Collection[str]
) -> list[Violation]:
    """A profile is derived only from categories the subject has data in."""
    return [
        _violation(
            ctx, f"data.derived_from.{i}", Rule.DERIVED_FROM_MISSING_DATA,
            f"the subject has no {category!r} data to derive from",
        )
        for i, category in enumerate(data.derived_from)
        if category in ctx.notice.index.categories and category not in held
    ]  # fmt: skip


# A henkilötunnus standing alone or between separators: `131052-308T`, `c:131052-308t`.
_CODE_IN_REFERENCE = re.compile(
    r"(?<![A-Za-z0-9])[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y](?![A-Za-z0-9])", re.IGNORECASE
)


_CODE_LENGTH = 11
"""``DDMMYYCNNNQ``: every match of ``_CODE_IN_REFERENCE`` is this long."""


def reference_holds_identity_code(reference: str) -> bool:
    """Whether a subject reference is, or holds, a valid personal identity code.

    The contract says a reference is never one: references are stored and shown
    readable (``trail``, ``findings``, errors). Any case, alone or between
    separators (``C-131052-308T``); a code-like run that fails the check
    character is left alone (it identifies no one).
    """
    if len(reference) < _CODE_LENGTH:
        return False  # too short to hold one: the common case, without a search
    return any(
        personal_identity_code_problem(found.group().upper()) is None
        for found in _CODE_IN_REFERENCE.finditer(reference)
    )


def check_reference(index: int, line: ev._Line) -> list[Violation]:
    """A subject line's reference must not be a personal identity code (never echoed)."""
    reference = getattr(line, "subject", None)
    if not isinstance(reference, str) or not reference_holds_identity_code(reference):
        return []
    message = (
        "the subject reference is a personal identity code (not shown); send the"
        " service's own opaque customer reference"
    )
    kind = line.type  # type: ignore[attr-defined]
    return [Violation(index, kind, "subject", REFERENCE_IS_IDENTITY_CODE, message)]


def check_line(ctx: LineContext) -> list[Violation]:
    """Every register rule that applies to this line, by the type of its ``data``."""
    line = ctx.line
    data = line.data  # type: ignore[attr-defined]
    # _check_data(data, ctx): the function registered for the data's own class, read
    # from the registry directly (singledispatch's cache is a WeakKeyDictionary, read
    # in Python); any other class goes through the dispatch.
    check = _check_data.registry.get(type(data)) or _check_data.dispatch(type(data))
    reference = getattr(line, "subject", None)
    if reference is None or (type(reference) is str and len(reference) < _CODE_LENGTH):
        return check(data, ctx)  # check_reference's answer for most lines: none
    return check_reference(ctx.index, line) + check(data, ctx)
