"""The package's sections on use and sharing: recipients, transfers, retention, decisions."""

from __future__ import annotations

from typing import Any

from projections.export.countries import country
from projections.export.markup import (
    Cell,
    Reader,
    bullets,
    paragraph,
    section,
    subheading,
    table,
    terms,
)
from projections.export.vocabulary import ROLES, SAFEGUARDS, word
from projections.export.words import id_words


def _recipient(r: Reader, recipient: dict[str, Any]) -> str:
    return r.words(recipient.get("label"), recipient["name"])


def recipients(r: Reader) -> str:
    """The recipients the register names and what was disclosed to whom."""
    named = [
        (
            _recipient(r, x),
            word(ROLES, r.lang, x["role"]),
            country(r.lang, x["country"], outside_eea=bool(x.get("outside_eea"))),
            r.names("purposes", x["purposes"]),
            r.yes_no(x["received_your_data"]),
        )
        for x in r.doc["recipients"]
    ]
    given = [
        (
            r.time(d["occurred_at"]),
            r.name("recipients", d["recipient"]),
            r.names("categories", d["categories"]),
            r.name("purposes", d["purpose"]),
        )
        for d in r.doc["disclosures"]
    ]
    columns = [r.t("recipient"), r.t("role"), r.t("country"), r.t("purpose"), r.t("received")]
    return section(
        r.t("recipients"),
        "recipients",
        table(columns, named),
        table([r.t("when"), r.t("recipient"), r.t("categories"), r.t("purpose")], given),
    )


def transfers(r: Reader) -> str:
    """Recipients outside the EU/EEA and the safeguard of each, in words."""
    rows = [
        (
            _recipient(r, x),
            country(r.lang, x["country"], outside_eea=False),
            word(SAFEGUARDS, r.lang, x.get("safeguard")),
            r.yes_no(x["received_your_data"]),
        )
        for x in r.doc["recipients"]
        if x.get("outside_eea")
    ]
    columns = [r.t("recipient"), r.t("country"), r.t("safeguard"), r.t("received")]
    intro = paragraph(r.t("transfers_intro")) if rows else ""
    return section(
        r.t("transfers"), "transfers", intro, table(columns, rows, empty=r.t("no_transfers"))
    )


def processing(r: Reader) -> str:
    """What the controllers did with the data in house."""
    done = [
        (
            r.time(p["occurred_at"]),
            Cell(id_words(p["activity"]), {"activity": p["activity"]}),
            r.names("categories", p["categories"]),
            r.name("purposes", p["purpose"]),
            r.name("controllers", p.get("controller")),
        )
        for p in r.doc.get("processing", [])
    ]
    columns = [r.t("when"), r.t("what"), r.t("categories"), r.t("purpose"), r.t("controller")]
    return section(r.t("processing"), "processing", table(columns, done))


def retention(r: Reader) -> str:
    """How long each category is kept, in words."""
    rows = [
        (
            r.words(x.get("category_label"), r.name("categories", x["category"])),
            r.words(x.get("period_words"), ""),
            x.get("legal_reference"),
            r.words(x.get("label"), x["statement"]),
        )
        for x in r.doc["retention"]
    ]
    columns = [r.t("categories"), r.t("how_long"), r.t("legal_reference"), r.t("rule")]
    return section(r.t("retention"), "retention", table(columns, rows))


def _logic(r: Reader, entry: dict[str, Any]) -> tuple[str, str]:
    explanation = entry.get("explanation")
    if explanation is None:
        return r.t("recorded_logic", logic=entry["data"]["logic"]), ""
    return r.words(explanation, ""), r.words(entry.get("consequences"), "")


def automated(r: Reader) -> str:
    """The statement, profiling and its logic, and every decision with its logic."""
    found = r.doc["automated_decisions"]
    parts = [paragraph(r.words(found.get("label"), found["statement"]))]
    for profile in found.get("profiling", []):
        pairs = [(r.t("logic"), r.words(profile["explanation"], ""))]
        if profile.get("consequences"):
            pairs.append((r.t("consequences"), r.words(profile["consequences"], "")))
        parts += [subheading(f"{r.t('profiling')}: {r.words(profile['label'], '')}"), terms(pairs)]
    rows = [
        (
            r.time(d["occurred_at"]),
            r.words(d.get("purpose_label"), r.name("purposes", d["data"]["purpose"])),
            *_logic(r, d),
        )
        for d in found["recorded"]
    ]
    columns = [r.t("when"), r.t("purpose"), r.t("decision_logic"), r.t("consequences")]
    parts += [subheading(r.t("decisions")), table(columns, rows, empty=r.t("no_decisions"))]
    return section(r.t("automated"), "automated", *parts)


def controllers(r: Reader) -> str:
    """Who the controllers are and where to ask."""
    rows = [
        (c["name"], c["business_id"], c.get("address"), c.get("phone"))
        for c in r.doc["controllers"]
    ]
    columns = [r.t("controller"), r.t("business_id"), r.t("address"), r.t("phone")]
    contact = r.doc["privacy_contact"]["email"]
    return section(
        r.t("controllers"),
        "controllers",
        table(columns, rows),
        paragraph(r.t("privacy_contact", email=contact)),
    )


def rights(r: Reader) -> str:
    """The person's rights, in this language where the register gives them."""
    given = r.doc.get("rights_label", {}).get(r.lang) or r.doc["rights"]
    return section(r.t("rights"), "rights", bullets(given))
