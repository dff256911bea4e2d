"""The judge works out a subject's basis intervals once per fact list: what it finds is
exactly what working them out afresh for every judged line finds (no store)."""

from __future__ import annotations

import copy
import random
import tomllib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger.appending import judging
from ledger.appending.batch import ParsedLine, parse_lines
from ledger.appending.judging import Judge, SubjectHistory
from ledger.domain import findings
from ledger.domain.basis import ERASURE, BasisRules, Fact, Interval, Restriction, basis_intervals
from ledger.domain.findings import Agreement, Agreements, Erasure, Use
from ledger.domain.register import NoticeHistory, NoticeVersion
from schemas.register import Recipient, RegisterDefinition
from tests import factories as f

REGISTER = Path(__file__).parents[2] / "examples" / "register.toml"
RETAIL, NETWORK = f.RETAIL, f.NETWORK
T0 = datetime(2021, 6, 3, tzinfo=UTC)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
RECIPIENTS = "recipients"
PURPOSES = ("customer_relationship", "service_delivery", "billing", "marketing", "development",
            "profiling")  # fmt: skip
CATEGORIES = ("customer_basic", "billing", "cookies", "web_logs", "correspondence")


def _purpose(raw: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in raw["purposes"] if p["id"] == pid)


def _no_statutory_billing(raw: dict[str, Any]) -> None:
    for rule in raw["retention"]:
        if rule["category"] == "billing":
            rule["legal_reference"] = None


CHANGES: tuple[Callable[[dict[str, Any]], None], ...] = (
    lambda r: _purpose(r, "development").update(bases=["contract"]),
    lambda r: _purpose(r, "development").update(direct_marketing=True),
    lambda r: _purpose(r, "marketing").update(controllers=[RETAIL, NETWORK]),
    lambda r: _purpose(r, "profiling").update(ends_with_objection_to=["marketing", "development"]),
    lambda r: _purpose(r, "profiling").update(ends_with_objection_to=[]),
    lambda r: _purpose(r, "billing").update(bases=["contract"]),
    lambda r: _purpose(r, "service_delivery").update(bases=["consent", "legal_obligation"]),
    lambda r: r["automated_decisions"].update(exists=True),
    _no_statutory_billing,
)
"""Notice changes that move bases, controllers, stops and holds between versions."""


def _notice(rng: random.Random, label: str, start: datetime) -> NoticeVersion:
    with REGISTER.open("rb") as handle:
        raw = tomllib.load(handle)
    raw = copy.deepcopy(raw) | {"version": label, "effective_from": start}
    for change in rng.sample(CHANGES, rng.randint(0, 3)):
        change(raw)
    return NoticeVersion(label, start, RegisterDefinition.model_validate(raw), f"d-{label}")


def _instant(rng: random.Random) -> datetime:
    return T0 + timedelta(days=rng.randint(0, 1400), seconds=rng.choice([0, 1, 3600]))


def _iso(at: datetime) -> str:
    return at.isoformat()


def _stored(rng: random.Random, labels: list[str]) -> SubjectHistory:
    """A subject's stored history: basis facts (an erasure request too), restrictions, uses."""
    history = SubjectHistory()
    position = 1
    for _ in range(rng.randint(0, 6)):
        position += 1
        at = _instant(rng)
        kind = rng.choice(["ContractStarted", "ContractEnded", "ConsentGranted",
                           "ConsentWithdrawn", "ObjectionRecorded", ERASURE])  # fmt: skip
        if kind == ERASURE:
            history.facts.append(Fact(position, ERASURE, at, at))
            held = {"billing": None if rng.random() < 0.5 else at + timedelta(days=300)}
            erased = frozenset(rng.sample(CATEGORIES, 2))
            history.erasures.append(Erasure(position, at, "subject", erased, held))
        elif kind.startswith("Contract"):
            controller = rng.choice([RETAIL, NETWORK])
            contract = rng.choice(["K-1", "K-2"])
            history.facts.append(
                Fact(position, kind, at, at, controller=controller, contract=contract)
            )
        else:
            history.facts.append(Fact(
                position, kind, at, at, purpose=rng.choice(PURPOSES),
                controller=rng.choice([None, RETAIL]),
                notice_version=rng.choice([None, *labels]) if kind == "ConsentGranted" else None,
            ))  # fmt: skip
    if rng.random() < 0.3:
        position += 1
        history.restrictions.append(
            Restriction(position, "ProcessingRestricted", _instant(rng), ("customer_basic",))
        )
    for _ in range(rng.randint(0, 3)):
        position += 1
        purpose = rng.choice(PURPOSES)
        history.uses.append(Use(position, "DataProcessed", _instant(rng), purpose,
                                controller=RETAIL, categories=("customer_basic",)))  # fmt: skip
        if rng.random() < 0.5:
            history.recorded.add((position, "no_lawful_basis"))
    return history


