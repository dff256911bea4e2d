"""THE event catalogue: every event type, its data, its NDJSON line and its record.

For each type there are three models:

* ``<Type>Data``: the type's own fields, the ``data`` object of the contract;
* ``<Type>Line``: one NDJSON line a service appends (the contract's envelope);
* ``<Type>``: the event as the ledger records it, with its stream (originator),
  both clocks and the appending actor; the stored topic is the type name itself,
  so renaming a class never strands stored events.

Adding a type: add the three classes here, add them to ``_CATALOGUE``, add a rule
in ``ledger/domain/rules.py`` if needed, run ``make schemas``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from schemas.base import BusinessId, Code, Frozen, Reference, Text, Timestamp, printable
from schemas.register import Recipient, RegisterDefinition

FieldValue = str | int | float | bool
"""A personal data value; encrypted at rest under its (subject, category) key."""

Actor = Annotated[
    str,
    Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$"),
    printable(free_text=False),
]
SubjectRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$",
        description="The service's opaque customer reference; never a personal identity code.",
    ),
]
IdempotencyKey = Annotated[str, Field(min_length=1, max_length=200), printable(free_text=False)]
NoticeVersion = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")]


# --- data: the `data` object of each type -------------------------------------------

CONTROLLER_DOC = (
    "The controller whose purpose this is (GDPR Art. 26). Optional when the purpose has"
    " exactly one controller in the notice in force; required when it has several."
)
ADDRESSED_DOC = "The controller it is given or addressed to; null: every controller of the purpose."


def _absent(value: object) -> bool:
    """Whether to leave an optional field added later out of the stored data.

    A line without it is then stored exactly as before the field existed.
    """
    return value is None


Withdrawer = Literal["subject", "controller", "other"]
"""Who withdrew a consent: the subject (withdrawn) or anyone else (revoked)."""


def _by_subject(value: object) -> bool:
    """Leave the default withdrawer out of the stored data (older lines store as before)."""
    return value == "subject"


class SubjectRegisteredData(Frozen):
    """A data subject enters the register under a controller."""

    kind: Literal["person", "contact_person"]
    controller: BusinessId


def _fields_present(value: dict[str, FieldValue], info: ValidationInfo) -> dict[str, FieldValue]:
    """Appends must carry values; a recorded event may have none left (crypto-shredded)."""
    if not value and not (info.context or {}).get("recorded"):
        raise PydanticCustomError("missing_field", "at least one field is needed")
    return value


class PersonalDataRecordedData(Frozen):
    """Values of one category's fields; replaces earlier values of those fields."""

    category: Code
    fields: dict[str, FieldValue] = Field(json_schema_extra={"minProperties": 1})
    upstream_reference: Reference | None = Field(
        None, description="The source's own reference for this datum (e.g. a Datahub message id)."
    )

    _present = field_validator("fields")(_fields_present)


class PersonalDataErasedData(Frozen):
    """The service no longer holds these fields (e.g. rectification by removal)."""

    category: Code
    fields: tuple[str, ...] = Field(min_length=1)
    reason: Text


class ContractStartedData(Frozen):
    """A contract between the subject and a controller starts."""

    controller: BusinessId
    contract: Reference
    metering_point: Reference | None = None


class ContractEndedData(Frozen):
    """A contract between the subject and a controller ends."""

    controller: BusinessId
    contract: Reference


class ConsentGrantedData(Frozen):
    """The subject consents to a purpose (Art. 7(1)), under a notice version."""

    purpose: Code
    channel: Code = Field(description="How it was given: web_form, phone, paper, ...")
    evidence: Reference = Field(description="Reference to the form, call or document.")
    notice_version: NoticeVersion | None = Field(
        None, description="The notice version agreed to; default: the one in force."
    )
    expires_at: Timestamp | None = None
    controller: BusinessId | None = Field(None, description=ADDRESSED_DOC, exclude_if=_absent)


class ConsentWithdrawnData(Frozen):
    """The subject withdraws consent to a purpose (Art. 7(3)) from occurred_at.

    For a direct-marketing purpose the withdrawal is also an objection (Art. 21(3)).
    """

    purpose: Code
    channel: Code
    controller: BusinessId | None = Field(None, description=ADDRESSED_DOC, exclude_if=_absent)
    withdrawn_by: Withdrawer = Field(
        "subject",
        description=(
            "Who withdrew it: `subject` (the data subject, or someone acting for them:"
            " dpv:ConsentWithdrawn), `controller` or `other` (another party, e.g. an"
            " authority: dpv:ConsentRevoked). Lawfulness is the same either way: the"
            " consent ends at occurred_at."
        ),
        exclude_if=_by_subject,
    )


