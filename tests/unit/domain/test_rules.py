"""Register rules of ledger.domain.rules, line by line, from plain values (no store)."""

from __future__ import annotations

import typing
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from ledger.domain import rules
from ledger.domain.register import NoticeHistory, NoticeVersion
from ledger.domain.rules import LineContext, check_derivation, check_line, notice_in_force
from ledger.errors import Rule, Violation
from schemas import events as ev

MakeNotice = Callable[..., NoticeVersion]

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
OCCURRED_AT = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
INDEX = 3
V1 = "2021-06-03"

_LINE: TypeAdapter[Any] = TypeAdapter(ev.AppendLine)
_WITHOUT_SUBJECT = {"RecipientRegistered", "RecipientEnded"}


def line(kind: str, data: dict[str, Any], source: str | None = None) -> ev._Line:
    raw: dict[str, Any] = {"type": kind, "actor": "crm", "data": data}
    if kind not in _WITHOUT_SUBJECT:
        raw["subject"] = "c-1"
    if source is not None:
        raw["source"] = source
    parsed: ev._Line = _LINE.validate_python(raw)
    return parsed


def context(
    notice: NoticeVersion,
    parsed: ev._Line,
    *,
    notices: NoticeHistory | None = None,
    recipients: Collection[str] = (),
) -> LineContext:
    history = notices if notices is not None else NoticeHistory([notice])
    return LineContext(INDEX, parsed, OCCURRED_AT, notice, history, recipients)


def violations(kind: str, *expected: tuple[Rule, str, str]) -> list[Violation]:
    return [Violation(INDEX, kind, field, rule, message) for rule, field, message in expected]


@dataclass(frozen=True)
class Row:
    """One line of the table: a line's type, data and envelope, and what it breaks."""

    kind: str
    data: dict[str, Any]
    expected: tuple[tuple[Rule, str, str], ...]
    source: str | None
    recipients: Collection[str]


def case(
    case_id: str,
    kind: str,
    data: dict[str, Any],
    *expected: tuple[Rule, str, str],
    source: str | None = None,
    recipients: Collection[str] = (),
) -> Any:
    return pytest.param(Row(kind, data, expected, source, recipients), id=case_id)


SUBJECT = {"kind": "person", "controller": "0209628-8"}
RECORDED = {"category": "billing", "fields": {"billing_email": "laskut@example.fi"}}
ERASED = {"category": "billing", "fields": ["billing_email"], "reason": "rectified"}
CONTRACT = {"controller": "1993667-7", "contract": "k-1"}
CONSENT = {"purpose": "marketing", "channel": "web_form", "evidence": "form-1"}
WITHDRAWAL = {"purpose": "marketing", "channel": "phone"}
PROFILE = {
    "category": "profiles",
    "derived_from": ["billing", "cookies"],
    "purpose": "profiling",
    "fields": {"segment": "family", "score": 0.7},
}
RETAIL, NETWORK = "0209628-8", "1993667-7"
DISCLOSURE = {
    "recipient": "print-house", "categories": ["billing"], "purpose": "billing",
    "controller": RETAIL,
}  # fmt: skip
PROCESSING = {
    "purpose": "marketing",
    "categories": ["customer_basic"],
    "activity": "newsletter_sent",
}
BOTH = f"{RETAIL}, {NETWORK}"


def controller_required(purpose: str) -> tuple[Any, str, str]:
    message = (
        f"purpose {purpose!r} belongs to controllers {BOTH} in notice {V1}:"
        " name one in data.controller"
    )
    return (rules.CONTROLLER_REQUIRED, "data.controller", message)


def not_for_purpose(purpose: str, controller: str) -> tuple[Any, str, str]:
    message = f"purpose {purpose!r} is not a purpose of controller {controller} in notice {V1}"
    return (rules.CONTROLLER_NOT_FOR_PURPOSE, "data.controller", message)


RECIPIENT = {
    "id": "mailer",
    "name": "Newsletter mail service",
    "role": "processor",
    "country": "FI",
    "purposes": ["marketing"],
}
RECIPIENT_END = {"id": "print-house", "reason": "agreement terminated"}
DECISION = {"purpose": "billing", "logic": "credit-rules-3"}
UNKNOWN_BUSINESS_ID = "0112038-9"  # valid check digit, not a controller of the register


def unknown_purpose(field: str, purpose: str) -> tuple[Rule, str, str]:
    return Rule.UNKNOWN_PURPOSE, field, f"purpose {purpose!r} is not in notice {V1}"


