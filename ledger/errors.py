"""The one error tree: everything the ledger raises on purpose is a LedgerError."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Rule(StrEnum):
    """Why a line was refused; the ``rule`` of a violation. Listed in ARCHITECTURE.md."""

    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_TYPE = "unknown_type"
    NOT_APPENDABLE = "not_appendable"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_VALUE = "invalid_value"
    INVALID_TIMESTAMP = "invalid_timestamp"
    TIMESTAMP_WITHOUT_OFFSET = "timestamp_without_offset"
    OCCURRED_IN_FUTURE = "occurred_in_future"
    INVALID_BUSINESS_ID = "invalid_business_id"
    INVALID_PERSONAL_IDENTITY_CODE = "invalid_personal_identity_code"
    NO_NOTICE_IN_FORCE = "no_notice_in_force"
    UNKNOWN_NOTICE_VERSION = "unknown_notice_version"
    UNKNOWN_CONTROLLER = "unknown_controller"
    UNKNOWN_PURPOSE = "unknown_purpose"
    UNKNOWN_CATEGORY = "unknown_category"
    UNKNOWN_DATA_FIELD = "unknown_data_field"
    UNKNOWN_SOURCE = "unknown_source"
    MISSING_SOURCE = "missing_source"
    UNKNOWN_RECIPIENT = "unknown_recipient"
    UNKNOWN_SUBJECT = "unknown_subject"
    SUBJECT_EXISTS = "subject_exists"
    REFERENCE_IS_IDENTITY_CODE = "reference_is_identity_code"
    CATEGORY_NOT_DERIVED = "category_not_derived"
    CATEGORY_DERIVED = "category_derived"
    CONSENT_NOT_A_BASIS = "consent_not_a_basis"
    PURPOSE_NOT_IN_NOTICE = "purpose_not_in_notice"
    EXPIRES_BEFORE_GRANT = "expires_before_grant"
    TRANSFER_WITHOUT_SAFEGUARD = "transfer_without_safeguard"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    DERIVED_FROM_MISSING_DATA = "derived_from_missing_data"
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
    INVALID_CHARACTER = "invalid_character"
    NUMBER_OUT_OF_RANGE = "number_out_of_range"
    CONTROLLER_REQUIRED = "controller_required"
    CONTROLLER_NOT_FOR_PURPOSE = "controller_not_for_purpose"
    NOT_A_CHANGE_OF_SUBJECT = "not_a_change_of_subject"


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem with one input line. Never carries the offending personal value."""

    line: int
    type: str | None
    field: str | None
    rule: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The contract's JSON shape for a refused line."""
        return {
            "line": self.line,
            "type": self.type,
            "field": self.field,
            "rule": str(self.rule),
            "message": self.message,
        }


class LedgerError(Exception):
    """Everything the ledger raises on purpose."""

    committed: int | None = None
    """Lines a batched append committed before this error (None: not such a call)."""


class BatchRejected(LedgerError):
    """Input was malformed; nothing of the call was written."""

    def __init__(self, violations: list[Violation], *, committed: int = 0) -> None:
        self.violations = tuple(violations)
        self.committed = committed
        first = violations[0] if violations else None
        summary = f"{len(violations)} problem(s)"
        if first is not None:
            summary += f"; line {first.line}: {first.field}: {first.rule}"
        super().__init__(summary)


class NotFound(LedgerError):
    """A subject, event or version the caller named does not exist."""


class SubjectNotFound(NotFound):
    """No subject has this reference (or it was erased)."""


class NotKnown(NotFound):
    """A query names a purpose, category, field or recipient the register never knew (exit 4).

    Known means defined in a published notice version (any, so a purpose dropped
    later is still a question about the past) or, for a recipient, registered.
    ``rule`` is a ``Rule`` code and ``field`` the argument concerned, as the
    library names it (a face may rename it to its own option).
    """

    def __init__(self, message: str, *, rule: str, field: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.field = field


class ConfigurationError(LedgerError):
    """A bad store URL, register file, key file or environment setting."""


class AlreadyInitialised(ConfigurationError):
    """``ledger init`` on a store that already holds a register."""


class NotInitialised(ConfigurationError):
    """A command needs a store that ``ledger init`` has prepared."""


class KeyUnavailable(ConfigurationError):
    """The master key is missing or is not the one this store was created with."""


class InvalidRequest(ConfigurationError):
    """An argument of a call names something the ledger does not know (exit 2).

    ``rule`` is a ``Rule`` code and ``field`` the argument concerned, as the
    library names it (a face may rename it to its own option).
    """

    def __init__(self, message: str, *, rule: str, field: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.field = field


class VerificationFailed(LedgerError):
    """The log or a proof does not verify."""


class WriteConflict(LedgerError):
    """Other writers kept winning: the retries ran out, or the store stayed locked.

    Nothing of the failing call was written (what an earlier batch of the same
    call committed stays, and is reported); running the call again is safe.
    """


class StoreError(LedgerError):
    """The store failed the operation (full or read-only disk, a database error).

    Nothing of the failing transaction was written.
    """


class StoreUnavailable(StoreError):
    """The store cannot be reached, or the connection to it was lost."""
