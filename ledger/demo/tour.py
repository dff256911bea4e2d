"""After the demo load: catch the views up and put a DPO's questions to them."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import TextIO
from uuid import UUID

import orjson

from projections.base import instant
from projections.queries import Views
from schemas.answers import BasisAnswer

RETAIL, NETWORK = "0209628-8", "1993667-7"
"""The example register's controllers (the seed's retailer and network company)."""


def _first(views: Views, fact: str) -> tuple[UUID, datetime, str | None] | None:
    rows = views.store.query(
        "SELECT subject_id, occurred_at, purpose FROM {t}v_basis_facts WHERE type = ?"
        " ORDER BY position LIMIT 1",
        (fact,),
    )
    if not rows:
        return None
    return UUID(rows[0]["subject_id"]), instant(rows[0]["occurred_at"]), rows[0]["purpose"]


def _controller_of(views: Views, fact: str) -> str | None:
    rows = views.store.query(
        "SELECT controller FROM {t}v_basis_facts WHERE type = ? ORDER BY position LIMIT 1",
        (fact,),
    )
    return rows[0]["controller"] if rows else None


def _show(out: TextIO, question: str, answer: BasisAnswer) -> None:
    verdict = "yes" if answer.lawful else "no"
    whose = "" if answer.controller is None else f" for controller {answer.controller}"
    out.write(f"\nQ: {question}\nA: {verdict}{whose}, under notice {answer.notice_version}\n")
    for interval in answer.bases or []:
        until = "open" if interval.until is None else interval.until.date().isoformat()
        evidence = ", ".join(f"#{e.position} {e.type} {e.hash[:12]}…" for e in interval.evidence)
        out.write(
            f"   {interval.basis} ({interval.controller}) {interval.since.date()} .. {until}"
            f"  [{evidence}]\n"
        )
    ended = [
        i for i in answer.timeline or []
        if i.ended_by is not None and i.until is not None and i.until <= answer.at
    ]  # fmt: skip
    if not answer.lawful and ended:
        last = max(ended, key=lambda i: i.until or answer.at)
        assert last.ended_by is not None  # noqa: S101 - filtered above
        out.write(
            f"   the last basis ({last.basis}) was ended by #{last.ended_by.position}"
            f" {last.ended_by.type} on {(last.until or answer.at).date()}\n"
        )


def _network_only(views: Views) -> tuple[UUID, datetime] | None:
    """A subject with a contract with the network company and none with the retailer."""
    rows = views.store.query(
        "SELECT subject_id, occurred_at FROM {t}v_basis_facts n WHERE n.type = 'ContractStarted'"
        " AND n.controller = ? AND NOT EXISTS (SELECT 1 FROM {t}v_basis_facts r"
        " WHERE r.subject_id = n.subject_id AND r.type = 'ContractStarted' AND r.controller = ?)"
        " ORDER BY n.position LIMIT 1",
        (NETWORK, RETAIL),
    )
    if not rows:
        return None
    return UUID(rows[0]["subject_id"]), instant(rows[0]["occurred_at"])


def _ask_controller(views: Views, out: TextIO) -> None:
    """Joint controllers: is the network company's contract a basis for the retailer?"""
    found = _network_only(views)
    if found is None:
        return
    subject_id, started = found
    ref = views.ledger.ledger_recorder.select_refs([subject_id])[subject_id]
    at = started + timedelta(days=30)
    for controller in (NETWORK, RETAIL):
        answer = views.basis(
            ref, "customer_relationship", at=at, known_at=None, controller=controller
        )
        _show(
            out,
            f"(customer_relationship, {at.date()}) {ref} has a contract with the network"
            f" company only: may {controller} process their data to manage the relationship?",
            answer,
        )


def _ask_processing(views: Views, out: TextIO) -> None:
    """On what basis did we send marketing to a subject on the day we did?"""
    rows = views.store.query(
        "SELECT subject_id, occurred_at FROM {t}v_processing WHERE purpose = 'marketing'"
        " ORDER BY position LIMIT 1"
    )
    if not rows:
        return
    subject_id, at = UUID(rows[0]["subject_id"]), instant(rows[0]["occurred_at"])
    ref = views.ledger.ledger_recorder.select_refs([subject_id])[subject_id]
    answer = views.basis(ref, "marketing", at=at, known_at=None, timeline=True)
    _show(out, f"(marketing, {at.date()}) on what basis did we send marketing to {ref}?", answer)
    for sent in answer.processing[-3:]:
        bases = ", ".join(sent.bases) or "none: a finding"
        out.write(
            f"   #{sent.position} {sent.activity} by {sent.controller} on"
            f" {sent.occurred_at.date()}: {bases}\n"
        )