class ObjectionRecordedData(Frozen):
    """The subject objects to a purpose (Art. 21); always wins for direct marketing."""

    purpose: Code
    controller: BusinessId | None = Field(None, description=ADDRESSED_DOC, exclude_if=_absent)


class ProfileDerivedData(Frozen):
    """A derived profile, with the categories it was derived from."""

    category: Code
    derived_from: tuple[Code, ...] = Field(min_length=1)
    purpose: Code
    fields: dict[str, FieldValue] = Field(json_schema_extra={"minProperties": 1})

    _present = field_validator("fields")(_fields_present)


class DataDisclosedData(Frozen):
    """Personal data of the subject was disclosed to a recipient."""

    recipient: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,63}$")]
    categories: tuple[Code, ...] = Field(min_length=1)
    purpose: Code
    reference: Reference | None = None
    controller: BusinessId | None = Field(None, description=CONTROLLER_DOC, exclude_if=_absent)


class DataProcessedData(Frozen):
    """A controller processed the subject's data in house (a newsletter sent, a segment run).

    Judged like a disclosure: with no lawful basis at that instant, or of erased data,
    it is recorded and flagged.
    """

    purpose: Code
    categories: tuple[Code, ...] = Field(min_length=1)
    activity: Code = Field(description="What was done, as a register-like name: newsletter_sent.")
    reference: Reference | None = Field(
        None, description="The processing service's own reference (a campaign or run id)."
    )
    controller: BusinessId | None = Field(None, description=CONTROLLER_DOC, exclude_if=_absent)


RESTRICTION_CATEGORIES_DOC = "The categories restricted; null: all of the subject's data."


class ProcessingRestrictedData(Frozen):
    """Processing of the subject's data is restricted (Art. 18(1)) from occurred_at.

    While it stands the controller may only store the data: any other processing of
    a restricted category (a disclosure, in-house processing, a profile, an automated
    decision) is recorded and flagged ``processing_while_restricted``.
    """

    categories: tuple[Code, ...] | None = Field(
        None, min_length=1, description=RESTRICTION_CATEGORIES_DOC, exclude_if=_absent
    )
    reason: Text = Field(description="Why, e.g. 'accuracy contested'; no personal data.")
    controller: BusinessId | None = Field(
        None,
        description="The controller that restricts; null: every controller.",
        exclude_if=_absent,
    )


class RestrictionLiftedData(Frozen):
    """A restriction of processing ends (Art. 18(3)) for the categories named, from occurred_at."""

    categories: tuple[Code, ...] | None = Field(
        None,
        min_length=1,
        description="The categories whose restriction is lifted; null: all of them.",
        exclude_if=_absent,
    )
    reason: Text = Field(description="Why, e.g. 'accuracy verified'; no personal data.")
    controller: BusinessId | None = Field(
        None,
        description="The controller that lifts it; null: every controller.",
        exclude_if=_absent,
    )


class RecipientNotifiedData(Frozen):
    """A recipient was told of a rectification, erasure or restriction (GDPR Art. 19).

    Closes what ``ledger notifications`` lists as owed to that recipient for the
    event at position ``regarding`` of the same subject.
    """

    recipient: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,63}$")]
    regarding: int = Field(
        ge=1,
        le=2**53 - 1,
        description=(
            "The log position of the subject's rectification (PersonalDataRecorded),"
            " erasure (PersonalDataErased, SubjectErased) or restriction"
            " (ProcessingRestricted) this notification answers."
        ),
    )
    reference: Reference | None = Field(
        None,
        description="The message's own reference (a letter or ticket id); no personal data.",
        exclude_if=_absent,
    )
    impossible: bool | None = Field(
        None,
        description="True: notifying proved impossible or disproportionate (Art. 19).",
        exclude_if=_absent,
    )
    reason: Text | None = Field(
        None,
        description="Why it was impossible or disproportionate; required with impossible.",
        exclude_if=_absent,
    )


class RecipientRegisteredData(Recipient):
    """A recipient and its agreement: purposes, country, transfer safeguard.

    Registering an id again changes the agreement from that event's occurred_at.
    """


