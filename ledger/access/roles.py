"""Who may do what: the contract's roles, a token's principal and its append limits.

| role | may |
|---|---|
| ``service`` | append (only its types and sources, when given), check, basis |
| ``dpo`` | everything, decrypted personal data, erasure and retention included |
| ``auditor`` | the log, trail, basis, findings, disclosures, the access log, lineage
  (never a decrypted value) |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from ledger.appending.batch import shown_type
from ledger.domain.rules import shown_name
from schemas.events import Role

ROLES: tuple[str, ...] = get_args(Role)
"""``service``, ``dpo``, ``auditor``."""

ACTIONS = frozenset(
    {
        "append", "check", "basis", "subject", "trail", "lineage", "export", "erase",
        "findings", "disclosures", "retention", "retention_apply", "log", "access_log",
    }
)  # fmt: skip
"""What a request can ask for; ``may`` answers for each role."""

_MAY: dict[str, frozenset[str]] = {
    "service": frozenset({"append", "check", "basis"}),
    "auditor": frozenset(
        {"log", "trail", "basis", "findings", "disclosures", "access_log", "lineage"}
    ),
    "dpo": ACTIONS,
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid token speaks for, and what it is limited to."""

    token_id: str
    name: str
    role: str
    types: frozenset[str] | None
    sources: frozenset[str] | None
    expires_at: datetime | None


def may(principal: Principal, action: str) -> bool:
    """Whether the principal's role may do ``action`` (one of ``ACTIONS``).

    An auditor may ask for lineage, but only without values (the face leaves them out).

    Raises:
        ValueError: ``action`` is not one of ``ACTIONS`` (a mistake in the caller).
    """
    if action not in ACTIONS:
        msg = f"unknown action {action!r}; the actions are {', '.join(sorted(ACTIONS))}"
        raise ValueError(msg)
    return action in _MAY.get(principal.role, frozenset())


def line_refusal(principal: Principal, line: Mapping[str, Any]) -> str | None:
    """Why a service token may not append this line (its type or source); None if it may.

    Only the token's own limits are judged here; the line is checked like any other
    afterwards. A type or source that is not of a register name's shape is not
    repeated (it may be personal data sent by mistake).
    """
    if principal.role != "service":
        return None
    kind = line.get("type")
    if principal.types is not None and not (isinstance(kind, str) and kind in principal.types):
        shown = shown_type(kind) if isinstance(kind, str) else None
        return f"event type {shown or '(not shown)'} is not allowed for this token"
    source = line.get("source")
    if principal.sources is not None and not (
        isinstance(source, str) and source in principal.sources
    ):
        if source is None:
            return "a line without a source is not allowed for this token"
        shown = shown_name(source) if isinstance(source, str) else "(not shown)"
        return f"source {shown} is not allowed for this token"
    return None
