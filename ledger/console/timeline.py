"""A subject's lawful bases drawn to scale: basis answers in, an SVG document out.

Pure: no I/O, no clock. One row per purpose, one lane per basis (and controller)
within it, each interval a rectangle from its start to its end (an open one runs
to the right edge), a mark where an event started it and where one ended it, and
the notice versions in force shaded behind. Every interval carries its facts as
data attributes (``data-purpose``, ``data-basis``, ``data-controller``,
``data-since``, ``data-until`` as RFC 3339 UTC instants, empty when open) so a
test, or a script, can read the drawing back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape

from ledger.faces.times import rfc3339
from schemas.answers import BasisAnswer, BasisInterval, EvidenceRef

WIDTH = 960
LABEL = 230
"""Width of the purpose labels on the left."""
RIGHT = 20
TOP = 34
"""Room for the notice labels above the rows."""
LANE = 22
ROW_GAP = 12
AXIS = 34
BAR_LABEL = 90
"""The narrowest bar that is labelled with its basis."""


@dataclass(frozen=True, slots=True)
class NoticeBand:
    """A notice version and the instant it took effect."""

    version: str
    effective_from: datetime


@dataclass(frozen=True, slots=True)
class _Scale:
    start: datetime
    end: datetime

    def x(self, at: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        share = (at - self.start).total_seconds() / span
        return round(LABEL + min(1.0, max(0.0, share)) * (WIDTH - LABEL - RIGHT), 2)


def _attr(value: str | None) -> str:
    return escape(value or "", quote=True)


def _lanes(intervals: Sequence[BasisInterval]) -> list[tuple[str, str | None]]:
    lanes: list[tuple[str, str | None]] = []
    for interval in intervals:
        lane = (interval.basis, interval.controller)
        if lane not in lanes:
            lanes.append(lane)
    return lanes


def starting(interval: BasisInterval) -> list[EvidenceRef]:
    """The interval's evidence that started it (its evidence without the event that ended it)."""
    ended = None if interval.ended_by is None else interval.ended_by.position
    return [e for e in interval.evidence if e.position != ended]


def _interval(
    interval: BasisInterval, purpose: str, y: float, scale: _Scale, zone: tzinfo
) -> list[str]:
    left = scale.x(interval.since)
    right = scale.x(interval.until or scale.end)
    until = "" if interval.until is None else rfc3339(interval.until)
    shown_until = "open" if interval.until is None else local(interval.until, zone)
    title = f"{interval.basis} from {local(interval.since, zone)} until {shown_until}"
    parts = [
        f'<rect class="interval basis-{_attr(interval.basis)}" x="{left}" y="{y + 3}"'
        f' width="{max(2.0, round(right - left, 2))}" height="{LANE - 6}"'
        f' data-purpose="{_attr(purpose)}" data-basis="{_attr(interval.basis)}"'
        f' data-controller="{_attr(interval.controller)}"'
        f' data-since="{rfc3339(interval.since)}" data-until="{until}">'
        f"<title>{escape(title)}</title></rect>",
        f'<line class="start-mark" x1="{left}" x2="{left}" y1="{y}" y2="{y + LANE}"'
        f' data-positions="{" ".join(str(e.position) for e in starting(interval))}"/>',
    ]
    if right - left > BAR_LABEL:
        parts.append(
            f'<text class="bar-label" x="{left + 4}" y="{y + LANE / 2 + 4}">'
            f"{escape(interval.basis)}</text>"
        )
    if interval.ended_by is not None:
        parts.append(
            f'<line class="end-mark" x1="{right}" x2="{right}" y1="{y}" y2="{y + LANE}"'
            f' data-position="{interval.ended_by.position}"/>'
        )
    return parts


def _row(
    answer: BasisAnswer, label: str, y: float, scale: _Scale, zone: tzinfo
) -> tuple[list[str], float]:
    intervals = answer.timeline if answer.timeline is not None else answer.bases
    lanes = _lanes(intervals) or [("", None)]
    height = len(lanes) * LANE
    parts = [
        f'<g class="purpose" data-purpose="{_attr(answer.purpose)}">',
        f'<text class="purpose-label" x="6" y="{y + LANE / 2 + 4}">{escape(label)}</text>',
        f'<line class="row-rule" x1="{LABEL}" x2="{WIDTH - RIGHT}" y1="{y + height}"'
        f' y2="{y + height}"/>',
    ]
    if not intervals:
        parts.append(
            f'<text class="none" x="{LABEL + 6}" y="{y + LANE / 2 + 4}">no basis recorded</text>'
        )
    for interval in intervals:
        lane_y = y + lanes.index((interval.basis, interval.controller)) * LANE
        parts.extend(_interval(interval, answer.purpose, lane_y, scale, zone))
    parts.append("</g>")
    return parts, height


