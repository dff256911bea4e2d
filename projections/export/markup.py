"""The pieces of the access package's page: a reader in one language, escaped tables.

Every value that reaches the page passes through ``html.escape`` here (``text``,
``table``, ``section``); the sections build on these and never write a value raw.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from html import escape
from typing import Any

from projections.export.vocabulary import TEXT
from projections.export.words import Lang, id_words, local_date, local_time, zone


@dataclass(frozen=True)
class Reader:
    """The export document read in one language and the register's time zone."""

    doc: dict[str, Any]
    lang: Lang

    @property
    def where(self) -> tzinfo:
        """The register's time zone (UTC when it names none)."""
        return zone(self.doc.get("time_zone"))

    def t(self, key: str, **values: Any) -> str:
        """A fixed text of the package, with ``values`` put in (not yet escaped)."""
        return TEXT[self.lang][key].format(**values)

    def time(self, value: str | None) -> str:
        """An instant to the minute in the register's zone; a dash when there is none."""
        return local_time(value, self.where, self.lang) if value else self.t("empty")

    def date(self, value: str | None) -> str:
        """An instant's day in the register's zone; a dash when there is none."""
        return local_date(value, self.where, self.lang) if value else self.t("empty")

    def words(self, texts: dict[str, str] | None, fallback: str) -> str:
        """A text given per language (a label the export resolved), in this language."""
        return (texts or {}).get(self.lang) or fallback

    def name(self, kind: str, identifier: str | None) -> str:
        """A purpose, category, source, recipient or controller id as words."""
        if identifier is None:
            return self.t("empty")
        known = self.doc.get("labels", {}).get(kind, {}).get(identifier)
        return self.words(known, id_words(identifier))

    def names(self, kind: str, identifiers: Iterable[str]) -> str:
        """Several ids of one kind as words, separated by semicolons."""
        return "; ".join(self.name(kind, i) for i in identifiers)

    def yes_no(self, value: bool) -> str:
        """``yes`` or ``no`` in this language."""
        return self.t("yes" if value else "no")


@dataclass(frozen=True)
class Cell:
    """A cell's text with ``data-*`` attributes for machines (both escaped)."""

    text: str
    data: dict[str, str]

    def html(self) -> str:
        """The cell's content and attributes."""
        attributes = "".join(f' data-{k}="{escape(v)}"' for k, v in self.data.items())
        return f"<td{attributes}>{escape(self.text)}</td>"


def text(value: Any) -> str:
    """A value as escaped text; ``None`` as a muted dash."""
    if value is None or value == "":
        return '<span class="muted">-</span>'
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value))
    return escape(str(value))


def _cell(value: Any) -> str:
    return value.html() if isinstance(value, Cell) else f"<td>{text(value)}</td>"


def paragraph(value: str, css: str | None = None) -> str:
    """A paragraph of escaped text."""
    attribute = f' class="{css}"' if css else ""
    return f"<p{attribute}>{escape(value)}</p>"


def table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str | None = None
) -> str:
    """A table of escaped cells.

    Without rows: ``empty`` as a sentence instead (nothing when it is ``""``); the bare
    header when it is ``None``.
    """
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    if not body and empty is not None:
        return paragraph(empty, "muted") if empty else ""
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in columns)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def section(title: str, anchor: str, *parts: str) -> str:
    """A section with its heading (a bare ``h2``) and already escaped parts."""
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{"".join(parts)}</section>'


def subheading(title: str) -> str:
    """A heading inside a section."""
    return f"<h3>{escape(title)}</h3>"


def bullets(items: Iterable[str]) -> str:
    """A list of escaped sentences."""
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def terms(pairs: Iterable[tuple[str, str]]) -> str:
    """A description list of escaped terms and their explanations."""
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in pairs)
    return f"<dl>{items}</dl>"
