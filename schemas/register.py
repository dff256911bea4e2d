"""The register definition: what a privacy notice promises, as data.

A definition file (TOML, see ``examples/register.toml``) is validated into a
``RegisterDefinition`` and published into the ledger as a ``NoticePublished``
event; every append is checked against the version in force at its occurred_at.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from schemas.base import (
    MAX_PERIOD_YEARS,
    BusinessId,
    Code,
    CountryCode,
    Frozen,
    RecipientId,
    Text,
    Timestamp,
    printable,
)

EEA_COUNTRIES = frozenset(
    ("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
     "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
     "AX", "GF", "GP", "MQ", "RE", "YT", "MF", "IC", "EA")
)  # fmt: skip
"""EU member states, the other EEA states (Iceland, Liechtenstein, Norway) and the parts
of the EU with ISO 3166-1 codes of their own, where the GDPR applies as in the member
state: the Aland Islands AX (Art. 355(4) TFEU, Protocol No 2 to the 1994 Act of
Accession), the outermost regions of Art. 349 and 355(1) TFEU: French Guiana GF,
Guadeloupe GP, Martinique MQ, Reunion RE, Mayotte YT, Saint-Martin MF (the Azores and
Madeira are PT, the Canary Islands ES or the reserved IC), and Ceuta and Melilla (ES or
the reserved EA). Not in it: the overseas countries and territories of Annex II TFEU
(Greenland GL, Saint Barthelemy BL, New Caledonia NC, ...), the Faroe Islands FO
(Art. 355(5)(a)), and Svalbard and Jan Mayen SJ (EEA Agreement, Protocol 40: not
Svalbard), which need a transfer ground."""


def _absent(value: object) -> bool:
    """Leave an optional field added later out of a definition's dump when it is not given.

    A definition without it (a notice stored before the field existed) then dumps, and
    so stores and reads back, exactly as before.
    """
    return value is None


LanguageCode = Annotated[
    str,
    Field(pattern=r"^[a-z]{2,3}$", description="An ISO 639 language code: en, fi, sv."),
]
"""A language a label is written in (lower case, two or three letters)."""

Labels = Annotated[
    dict[LanguageCode, Text],
    Field(
        min_length=1,
        description=(
            "The same words in several languages, by ISO 639 code:"
            ' { en = "Billing", fi = "Laskutus" }.'
        ),
    ),
]
"""Readable names or sentences for the access package, one per language."""

DpvIri = Annotated[
    str,
    Field(
        pattern=r"^https://w3id\.org/dpv(/[a-z0-9\-]+)*#[A-Za-z0-9][A-Za-z0-9_\-]*$",
        max_length=200,
        examples=["https://w3id.org/dpv#ServiceProvision", "https://w3id.org/dpv/pd#Name"],
    ),
]
"""A concept of the W3C Data Privacy Vocabulary or one of its extensions (dpv-pd, ...)."""

DpvConcepts = tuple[DpvIri, ...]

_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]{0,29}(/[A-Za-z0-9][A-Za-z0-9_+\-]{0,29}){0,2}")
"""An IANA zone's shape (used with ``fullmatch``): Europe/Helsinki, UTC, America/Port-au-Prince."""