def unknown_category(field: str, category: str) -> tuple[Rule, str, str]:
    return Rule.UNKNOWN_CATEGORY, field, f"category {category!r} is not in notice {V1}"


MISSING_SOURCE = (
    Rule.MISSING_SOURCE,
    "source",
    "events that record personal data must name their source",
)
UNKNOWN_SOURCE = (Rule.UNKNOWN_SOURCE, "source", f"source 'fax' is not in notice {V1}")


@pytest.mark.parametrize(
    "row",
    [
        case("subject-registered-ok", "SubjectRegistered", SUBJECT),
        case(
            "subject-registered-unknown-controller",
            "SubjectRegistered",
            {**SUBJECT, "controller": UNKNOWN_BUSINESS_ID},
            (
                Rule.UNKNOWN_CONTROLLER,
                "data.controller",
                f"controller {UNKNOWN_BUSINESS_ID} is not in notice {V1}",
            ),
        ),
        case("data-recorded-ok", "PersonalDataRecorded", RECORDED, source="web_forms"),
        case("data-recorded-missing-source", "PersonalDataRecorded", RECORDED, MISSING_SOURCE),
        case(
            "data-recorded-unknown-source",
            "PersonalDataRecorded",
            RECORDED,
            UNKNOWN_SOURCE,
            source="fax",
        ),
        case(
            "data-recorded-unknown-category-skips-fields",
            "PersonalDataRecorded",
            {"category": "hobbies", "fields": {"shoe_size": 44}},
            unknown_category("data.category", "hobbies"),
            source="web_forms",
        ),
        case(
            "data-recorded-derived-category",
            "PersonalDataRecorded",
            {"category": "profiles", "fields": {"segment": "family"}},
            (
                Rule.CATEGORY_DERIVED,
                "data.category",
                "category 'profiles' is derived; record it with ProfileDerived",
            ),
            source="web_forms",
        ),
        case(
            "data-recorded-unknown-field-after-missing-source",
            "PersonalDataRecorded",
            {"category": "billing", "fields": {"shoe_size": 44, "billing_email": "x@y.fi"}},
            MISSING_SOURCE,
            (
                Rule.UNKNOWN_DATA_FIELD,
                "data.fields.shoe_size",
                "category 'billing' has no field 'shoe_size'",
            ),
        ),
        case("data-erased-ok-without-source", "PersonalDataErased", ERASED),
        case(
            "data-erased-derived-category-ok",
            "PersonalDataErased",
            {"category": "profiles", "fields": ["segment"], "reason": "objection"},
        ),
        case(
            "data-erased-unknown-field",
            "PersonalDataErased",
            {**ERASED, "fields": ["billing_email", "shoe_size"]},
            (
                Rule.UNKNOWN_DATA_FIELD,
                "data.fields.shoe_size",
                "category 'billing' has no field 'shoe_size'",
            ),
        ),
        case(
            "data-erased-unknown-category-skips-fields",
            "PersonalDataErased",
            {**ERASED, "category": "hobbies"},
            unknown_category("data.category", "hobbies"),
        ),
        case(
            "data-erased-unknown-source", "PersonalDataErased", ERASED, UNKNOWN_SOURCE, source="fax"
        ),
        case("contract-started-ok", "ContractStarted", CONTRACT, source="datahub"),
        case(
            "contract-started-source-then-controller",
            "ContractStarted",
            {**CONTRACT, "controller": UNKNOWN_BUSINESS_ID},
            UNKNOWN_SOURCE,
            (
                Rule.UNKNOWN_CONTROLLER,
                "data.controller",
                f"controller {UNKNOWN_BUSINESS_ID} is not in notice {V1}",
            ),
            source="fax",
        ),
        case("contract-ended-ok", "ContractEnded", CONTRACT),
        case(
            "contract-ended-unknown-controller",
            "ContractEnded",
            {**CONTRACT, "controller": UNKNOWN_BUSINESS_ID},
            (
                Rule.UNKNOWN_CONTROLLER,
                "data.controller",
                f"controller {UNKNOWN_BUSINESS_ID} is not in notice {V1}",
            ),
        ),
        case("consent-ok", "ConsentGranted", CONSENT),
        case(
            "consent-under-a-published-version", "ConsentGranted", {**CONSENT, "notice_version": V1}
        ),
        case(
            "consent-unknown-purpose-only-reported-once",
            "ConsentGranted",
            {**CONSENT, "purpose": "lottery"},
            unknown_purpose("data.purpose", "lottery"),
        ),
        case(
            "consent-for-a-contract-purpose",
            "ConsentGranted",
            {**CONSENT, "purpose": "billing"},
            (
                Rule.CONSENT_NOT_A_BASIS,
                "data.purpose",
                f"purpose 'billing' does not rest on consent in notice {V1}",
            ),
        ),
        case(
            "consent-under-an-unpublished-version",
            "ConsentGranted",
            {**CONSENT, "notice_version": "1999"},
            (
                Rule.UNKNOWN_NOTICE_VERSION,
                "data.notice_version",
                "notice version '1999' was never published",
            ),
        ),
        case(
            "consent-expiring-when-granted",
            "ConsentGranted",
            {**CONSENT, "expires_at": OCCURRED_AT.isoformat()},
            (Rule.EXPIRES_BEFORE_GRANT, "data.expires_at", "expires_at must be after occurred_at"),
        ),
        case(
            "consent-expiring-before-granted",
            "ConsentGranted",
            {**CONSENT, "expires_at": (OCCURRED_AT - timedelta(days=1)).isoformat()},
            (Rule.EXPIRES_BEFORE_GRANT, "data.expires_at", "expires_at must be after occurred_at"),
        ),
        case(
            "consent-expiring-after-granted",
            "ConsentGranted",
            {**CONSENT, "expires_at": (OCCURRED_AT + timedelta(seconds=1)).isoformat()},
        ),
        case("consent-unknown-source", "ConsentGranted", CONSENT, UNKNOWN_SOURCE, source="fax"),
        case("withdrawal-ok", "ConsentWithdrawn", WITHDRAWAL, source="data_subject"),
        case(
            "withdrawal-unknown-purpose",
            "ConsentWithdrawn",
            {**WITHDRAWAL, "purpose": "lottery"},
            unknown_purpose("data.purpose", "lottery"),
        ),
        case(
            "withdrawal-unknown-source",
            "ConsentWithdrawn",
            WITHDRAWAL,
            UNKNOWN_SOURCE,
            source="fax",
        ),
        case("objection-ok", "ObjectionRecorded", {"purpose": "marketing"}),
        case(
            "objection-unknown-purpose",
            "ObjectionRecorded",
            {"purpose": "lottery"},
            unknown_purpose("data.purpose", "lottery"),
        ),
        case("profile-ok", "ProfileDerived", PROFILE, source="web_services"),
        case("profile-missing-source", "ProfileDerived", PROFILE, MISSING_SOURCE),
        case(
            "profile-into-a-category-that-is-not-derived-skips-fields",
            "ProfileDerived",
            {**PROFILE, "category": "billing"},
            (
                Rule.CATEGORY_NOT_DERIVED,
                "data.category",
                "category 'billing' is not a derived category",
            ),
            source="web_services",
        ),
        case(
            "profile-unknown-category",
            "ProfileDerived",
            {**PROFILE, "category": "hobbies"},
            unknown_category("data.category", "hobbies"),
            source="web_services",
        ),
        case(
            "profile-invalid-value",
            "ProfileDerived",
            {**PROFILE, "fields": {"score": "high"}},
            (Rule.INVALID_VALUE, "data.fields.score", "must be a valid number"),
            source="web_services",
        ),
        case(
            "profile-everything-wrong-in-order",
            "ProfileDerived",
            {
                **PROFILE,
                "fields": {"shoe_size": 44},
                "purpose": "lottery",
                "derived_from": ["billing", "hobbies"],
            },
            MISSING_SOURCE,
            (
                Rule.UNKNOWN_DATA_FIELD,
                "data.fields.shoe_size",
                "category 'profiles' has no field 'shoe_size'",
            ),
            unknown_purpose("data.purpose", "lottery"),
            unknown_category("data.derived_from.1", "hobbies"),
        ),
        case("disclosure-ok", "DataDisclosed", DISCLOSURE),
        case(
            "disclosure-in-the-contracts-shape-needs-no-controller",
            "DataDisclosed",
            {k: v for k, v in DISCLOSURE.items() if k != "controller"},
        ),
        case(
            "disclosure-by-a-controller-whose-purpose-it-is-not",
            "DataDisclosed",
            {
                **DISCLOSURE,
                "recipient": "it-services",
                "purpose": "marketing",
                "controller": NETWORK,
            },
            not_for_purpose("marketing", NETWORK),
        ),
        case("processing-of-a-one-controller-purpose-implies-it", "DataProcessed", PROCESSING),
        case(
            "processing-by-the-named-controller",
            "DataProcessed",
            {**PROCESSING, "controller": RETAIL, "reference": "campaign-7"},
        ),
        case(
            "processing-checks-purpose-categories-and-controller",
            "DataProcessed",
            {**PROCESSING, "purpose": "billing", "categories": ["shoes"]},
            unknown_category("data.categories.0", "shoes"),
            controller_required("billing"),
        ),
        case(
            "processing-by-the-wrong-controller",
            "DataProcessed",
            {**PROCESSING, "controller": NETWORK},
            not_for_purpose("marketing", NETWORK),
        ),
        case(
            "consent-to-a-controller-whose-purpose-it-is-not",
            "ConsentGranted",
            {**CONSENT, "controller": NETWORK},
            not_for_purpose("marketing", NETWORK),
        ),
        case(
            "consent-to-the-joint-controllers-of-a-shared-purpose",
            "ConsentGranted",
            {**CONSENT, "purpose": "development"},
        ),
        case(
            "objection-to-an-unknown-controller",
            "ObjectionRecorded",
            {"purpose": "marketing", "controller": UNKNOWN_BUSINESS_ID},
            (
                Rule.UNKNOWN_CONTROLLER,
                "data.controller",
                f"controller {UNKNOWN_BUSINESS_ID} is not in notice {V1}",
            ),
        ),
        case("withdrawal-addressed-to-every-controller", "ConsentWithdrawn", WITHDRAWAL),
        case(
            "disclosure-purpose-outside-agreement-is-a-finding-not-a-violation",
            "DataDisclosed",
            {**DISCLOSURE, "purpose": "marketing"},
        ),
        case(
            "disclosure-to-a-registered-recipient",
            "DataDisclosed",
            {**DISCLOSURE, "recipient": "mailer"},
            recipients={"mailer"},
        ),
        case(
            "disclosure-everything-wrong-in-order",
            "DataDisclosed",
            {"recipient": "acme", "categories": ["billing", "hobbies"], "purpose": "lottery"},
            UNKNOWN_SOURCE,
            unknown_purpose("data.purpose", "lottery"),
            unknown_category("data.categories.1", "hobbies"),
            (
                Rule.UNKNOWN_RECIPIENT,
                "data.recipient",
                "recipient 'acme' is neither in the notice nor registered",
            ),
            source="fax",
        ),
        case("recipient-registered-ok", "RecipientRegistered", RECIPIENT),
        case(
            "recipient-registered-unknown-purpose",
            "RecipientRegistered",
            {**RECIPIENT, "purposes": ["marketing", "lottery"]},
            unknown_purpose("data.purposes.1", "lottery"),
        ),
        case(
            "recipient-registered-unknown-source",
            "RecipientRegistered",
            RECIPIENT,
            UNKNOWN_SOURCE,
            source="fax",
        ),
        case("recipient-ended-named-in-the-notice", "RecipientEnded", RECIPIENT_END),
        case(
            "recipient-ended-registered-earlier",
            "RecipientEnded",
            {**RECIPIENT_END, "id": "mailer"},
            recipients={"mailer"},
        ),
        case(
            "recipient-ended-unknown",
            "RecipientEnded",
            {**RECIPIENT_END, "id": "acme"},
            (
                Rule.UNKNOWN_RECIPIENT,
                "data.id",
                "recipient 'acme' is neither in the notice nor registered",
            ),
        ),
        case(
            "recipient-ended-unknown-source",
            "RecipientEnded",
            RECIPIENT_END,
            UNKNOWN_SOURCE,
            source="fax",
        ),
        case("decision-ok", "AutomatedDecisionMade", DECISION),
        case(
            "decision-unknown-purpose",
            "AutomatedDecisionMade",
            {**DECISION, "purpose": "lottery"},
            unknown_purpose("data.purpose", "lottery"),
        ),
    ],
)
def test_each_line_type_is_checked_against_the_notice_in_force(
    notice: NoticeVersion, row: Row
) -> None:
    ctx = context(notice, line(row.kind, row.data, row.source), recipients=row.recipients)

    assert check_line(ctx) == violations(row.kind, *row.expected)


