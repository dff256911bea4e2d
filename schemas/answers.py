"""What the ledger answers: append results, refused lines, audit trail entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from schemas import dpv
from schemas.base import Frozen

_TYPE_DPV = "The DPV concept of `type` (null where none fits)."


class _WithDpv(Frozen):
    """An answer part with computed DPV IRIs: parsing its own JSON back drops them."""

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in cls.model_computed_fields}
        return data


class RefusedLine(_WithDpv):
    """One problem with one input line (stderr of a refused call, exit 3)."""

    line: int = Field(description="1-based line number in the call's input.")
    type: str | None = Field(description="The line's event type, if it had one.")
    field: str | None = Field(description="Dotted path of the offending field.")
    rule: str = Field(description="The rule code (see ARCHITECTURE.md).")
    message: str

    @computed_field(description=_TYPE_DPV)  # type: ignore[prop-decorator]
    @property
    def type_dpv(self) -> str | None:
        """The DPV concept of the event type."""
        return dpv.event_type(self.type)


class _Keyed(_WithDpv):
    """A part that was a plain JSON object before it was typed: ``part["key"]`` still reads."""

    def __getitem__(self, key: str) -> Any:
        """The field (or computed DPV term) ``key``, as the object's key was read before."""
        if key in type(self).model_fields or key in type(self).model_computed_fields:
            return getattr(self, key)
        raise KeyError(key)


_RULE_DPV = (
    "The DPV / DPV GDPR concept the finding rule is about (see schemas.dpv.FINDING_RULES);"
    " null where none fits: `finding_lifted` (lifting an earlier finding has no DPV"
    " concept; its `status_dpv` is dpv:Lawful)."
)
_STATUS_DPV = (
    "The compliance status the finding records: dpv:Unlawful (no basis, uninformed"
    " consent), dpv:ComplianceViolation (the other rules), dpv:Lawful (`finding_lifted`)."
)


class AppendedFinding(_Keyed):
    """A finding in the append answer: about the line judged (or an earlier use of it)."""

    line: int = Field(description="The call's line the finding belongs to (1-based).")
    type: str = Field(description="The judged event's type.")
    subject: str | None
    rule: str
    message: str
    purpose: str | None
    recipient: str | None
    revises: int | None = Field(
        None,
        description="A late fact re-judged an earlier use: that use's stream version.",
        exclude_if=lambda v: v is None,
    )
    because: str | None = Field(
        None,
        description="The type of the late fact (the line) that re-judged the use.",
        exclude_if=lambda v: v is None,
    )

    @computed_field(description=_TYPE_DPV)  # type: ignore[prop-decorator]
    @property
    def type_dpv(self) -> str | None:
        """The DPV concept of the judged event's type."""
        return dpv.event_type(self.type)

    @computed_field(description=_RULE_DPV)  # type: ignore[prop-decorator]
    @property
    def rule_dpv(self) -> str | None:
        """The DPV concept of the finding rule."""
        return dpv.finding_rule(self.rule)

    @computed_field(description=_STATUS_DPV)  # type: ignore[prop-decorator]
    @property
    def status_dpv(self) -> str | None:
        """The compliance status of the finding."""
        return dpv.finding_status(self.rule)


class CheckpointHead(Frozen):
    """The signed checkpoint taken after a call: tree size and root (hex)."""

    size: int
    root: str


class AppendAnswer(Frozen):
    """``ledger append`` output."""

    appended: int
    duplicates: int
    last_position: int | None
    findings: list[AppendedFinding]
    committed_lines: int | None = Field(
        None,
        description="With --batch-size, when a batch was refused: lines committed before it.",
    )
    stopped_at_line: int | None = Field(
        None,
        description="With --batch-size, when a batch was refused: first line not committed.",
    )
    checkpoint: CheckpointHead | None = Field(
        None, description="The checkpoint signed after the call (every append call seals)."
    )


class TrailEntry(_WithDpv):
    """One event of a subject's audit trail."""

    position: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    source: str | None

    @computed_field(description=_TYPE_DPV)  # type: ignore[prop-decorator]
    @property
    def type_dpv(self) -> str | None:
        """The DPV concept of the event type."""
        return dpv.event_type(self.type)


class TrailAnswer(Frozen):
    """``ledger trail --json`` output."""

    subject: str
    events: list[TrailEntry]


