"""The shortcuts that turn checked lines into events and answers give what the plain
forms give: a serializer call for ``model_dump``, a judge that passes over lines it
finds nothing of, and a whole call's answer without filtering by line number."""

from __future__ import annotations

import random
import typing
from datetime import UTC, datetime
from typing import Any, get_args
from uuid import uuid4

import orjson
import pytest

from ledger.appending import application, judging
from ledger.appending.batch import ParsedLine, parse_lines
from ledger.appending.judging import Judge, Judged, finding_data
from ledger.appending.outcomes import AppendResult, Written
from ledger.domain.findings import Agreements, Finding, Use
from ledger.domain.register import NoticeHistory
from schemas import events as ev
from tests import factories as f
from tests.unit.test_judge_memo import _line

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LINE_MODELS: tuple[type[Any], ...] = get_args(get_args(ev.AppendLine)[0])
"""Every line model of the append contract."""


def _every_kind_of_line(rng: random.Random) -> list[dict[str, Any]]:
    """Generated lines of the judge's kinds and one of each factory's kind."""
    lines = [_line(rng, f"C-{rng.randint(1, 5)}", ["2021-06-03"]) for _ in range(200)]
    return [
        *lines,
        f.subject_registered("C-1"),
        f.personal_data("C-1"),
        f.erased_fields("C-1"),
        f.recipient_notified("C-1", 7),
        f.recipient_registered("mailer"),
    ]


def _parsed(lines: list[dict[str, Any]]) -> list[ParsedLine]:
    parsed, problems = parse_lines(enumerate(lines, 1), NOW)
    assert not problems
    return parsed


@pytest.mark.parametrize("seed", range(5))
def test_a_lines_data_is_dumped_byte_for_byte_as_model_dump_dumps_it(seed: int) -> None:
    parsed = _parsed(_every_kind_of_line(random.Random(seed)))
    assert {type(p.line) for p in parsed} >= {ev.ConsentGrantedLine, ev.RecipientRegisteredLine}
    for p in parsed:
        fast = application._dumped(p.line.data)
        assert orjson.dumps(fast) == orjson.dumps(p.line.data.model_dump(mode="json"))
        assert fast is not application._dumped(p.line.data)  # each the caller's to change


def test_a_findings_data_is_dumped_byte_for_byte_as_model_dump_dumps_it() -> None:
    finding = Finding("no_lawful_basis", "no basis", purpose="marketing", recipient="mailer",
                      notice_version="2021-06-03")  # fmt: skip
    use = Use(3, "DataProcessed", NOW, "marketing")
    because = ev.FindingEvidence(version=9, type="ConsentWithdrawn")
    for data in (finding_data(finding, "DataProcessed", 4),
                 finding_data(finding, use.type, use.position, because)):  # fmt: skip
        assert orjson.dumps(application._dumped(data)) == orjson.dumps(data.model_dump(mode="json"))


def test_the_judge_passes_over_only_the_types_it_would_find_nothing_of() -> None:
    """A type left out of ``_OBSERVED`` is no type ``observe`` takes in or judges."""
    tags = {typing.get_args(m.model_fields["type"].annotation)[0]: m for m in LINE_MODELS}
    taken = (
        judging.BASIS_TYPES | judging.RESTRICTION_TYPES | judging.JUDGED_TYPES
        | {"ConsentGranted", "RecipientRegistered", "RecipientEnded"}
    )  # fmt: skip
    assert set(tags) & taken == set(tags) & judging._OBSERVED
    handled = (ev.RecipientRegisteredLine, ev.RecipientEndedLine, ev.ConsentGrantedLine)
    for tag, model in tags.items():
        if tag not in judging._OBSERVED:
            assert not issubclass(model, handled), tag


@pytest.mark.parametrize("seed", range(5))
def test_the_judge_finds_what_it_finds_taking_in_every_line(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _every_kind_of_line(random.Random(seed))
    random.Random(seed).shuffle(lines)

    def judged() -> list[Any]:
        parsed = _parsed(lines)
        refs = {f"C-{i}": uuid4() for i in range(1, 6)}
        for p in parsed:
            p.subject_id = refs.get(getattr(p.line, "subject", None) or "")
        judge = Judge({}, parsed, NoticeHistory([]), Agreements({}))
        out: list[Any] = []
        for version, p in enumerate(parsed, 1):
            out += [(p.number, x.rule, x.message) for x in judge.observe(p, version, NOW)]
            out += [(p.number, u.position, x.rule) for u, x in judge.revise(p, version)]
        keyed = {ref: judge.histories[sid] for ref, sid in refs.items()}
        return [out, repr(keyed), repr(judge.agreements.history)]

    fast = judged()
    with monkeypatch.context() as patched:
        every = frozenset(
            typing.get_args(m.model_fields["type"].annotation)[0] for m in LINE_MODELS
        )
        patched.setattr(judging, "_OBSERVED", every)
        assert fast == judged()


def _slow_result(written: Written, first: int, last: int, renumber: int = 0) -> AppendResult:
    """``Written.result`` as it was, filtering every id, finding and line by number."""
    fresh = {n for n in written.owners if first <= n <= last}
    lines = sum(1 for p in written.parsed if first <= p.number <= last)
    positions = [i for i, n in zip(written.ids, written.owners, strict=True) if first <= n <= last]
    findings = tuple(
        {**j.as_dict(), "line": j.number - renumber}
        for j in written.judged
        if first <= j.number <= last
    )
    return AppendResult(
        len(fresh), lines - len(fresh), max(positions) if positions else None, findings
    )


def _written(rng: random.Random, first: int) -> Written:
    """A call's lines numbered from ``first``: some duplicates, some with findings."""
    count = rng.randint(1, 12)
    parsed = _parsed([f.subject_registered(f"C-{i}") for i in range(count)])
    for p in parsed:
        p.number += first - 1
    owners: list[int] = []
    judged: list[Judged] = []
    for p in parsed:
        if rng.random() < 0.2:
            continue  # a duplicate: nothing stored
        events = rng.choice([1, 1, 2, 3])
        owners += [p.number] * events
        judged += [
            Judged(p.number, f"C-{p.number}", "DataProcessed", p.number,
                   Finding("no_lawful_basis", "none", purpose="marketing"))
            for _ in range(events - 1)
        ]  # fmt: skip
    ids = tuple(sorted(rng.sample(range(1, 10_000), len(owners))))
    return Written(parsed, ids, tuple(owners), tuple(judged))


@pytest.mark.parametrize("seed", range(40))
def test_a_whole_calls_answer_is_the_one_filtering_by_line_number_gives(seed: int) -> None:
    rng = random.Random(seed)
    first = rng.randint(1, 50)
    written = _written(rng, first)
    last = first + len(written.parsed) - 1
    for lo, hi, renumber in (
        (first, last, 0),
        (first, last + rng.randint(1, 5), 0),  # a call's blank lines come after
        (first + 1, last, 0),
        (first, last - 1, 0),
        (first + 1, last, 1),
        (first, last, first - 1),
    ):
        assert written.result(lo, hi, renumber=renumber) == _slow_result(written, lo, hi, renumber)