def with_preferences(raw: dict[str, Any]) -> None:
    """Add a category with a boolean field (the example register has none)."""
    raw["categories"].append(
        {"id": "preferences", "description": "Settings.", "fields": {"newsletter": "boolean"}}
    )
    raw["retention"].append(
        {"category": "preferences", "period": "P1Y", "starts": "recorded", "statement": "1 year."}
    )


@pytest.mark.parametrize(
    ("category", "field", "value", "expected"),
    [
        pytest.param("customer_basic", "name", "Matti Meikäläinen", None, id="text"),
        pytest.param("customer_basic", "name", "x" * 2000, None, id="text-2000-chars"),
        pytest.param(
            "customer_basic",
            "name",
            "x" * 2001,
            (Rule.INVALID_VALUE, "must be a valid text"),
            id="text-2001-chars",
        ),
        pytest.param(
            "customer_basic",
            "name",
            "",
            (Rule.INVALID_VALUE, "must be a valid text"),
            id="text-empty",
        ),
        pytest.param(
            "customer_basic",
            "name",
            7,
            (Rule.INVALID_VALUE, "must be a valid text"),
            id="text-number",
        ),
        pytest.param("billing", "billing_email", "laskut@example.fi", None, id="email"),
        pytest.param(
            "billing",
            "billing_email",
            "laskut at example",
            (Rule.INVALID_VALUE, "must be a valid email"),
            id="email-without-at",
        ),
        pytest.param("billing", "billing_phone", "+358 (40) 123-4567", None, id="phone"),
        pytest.param(
            "billing",
            "billing_phone",
            "call me",
            (Rule.INVALID_VALUE, "must be a valid phone"),
            id="phone-letters",
        ),
        pytest.param("cookies", "visit_date", "2024-05-01", None, id="date"),
        pytest.param(
            "cookies",
            "visit_date",
            "1.5.2024",
            (Rule.INVALID_VALUE, "must be a valid date"),
            id="date-finnish-style",
        ),
        pytest.param("metering_point", "consumption", 1234.5, None, id="number-float"),
        pytest.param("metering_point", "consumption", 1234, None, id="number-int"),
        pytest.param(
            "metering_point",
            "consumption",
            "1234",
            (Rule.INVALID_VALUE, "must be a valid number"),
            id="number-as-text",
        ),
        pytest.param(
            "metering_point",
            "consumption",
            True,
            (Rule.INVALID_VALUE, "must be a valid number"),
            id="number-boolean",
        ),
        pytest.param("preferences", "newsletter", False, None, id="boolean"),
        pytest.param(
            "preferences",
            "newsletter",
            "yes",
            (Rule.INVALID_VALUE, "must be a valid boolean"),
            id="boolean-text",
        ),
        pytest.param("customer_basic", "personal_identity_code", "131052-308T", None, id="pic"),
        pytest.param(
            "customer_basic",
            "personal_identity_code",
            "131052-308A",
            (Rule.INVALID_PERSONAL_IDENTITY_CODE, "the check character does not match"),
            id="pic-wrong-check-character",
        ),
        pytest.param(
            "customer_basic",
            "personal_identity_code",
            131052308,
            (Rule.INVALID_PERSONAL_IDENTITY_CODE, "must be text"),
            id="pic-number",
        ),
        pytest.param("contact_person", "company_business_id", "0112038-9", None, id="business-id"),
        pytest.param(
            "contact_person",
            "company_business_id",
            "0112038-8",
            (Rule.INVALID_BUSINESS_ID, "the check digit does not match"),
            id="business-id-wrong-check-digit",
        ),
        pytest.param(
            "contact_person",
            "company_business_id",
            1120389,
            (Rule.INVALID_BUSINESS_ID, "must be text"),
            id="business-id-number",
        ),
    ],
)
def test_recorded_values_must_fit_their_field_type_and_are_never_quoted(
    make_notice: MakeNotice,
    category: str,
    field: str,
    value: ev.FieldValue,
    expected: tuple[Rule, str] | None,
) -> None:
    notice = make_notice(V1, OCCURRED_AT - timedelta(days=1), with_preferences)
    data = {"category": category, "fields": {field: value}}
    ctx = context(notice, line("PersonalDataRecorded", data, "web_forms"))

    found = check_line(ctx)

    if expected is None:
        assert found == []
    else:
        rule, message = expected
        assert found == violations("PersonalDataRecorded", (rule, f"data.fields.{field}", message))
        assert str(value) == "" or str(value) not in found[0].message


