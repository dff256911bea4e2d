"""The one problem shape, the rule code of each error, and a write's sealing note."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

import psycopg
from eventsourcing.persistence import PersistenceError

from ledger.errors import (
    AlreadyInitialised,
    ConfigurationError,
    InvalidRequest,
    KeyUnavailable,
    LedgerError,
    NotFound,
    NotInitialised,
    NotKnown,
    StoreError,
    StoreUnavailable,
    SubjectNotFound,
    VerificationFailed,
    WriteConflict,
)
from ledger.persistence.store import store_failure
from projections.base import ProjectionFailed
from projections.lawful_basis.view import restriction_problems

if TYPE_CHECKING:
    from ledger.bootstrap import Core
    from schemas.answers import CheckAnswer

ERROR_RULES: tuple[tuple[type[LedgerError], str], ...] = (
    (SubjectNotFound, "subject_not_found"),
    (NotFound, "not_found"),
    (AlreadyInitialised, "already_initialised"),
    (NotInitialised, "not_initialised"),
    (KeyUnavailable, "key_unavailable"),
    (ConfigurationError, "configuration_error"),
    (VerificationFailed, "verification_failed"),
    (WriteConflict, "write_conflict"),
    (StoreUnavailable, "store_unavailable"),
    (StoreError, "store_error"),
    (ProjectionFailed, "projection_failed"),
    (LedgerError, "ledger_error"),
)
"""The rule of an error (the first class that matches), as ``--json`` prints it."""

NOT_SEALED = "not_sealed"
"""The rule of the warning when a committed write could not be sealed (exit 6)."""


def problem(rule: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The one problem shape: errors, refusals, verification and check problems."""
    return {"rule": rule, "field": field, "message": message}


def error_rule(error: LedgerError) -> str:
    """The rule code of an error raised on purpose."""
    if isinstance(error, InvalidRequest | NotKnown):
        return str(error.rule)
    return next(rule for kind, rule in ERROR_RULES if isinstance(error, kind))


def error_field(error: LedgerError) -> str | None:
    """The option or argument an error is about, where it names one."""
    return error.field if isinstance(error, InvalidRequest | NotKnown) else None


def sealing_problem(core: Core) -> dict[str, Any] | None:
    """Why sealing after the last committed call failed; None when it did not."""
    failure = core.policy.failure
    if failure is None:
        return None
    store = core.ledger.store
    if isinstance(failure, PersistenceError | psycopg.Error | sqlite3.Error):
        failure = store_failure(store, failure)
    reason = store.scrub(str(failure))
    return problem(
        NOT_SEALED,
        f"what this call committed is stored, but sealing it failed: {reason}; do not"
        " write it again: fix the cause, then run `ledger seal`",
    )


def sealed(core: Core) -> dict[str, Any] | None:
    """The checkpoint the sealing policy signed last, as commands print it.

    None when sealing after the last committed call failed: the last checkpoint
    does not cover it (``sealing_problem`` says why).
    """
    checkpoint = core.policy.last
    if checkpoint is None or core.policy.failure is not None:
        return None
    return {"size": checkpoint.size, "root": checkpoint.root.hex()}


def with_seal(core: Core, answer: dict[str, Any]) -> dict[str, Any]:
    """A write's answer with its ``checkpoint``, and ``sealing_problem`` when sealing failed."""
    answer = answer | {"checkpoint": sealed(core)}
    unsealed = sealing_problem(core)
    if unsealed is not None:
        answer["sealing_problem"] = unsealed
    return answer


def check_problems(answer: CheckAnswer) -> list[dict[str, Any]]:
    """The check's problems in the one problem shape, in the order of ``problems``.

    Codes name what the action would be recorded as (the finding rules, or the
    refusal rule for a transfer); the messages are the ``problems`` texts.
    """
    codes: list[tuple[str, str]] = []
    if not answer.basis.lawful:
        codes.append(("no_lawful_basis", "purpose"))
    agreement = answer.recipient
    if agreement is not None:
        if not agreement.known:
            codes.append(("disclosure_to_unregistered_recipient", "recipient"))
        elif agreement.ended:
            codes.append(("disclosure_to_ended_recipient", "recipient"))
        else:
            if answer.purpose not in agreement.purposes:
                codes.append(("disclosure_outside_agreement", "purpose"))
            if agreement.outside_eea and agreement.safeguard is None:
                codes.append(("transfer_without_safeguard", "recipient"))
    restricted = len(restriction_problems(answer.basis, answer.categories or None))
    missing = len(answer.problems) - len(codes) - restricted
    codes += [("no_data_in_category", "categories")] * missing
    codes += [("processing_while_restricted", "categories")] * restricted
    return [
        problem(rule, message, field)
        for (rule, field), message in zip(codes, answer.problems, strict=True)
    ]
