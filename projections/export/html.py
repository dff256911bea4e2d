"""The access package as a page a person can read (every value escaped)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1b1b1b; line-height: 1.45; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } .muted { color: #666; } h2 { margin-top: 2rem; }
"""


def _text(value: Any) -> str:
    if value is None:
        return '<span class="muted">-</span>'
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value))
    return escape(str(value))


def _table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_text(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(title: str, anchor: str, *parts: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{"".join(parts)}</section>'


def _data(doc: dict[str, Any]) -> str:
    rows = [
        (category, name, "(erased)" if v["erased"] else v["value"], v["source"], v["occurred_at"])
        for category, block in doc["data"].items()
        for name, v in block["fields"].items()
    ]
    erased = doc["erased_categories"]
    note = f"<p>Erased categories: {_text(erased)}</p>" if erased else ""
    return _section(
        "Your data", "data", _table(["Category", "Field", "Value", "Source", "Since"], rows), note
    )


def _purposes(doc: dict[str, Any]) -> str:
    rows = [
        (
            p["id"],
            p["description"],
            p["allowed_bases"],
            "; ".join(
                f"{i['basis']} {i['since'][:10]}..{(i['until'] or 'now')[:10]}"
                for i in p["timeline"]
            )
            or "none",
            "yes" if p["lawful_now"] else "no",
        )
        for p in doc["purposes"]
    ]
    columns = ["Purpose", "Description", "Allowed bases", "Bases over time", "Lawful now"]
    return _section("Purposes and legal bases", "purposes", _table(columns, rows))


def _consents(doc: dict[str, Any]) -> str:
    rows = [
        (c["purpose"], c["channel"], c["notice_version"], c["granted_at"], c["withdrawn_at"])
        for c in doc["consents"]
    ]
    columns = ["Purpose", "Given through", "Notice version", "Given", "Withdrawn"]
    objections = [(o["purpose"], o["occurred_at"]) for o in doc["objections"]]
    return _section(
        "Consents and objections",
        "consents",
        _table(columns, rows),
        _table(["Objection to", "Made"], objections),
    )


def _recipients(doc: dict[str, Any]) -> str:
    named = [
        (
            r["name"],
            r["role"],
            r["country"],
            r.get("safeguard"),
            r["purposes"],
            "yes" if r["received_your_data"] else "no",
        )
        for r in doc["recipients"]
    ]
    given = [
        (d["occurred_at"], d["recipient"], d["categories"], d["purpose"])
        for d in doc["disclosures"]
    ]
    return _section(
        "Recipients and disclosures",
        "recipients",
        _table(
            [
                "Recipient",
                "Role",
                "Country",
                "Transfer safeguard",
                "Purposes",
                "Received your data",
            ],
            named,
        ),
        _table(["When", "Recipient", "Categories", "Purpose"], given),
    )


def _retention(doc: dict[str, Any]) -> str:
    rows = [
        (r["category"], r["period"], r["starts"], r.get("legal_reference"), r["statement"])
        for r in doc["retention"]
    ]
    columns = ["Category", "Period", "Counted from", "Legal reference", "Rule"]
    return _section("How long your data is kept", "retention", _table(columns, rows))


def _controllers(doc: dict[str, Any]) -> str:
    rows = [
        (c["name"], c["business_id"], c.get("address"), c.get("phone")) for c in doc["controllers"]
    ]
    contact = doc["privacy_contact"]["email"]
    return _section(
        "Controllers and contact",
        "controllers",
        _table(["Controller", "Business ID", "Address", "Phone"], rows),
        f"<p>Privacy contact: {escape(contact)}</p>",
    )


def _processing(doc: dict[str, Any]) -> str:
    done = [
        (p["occurred_at"], p["activity"], p["categories"], p["purpose"], p.get("controller"))
        for p in doc.get("processing", [])
    ]
    return _section(
        "How we used your data",
        "processing",
        _table(["When", "What", "Categories", "Purpose", "Controller"], done),
    )


def render_html(doc: dict[str, Any]) -> str:
    """The package as one self-contained HTML page."""
    automated = doc["automated_decisions"]
    register = doc["register"]
    title = f"Personal data held about {doc['subject']}"
    return "".join(
        [
            '<!doctype html><html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{escape(title)}</h1>",
            f'<p class="muted">{escape(register["name"])}, privacy notice version'
            f" {escape(register['notice_version'])}; generated {escape(doc['generated_at'])}.</p>",
            _data(doc),
            _purposes(doc),
            _consents(doc),
            _recipients(doc),
            _processing(doc),
            _retention(doc),
            _section(
                "Automated decision-making",
                "automated",
                f"<p>{escape(automated['statement'])}</p>",
                f"<p>Decisions recorded about you: {len(automated['recorded'])}</p>",
            ),
            _controllers(doc),
            _section(
                "Your rights",
                "rights",
                "<ul>" + "".join(f"<li>{escape(r)}</li>" for r in doc["rights"]) + "</ul>",
            ),
            "</body></html>",
        ]
    )
