"""The basis timeline as SVG: intervals to scale, their events marked, notices behind."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.console.timeline import (
    LABEL,
    RIGHT,
    WIDTH,
    NoticeBand,
    local,
    render_timeline,
    starting,
)
from ledger.domain.basis import HELSINKI
from schemas.answers import BasisAnswer, BasisInterval, EvidenceRef

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2023, 1, 1, tzinfo=UTC)
END = datetime(2024, 1, 1, tzinfo=UTC)
PLOT = WIDTH - LABEL - RIGHT


def ref(position: int, kind: str) -> EvidenceRef:
    return EvidenceRef(position=position, type=kind, hash=f"{position:064x}")


def interval(basis: str, since: datetime, until: datetime | None, **kw: Any) -> BasisInterval:
    return BasisInterval(
        basis=basis, since=since, until=until, evidence=kw.pop("evidence", [ref(1, "X")]), **kw
    )


def answer(purpose: str, *intervals: BasisInterval) -> BasisAnswer:
    return BasisAnswer(
        subject="C-1", purpose=purpose, at=END, known_at=None, lawful=False, bases=[],
        notice_version=None, timeline=list(intervals), last_ended=None,
    )  # fmt: skip


def draw(*answers: BasisAnswer, **kw: Any) -> ET.Element:
    drawn = render_timeline(answers, start=START, end=END, zone=HELSINKI, **kw)
    return ET.fromstring(drawn)  # noqa: S314 - our own output


def rects(svg: ET.Element, kind: str) -> list[ET.Element]:
    return [r for r in svg.iter(f"{SVG}rect") if kind in r.get("class", "").split()]


def x_of(at: datetime) -> float:
    return LABEL + (at - START) / (END - START) * PLOT


def test_an_interval_is_drawn_to_scale_between_its_instants() -> None:
    middle, late = START + timedelta(days=100), START + timedelta(days=300)
    (bar,) = rects(draw(answer("marketing", interval("consent", middle, late))), "interval")
    assert float(bar.get("x", "")) == pytest.approx(x_of(middle), abs=0.01)
    assert float(bar.get("width", "")) == pytest.approx(x_of(late) - x_of(middle), abs=0.02)


def test_an_interval_carries_its_facts_as_data_attributes_in_utc() -> None:
    since = datetime(2023, 5, 4, 10, 0, tzinfo=HELSINKI)
    until = datetime(2023, 9, 1, 12, 0, tzinfo=HELSINKI)
    drawn = interval("consent", since, until, controller="0209628-8")
    (bar,) = rects(draw(answer("marketing", drawn)), "interval")
    assert bar.get("data-purpose") == "marketing"
    assert bar.get("data-basis") == "consent"
    assert bar.get("data-controller") == "0209628-8"
    assert bar.get("data-since") == "2023-05-04T07:00:00Z"
    assert bar.get("data-until") == "2023-09-01T09:00:00Z"


def test_an_open_interval_runs_to_the_right_edge_with_an_empty_until() -> None:
    since = START + timedelta(days=30)
    (bar,) = rects(draw(answer("billing", interval("contract", since, None))), "interval")
    assert bar.get("data-until") == ""
    right = float(bar.get("x", "")) + float(bar.get("width", ""))
    assert right == pytest.approx(WIDTH - RIGHT, abs=0.02)


def test_the_events_that_start_and_end_an_interval_are_marked() -> None:
    ended = interval(
        "consent", START + timedelta(days=10), START + timedelta(days=20),
        evidence=[ref(5, "ConsentGranted"), ref(7, "ConsentWithdrawn")],
        ended_by=ref(7, "ConsentWithdrawn"),
    )  # fmt: skip
    svg = draw(answer("marketing", ended))
    (start,) = [m for m in svg.iter(f"{SVG}line") if m.get("class") == "start-mark"]
    (end,) = [m for m in svg.iter(f"{SVG}line") if m.get("class") == "end-mark"]
    assert start.get("data-positions") == "5"
    assert end.get("data-position") == "7"
    assert float(end.get("x1", "")) == pytest.approx(x_of(START + timedelta(days=20)), abs=0.01)
    assert [e.position for e in starting(ended)] == [5]


def test_an_interval_that_ran_out_has_no_end_mark() -> None:
    ran_out = interval("consent", START + timedelta(days=10), START + timedelta(days=20))
    svg = draw(answer("marketing", ran_out))
    assert not [m for m in svg.iter(f"{SVG}line") if m.get("class") == "end-mark"]


def test_each_purpose_gets_a_row_and_each_basis_a_lane_within_it() -> None:
    svg = draw(
        answer("marketing", interval("consent", START, END), interval("contract", START, END)),
        answer("billing", interval("contract", START, END)),
        answer("profiling"),
    )
    groups = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "purpose"]
    assert [g.get("data-purpose") for g in groups] == ["marketing", "billing", "profiling"]
    consent, contract, billing = rects(svg, "interval")
    assert float(contract.get("y", "")) > float(consent.get("y", ""))
    assert float(billing.get("y", "")) > float(contract.get("y", ""))
    assert "no basis recorded" in "".join(groups[2].itertext())


def test_notice_versions_in_force_are_shaded_behind_from_their_start() -> None:
    notices = [
        NoticeBand("2021-06-03", datetime(2021, 6, 3, tzinfo=UTC)),
        NoticeBand("2023-07-01", datetime(2023, 7, 1, tzinfo=UTC)),
    ]
    svg = draw(answer("marketing", interval("consent", START, END)), notices=notices)
    first, second = rects(svg, "notice")
    assert [first.get("data-version"), second.get("data-version")] == ["2021-06-03", "2023-07-01"]
    assert float(first.get("x", "")) == LABEL  # began before the history: clipped to its start
    assert float(second.get("x", "")) == pytest.approx(
        x_of(datetime(2023, 7, 1, tzinfo=UTC)), abs=0.01
    )
    children = list(svg)
    assert children.index(second) < children.index(
        next(g for g in svg if g.get("class") == "purpose")
    )


def test_a_notice_that_took_effect_after_the_end_is_not_drawn() -> None:
    late = [NoticeBand("2030-01-01", datetime(2030, 1, 1, tzinfo=UTC))]
    assert rects(draw(answer("marketing"), notices=late), "notice") == []


def test_labels_use_the_registers_words_and_are_escaped() -> None:
    svg_text = render_timeline(
        [answer("marketing")], start=START, end=END, zone=HELSINKI,
        labels={"marketing": "Marketing <of> products & services"},
    )  # fmt: skip
    assert "Marketing &lt;of&gt; products &amp; services" in svg_text
    ET.fromstring(svg_text)  # noqa: S314 - our own output, still well-formed XML


def test_times_on_the_drawing_are_shown_in_helsinki_with_the_offset() -> None:
    assert local(datetime(2023, 7, 1, 9, 0, tzinfo=UTC), HELSINKI) == "2023-07-01 12:00:00 +03:00"
    assert local(datetime(2023, 1, 1, 9, 0, tzinfo=UTC), HELSINKI) == "2023-01-01 11:00:00 +02:00"
    title = draw(answer("marketing")).find(f"{SVG}title")
    assert title is not None
    assert "2023-01-01 02:00:00 +02:00" in (title.text or "")


def test_a_timeline_that_does_not_end_after_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        render_timeline([], start=END, end=START, zone=HELSINKI)


def test_a_wide_enough_bar_is_labelled_with_its_basis() -> None:
    svg = draw(answer("marketing", interval("consent", START, END)))
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "bar-label"]
    assert labels == ["consent"]
    narrow = draw(answer("marketing", interval("consent", START, START + timedelta(days=1))))
    assert not [t for t in narrow.iter(f"{SVG}text") if t.get("class") == "bar-label"]