class RecipientEndedData(Frozen):
    """A recipient's agreement ends; disclosures to it after this are findings."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,63}$")]
    reason: Text


class AutomatedDecisionMadeData(Frozen):
    """A decision about the subject was made by automated means (Art. 22)."""

    purpose: Code
    logic: Text = Field(description="What decided, e.g. a model or rule set id.")


class HeldCategory(Frozen):
    """A category an erasure could not destroy: a statutory retention rule keeps it."""

    category: Code
    rule: Text = Field(description="The retention rule's statement.")
    legal_reference: Text
    until: Timestamp | None = Field(
        description="When the hold ends; null while it cannot be known yet."
    )
    reason: Text = Field(description="Why the hold runs until then (e.g. a contract is running).")


class SubjectErasedData(Frozen):
    """Personal data of a subject was crypto-shredded; holds no personal data itself."""

    scope: Literal["subject", "category", "retention"]
    erased: tuple[Code, ...] = Field(description="Categories whose keys were destroyed.")
    held: tuple[HeldCategory, ...] = Field(description="Categories kept, and why and until when.")
    reason: Text = Field(description="Why (a request reference, 'retention period ended', ...).")
    reference_removed: bool = Field(
        description="The subject reference mapping was removed (nothing held any more)."
    )


class FindingEvidence(Frozen):
    """An event a finding rests on, by its place in the subject's stream."""

    version: int
    type: str


class FindingRecordedData(Frozen):
    """A recorded fact that breaks policy (record, then judge); holds no personal data."""

    rule: Literal[
        "disclosure_outside_agreement",
        "disclosure_to_ended_recipient",
        "disclosure_to_unregistered_recipient",
        "no_lawful_basis",
        "processing_without_consent",
        "automated_decision_not_in_notice",
        "erased_data_used",
        "held_data_used_outside_hold",
        "data_recorded_after_erasure",
        "consent_under_wrong_notice",
        "processing_while_restricted",
        "finding_lifted",
    ]
    message: Text
    event: FindingEvidence = Field(description="The event that was judged.")
    evidence: tuple[FindingEvidence, ...] = Field(description="The events behind the finding.")
    purpose: Code | None = None
    recipient: str | None = None
    notice_version: str | None = None
    revises: int | None = Field(
        None,
        description=(
            "Set when the event was judged again because a fact that occurred before it was"
            " recorded later: the judged event's stream version. Null: judged when appended."
        ),
        exclude_if=_absent,
    )
    because: FindingEvidence | None = Field(
        None,
        description="The late-recorded event that made the judged event be judged again.",
        exclude_if=_absent,
    )


class NoticePublishedData(Frozen):
    """A version of the register definition (the privacy notice) takes effect."""

    version: NoticeVersion
    effective_from: Timestamp
    digest: str = Field(description="SHA-256 of the definition file as published.")
    definition: RegisterDefinition


Role = Literal["service", "dpo", "auditor"]
"""The roles a token may have (the contract's "Serving over HTTP")."""

EventTypeName = Annotated[str, Field(pattern=r"^[A-Z][A-Za-z]{0,63}$")]
"""An event type's name, e.g. ``ConsentGranted``."""

TokenId = Annotated[str, Field(pattern=r"^tok_[0-9a-f]{16}$", examples=["tok_0123456789abcdef"])]
"""A token's public id: ``tok_`` and 16 hexadecimal digits."""

AccessPurpose = Annotated[
    str,
    Field(min_length=1, max_length=500, pattern=r"^\S(.*\S)?$"),
    printable(free_text=False),
]
"""Why personal data was read, as stated by the reader: one line, never personal data."""


class TokenIssuedData(Frozen):
    """An access token was issued; only the keyed digest of the token is recorded."""

    token_id: TokenId
    name: Actor = Field(description="Who the token is for; the actor of what it does.")
    role: Role
    types: tuple[EventTypeName, ...] | None = Field(
        description="A service token may append only these event types; null: any."
    )
    sources: tuple[Code, ...] | None = Field(
        description="A service token may append only lines of these sources; null: any."
    )
    expires_at: Timestamp | None = Field(description="When the token stops working; null: never.")
    digest: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="HMAC-SHA256 of the token under the ledger's index key (hex).",
    )


class TokenRevokedData(Frozen):
    """An access token was revoked: it no longer authenticates."""

    token_id: TokenId


class PersonalDataAccessedData(Frozen):
    """Decrypted personal data of the subject was read; holds no personal data itself."""

    token_id: TokenId | None = Field(description="The token used; null on the command line.")
    actor: Actor = Field(description="The token's name, or the OS user on the command line.")
    via: Literal["http", "cli"]
    what: Literal["subject", "export", "lineage"] = Field(
        description="The answer read: the subject view, the export, lineage with values."
    )
    categories: tuple[Code, ...] = Field(description="The categories the answer showed.")
    purpose: AccessPurpose = Field(
        description="The stated purpose (X-Access-Purpose, or --purpose on the command line)."
    )