Build = Callable[[random.Random, str, list[str], dict[str, str]], dict[str, Any]]


def _granted(rng: random.Random, ref: str, labels: list[str], at: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"notice_version": rng.choice([None, *labels])}
    if rng.random() < 0.3:
        data["expires_at"] = _iso(_instant(rng))
    if rng.random() < 0.3:
        data["controller"] = rng.choice([RETAIL, NETWORK])
    return f.consent_granted(ref, rng.choice(PURPOSES), data=data, **at)


def _processed(rng: random.Random, ref: str, _: list[str], at: dict[str, str]) -> dict[str, Any]:
    categories = rng.sample(CATEGORIES, rng.randint(1, 2))
    controller = rng.choice([RETAIL, NETWORK])
    return f.processed(ref, rng.choice(PURPOSES), controller=controller, categories=categories,
                       **at)  # fmt: skip


def _disclosed(rng: random.Random, ref: str, _: list[str], at: dict[str, str]) -> dict[str, Any]:
    line = f.disclosed(ref, rng.choice(["print-house", "mailer", "it-services"]), **at)
    line["data"]["purpose"] = rng.choice(PURPOSES)
    return line


def _recipient(rng: random.Random, _: str, __: list[str], at: dict[str, str]) -> dict[str, Any]:
    if rng.random() < 0.5:
        return f.line("RecipientEnded", None, {"id": "mailer", "reason": "contract over"}, **at)
    return f.recipient_registered("mailer", data={"purposes": [rng.choice(PURPOSES)]}, **at)


BUILDS: dict[Build, int] = {
    lambda rng, ref, _, at: f.contract_started(
        ref, rng.choice(["K-1", "K-2"]), controller=rng.choice([RETAIL, NETWORK]), **at
    ): 2,
    lambda rng, ref, _, at: f.contract_ended(
        ref, rng.choice(["K-1", "K-2"]), controller=rng.choice([RETAIL, NETWORK]), **at
    ): 2,
    _granted: 3,
    lambda rng, ref, _, at: f.consent_withdrawn(ref, rng.choice(PURPOSES), **at): 2,
    lambda rng, ref, _, at: f.objection(ref, rng.choice(PURPOSES), **at): 1,
    _processed: 6,
    _disclosed: 2,
    lambda rng, ref, _, at: f.profile_derived(ref, **at): 2,
    lambda rng, ref, _, at: f.automated_decision(ref, **at): 1,
    lambda rng, ref, _, at: f.personal_data(ref, **at): 1,
    lambda rng, ref, _, at: f.restricted(ref, categories=["customer_basic"], **at): 1,
    lambda rng, ref, _, at: f.restriction_lifted(ref, **at): 1,
    _recipient: 1,
}
"""Each kind of line the judge takes in, with how often it comes."""


def _line(rng: random.Random, ref: str, labels: list[str]) -> dict[str, Any]:
    """One line of a subject (or a recipient's), at a random instant (late facts too)."""
    build = rng.choices(list(BUILDS), weights=list(BUILDS.values()))[0]
    return build(rng, ref, labels, {"occurred_at": _iso(_instant(rng))})


Trace = list[tuple[Any, ...]]


def _judge_batch(judge_type: type[Judge], seed: int) -> tuple[Trace, Agreements]:
    """Judge one generated batch line by line as the append does; every finding, in order.

    A notice version is published part way through some batches (the judge must
    see it); the agreements passed in are returned to show they were not changed.
    """
    rng = random.Random(seed)
    starts = sorted(T0 + timedelta(days=rng.randint(0, 1000)) for _ in range(rng.randint(0, 2)))
    versions = [_notice(rng, "v0", T0)] + [
        _notice(rng, f"v{i + 1}", s) for i, s in enumerate(starts)
    ]
    labels = [v.version for v in versions]
    later = _notice(rng, "v9", T0 + timedelta(days=rng.randint(0, 1200)))
    notices = NoticeHistory(versions)
    refs = {f"C-{i}": uuid4() for i in range(rng.randint(1, 6))}
    histories = {sid: _stored(rng, labels) for sid in refs.values()}
    lines = [_line(rng, rng.choice(list(refs)), labels) for _ in range(rng.randint(10, 90))]
    parsed, problems = parse_lines(enumerate(lines, 1), NOW)
    assert not problems
    for p in parsed:
        p.subject_id = refs.get(getattr(p.line, "subject", None) or "")
    print_house = Recipient.model_validate(
        {"id": "print-house", "name": "Print Oy", "role": "processor", "country": "FI",
         "purposes": ["billing"]}
    )  # fmt: skip
    agreements = Agreements({"print-house": [Agreement(T0, print_house, 1)]})
    judge = judge_type(histories, parsed, notices, agreements)
    publish_at = rng.randint(0, len(parsed) * 2)  # past the end: not published
    heads: Counter[UUID | str] = Counter(dict.fromkeys(refs.values(), 40))
    trace: Trace = []
    for i, p in enumerate(parsed):
        if i == publish_at:
            notices.add(later)
        stream = p.subject_id or RECIPIENTS
        heads[stream] += 1
        version = heads[stream]
        for finding in judge.observe(p, version, NOW):
            heads[stream] += 1
            trace.append(("observe", p.number, version, finding))
        for use, finding in judge.revise(p, version):
            heads[stream] += 1
            trace.append(("revise", p.number, version, use, finding))
    return trace, agreements