def _check_time_zone(value: str, info: ValidationInfo) -> str:
    """An IANA time zone name this machine knows; a stored notice is read as written."""
    if (info.context or {}).get("recorded"):
        return value
    if _ZONE_NAME.fullmatch(value) is None:
        raise PydanticCustomError(
            "invalid_time_zone", "must be an IANA time zone name such as Europe/Helsinki"
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise PydanticCustomError(
            "unknown_time_zone",
            "is not a zone of the IANA time zone database (e.g. Europe/Helsinki)",
        ) from None
    return value


TimeZone = Annotated[str, AfterValidator(_check_time_zone), Field(examples=["Europe/Helsinki"])]
"""An IANA time zone name, checked with ``zoneinfo``."""

LogicKey = Annotated[str, Field(min_length=1, max_length=200), printable(free_text=False)]
"""The ``logic`` an AutomatedDecisionMade line names (a model or rule set id)."""


def _optional(description: str, **extra: Any) -> Any:
    """An optional field added after the contract: absent from dumps when not given."""
    return Field(None, description=description, exclude_if=_absent, **extra)


LABEL_DOC = "Readable name per language for the access package; absent: the description."
DPV_DOC = "W3C DPV concepts this stands for (IRIs), given beside the id in exports."


class Logic(Frozen):
    """Meaningful information about the logic involved (GDPR Art. 13(2)(f), 15(1)(h))."""

    explanation: Labels = Field(
        description="How it works: which data it uses and what decides, per language."
    )
    consequences: Labels | None = _optional(
        "The significance and the envisaged consequences for the person, per language."
    )


class LegalBasis(StrEnum):
    """GDPR Art. 6(1) lawful bases."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"


class Safeguard(StrEnum):
    """Grounds for a transfer outside the EU/EEA (GDPR Chapter V)."""

    ADEQUACY_DECISION = "adequacy_decision"  # Art. 45
    STANDARD_CONTRACTUAL_CLAUSES = "standard_contractual_clauses"  # Art. 46(2)(c)
    BINDING_CORPORATE_RULES = "binding_corporate_rules"  # Art. 47
    CODE_OF_CONDUCT = "code_of_conduct"  # Art. 46(2)(e)
    CERTIFICATION = "certification"  # Art. 46(2)(f)
    DEROGATION = "derogation"  # Art. 49


class FieldType(StrEnum):
    """How a field's values are checked on append."""

    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    NUMBER = "number"
    BOOLEAN = "boolean"
    PERSONAL_IDENTITY_CODE = "personal_identity_code"
    BUSINESS_ID = "business_id"


class RecipientRole(StrEnum):
    """What a recipient is to the controllers."""

    PROCESSOR = "processor"
    AUTHORITY = "authority"
    CONTROLLER = "controller"


class Controller(Frozen):
    """A (joint) controller of the register."""

    business_id: BusinessId
    name: Text
    address: Text | None = None
    phone: Annotated[str, printable(free_text=False)] | None = None


class PrivacyContact(Frozen):
    """Where data subjects send questions and requests."""

    email: Annotated[
        str,
        Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254),
        printable(free_text=False),
    ]
    name: Text | None = None


class Purpose(Frozen):
    """A processing purpose and the lawful bases it may rest on."""

    id: Code
    description: Text
    bases: tuple[LegalBasis, ...] = Field(min_length=1)
    direct_marketing: bool = Field(
        False,
        description=(
            "Direct marketing, or profiling related to it: an objection (Art. 21(2)-(3)), a"
            " withdrawal of consent to it and an erasure request end every basis at once."
        ),
    )
    ends_with_objection_to: tuple[Code, ...] = Field(
        (),
        description=(
            "Direct-marketing purposes whose objection (or consent withdrawal) also ends this"
            " one, e.g. profiling related to marketing (Art. 21(2): 'which includes profiling')."
        ),
    )
    controllers: tuple[BusinessId, ...] = Field(
        (),
        description=(
            "The controllers whose purpose this is (Art. 26); empty: every controller of the"
            " register. A contract with one controller is a basis only for its purposes."
        ),
    )
    note: Text | None = None
    label: Labels | None = _optional(LABEL_DOC)
    dpv: DpvConcepts | None = _optional(DPV_DOC)