def test_consent_under_a_version_that_does_not_list_the_purpose_is_refused(
    make_notice: MakeNotice,
) -> None:
    def with_newsletter(raw: dict[str, Any]) -> None:
        raw["purposes"].append(
            {"id": "newsletter", "description": "The monthly newsletter.", "bases": ["consent"]}
        )

    v1 = make_notice()
    v2 = make_notice("2024", datetime(2024, 1, 1, tzinfo=UTC), with_newsletter)
    data = {**CONSENT, "purpose": "newsletter", "notice_version": V1}
    ctx = context(v2, line("ConsentGranted", data), notices=NoticeHistory([v1, v2]))

    assert check_line(ctx) == violations(
        "ConsentGranted",
        (
            Rule.PURPOSE_NOT_IN_NOTICE,
            "data.notice_version",
            "notice 2021-06-03 does not list purpose 'newsletter'",
        ),
    )


@pytest.mark.parametrize(
    ("occurred_at", "expected_rule", "expected_message"),
    [
        pytest.param(OCCURRED_AT, None, None, id="in-force"),
        pytest.param(NOW + timedelta(minutes=5), None, None, id="five-minutes-ahead-is-skew"),
        pytest.param(
            NOW + timedelta(minutes=5, microseconds=1),
            Rule.OCCURRED_IN_FUTURE,
            "occurred_at is in the future of the ledger's clock",
            id="more-than-five-minutes-ahead",
        ),
        pytest.param(
            datetime(2021, 6, 2, 20, 59, 59, tzinfo=UTC),
            Rule.NO_NOTICE_IN_FORCE,
            "no version of the privacy notice was in force at occurred_at",
            id="before-the-first-notice",
        ),
    ],
)
def test_a_line_is_checked_against_the_notice_in_force_at_occurred_at_unless_in_the_future(
    notices: NoticeHistory,
    occurred_at: datetime,
    expected_rule: Rule | None,
    expected_message: str | None,
) -> None:
    parsed = line("ObjectionRecorded", {"purpose": "marketing"})

    found, problems = notice_in_force(INDEX, parsed, occurred_at, notices, NOW)

    if expected_rule is None:
        assert found is not None
        assert found.version == V1
        assert problems == []
    else:
        assert found is None
        assert problems == [
            Violation(INDEX, "ObjectionRecorded", "occurred_at", expected_rule, expected_message)
        ]


