"""The access package as a page a person can read and print (every value escaped).

In English or Finnish (``lang``; default the register's ``language``), with the
register's labels instead of ids, durations in words and times to the minute in the
register's time zone. The sections are in ``held`` (data, sources, purposes,
consents) and ``sharing`` (recipients, transfers, use, retention, decisions,
controllers, rights).
"""

from __future__ import annotations

from html import escape
from typing import Any

from projections.export import held, sharing
from projections.export.markup import Reader, paragraph
from projections.export.words import language

_STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem;
       color: #1b1b1b; line-height: 1.45; }
header p { margin: .2rem 0; }
nav.contents { border: 1px solid #ddd; border-radius: 4px; padding: .5rem 1rem; margin: 1rem 0; }
nav.contents ol { columns: 2; margin: .3rem 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } .muted { color: #666; } h2 { margin-top: 2rem; }
h3 { margin: 1.2rem 0 .3rem; font-size: 1.05rem; }
dl { margin: .3rem 0 1rem; } dt { font-weight: 600; } dd { margin: 0 0 .6rem 1rem; }
@media print {
  @page { size: A4; margin: 16mm 14mm; }
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  nav.contents { display: none; }
  a { color: inherit; text-decoration: none; }
  h2 { margin-top: 1.2rem; break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
  tr, li, dd { break-inside: avoid; page-break-inside: avoid; }
  th { background: #f2f2f2; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

_SECTIONS = (
    held.data, held.sources, held.purposes, held.consents, sharing.recipients,
    sharing.transfers, sharing.processing, sharing.retention, sharing.automated,
    sharing.controllers, sharing.rights,
)  # fmt: skip
_ANCHORS = (
    ("data", "data"), ("sources", "sources"), ("purposes", "purposes"),
    ("consents", "consents"), ("recipients", "recipients"), ("transfers", "transfers"),
    ("processing", "processing"), ("retention", "retention"), ("automated", "automated"),
    ("controllers", "controllers"), ("rights", "rights"),
)  # fmt: skip


def held_name(doc: dict[str, Any]) -> str | None:
    """The person's name where the data holds one (a ``name`` field not erased)."""
    for block in doc["data"].values():
        value = block["fields"].get("name")
        if value and not value["erased"] and isinstance(value["value"], str):
            name = value["value"].strip()
            if name:
                return name
    return None


def _header(r: Reader, title: str) -> str:
    register = r.doc["register"]
    name = r.words(register.get("label"), register["name"])
    lines = [
        r.t("intro", register=name),
        r.t("reference", ref=r.doc["subject"]),
        r.t("notice", version=register["notice_version"],
            since=r.date(register["notice_effective_from"])),
        r.t("generated", at=r.time(r.doc["generated_at"])),
        r.t("zone", zone=r.doc.get("time_zone") or "UTC"),
    ]  # fmt: skip
    body = "".join(paragraph(line, None if i == 0 else "muted") for i, line in enumerate(lines))
    return f"<header><h1>{escape(title)}</h1>{body}</header>"


def _contents(r: Reader) -> str:
    items = "".join(f'<li><a href="#{a}">{escape(r.t(key))}</a></li>' for key, a in _ANCHORS)
    return f'<nav class="contents" aria-label="{escape(r.t("contents"))}"><ol>{items}</ol></nav>'


def render_html(doc: dict[str, Any], lang: str | None = None) -> str:
    """The package as one self-contained, printable HTML page in ``lang`` (en or fi)."""
    r = Reader(doc, language(lang, doc.get("language")))
    name = held_name(doc)
    title = r.t("title", name=name) if name else r.t("title_neutral")
    return "".join(
        [
            f'<!doctype html><html lang="{r.lang}"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
            _header(r, title),
            _contents(r),
            "<main>",
            *(render(r) for render in _SECTIONS),
            "</main></body></html>",
        ]
    )