ANSWERS: tuple[type[BaseModel], ...] = (RefusedLine, AppendAnswer, TrailAnswer)


class EvidenceRef(_WithDpv):
    """An event an answer rests on: its log position, type and Merkle leaf hash."""

    position: int
    type: str
    hash: str = Field(description="RFC 9162 leaf hash (hex) of the event as stored.")
    withdrawn_by: Literal["subject", "controller", "other"] | None = Field(
        None,
        description=(
            "A ConsentWithdrawn by someone other than the subject (a revocation,"
            " dpv:ConsentRevoked): who. Absent for other events and for the subject's own"
            " withdrawal."
        ),
        exclude_if=lambda v: v is None,
    )

    @computed_field(  # type: ignore[prop-decorator]
        description=_TYPE_DPV + " A ConsentWithdrawn by other than the subject: dpv:ConsentRevoked."
    )
    @property
    def type_dpv(self) -> str | None:
        """The DPV concept of the event type (a revocation is dpv:ConsentRevoked)."""
        if self.withdrawn_by not in (None, "subject"):
            return dpv.CONSENT_REVOKED
        return dpv.event_type(self.type)


class BasisInterval(_WithDpv):
    """A lawful basis holding from ``since`` until ``until`` (null: still holding)."""

    basis: str
    since: datetime
    until: datetime | None
    evidence: list[EvidenceRef]
    controller: str | None = Field(None, description="The controller the basis holds for.")
    ended_by: EvidenceRef | None = Field(
        None,
        description=(
            "The event that ended it (withdrawal, objection, erasure request, contract end);"
            " null while it holds or when it ran out (expiry, retention period, notice)."
        ),
    )

    @computed_field(description="The DPV GDPR IRI of `basis` (Art. 6(1)(a)-(f)).")  # type: ignore[prop-decorator]
    @property
    def basis_dpv(self) -> str | None:
        """The basis as a DPV GDPR IRI."""
        return dpv.basis(self.basis)


class ProcessedBasis(_WithDpv):
    """A processing event and whether a basis held at its instant, for its controller."""

    position: int
    activity: str
    controller: str | None
    occurred_at: datetime
    lawful: bool
    bases: list[str] = Field(description="The bases that held then (consent, contract, ...).")
    hash: str = Field(description="RFC 9162 leaf hash (hex) of the event as stored.")

    @computed_field(description="The DPV GDPR IRIs of `bases`, in order.")  # type: ignore[prop-decorator]
    @property
    def bases_dpv(self) -> list[str | None]:
        """The bases as DPV GDPR IRIs."""
        return [dpv.basis(b) for b in self.bases]

    @computed_field(description="The DPV processing concept: dpv:Use.")  # type: ignore[prop-decorator]
    @property
    def processing_dpv(self) -> str:
        """In-house processing as a DPV concept."""
        return dpv.USE


class RestrictionRef(Frozen):
    """A restriction of processing (Art. 18) standing at the instant asked about."""

    event: EvidenceRef = Field(description="The ProcessingRestricted that restricted it.")
    since: datetime
    categories: list[str] = Field(
        description="The categories it still restricts then (a lift may have freed some)."
    )
    controller: str | None = Field(description="The controller it binds; null: every one.")


class ControllerBasis(Frozen):
    """Whether processing was lawful for one controller of the purpose."""

    controller: str
    lawful: bool


class BasisAnswer(Frozen):
    """``ledger basis --json``: was processing lawful, on which bases, under which notice."""

    subject: str
    purpose: str
    at: datetime
    known_at: datetime | None
    lawful: bool = Field(
        description="A basis holds for the controller asked about (any controller if none was)."
    )
    controller: str | None = Field(
        None, description="The controller asked about; null: every controller of the purpose."
    )
    by_controller: list[ControllerBasis] = Field(
        default_factory=list, description="The answer for each controller considered."
    )
    bases: list[BasisInterval] = Field(description="The intervals that hold at `at`.")
    notice_version: str | None = Field(description="The notice version in force at `at`.")
    timeline: list[BasisInterval] | None = Field(
        None, description="With --timeline: every interval of every basis for the purpose."
    )
    last_ended: BasisInterval | None = Field(
        None,
        description=(
            "When no basis holds at `at`: the last interval that ended by then; its"
            " `ended_by` names the event that ended it (null when it ran out: expiry,"
            " a retention period, a notice version). Null when none had held."
        ),
    )
    processing: list[ProcessedBasis] = Field(
        default_factory=list,
        description=(
            "The subject's in-house processing for the purpose up to `at` (DataProcessed),"
            " each with the bases that held at its own instant for its controller."
        ),
    )
    restricted: bool = Field(
        False,
        description=(
            "Processing of some of the subject's data is restricted at `at` (Art. 18): it"
            " may only be stored. `lawful` still tells whether a basis holds."
        ),
    )
    restrictions: list[RestrictionRef] = Field(
        default_factory=list, description="The restrictions standing at `at`."
    )