@pytest.mark.parametrize(
    ("derived_from", "held", "expected"),
    [
        pytest.param(["billing", "cookies"], {"billing", "cookies"}, [], id="all-held"),
        pytest.param(
            ["billing", "cookies"],
            {"billing"},
            [("data.derived_from.1", "the subject has no 'cookies' data to derive from")],
            id="one-missing",
        ),
        pytest.param(["hobbies"], set(), [], id="unknown-category-left-to-check-category"),
    ],
)
def test_a_profile_is_derived_only_from_categories_the_subject_has_data_in(
    notice: NoticeVersion,
    derived_from: list[str],
    held: set[str],
    expected: list[tuple[str, str]],
) -> None:
    data = {**PROFILE, "derived_from": derived_from}
    ctx = context(notice, line("ProfileDerived", data, "web_services"))

    found = check_derivation(ctx, ev.ProfileDerivedData.model_validate(data), held)

    assert found == violations(
        "ProfileDerived",
        *((Rule.DERIVED_FROM_MISSING_DATA, field, message) for field, message in expected),
    )


@pytest.mark.parametrize(
    "line_class",
    [pytest.param(c, id=c.__name__) for c in typing.get_args(typing.get_args(ev.AppendLine)[0])],
)
def test_every_appendable_line_type_has_its_own_rule_function(line_class: type[Any]) -> None:
    data_class = line_class.model_fields["data"].annotation

    assert rules._check_data.dispatch(data_class) is not rules._check_data.dispatch(object)


def test_data_of_no_registered_type_breaks_no_rule(notice: NoticeVersion) -> None:
    ctx = context(notice, line("ObjectionRecorded", {"purpose": "lottery"}))

    assert rules._check_data(None, ctx) == []


def test_field_checks_leave_an_unknown_category_to_the_category_check(
    notice: NoticeVersion,
) -> None:
    ctx = context(notice, line("PersonalDataRecorded", RECORDED, "web_forms"))

    assert rules.check_fields(ctx, "hobbies", ["shoe_size"], {"shoe_size": 44}) == []