# --- lines: what services append ----------------------------------------------------


class _Line(Frozen):
    occurred_at: Timestamp | None = None
    source: Code | None = None
    actor: Actor
    idempotency_key: IdempotencyKey | None = None


class _SubjectLine(_Line):
    subject: SubjectRef


class SubjectRegisteredLine(_SubjectLine):
    type: Literal["SubjectRegistered"]
    data: SubjectRegisteredData


class PersonalDataRecordedLine(_SubjectLine):
    type: Literal["PersonalDataRecorded"]
    data: PersonalDataRecordedData


class PersonalDataErasedLine(_SubjectLine):
    type: Literal["PersonalDataErased"]
    data: PersonalDataErasedData


class ContractStartedLine(_SubjectLine):
    type: Literal["ContractStarted"]
    data: ContractStartedData


class ContractEndedLine(_SubjectLine):
    type: Literal["ContractEnded"]
    data: ContractEndedData


class ConsentGrantedLine(_SubjectLine):
    type: Literal["ConsentGranted"]
    data: ConsentGrantedData


class ConsentWithdrawnLine(_SubjectLine):
    type: Literal["ConsentWithdrawn"]
    data: ConsentWithdrawnData


class ObjectionRecordedLine(_SubjectLine):
    type: Literal["ObjectionRecorded"]
    data: ObjectionRecordedData


class ProfileDerivedLine(_SubjectLine):
    type: Literal["ProfileDerived"]
    data: ProfileDerivedData


class DataDisclosedLine(_SubjectLine):
    type: Literal["DataDisclosed"]
    data: DataDisclosedData


class DataProcessedLine(_SubjectLine):
    type: Literal["DataProcessed"]
    data: DataProcessedData


class ProcessingRestrictedLine(_SubjectLine):
    type: Literal["ProcessingRestricted"]
    data: ProcessingRestrictedData


class RestrictionLiftedLine(_SubjectLine):
    type: Literal["RestrictionLifted"]
    data: RestrictionLiftedData


class RecipientNotifiedLine(_SubjectLine):
    type: Literal["RecipientNotified"]
    data: RecipientNotifiedData


class RecipientRegisteredLine(_Line):
    type: Literal["RecipientRegistered"]
    data: RecipientRegisteredData


class RecipientEndedLine(_Line):
    type: Literal["RecipientEnded"]
    data: RecipientEndedData


class AutomatedDecisionMadeLine(_SubjectLine):
    type: Literal["AutomatedDecisionMade"]
    data: AutomatedDecisionMadeData


AppendLine = Annotated[
    SubjectRegisteredLine
    | PersonalDataRecordedLine
    | PersonalDataErasedLine
    | ContractStartedLine
    | ContractEndedLine
    | ConsentGrantedLine
    | ConsentWithdrawnLine
    | ObjectionRecordedLine
    | ProfileDerivedLine
    | DataDisclosedLine
    | DataProcessedLine
    | ProcessingRestrictedLine
    | RestrictionLiftedLine
    | RecipientNotifiedLine
    | RecipientRegisteredLine
    | RecipientEndedLine
    | AutomatedDecisionMadeLine,
    Field(discriminator="type"),
]
"""One NDJSON line of ``ledger append``, discriminated by ``type``."""


# --- recorded events: what the log holds --------------------------------------------


class LedgerEvent(Frozen):
    """What every recorded event carries besides its data."""

    class_version: ClassVar[int] = 1

    originator_id: UUID = Field(
        description="The stream: a subject's internal id, or a register stream."
    )
    originator_version: int = Field(ge=1)
    type: str
    occurred_at: datetime = Field(description="When it happened in the world.")
    recorded_at: datetime = Field(description="When the ledger stored it.")
    actor: str
    source: str | None = None
    idempotency: str | None = Field(None, description="Keyed digest of the idempotency key.")
    erased: tuple[str, ...] = Field(
        (),
        description="Categories whose values were crypto-shredded (their key is destroyed).",
    )
    data: Any


class SubjectRegistered(LedgerEvent):
    type: Literal["SubjectRegistered"] = "SubjectRegistered"
    data: SubjectRegisteredData