class FieldValueAnswer(Frozen):
    """The current value of one field, where it came from and when."""

    value: Any
    erased: bool = Field(False, description="The value's key was destroyed (crypto-shredded).")
    source: str | None
    occurred_at: datetime
    recorded_at: datetime
    position: int


class ContractAnswer(_WithDpv):
    """A contract of the subject."""

    controller: str
    contract: str
    metering_point: str | None
    started_at: datetime | None
    ended_at: datetime | None

    @computed_field(description="The DPV GDPR IRI of its lawful basis (Art. 6(1)(b)).")  # type: ignore[prop-decorator]
    @property
    def basis_dpv(self) -> str:
        """A contract's lawful basis as a DPV GDPR IRI."""
        return dpv.LAWFUL_BASES["contract"]


class ConsentAnswer(_WithDpv):
    """A consent of the subject and what became of it."""

    purpose: str
    channel: str
    evidence: str
    notice_version: str | None
    granted_at: datetime
    expires_at: datetime | None
    withdrawn_at: datetime | None
    position: int
    withdrawn_by: Literal["subject", "controller", "other"] | None = Field(
        None,
        description="Who withdrew it (null while not withdrawn): the subject, or not (revoked).",
    )
    state: Literal["given", "withdrawn", "expired", "revoked"] = Field(
        description=(
            "Its state at the answer's instant (`at`): withdrawn (by the subject) or revoked"
            " (by anyone else) once withdrawn; expired once `expires_at` is at or before"
            " the instant and it was not withdrawn before it expired; else given."
        ),
    )

    @computed_field(description="The DPV GDPR IRI of its lawful basis (Art. 6(1)(a)).")  # type: ignore[prop-decorator]
    @property
    def basis_dpv(self) -> str:
        """Consent's lawful basis as a DPV GDPR IRI."""
        return dpv.LAWFUL_BASES["consent"]

    @computed_field(  # type: ignore[prop-decorator]
        description=(
            "`state` as a DPV consent status: dpv:ConsentGiven, dpv:ConsentWithdrawn,"
            " dpv:ConsentExpired or dpv:ConsentRevoked."
        )
    )
    @property
    def state_dpv(self) -> str:
        """The consent's state at the answer's instant as a DPV IRI."""
        return dpv.consent_state(self.state)


class ObjectionAnswer(_WithDpv):
    """An objection (Art. 21)."""

    purpose: str
    occurred_at: datetime
    position: int

    @computed_field(description="The right exercised: Art. 21 (DPV GDPR).")  # type: ignore[prop-decorator]
    @property
    def right_dpv(self) -> str:
        """The right to object as a DPV GDPR IRI."""
        return dpv.RIGHTS["objection"]


class SubjectAnswer(Frozen):
    """``ledger subject --json``: the register view of one subject."""

    subject: str
    at: datetime
    known_at: datetime | None
    kind: str | None
    controller: str | None
    registered_at: datetime | None
    fields: dict[str, dict[str, FieldValueAnswer]]
    contracts: list[ContractAnswer]
    consents: list[ConsentAnswer]
    objections: list[ObjectionAnswer]
    erased: list[str] = Field(description="Categories whose values were crypto-shredded.")


class RetentionEntry(Frozen):
    """One category of one subject under its retention rule."""

    subject: str
    category: str
    status: Literal["due", "held", "kept"] = Field(
        description="due: the period ended; held: a statutory rule keeps it; kept: not yet due."
    )
    since: datetime | None = Field(description="When the period started counting.")
    until: datetime | None = Field(description="When it ends; null while it has not started.")
    rule: str
    legal_reference: str | None
    reason: str