class Category(Frozen):
    """A category of personal data and the fields it holds."""

    id: Code
    description: Text
    fields: dict[Code, FieldType] = Field(min_length=1)
    derived: bool = Field(False, description="Built from other categories (profiles).")
    controller: BusinessId | None = Field(
        None, description="The controller the data belongs to, if only one."
    )
    label: Labels | None = _optional(LABEL_DOC)
    field_labels: dict[Code, Labels] | None = _optional(
        "Readable names of the fields per language; a field without one is shown by its"
        " name in words, a label for a field the category lacks is not shown."
    )
    dpv: DpvConcepts | None = _optional(DPV_DOC)
    logic: Logic | None = _optional(
        "For a derived category (profiles): how it is built and what it means for the"
        " person (GDPR Art. 15(1)(h))."
    )

    @model_validator(mode="after")
    def _logic_only_when_derived(self) -> Self:
        if self.logic is not None and not self.derived:
            raise PydanticCustomError(
                "logic_not_derived", "only a derived category may state its logic"
            )
        return self


class Source(Frozen):
    """Where personal data comes from (GDPR Art. 14(2)(f))."""

    id: Code
    description: Text
    label: Labels | None = _optional(LABEL_DOC)
    dpv: DpvConcepts | None = _optional(DPV_DOC)


class Recipient(Frozen):
    """A recipient (or category of recipients) named in the notice."""

    id: RecipientId
    name: Text
    role: RecipientRole
    country: CountryCode
    purposes: tuple[Code, ...] = Field(min_length=1)
    safeguard: Safeguard | None = None
    label: Labels | None = _optional("The recipient's name per language; absent: the name.")

    @model_validator(mode="after")
    def _transfer_needs_safeguard(self) -> Self:
        if self.country not in EEA_COUNTRIES and self.safeguard is None:
            raise PydanticCustomError(
                "transfer_without_safeguard",
                "a recipient outside the EU/EEA needs a safeguard",
            )
        return self


_PERIOD = re.compile(r"P(?:([0-9]{1,5})Y)?(?:([0-9]{1,5})M)?(?:([0-9]{1,6})D)?")
"""Used with ``fullmatch`` (ASCII digits, nothing after); the total is capped below."""


class RetentionRule(Frozen):
    """How long a category is kept, from what, and on which legal ground."""

    category: Code
    period: str = Field(description="ISO 8601 duration in years, months, days: P10Y, P6M.")
    starts: Literal["recorded", "contract_ended", "consent_withdrawn"]
    end_of_year: bool = Field(
        False,
        description="Counted from the end of the calendar year the start falls in.",
    )
    legal_reference: Text | None = None
    statement: Text
    label: Labels | None = _optional("The statement per language; absent: the statement.")

    @model_validator(mode="after")
    def _period_parses(self) -> Self:
        if _PERIOD.fullmatch(self.period) is None or self.period == "P":
            raise PydanticCustomError(
                "invalid_period", "period must look like P10Y, P6M, P30D or P2Y6M"
            )
        years, months, days = self.period_parts
        if years * 365.25 + months * 30.4375 + days > MAX_PERIOD_YEARS * 365.25:
            raise PydanticCustomError(
                "invalid_period",
                "a retention period may be at most {years} years",
                {"years": MAX_PERIOD_YEARS},
            )
        return self

    @property
    def period_parts(self) -> tuple[int, int, int]:
        """The period as (years, months, days)."""
        match = _PERIOD.fullmatch(self.period)
        assert match is not None  # noqa: S101 - checked by the validator
        return tuple(int(g or 0) for g in match.groups())  # type: ignore[return-value]


class AutomatedDecisions(Frozen):
    """The notice's statement on automated decision-making (GDPR Art. 22)."""

    exists: bool
    statement: Text
    label: Labels | None = _optional("The statement per language; absent: the statement.")
    logic: dict[LogicKey, Logic] | None = _optional(
        "Meaningful information about the logic of each automated decision (GDPR"
        " Art. 15(1)(h)), by the `logic` its AutomatedDecisionMade lines name."
    )

    @model_validator(mode="after")
    def _logic_needs_decisions(self) -> Self:
        if self.logic is not None and not self.exists:
            raise PydanticCustomError(
                "logic_without_decisions",
                "logic is stated for automated decisions the register says do not exist",
            )
        return self


