"""What the access package adds for a reader: labels, words, sources, DPV terms.

Pure functions over the register's versions and the subject's history (as the
export lists it). Every id the package shows gets words in each package language
(``projections.export.words.LANGUAGES``): the register's label, else its description
or name, never the bare id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from projections.export.words import LANGUAGES, id_words, in_languages, retention_words
from schemas import dpv
from schemas.register import (
    EEA_COUNTRIES,
    Category,
    Labels,
    Logic,
    Purpose,
    Recipient,
    RegisterDefinition,
    RetentionRule,
)

Words = dict[str, str]
"""One text in every package language."""


def _first(labels: Labels) -> str:
    return next(iter(labels.values()))


def logic_words(logic: Logic, language: str) -> dict[str, Words | None]:
    """A logic's explanation and consequences in every language (else the register's)."""

    def each(labels: Labels | None) -> Words | None:
        if labels is None:
            return None
        return in_languages(labels, labels.get(language) or _first(labels))

    return {"explanation": each(logic.explanation), "consequences": each(logic.consequences)}


def lookup(
    definitions: Sequence[RegisterDefinition], registered: Iterable[Recipient] = ()
) -> dict[str, dict[str, Words]]:
    """Words for every purpose, category, source, recipient and controller id.

    Over every notice version, oldest first, so the latest words win and an id an older
    version had (a consent to a purpose since removed) still reads as words.
    """
    found: dict[str, dict[str, Words]] = {
        "purposes": {}, "categories": {}, "sources": {}, "recipients": {}, "controllers": {},
    }  # fmt: skip
    for definition in definitions:
        for p in definition.purposes:
            found["purposes"][p.id] = in_languages(p.label, p.description)
        for c in definition.categories:
            found["categories"][c.id] = in_languages(c.label, c.description)
        for s in definition.sources:
            found["sources"][s.id] = in_languages(s.label, s.description)
        for r in definition.recipients:
            found["recipients"][r.id] = in_languages(r.label, r.name)
        for controller in definition.controllers:
            found["controllers"][controller.business_id] = in_languages(None, controller.name)
    for r in registered:
        found["recipients"][r.id] = in_languages(r.label, r.name)
    return found


def field_labels(category: Category | None, fields: Iterable[str]) -> dict[str, Words]:
    """The fields' names in words: the register's field labels, else the name in words."""
    given = (category.field_labels or {}) if category is not None else {}
    return {name: in_languages(given.get(name), id_words(name)) for name in fields}


def purpose_entry(purpose: Purpose) -> dict[str, Any]:
    """The additions to a purpose: its label, DPV concepts, the bases' GDPR IRIs."""
    concepts = list(purpose.dpv or dpv.purpose_concepts(direct_marketing=purpose.direct_marketing))
    return {
        "label": in_languages(purpose.label, purpose.description),
        "dpv": concepts,
        "allowed_bases_dpv": [dpv.basis(b.value) for b in purpose.bases],
    }


def category_entry(category: Category | None, fields: Iterable[str]) -> dict[str, Any]:
    """The additions to a category of held data: label, DPV concepts, field labels."""
    return {
        "label": (
            in_languages(category.label, category.description) if category is not None else None
        ),
        "dpv": list(category.dpv or ()) if category is not None else [],
        "field_labels": field_labels(category, fields),
    }


def recipient_entry(recipient: dict[str, Any]) -> dict[str, Any]:
    """The additions to a recipient: label, whether it is a transfer, DPV terms."""
    outside = recipient["country"] not in EEA_COUNTRIES
    return {
        "label": in_languages(recipient.get("label"), recipient["name"]),
        "outside_eea": outside,
        "role_dpv": dpv.RECIPIENT_ROLES.get(recipient["role"]),
        "safeguard_dpv": dpv.SAFEGUARDS.get(recipient.get("safeguard") or ""),
        "transfer_dpv": dpv.TRANSFER if outside else None,
    }


def retention_entry(rule: RetentionRule, category: Words | None) -> dict[str, Any]:
    """The additions to a retention rule: the rule and its duration in words."""
    return {
        "label": in_languages(rule.label, rule.statement),
        "category_label": category,
        "period_words": {
            lang: retention_words(rule.period, rule.starts, end_of_year=rule.end_of_year, lang=lang)
            for lang in LANGUAGES
        },
    }


def sources(
    definition: RegisterDefinition,
    words: dict[str, dict[str, Words]],
    history: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The sources the subject's data came from (GDPR Art. 15(1)(g)), in register order.

    Each with the categories received from it and when first and last; a source only an
    older notice version names comes after the others.
    """
    seen: dict[str, dict[str, Any]] = {}
    for entry in history:
        source = entry["source"]
        if not source:
            continue
        got = seen.setdefault(source, {"categories": [], "first": entry["occurred_at"]})
        category = entry["data"].get("category") if isinstance(entry["data"], dict) else None
        if category and category not in got["categories"]:
            got["categories"].append(category)
        got["first"] = min(got["first"], entry["occurred_at"])
        got["last"] = max(got.get("last", entry["occurred_at"]), entry["occurred_at"])
    named = {s.id: s for s in definition.sources}
    order = [s.id for s in definition.sources if s.id in seen]
    order += sorted(set(seen) - set(order))
    out = []
    for source_id in order:
        source = named.get(source_id)
        got = seen[source_id]
        out.append(
            {
                **(source.model_dump(mode="json") if source else {"id": source_id}),
                "label": words["sources"].get(source_id) or in_languages(None, id_words(source_id)),
                "dpv": list(source.dpv or ()) if source else [],
                "categories": got["categories"],
                "first_received_at": got["first"],
                "last_received_at": got["last"],
            }
        )
    return out


def automated(
    definitions: Sequence[RegisterDefinition],
    history: list[dict[str, Any]],
    words: dict[str, dict[str, Words]],
    held: Iterable[str],
) -> dict[str, Any]:
    """The additions to the automated-decision section (GDPR Art. 15(1)(h)).

    Each recorded decision with the logic the register states for it (any version,
    the latest winning), and the derived categories (profiling) with their logic.
    """
    definition = definitions[-1]
    statement = definition.automated_decisions
    logic: dict[str, Logic] = {}
    for d in definitions:
        logic.update(d.automated_decisions.logic or {})
    recorded = []
    for entry in history:
        if entry["type"] != "AutomatedDecisionMade":
            continue
        known = logic.get(entry["data"]["logic"])
        recorded.append(
            {
                **entry,
                "purpose_label": words["purposes"].get(entry["data"]["purpose"]),
                **(logic_words(known, definition.language) if known else {}),
            }
        )
    held = set(held)
    profiling = [
        {
            "category": c.id,
            "label": words["categories"][c.id],
            "held": c.id in held,
            **logic_words(c.logic, definition.language),
        }
        for c in definition.categories
        if c.derived and c.logic is not None
    ]
    return {
        "label": in_languages(statement.label, statement.statement),
        "recorded": recorded,
        "profiling": profiling,
    }