def tour(views: Views, out: TextIO) -> None:
    """Ask the questions a DPO asks, of subjects whose histories answer them."""
    started = time.monotonic()
    count = views.runner.catch_up()
    elapsed = time.monotonic() - started
    out.write(f"\nprojections caught up: {count} events in {elapsed:.2f} s\n")
    refs = views.ledger.ledger_recorder.select_refs
    cases = [
        ("ConsentWithdrawn", None, timedelta(days=1),
         "a day after {ref} withdrew their consent, may we still process for this purpose?"),
        ("ObjectionRecorded", "marketing", timedelta(days=1),
         "a day after {ref} objected, may we send them marketing?"),
        ("ObjectionRecorded", "marketing", -timedelta(days=1),
         "the day before {ref} objected, on what basis did we market to them?"),
        ("ContractEnded", "billing", timedelta(days=30),
         "a month after {ref}'s contract ended, may we still keep and process their billing data?"),
    ]  # fmt: skip
    for fact, purpose, offset, question in cases:
        found = _first(views, fact)
        if found is None:
            continue
        subject_id, when, fact_purpose = found
        asked = purpose or fact_purpose or "marketing"
        ref = refs([subject_id])[subject_id]
        answer = views.basis(ref, asked, at=when + offset, known_at=None, timeline=True)
        _show(out, f"({asked}, {(when + offset).date()}) " + question.format(ref=ref), answer)
    _ask_controller(views, out)
    _ask_processing(views, out)


def _line(kind: str, subject: str, at: datetime, data: dict[str, object], key: str) -> bytes:
    return orjson.dumps(
        {"type": kind, "subject": subject, "occurred_at": at.isoformat(), "actor": "demo-tour",
         "idempotency_key": key, "data": data}
    )  # fmt: skip


_LATE_NEWSLETTER = "tour-late-newsletter"


def _consenting(views: Views) -> tuple[UUID, datetime, str | None] | None:
    """A subject who consented to marketing and never withdrew, objected or was erased.

    The one an earlier run chose, if there was one (its newsletter's reference), so a
    re-run repeats the same lines: idempotent retries.
    """
    again = views.store.query(
        "SELECT subject_id, occurred_at, controller FROM {t}v_processing WHERE reference = ?"
        " ORDER BY position LIMIT 1",
        (_LATE_NEWSLETTER,),
    )
    if again:
        row = again[0]
        sent = instant(row["occurred_at"]) - timedelta(days=20)
        return UUID(row["subject_id"]), sent, row["controller"]
    rows = views.store.query(
        "SELECT subject_id, occurred_at, controller FROM {t}v_basis_facts g"
        " WHERE g.type = 'ConsentGranted' AND g.purpose = 'marketing' AND NOT EXISTS"
        " (SELECT 1 FROM {t}v_basis_facts s WHERE s.subject_id = g.subject_id"
        " AND s.type IN ('ConsentWithdrawn', 'ObjectionRecorded', 'SubjectErased'))"
        " ORDER BY g.position LIMIT 1"
    )
    if not rows:
        return None
    row = rows[0]
    return UUID(row["subject_id"]), instant(row["occurred_at"]), row["controller"]


