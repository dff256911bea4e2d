"""One builder per event type: NDJSON line dicts with the example register's ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ledger.appending.application import Ledger
    from ledger.appending.outcomes import AppendResult
    from ledger.bootstrap import Core

RETAIL = "0209628-8"
NETWORK = "1993667-7"
WHEN = "2023-05-04T10:00:00+03:00"


def line(kind: str, subject: str | None, data: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "actor": envelope.pop("actor", "crm")}
    if subject is not None:
        out["subject"] = subject
    out["occurred_at"] = envelope.pop("occurred_at", WHEN)
    out.update(envelope)
    out["data"] = data
    return out


def subject_registered(subject: str, **kw: Any) -> dict[str, Any]:
    return line("SubjectRegistered", subject, {"kind": "person", "controller": RETAIL}, **kw)


def personal_data(subject: str, fields: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    category = kw.pop("category", "customer_basic")
    if fields is None:
        fields = {"name": "Aino Virtanen", "personal_identity_code": "131052-308T"}
    kw.setdefault("source", "data_subject")
    return line("PersonalDataRecorded", subject, {"category": category, "fields": fields}, **kw)


def contract_started(subject: str, contract: str = "K-1", **kw: Any) -> dict[str, Any]:
    data = {"controller": kw.pop("controller", RETAIL), "contract": contract}
    return line("ContractStarted", subject, data, **kw)


def contract_ended(subject: str, contract: str = "K-1", **kw: Any) -> dict[str, Any]:
    data = {"controller": kw.pop("controller", RETAIL), "contract": contract}
    return line("ContractEnded", subject, data, **kw)


def consent_granted(subject: str, purpose: str = "marketing", **kw: Any) -> dict[str, Any]:
    data = {"purpose": purpose, "channel": "web_form", "evidence": "form-2023-v4#abc"}
    data.update(kw.pop("data", {}))
    return line("ConsentGranted", subject, data, **kw)


def consent_withdrawn(subject: str, purpose: str = "marketing", **kw: Any) -> dict[str, Any]:
    return line("ConsentWithdrawn", subject, {"purpose": purpose, "channel": "web_form"}, **kw)


def objection(subject: str, purpose: str = "marketing", **kw: Any) -> dict[str, Any]:
    return line("ObjectionRecorded", subject, {"purpose": purpose}, **kw)


def profile_derived(subject: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("source", "web_services")
    data = {
        "category": "profiles",
        "derived_from": ["cookies", "web_logs"],
        "purpose": "profiling",
        "fields": kw.pop("fields", {"segment": "evening-user"}),
    }
    return line("ProfileDerived", subject, data, **kw)


def disclosed(subject: str, recipient: str = "print-house", **kw: Any) -> dict[str, Any]:
    data = {
        "recipient": recipient,
        "categories": ["customer_basic", "billing"],
        "purpose": "billing",
        "controller": kw.pop("controller", RETAIL),
    }
    return line("DataDisclosed", subject, data, **kw)


def processed(subject: str, purpose: str = "marketing", **kw: Any) -> dict[str, Any]:
    """A DataProcessed line: by default the retailer sends a newsletter."""
    data: dict[str, Any] = {
        "purpose": purpose,
        "categories": kw.pop("categories", ["customer_basic"]),
        "activity": kw.pop("activity", "newsletter_sent"),
    }
    for name in ("controller", "reference"):
        if name in kw:
            data[name] = kw.pop(name)
    return line("DataProcessed", subject, data, **kw)


def _restriction(kind: str, subject: str, kw: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"reason": kw.pop("reason", "accuracy contested")}
    for name in ("categories", "controller"):
        if name in kw:
            data[name] = kw.pop(name)
    return line(kind, subject, data, **kw)


def restricted(subject: str, **kw: Any) -> dict[str, Any]:
    """A ProcessingRestricted line (Art. 18): by default of all the subject's data."""
    return _restriction("ProcessingRestricted", subject, kw)


def restriction_lifted(subject: str, **kw: Any) -> dict[str, Any]:
    """A RestrictionLifted line: by default of all the subject's data."""
    kw.setdefault("reason", "accuracy verified")
    return _restriction("RestrictionLifted", subject, kw)


def recipient_notified(
    subject: str, regarding: int, recipient: str = "print-house", **kw: Any
) -> dict[str, Any]:
    """A RecipientNotified line (Art. 19): the recipient was told of the event at ``regarding``."""
    data: dict[str, Any] = {"recipient": recipient, "regarding": regarding}
    for name in ("reference", "impossible", "reason"):
        if name in kw:
            data[name] = kw.pop(name)
    return line("RecipientNotified", subject, data, **kw)


def recipient_registered(rid: str = "mailer", country: str = "FI", **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": rid,
        "name": "Mailer Oy",
        "role": "processor",
        "country": country,
        "purposes": ["marketing"],
    }
    data.update(kw.pop("data", {}))
    return line("RecipientRegistered", None, data, **kw)


def automated_decision(subject: str, **kw: Any) -> dict[str, Any]:
    return line(
        "AutomatedDecisionMade",
        subject,
        {"purpose": "billing", "logic": "credit-rule-7"},
        **kw,
    )


def erased_fields(subject: str, **kw: Any) -> dict[str, Any]:
    data = {"category": "customer_basic", "fields": ["name"], "reason": "rectification"}
    return line("PersonalDataErased", subject, data, **kw)


def append(ledger: Ledger, *lines: dict[str, Any]) -> AppendResult:
    """Append these lines in one call."""
    return ledger.append_batch([orjson.dumps(x) for x in lines])


def utc(text: str) -> datetime:
    """A naive ISO instant read as UTC (test shorthand)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def read_everything(
    core: Core, subjects: Iterable[str], at: datetime, *, whole_store: bool = True
) -> None:
    """Every query that reads what appends stored (issue 11: input that breaks a read).

    For each subject: the register view, the trail, the lineage, its disclosures,
    the basis of every purpose with its timeline, the export as JSON and HTML; for
    the whole store (unless ``whole_store`` is false): findings and retention
    (due, held and kept).
    """
    from projections.export.build import build_export  # the read side, imported on use
    from projections.export.html import render_html
    from projections.retention.apply import retention

    views = core.views()
    notice = core.ledger.notices.in_force(at)
    assert notice is not None
    for subject in subjects:
        views.subject(subject, at=at, known_at=None)
        views.trail(subject)
        views.lineage(subject)
        views.disclosures(subject=subject, by_subject=True)
        for purpose in notice.definition.purposes:
            views.basis(subject, purpose.id, at=at, known_at=None, timeline=True)
        render_html(build_export(views, subject))
    if whole_store:
        views.findings(None)
        retention(core.ledger, core.store, kept=True)
