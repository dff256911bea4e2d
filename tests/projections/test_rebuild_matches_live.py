"""A rebuild from the log gives exactly the live views, on both stores."""

from __future__ import annotations

from datetime import timedelta
from itertools import islice

from ledger.appending.application import Ledger
from ledger.appending.definition_file import DefinitionFile
from ledger.clock import FixedClock
from ledger.demo.population import generate_population
from projections import PROJECTIONS
from projections.replay import replay_compare
from projections.runner import ProjectionRunner
from tests import factories as f


def snapshot(runner: ProjectionRunner) -> dict[str, list[dict]]:
    return {
        table: [dict(r) for r in runner.store.query(f"SELECT * FROM {{t}}{table} ORDER BY 1, 2, 3")]
        for p in PROJECTIONS
        for table in p.tables
    }


def varied_history(
    ledger: Ledger, register: DefinitionFile, clock: FixedClock, runner: ProjectionRunner
) -> None:
    start = ledger.notices.versions[0].effective_from
    lines = generate_population(register.definition, 60, seed=7, start=start, end=clock.now())
    while chunk := list(islice(lines, 200)):
        f.append(ledger, *chunk)
        runner.catch_up()  # the live views follow the appends in steps
        clock.advance(timedelta(hours=1))
    late = [
        f.subject_registered("C-LATE", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-LATE", occurred_at="2021-08-01T00:00:00Z"),
        f.consent_granted("C-LATE", occurred_at="2022-01-01T00:00:00Z"),
        f.consent_withdrawn(
            "C-LATE", occurred_at="2021-12-01T00:00:00Z"
        ),  # recorded later, occurred earlier
        f.objection("C-LATE", occurred_at="2022-06-01T00:00:00Z"),
        f.contract_ended("C-LATE", occurred_at="2023-01-01T00:00:00Z"),
        f.personal_data("C-LATE", occurred_at="2021-07-01T00:00:00Z"),
        f.erased_fields("C-LATE", occurred_at="2022-07-01T00:00:00Z"),
    ]
    for line in late:
        f.append(ledger, line)
        clock.advance(timedelta(days=1))
    runner.catch_up()


def test_rebuilding_every_view_gives_exactly_the_live_views(
    core, ledger: Ledger, register: DefinitionFile, clock: FixedClock
) -> None:
    runner = core.runner(page_size=97)
    varied_history(ledger, register, clock, runner)
    live = snapshot(runner)
    assert sum(len(rows) for rows in live.values()) > 500
    count = runner.rebuild()
    assert count == len(ledger.recorder.select_notifications(1, 1_000_000))
    assert snapshot(runner) == live


def test_replay_compare_finds_no_difference_and_finds_a_tampered_row(
    core, ledger: Ledger, register: DefinitionFile, clock: FixedClock
) -> None:
    runner = core.runner()
    varied_history(ledger, register, clock, runner)
    position, differences, compared = replay_compare(core.ledger, core.store)
    assert (position, differences) == (runner.head(), [])
    assert compared > 500
    with runner.store.transaction() as tx:
        tx.execute(
            "UPDATE {t}v_basis_facts SET purpose = 'profiling' WHERE type = 'ObjectionRecorded'"
        )
    _, differences, _ = replay_compare(core.ledger, core.store)
    assert differences
    assert {d.table for d in differences} == {"v_basis_facts"}