class AfreshJudge(Judge):
    """The judge without its memo: each judged use's intervals from ``basis_intervals``.

    Run with ``_every_field`` and ``_afresh`` patched in (``test_the_judge_with...``).
    """

    def _basis(
        self, subject_id: UUID | None, facts: list[Fact], purpose: str, controller: str | None
    ) -> list[Interval]:
        return basis_intervals(facts, self.notices.versions, purpose, controller)

    def _basis_rules(self) -> BasisRules:
        return BasisRules(self.notices.versions)


def _afresh(
    facts: list[Fact], notices: NoticeHistory, _: BasisRules | None
) -> Callable[[str, str | None], list[Interval]]:
    """``findings._intervals_of`` without its memo, nor the judge's ``BasisRules``."""
    return lambda purpose, controller: basis_intervals(facts, notices.versions, purpose, controller)


def _every_field(data: Any) -> dict[str, Any]:
    """``_as_read`` without skipping: ``getattr(data, name, None)`` of every read field."""
    return {name: getattr(data, name, None) for name in judging._READ_FIELDS}


@pytest.mark.parametrize("seed", range(60))
def test_the_judge_with_its_memo_finds_what_working_every_line_out_afresh_finds(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, fast_agreements = _judge_batch(Judge, seed)
    with monkeypatch.context() as patched:
        patched.setattr(judging, "_as_read", _every_field)
        patched.setattr(findings, "_intervals_of", _afresh)
        slow, slow_agreements = _judge_batch(AfreshJudge, seed)
    assert fast == slow
    assert fast_agreements == slow_agreements
    assert list(fast_agreements.history) == ["print-house"]  # the caller's, unchanged


def test_the_generated_batches_judge_late_facts_and_find_every_kind_of_finding() -> None:
    """The comparison above is worth something only if the batches exercise it."""
    rules: Counter[str] = Counter()
    revised = 0
    for seed in range(60):
        trace, _ = _judge_batch(Judge, seed)
        rules.update(entry[-1].rule for entry in trace)
        revised += sum(entry[0] == "revise" for entry in trace)
    assert revised > 20
    for rule in ("no_lawful_basis", "processing_without_consent", "finding_lifted",
                 "processing_while_restricted", "erased_data_used",
                 "disclosure_outside_agreement", "consent_under_wrong_notice"):  # fmt: skip
        assert rules[rule] > 0, rule


def _one_subject_batch(lines: list[dict[str, Any]]) -> tuple[list[ParsedLine], UUID]:
    parsed, problems = parse_lines(enumerate(lines, 1), NOW)
    assert not problems
    subject_id = uuid4()
    for p in parsed:
        p.subject_id = subject_id
    return parsed, subject_id


def test_a_subjects_intervals_are_worked_out_again_only_when_a_fact_or_a_notice_comes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worked: list[str] = []
    original = BasisRules.intervals

    def counted(self: BasisRules, facts: Any, purpose: str, controller: Any = None) -> Any:
        worked.append(purpose)
        return original(self, facts, purpose, controller)

    monkeypatch.setattr(BasisRules, "intervals", counted)
    at = {"occurred_at": "2023-05-04T10:00:00+00:00"}
    parsed, subject_id = _one_subject_batch([
        f.processed("C-1", "profiling", controller=RETAIL, **at),
        f.processed("C-1", "profiling", controller=RETAIL, **at),
        f.processed("C-1", "billing", controller=RETAIL, **at),
        f.consent_granted("C-1", "profiling", occurred_at="2023-01-01T00:00:00+00:00"),
        f.processed("C-1", "profiling", controller=RETAIL, **at),
        f.processed("C-1", "profiling", controller=RETAIL, **at),
        f.processed("C-1", "profiling", controller=RETAIL, **at),
    ])  # fmt: skip
    rng = random.Random(0)
    notices = NoticeHistory([_notice(rng, "v0", T0)])
    judge = Judge({subject_id: SubjectHistory()}, parsed, notices, Agreements())
    rules = []
    for version, p in enumerate(parsed[:6], 1):
        if version == 6:
            notices.add(_notice(rng, "v1", datetime(2022, 1, 1, tzinfo=UTC)))
        rules.append([x.rule for x in judge.observe(p, version, NOW)])
    assert rules[:2] == [["processing_without_consent"]] * 2
    assert rules[4] == []  # the grant counts at once
    assert worked == ["profiling", "billing", "profiling", "profiling"]