class PersonalDataRecorded(LedgerEvent):
    class_version: ClassVar[int] = 2
    type: Literal["PersonalDataRecorded"] = "PersonalDataRecorded"
    data: PersonalDataRecordedData

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 2 adds the optional upstream reference."""
        state["data"] = {**state["data"], "upstream_reference": None}


class PersonalDataErased(LedgerEvent):
    type: Literal["PersonalDataErased"] = "PersonalDataErased"
    data: PersonalDataErasedData


class ContractStarted(LedgerEvent):
    type: Literal["ContractStarted"] = "ContractStarted"
    data: ContractStartedData


class ContractEnded(LedgerEvent):
    type: Literal["ContractEnded"] = "ContractEnded"
    data: ContractEndedData


class ConsentGranted(LedgerEvent):
    type: Literal["ConsentGranted"] = "ConsentGranted"
    data: ConsentGrantedData


class ConsentWithdrawn(LedgerEvent):
    type: Literal["ConsentWithdrawn"] = "ConsentWithdrawn"
    data: ConsentWithdrawnData


class ObjectionRecorded(LedgerEvent):
    type: Literal["ObjectionRecorded"] = "ObjectionRecorded"
    data: ObjectionRecordedData


class ProfileDerived(LedgerEvent):
    type: Literal["ProfileDerived"] = "ProfileDerived"
    data: ProfileDerivedData


class DataDisclosed(LedgerEvent):
    type: Literal["DataDisclosed"] = "DataDisclosed"
    data: DataDisclosedData


class DataProcessed(LedgerEvent):
    type: Literal["DataProcessed"] = "DataProcessed"
    data: DataProcessedData


class ProcessingRestricted(LedgerEvent):
    type: Literal["ProcessingRestricted"] = "ProcessingRestricted"
    data: ProcessingRestrictedData


class RestrictionLifted(LedgerEvent):
    type: Literal["RestrictionLifted"] = "RestrictionLifted"
    data: RestrictionLiftedData


class RecipientNotified(LedgerEvent):
    type: Literal["RecipientNotified"] = "RecipientNotified"
    data: RecipientNotifiedData


class RecipientRegistered(LedgerEvent):
    type: Literal["RecipientRegistered"] = "RecipientRegistered"
    data: RecipientRegisteredData


class RecipientEnded(LedgerEvent):
    type: Literal["RecipientEnded"] = "RecipientEnded"
    data: RecipientEndedData


class FindingRecorded(LedgerEvent):
    type: Literal["FindingRecorded"] = "FindingRecorded"
    data: FindingRecordedData


class AutomatedDecisionMade(LedgerEvent):
    type: Literal["AutomatedDecisionMade"] = "AutomatedDecisionMade"
    data: AutomatedDecisionMadeData


class SubjectErased(LedgerEvent):
    type: Literal["SubjectErased"] = "SubjectErased"
    data: SubjectErasedData


class NoticePublished(LedgerEvent):
    type: Literal["NoticePublished"] = "NoticePublished"
    data: NoticePublishedData


class TokenIssued(LedgerEvent):
    type: Literal["TokenIssued"] = "TokenIssued"
    data: TokenIssuedData


class TokenRevoked(LedgerEvent):
    type: Literal["TokenRevoked"] = "TokenRevoked"
    data: TokenRevokedData


class PersonalDataAccessed(LedgerEvent):
    type: Literal["PersonalDataAccessed"] = "PersonalDataAccessed"
    data: PersonalDataAccessedData


EVENT_TYPES: dict[str, type[LedgerEvent]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        SubjectRegistered,
        PersonalDataRecorded,
        PersonalDataErased,
        ContractStarted,
        ContractEnded,
        ConsentGranted,
        ConsentWithdrawn,
        ObjectionRecorded,
        ProfileDerived,
        DataDisclosed,
        DataProcessed,
        ProcessingRestricted,
        RestrictionLifted,
        RecipientNotified,
        RecipientRegistered,
        RecipientEnded,
        AutomatedDecisionMade,
        FindingRecorded,
        SubjectErased,
        NoticePublished,
        TokenIssued,
        TokenRevoked,
        PersonalDataAccessed,
    )
}
"""Stored topic (the contract's type name) -> recorded event class."""

LEDGER_WRITTEN_TYPES = frozenset(
    {
        "NoticePublished",
        "SubjectErased",
        "FindingRecorded",
        "TokenIssued",
        "TokenRevoked",
        "PersonalDataAccessed",
    }
)
"""Types only the ledger writes: notices (``ledger notice publish``), erasures (``ledger
erase``, ``ledger retention --apply``), findings, tokens (``ledger token``) and reads of
personal data (``ledger.access.records``)."""

APPENDABLE_TYPES = frozenset(EVENT_TYPES) - LEDGER_WRITTEN_TYPES
"""Types a service may append."""

SEALED_TYPES = frozenset({"PersonalDataRecorded", "ProfileDerived"})
"""Types whose ``data.fields`` values are encrypted under a (subject, category) key."""