class RegisterDefinition(Frozen):
    """One version of a register's privacy notice, as data."""

    name: Text
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
    effective_from: Timestamp | None = Field(
        None,
        description="When this version takes effect, unless given when publishing.",
    )
    language: str = "en"
    controllers: tuple[Controller, ...] = Field(min_length=1)
    privacy_contact: PrivacyContact
    purposes: tuple[Purpose, ...] = Field(min_length=1)
    categories: tuple[Category, ...] = Field(min_length=1)
    sources: tuple[Source, ...] = Field(min_length=1)
    recipients: tuple[Recipient, ...] = ()
    retention: tuple[RetentionRule, ...]
    automated_decisions: AutomatedDecisions
    security: Text | None = None
    rights: tuple[Text, ...] = ()
    label: Labels | None = _optional("The register's name per language; absent: the name.")
    time_zone: TimeZone | None = _optional(
        "The IANA time zone the access package shows times in (e.g. Europe/Helsinki); absent: UTC."
    )
    rights_label: dict[LanguageCode, tuple[Text, ...]] | None = _optional(
        "The rights in other languages, by ISO 639 code; absent for a language: `rights`."
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        for name, ids in (
            ("controllers", [c.business_id for c in self.controllers]),
            ("purposes", [p.id for p in self.purposes]),
            ("categories", [c.id for c in self.categories]),
            ("sources", [s.id for s in self.sources]),
            ("recipients", [r.id for r in self.recipients]),
        ):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise PydanticCustomError(
                    "duplicate_id",
                    "{name} repeat an id: {ids}",
                    {"name": name, "ids": duplicates},
                )
        purposes = {p.id for p in self.purposes}
        controllers = {c.business_id for c in self.controllers}
        for recipient in self.recipients:
            unknown = sorted(set(recipient.purposes) - purposes)
            if unknown:
                raise PydanticCustomError(
                    "unknown_purpose",
                    "recipient {r} names unknown purposes {p}",
                    {"r": recipient.id, "p": unknown},
                )
        for purpose in self.purposes:
            stray = sorted(set(purpose.controllers) - controllers)
            if stray:
                raise PydanticCustomError(
                    "unknown_controller",
                    "purpose {p} names a controller that is not in the register",
                    {"p": purpose.id},
                )
            unknown = sorted(set(purpose.ends_with_objection_to) - purposes)
            if unknown:
                raise PydanticCustomError(
                    "unknown_purpose",
                    "purpose {p} ends with objections to unknown purposes {u}",
                    {"p": purpose.id, "u": unknown},
                )
        for category in self.categories:
            if category.controller is not None and category.controller not in controllers:
                raise PydanticCustomError(
                    "unknown_controller",
                    "category {c} names a controller that is not in the register",
                    {"c": category.id},
                )
        ruled = [r.category for r in self.retention]
        categories = {c.id for c in self.categories}
        missing = sorted(categories - set(ruled))
        stray = sorted(set(ruled) - categories)
        twice = sorted({c for c in ruled if ruled.count(c) > 1})
        if missing or stray or twice:
            raise PydanticCustomError(
                "retention_incomplete",
                "every category needs exactly one retention rule"
                " (missing: {m}, unknown: {s}, repeated: {t})",
                {"m": missing, "s": stray, "t": twice},
            )
        return self

    def purpose(self, purpose_id: str) -> Purpose | None:
        """The purpose with this id, if the register has it."""
        return next((p for p in self.purposes if p.id == purpose_id), None)

    def controllers_of(self, purpose_id: str) -> tuple[str, ...]:
        """The controllers whose purpose this is (every controller when none is named)."""
        found = self.purpose(purpose_id)
        if found is None:
            return ()
        return found.controllers or tuple(c.business_id for c in self.controllers)

    def category(self, category_id: str) -> Category | None:
        """The category with this id, if the register has it."""
        return next((c for c in self.categories if c.id == category_id), None)