def _ask_late(views: Views, out: TextIO) -> None:
    """A withdrawal recorded late: what was known before it, and what is known now."""
    found = _consenting(views)
    if found is None:
        return
    subject_id, granted, controller = found
    ref = views.ledger.ledger_recorder.select_refs([subject_id])[subject_id]
    sent, withdrew = granted + timedelta(days=20), granted + timedelta(days=10)
    newsletter: dict[str, object] = {"purpose": "marketing", "categories": ["customer_basic"],
                  "activity": "newsletter_sent", "controller": controller or RETAIL,
                  "reference": _LATE_NEWSLETTER}  # fmt: skip
    views.ledger.append_batch([_line("DataProcessed", ref, sent, newsletter, "tour-late-send")])
    late = views.ledger.append_batch(
        [_line("ConsentWithdrawn", ref, withdrew, {"purpose": "marketing", "channel": "letter"},
               "tour-late-withdrawal")]
    )  # fmt: skip
    views.runner.catch_up()
    now = [f for f in views.findings(since=None).findings if f.subject == ref]
    revised = [f for f in now if f.event.type == "DataProcessed"]
    out.write(
        f"\nQ: {ref}'s letter withdrawing marketing consent on {withdrew.date()} is recorded"
        f" only today, after the newsletter of {sent.date()}: was that newsletter lawful?\n"
    )
    if not revised:
        out.write(
            "A: no finding about it (the withdrawal was recorded before, or changes nothing)\n"
        )
        return
    recorded = revised[-1].recorded_at
    then = [f for f in now if f.recorded_at < recorded]
    out.write(
        f"A: known before the letter was recorded ({recorded.isoformat()}):"
        f" {len(then)} finding(s) about {ref}; known now: {len(now)}"
        f"{' (this run recorded it)' if late.findings else ''}\n"
    )
    for f in revised:
        out.write(f"   #{f.position} {f.rule} on #{f.event.position} {f.event.type}: {f.message}\n")


def scenario(views: Views, out: TextIO) -> None:
    """A late withdrawal; disclosures to a debt collector and an authority, and findings."""
    _ask_late(views, out)
    ledger = views.ledger
    refs = ledger.ledger_recorder.select_refs
    ended, objected = _first(views, "ContractEnded"), _first(views, "ObjectionRecorded")
    if ended is None or objected is None:
        return
    debtor, when, _ = ended
    objector, objected_at, _ = objected
    debtor_ref, objector_ref = refs([debtor])[debtor], refs([objector])[objector]
    later = when + timedelta(days=45)
    billing = {
        "categories": ["customer_basic", "billing"], "purpose": "billing",
        "controller": _controller_of(views, "ContractEnded") or RETAIL,
    }  # fmt: skip
    lines = [
        _line("DataDisclosed", debtor_ref, later,
              {"recipient": "debt-collection", **billing, "reference": "claim-2024-118"},
              "tour-debt"),
        _line("DataDisclosed", debtor_ref, later + timedelta(days=3),
              {"recipient": "authorities", **billing, "reference": "enforcement-request-77"},
              "tour-authority"),
        _line("DataDisclosed", objector_ref, objected_at + timedelta(days=2),
              {"recipient": "analytics-us", "categories": ["customer_basic"],
               "purpose": "marketing", "reference": "campaign-export-9"},
              "tour-breach"),
    ]  # fmt: skip
    result = ledger.append_batch(lines)
    out.write(f"\nscenario: appended {result.appended} disclosures ({result.duplicates} repeats)\n")
    for finding in result.findings:
        out.write(f"  finding on line {finding['line']}: {finding['rule']}: {finding['message']}\n")
    views.runner.catch_up()
    _show_lineage(views, out)
    listed = views.findings(since=None).findings
    out.write(f"\nledger findings: {len(listed)} in all; the latest:\n")
    for f in listed[-3:]:
        out.write(f"  #{f.position} {f.rule} ({f.subject}, #{f.event.position} {f.event.type})\n")
    breach = views.disclosures(recipient="analytics-us", by_subject=True).subjects or []
    out.write(f"\nQ: a breach at analytics-us: whose data? A: {len(breach)} subject(s): ")
    out.write(", ".join(f"{b.subject} ({', '.join(b.categories)})" for b in breach[:5]) + "\n")


def _show_lineage(views: Views, out: TextIO) -> None:
    derived = _first(views, "ContractStarted")
    rows = views.store.query("SELECT subject_id FROM {t}v_derivations ORDER BY position LIMIT 1")
    if not rows or derived is None:
        return
    subject_id = UUID(rows[0]["subject_id"])
    ref = views.ledger.ledger_recorder.select_refs([subject_id]).get(subject_id)
    if ref is None:
        return
    out.write(f"\nlineage of {ref}'s cookie and web-log data:\n")
    for datum in views.lineage(ref).data:
        if datum.category in ("cookies", "web_logs") and datum.derived:
            targets = ", ".join(f"{d['category']} for {d['purpose']}" for d in datum.derived)
            out.write(f"  {datum.category}.{datum.field} from {datum.source} -> {targets}\n")