class HeldAnswer(_Keyed):
    """A category an erasure could not destroy: a statutory retention rule keeps it."""

    category: str
    rule: str = Field(description="The retention rule's statement.")
    legal_reference: str
    until: str | None = Field(
        description="When the hold ends (RFC 3339); null while it cannot be known yet.",
        json_schema_extra={"format": "date-time"},
    )
    reason: str = Field(description="Why the hold runs until then (e.g. a contract is running).")

    @computed_field(  # type: ignore[prop-decorator]
        description="What keeps it: a legal obligation, GDPR Art. 6(1)(c) (DPV GDPR)."
    )
    @property
    def basis_dpv(self) -> str:
        """A statutory hold's lawful basis as a DPV GDPR IRI."""
        return dpv.LAWFUL_BASES["legal_obligation"]


class ErasureAnswer(_Keyed):
    """``ledger erase`` output."""

    subject: str
    erased: list[str]
    held: list[HeldAnswer]
    reference_removed: bool
    position: int | None
    checkpoint: CheckpointHead | None = Field(
        None, description="The checkpoint signed last when the answer was given."
    )

    @computed_field(description="The processing done: dpv:Erase.")  # type: ignore[prop-decorator]
    @property
    def processing_dpv(self) -> str:
        """Erasure as a DPV processing concept."""
        return dpv.ERASE


class RetentionAnswer(Frozen):
    """``ledger retention --json``."""

    at: datetime
    due: list[RetentionEntry]
    held: list[RetentionEntry]
    kept: list[RetentionEntry] | None = None
    applied: list[ErasureAnswer] | None = Field(
        None, description="With --apply: the erasures made."
    )


ANSWERS = (*ANSWERS, BasisAnswer, SubjectAnswer, RetentionAnswer, ErasureAnswer)


class FindingAnswer(_WithDpv):
    """One policy finding with the events behind it."""

    position: int = Field(description="The FindingRecorded event's position.")
    subject: str | None = Field(description="The subject reference (null once erased).")
    rule: str
    message: str
    purpose: str | None
    recipient: str | None
    notice_version: str | None
    occurred_at: datetime
    recorded_at: datetime
    event: EvidenceRef = Field(description="The judged event.")
    evidence: list[EvidenceRef]

    @computed_field(description=_RULE_DPV)  # type: ignore[prop-decorator]
    @property
    def rule_dpv(self) -> str | None:
        """The DPV concept of the finding rule."""
        return dpv.finding_rule(self.rule)

    @computed_field(description=_STATUS_DPV)  # type: ignore[prop-decorator]
    @property
    def status_dpv(self) -> str | None:
        """The compliance status of the finding."""
        return dpv.finding_status(self.rule)


class FindingsAnswer(Frozen):
    """``ledger findings --json``."""

    since: datetime | None
    known_at: datetime | None = None
    """Only findings recorded by this instant: what was known then."""
    findings: list[FindingAnswer]


class AgreementAnswer(_WithDpv):
    """A recipient's agreement in force at an instant, and the transfer check."""

    recipient: str
    known: bool
    ended: bool
    name: str | None = None
    role: str | None = None
    country: str | None = None
    purposes: list[str] = Field(default_factory=list)
    safeguard: str | None = None
    outside_eea: bool | None = None
    from_notice: bool = Field(False, description="The agreement is the notice's, not registered.")

    @computed_field(description="The DPV entity concept of `role`.")  # type: ignore[prop-decorator]
    @property
    def role_dpv(self) -> str | None:
        """The recipient's role as a DPV concept."""
        return None if self.role is None else dpv.RECIPIENT_ROLES.get(self.role)

    @computed_field(description="The DPV GDPR IRI of `safeguard` (Chapter V).")  # type: ignore[prop-decorator]
    @property
    def safeguard_dpv(self) -> str | None:
        """The transfer safeguard as a DPV GDPR IRI."""
        return None if self.safeguard is None else dpv.SAFEGUARDS.get(self.safeguard)

    @computed_field(description="dpv:Transfer when the recipient is outside the EU/EEA.")  # type: ignore[prop-decorator]
    @property
    def transfer_dpv(self) -> str | None:
        """A transfer outside the EU/EEA as a DPV concept."""
        return dpv.TRANSFER if self.outside_eea else None


