"""The package's sections on what is held and why: data, sources, purposes, consents."""

from __future__ import annotations

from typing import Any

from projections.export.markup import Reader, paragraph, section, subheading, table
from projections.export.vocabulary import BASES, CHANNELS, SHORT_BASES, word


def data(r: Reader) -> str:
    """Every value held, category by category, with where it came from and when."""
    parts = []
    order = list(r.doc.get("labels", {}).get("categories", {}))
    held = sorted(r.doc["data"].items(), key=lambda c: _position(order, c[0]))
    for category, block in held:
        labels = block.get("field_labels", {})
        rows = [
            (
                r.words(labels.get(name), name),
                r.t("erased_value") if value["erased"] else value["value"],
                r.name("sources", value["source"]),
                r.time(value["occurred_at"]),
            )
            for name, value in block["fields"].items()
        ]
        columns = [r.t("field"), r.t("value"), r.t("from"), r.t("since")]
        parts += [subheading(r.name("categories", category)), table(columns, rows)]
    if not parts:
        parts.append(paragraph(r.t("no_data"), "muted"))
    erased = r.doc["erased_categories"]
    if erased:
        parts.append(paragraph(r.t("erased", categories=r.names("categories", erased))))
    return section(r.t("data"), "data", *parts)


def _position(order: list[str], identifier: str) -> tuple[int, str]:
    """Where an id comes in the register (unknown ones last, by id)."""
    return (order.index(identifier), "") if identifier in order else (len(order), identifier)


def sources(r: Reader) -> str:
    """Where the data came from (GDPR Art. 15(1)(g))."""
    rows = [
        (
            r.words(s.get("label"), r.name("sources", s["id"])),
            r.names("categories", s.get("categories", [])),
            r.time(s.get("first_received_at")),
            r.time(s.get("last_received_at")),
        )
        for s in r.doc["sources"]
    ]
    columns = [r.t("source"), r.t("categories"), r.t("first"), r.t("last")]
    return section(r.t("sources"), "sources", table(columns, rows, empty=r.t("no_sources")))


def _interval(r: Reader, interval: dict[str, Any]) -> str:
    basis = word(SHORT_BASES, r.lang, interval["basis"])
    until = r.date(interval["until"]) if interval["until"] else r.t("now")
    return f"{basis[:1].upper()}{basis[1:]}: {r.date(interval['since'])} \N{EN DASH} {until}"


def purposes(r: Reader) -> str:
    """Each purpose in words, the bases it may rest on and which held when."""
    rows = [
        (
            r.words(p.get("label"), p["description"]),
            "; ".join(word(BASES, r.lang, b) for b in p["allowed_bases"]),
            "; ".join(_interval(r, i) for i in p["timeline"]) or r.t("none"),
            r.yes_no(p["lawful_now"]),
        )
        for p in r.doc["purposes"]
    ]
    columns = [r.t("purpose"), r.t("allowed"), r.t("over_time"), r.t("lawful_now")]
    return section(r.t("purposes"), "purposes", table(columns, rows))


def consents(r: Reader) -> str:
    """Consents given and withdrawn, objections made, contracts."""
    given = [
        (
            r.name("purposes", c["purpose"]),
            word(CHANNELS, r.lang, c["channel"]),
            c["notice_version"],
            r.time(c["granted_at"]),
            r.time(c["withdrawn_at"]),
        )
        for c in r.doc["consents"]
    ]
    objections = [
        (r.name("purposes", o["purpose"]), r.time(o["occurred_at"])) for o in r.doc["objections"]
    ]
    contracts = [
        (
            c["contract"],
            r.name("controllers", c["controller"]),
            r.time(c["started_at"]),
            r.time(c["ended_at"]),
        )
        for c in r.doc["contracts"]
    ]
    columns = [r.t("purpose"), r.t("given_through"), r.t("notice_version"), r.t("given"),
               r.t("withdrawn")]  # fmt: skip
    return section(
        r.t("consents"),
        "consents",
        table(columns, given, empty=r.t("none")),
        table([r.t("objection"), r.t("made")], objections, empty=""),
        table([r.t("contract"), r.t("with"), r.t("started"), r.t("ended")], contracts, empty=""),
    )