def _notices(
    notices: Sequence[NoticeBand], scale: _Scale, bottom: float, zone: tzinfo
) -> list[str]:
    ordered = sorted(notices, key=lambda n: n.effective_from)
    parts: list[str] = []
    for index, notice in enumerate(ordered):
        following = ordered[index + 1].effective_from if index + 1 < len(ordered) else scale.end
        if following <= scale.start or notice.effective_from >= scale.end:
            continue
        left, right = scale.x(notice.effective_from), scale.x(following)
        parts.append(
            f'<rect class="notice notice-{index % 2}" x="{left}" y="{TOP - 14}"'
            f' width="{round(right - left, 2)}" height="{bottom - TOP + 14}"'
            f' data-version="{_attr(notice.version)}"'
            f' data-effective-from="{rfc3339(notice.effective_from)}">'
            f"<title>notice {escape(notice.version)} in force from"
            f" {local(notice.effective_from, zone)}</title></rect>"
            f'<text class="notice-label" x="{left + 4}" y="{TOP - 4}">'
            f"notice {escape(notice.version)}</text>"
        )
    return parts


def _axis(scale: _Scale, y: float, zone: tzinfo, ticks: int = 4) -> list[str]:
    parts = [f'<line class="axis" x1="{LABEL}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>']
    for step in range(ticks + 1):
        at = scale.start + (scale.end - scale.start) * step / ticks
        x = scale.x(at)
        anchor = "start" if step == 0 else "end" if step == ticks else "middle"
        parts.append(
            f'<line class="tick" x1="{x}" x2="{x}" y1="{y}" y2="{y + 5}"/>'
            f'<text class="tick-label" x="{x}" y="{y + 18}" text-anchor="{anchor}">'
            f"{at.astimezone(zone).strftime('%Y-%m-%d')}</text>"
        )
    return parts


def local(at: datetime, zone: tzinfo) -> str:
    """An instant in ``zone``, to the second, with its offset (``2024-03-01 14:00:00 +02:00``)."""
    shown = at.astimezone(zone)
    offset = shown.strftime("%z")
    return f"{shown.strftime('%Y-%m-%d %H:%M:%S')} {offset[:3]}:{offset[3:]}"


def render_timeline(
    answers: Sequence[BasisAnswer],
    *,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    notices: Sequence[NoticeBand] = (),
    labels: Mapping[str, str] | None = None,
) -> str:
    """The SVG of every purpose's basis intervals between ``start`` and ``end``.

    Args:
        answers: one basis answer per purpose, asked with ``timeline=True``.
        start: the left edge (the subject's first event, or earlier).
        end: the right edge (the instant asked about); open intervals run to it.
        zone: the register's time zone, for the labels (attributes stay in UTC).
        notices: the published notice versions, shaded behind the rows.
        labels: the register's words for each purpose id (the id when missing).
    """
    if end <= start:
        msg = "the timeline must end after it starts"
        raise ValueError(msg)
    scale, words = _Scale(start, end), labels or {}
    rows: list[str] = []
    y = float(TOP)
    for answer in answers:
        parts, height = _row(answer, words.get(answer.purpose, answer.purpose), y, scale, zone)
        rows.extend(parts)
        y += height + ROW_GAP
    height = y + AXIS
    body = [*_notices(notices, scale, y, zone), *rows, *_axis(scale, y, zone)]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img"'
        f' aria-labelledby="timeline-title" viewBox="0 0 {WIDTH} {round(height)}"'
        f' width="{WIDTH}" height="{round(height)}" data-start="{rfc3339(start)}"'
        f' data-end="{rfc3339(end)}">'
        f'<title id="timeline-title">Lawful basis of each purpose from {local(start, zone)}'
        f" to {local(end, zone)}</title>" + "".join(body) + "</svg>"
    )