class CheckAnswer(Frozen):
    """``ledger check``: may this be done now, and if not, why."""

    subject: str
    purpose: str
    at: datetime
    allowed: bool
    problems: list[str]
    basis: BasisAnswer
    recipient: AgreementAnswer | None
    categories: list[str] | None = Field(description="The categories asked about.")


class DisclosureAnswer(_WithDpv):
    """One disclosure."""

    position: int
    subject: str | None
    recipient: str
    purpose: str
    categories: list[str]
    reference: str | None
    occurred_at: datetime
    recorded_at: datetime

    @computed_field(description="The DPV processing concept: dpv:Disclose.")  # type: ignore[prop-decorator]
    @property
    def processing_dpv(self) -> str:
        """A disclosure as a DPV concept."""
        return dpv.DISCLOSE


class BreachSubject(Frozen):
    """A subject whose data a recipient received in the period, and which categories."""

    subject: str | None
    categories: list[str]
    disclosures: int
    first: datetime
    last: datetime


class DisclosuresAnswer(Frozen):
    """``ledger disclosures --json``; with --breach also per subject."""

    recipient: str | None
    subject: str | None
    category: str | None
    since: datetime | None
    until: datetime | None
    disclosures: list[DisclosureAnswer]
    subjects: list[BreachSubject] | None = None


class ChangeAnswer(Frozen):
    """One recorded value (or removal) of a datum."""

    position: int
    occurred_at: datetime
    recorded_at: datetime
    source: str | None
    upstream_reference: str | None
    removed: bool


class DerivedAnswer(_Keyed):
    """A profile derived from a datum's category (a ProfileDerived event)."""

    position: int
    category: str = Field(description="The derived category.")
    purpose: str
    occurred_at: datetime

    @computed_field(description="The DPV processing concept: dpv:Derive.")  # type: ignore[prop-decorator]
    @property
    def processing_dpv(self) -> str:
        """Deriving as a DPV concept."""
        return dpv.DERIVE


class ReceivedAnswer(_Keyed):
    """A disclosure of a datum's category to a recipient (a DataDisclosed event)."""

    position: int
    recipient: str
    purpose: str
    occurred_at: datetime

    @computed_field(description="The DPV processing concept: dpv:Disclose.")  # type: ignore[prop-decorator]
    @property
    def processing_dpv(self) -> str:
        """A disclosure as a DPV concept."""
        return dpv.DISCLOSE


class ProcessedAnswer(_Keyed):
    """In-house processing of a datum's category (a DataProcessed event)."""

    position: int
    purpose: str
    activity: str
    controller: str | None
    occurred_at: datetime

    @computed_field(description="The DPV processing concept: dpv:Use.")  # type: ignore[prop-decorator]
    @property
    def processing_dpv(self) -> str:
        """In-house processing as a DPV concept."""
        return dpv.USE


class DatumLineage(Frozen):
    """Where a datum came from, how it changed, what was derived from it, who received it."""

    category: str
    field: str
    source: str | None
    changes: list[ChangeAnswer]
    derived: list[DerivedAnswer]
    received_by: list[ReceivedAnswer]
    processed: list[ProcessedAnswer] = Field(
        default_factory=list,
        description="In-house processing of its category (DataProcessed): purpose, activity.",
    )


class ProcessingAnswer(_WithDpv):
    """One in-house processing of a subject's data (a ``DataProcessed`` event)."""

    position: int
    purpose: str
    activity: str
    controller: str | None
    reference: str | None
    categories: list[str]
    occurred_at: datetime
    recorded_at: datetime

    @computed_field(description="The DPV processing concept: dpv:Use.")  # type: ignore[prop-decorator]
    @property
    def processing_dpv(self) -> str:
        """In-house processing as a DPV concept."""
        return dpv.USE


class LineageAnswer(Frozen):
    """``ledger lineage --json``."""

    subject: str
    data: list[DatumLineage]


ProvRecords = dict[str, dict[str, Any]]
"""PROV-JSON records of one kind, by identifier: each a map of attributes."""


class ProvLineage(BaseModel):
    """``ledger lineage --format prov``: the lineage as a W3C PROV-JSON document.

    Entities are data values by category and field (never the values), activities
    the recording, deriving, disclosing, processing and erasing events, agents the
    sources, controllers and recipients; each relation kind maps generated ids to its
    ``prov:`` attributes (https://www.w3.org/submissions/prov-json/).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    prefix: dict[str, str] = Field(description="Namespace prefixes (prov, dpv, ledger, ...).")
    entity: ProvRecords = Field(default_factory=dict)
    activity: ProvRecords = Field(default_factory=dict)
    agent: ProvRecords = Field(default_factory=dict)
    was_generated_by: ProvRecords | None = Field(None, alias="wasGeneratedBy")
    used: ProvRecords | None = None
    was_derived_from: ProvRecords | None = Field(None, alias="wasDerivedFrom")
    was_attributed_to: ProvRecords | None = Field(None, alias="wasAttributedTo")
    was_associated_with: ProvRecords | None = Field(None, alias="wasAssociatedWith")
    was_invalidated_by: ProvRecords | None = Field(None, alias="wasInvalidatedBy")
    specialization_of: ProvRecords | None = Field(None, alias="specializationOf")


ANSWERS = (*ANSWERS, FindingsAnswer, CheckAnswer, DisclosuresAnswer, LineageAnswer, ProvLineage)


class OwedEvent(_WithDpv):
    """The rectification, erasure or restriction a notification is owed for."""

    position: int = Field(description="Its log position: the `regarding` of RecipientNotified.")
    type: str
    kind: Literal["rectification", "erasure", "restriction"]
    occurred_at: datetime
    recorded_at: datetime

    @computed_field(description=_TYPE_DPV)  # type: ignore[prop-decorator]
    @property
    def type_dpv(self) -> str | None:
        """The DPV concept of the event type."""
        return dpv.event_type(self.type)

    @computed_field(description="The right behind `kind`: Art. 16, 17 or 18 (DPV GDPR).")  # type: ignore[prop-decorator]
    @property
    def kind_dpv(self) -> str:
        """The right the owed notification follows from, as a DPV GDPR IRI."""
        return dpv.RIGHTS[self.kind]


class OwedNotification(Frozen):
    """A recipient not yet told of a change to data it received (GDPR Art. 19)."""

    subject: str | None = Field(description="The subject's reference; null once it is removed.")
    recipient: str
    event: OwedEvent
    categories: list[str] = Field(
        description="The affected categories the recipient received before the event."
    )
    disclosures: list[int] = Field(description="Positions of those earlier disclosures.")
    since: datetime = Field(description="Owed since: when the event occurred.")


class NotificationsAnswer(Frozen):
    """``ledger notifications --json``: what is owed, oldest first."""

    subject: str | None
    recipient: str | None
    owed: list[OwedNotification]


ANSWERS = (*ANSWERS, NotificationsAnswer)


class TokenInfo(Frozen):
    """One access token as ``ledger token list`` shows it: never the token or its digest."""

    id: str = Field(description="The token's public id (tok_ and 16 hex digits).")
    name: str
    role: Literal["service", "dpo", "auditor"]
    types: list[str] | None = Field(description="Event types a service token may append.")
    sources: list[str] | None = Field(description="Sources a service token may append for.")
    expires_at: datetime | None
    created_at: datetime
    revoked_at: datetime | None


class TokenList(Frozen):
    """``ledger token list --json``: every token ever issued, oldest first."""

    tokens: list[TokenInfo]


class IssuedToken(Frozen):
    """``ledger token create --json``: the plain token, shown this once only."""

    id: str
    name: str
    role: Literal["service", "dpo", "auditor"]
    token: str = Field(description="The bearer token; the ledger keeps only its digest.")


class AccessRecord(Frozen):
    """One recorded read of decrypted personal data (a PersonalDataAccessed event)."""

    position: int = Field(description="The PersonalDataAccessed event's position.")
    occurred_at: datetime
    subject: str | None = Field(description="The subject reference (null once erased).")
    actor: str = Field(description="The token's name, or the OS user on the command line.")
    token_id: str | None
    via: Literal["http", "cli"]
    what: str = Field(description="What was read: subject, export or lineage.")
    categories: list[str]
    purpose: str = Field(description="The purpose the reader stated.")


class AccessLogAnswer(Frozen):
    """``ledger access-log --json`` and ``GET /v1/access-log``: oldest first."""

    since: datetime | None
    subject: str | None
    records: list[AccessRecord]


ANSWERS = (*ANSWERS, TokenList, IssuedToken, AccessLogAnswer)
