"""The demo population: valid lines, deterministic, ordered, and appendable."""

from __future__ import annotations

import io
import tomllib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import TypeAdapter

from ledger.appending.application import Ledger, file_digest
from ledger.clock import FixedClock
from ledger.demo.population import demo_horizon, generate_population, run_demo
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url
from schemas import events as ev
from schemas.identifiers import business_id_problem, personal_identity_code_problem
from schemas.register import FieldType, RegisterDefinition

REGISTER = Path(__file__).resolve().parents[2] / "examples" / "register.toml"
SUBJECTS = 200
SEED = 7

Line = dict[str, Any]


@pytest.fixture(scope="module")
def register_bytes() -> bytes:
    if not REGISTER.exists():
        pytest.skip(f"{REGISTER} does not exist yet: the demo is generated for it")
    return REGISTER.read_bytes()


@pytest.fixture(scope="module")
def definition(register_bytes: bytes) -> RegisterDefinition:
    return RegisterDefinition.model_validate(tomllib.loads(register_bytes.decode()))


@pytest.fixture(scope="module")
def window(definition: RegisterDefinition) -> tuple[datetime, datetime]:
    start = definition.effective_from or datetime(2021, 6, 3, tzinfo=UTC)
    return start, start + timedelta(days=4 * 365)


@pytest.fixture(scope="module")
def population(definition: RegisterDefinition, window: tuple[datetime, datetime]) -> list[Line]:
    start, end = window
    return list(generate_population(definition, SUBJECTS, seed=SEED, start=start, end=end))


def by_subject(lines: list[Line]) -> dict[str, list[Line]]:
    out: dict[str, list[Line]] = defaultdict(list)
    for line in lines:
        out[line["subject"]].append(line)
    return out


def typed_values(definition: RegisterDefinition, lines: list[Line], kind: FieldType) -> list[str]:
    """Every value of a field of this type in the lines."""
    values = []
    for line in lines:
        data = line["data"]
        category = definition.category(data.get("category", ""))
        if category is None or "fields" not in data:
            continue
        values += [v for k, v in data["fields"].items() if category.fields.get(k) is kind]
    return values


# --- the lines ---------------------------------------------------------------------------


def test_every_generated_line_passes_the_line_models(population: list[Line]) -> None:
    adapter = TypeAdapter[Any](ev.AppendLine)
    for line in population:
        adapter.validate_python(line)
    assert len(population) > SUBJECTS


def test_every_subject_asked_for_is_generated(population: list[Line]) -> None:
    subjects = by_subject(population)
    assert len(subjects) == SUBJECTS
    assert "C-100001" in subjects


def test_the_same_seed_gives_the_same_lines(
    definition: RegisterDefinition, window: tuple[datetime, datetime], population: list[Line]
) -> None:
    start, end = window
    again = list(generate_population(definition, SUBJECTS, seed=SEED, start=start, end=end))
    other = list(generate_population(definition, SUBJECTS, seed=SEED + 1, start=start, end=end))
    assert orjson.dumps(again) == orjson.dumps(population)
    assert orjson.dumps(other) != orjson.dumps(population)


def test_fewer_subjects_give_a_prefix_of_the_same_population(
    definition: RegisterDefinition, window: tuple[datetime, datetime], population: list[Line]
) -> None:
    start, end = window
    few = list(generate_population(definition, 20, seed=SEED, start=start, end=end))
    assert few == population[: len(few)]


def test_subject_registered_precedes_each_subjects_other_events(
    population: list[Line],
) -> None:
    registered: set[str] = set()
    for line in population:
        if line["type"] == "SubjectRegistered":
            assert line["subject"] not in registered
            registered.add(line["subject"])
        else:
            assert line["subject"] in registered


def test_each_subjects_events_are_in_time_order_within_the_window(
    population: list[Line], window: tuple[datetime, datetime]
) -> None:
    start, end = window
    for lines in by_subject(population).values():
        times = [datetime.fromisoformat(line["occurred_at"]) for line in lines]
        assert all(t.tzinfo is not None for t in times)
        assert times == sorted(times)
        assert start <= times[0]
        assert times[-1] <= end


def test_personal_identity_codes_are_valid_and_of_adults(
    definition: RegisterDefinition, population: list[Line]
) -> None:
    codes = typed_values(definition, population, FieldType.PERSONAL_IDENTITY_CODE)
    assert len(codes) >= SUBJECTS // 2
    assert [c for c in codes if personal_identity_code_problem(c) is not None] == []
    assert {c[6] for c in codes} <= {"-", "A"}
    assert all(1940 <= int(c[4:6]) + (1900 if c[6] == "-" else 2000) <= 2005 for c in codes)


def test_business_ids_in_fields_are_valid(
    definition: RegisterDefinition, population: list[Line]
) -> None:
    ids = typed_values(definition, population, FieldType.BUSINESS_ID)
    assert [i for i in ids if business_id_problem(i) is not None] == []


def test_idempotency_keys_are_unique(population: list[Line]) -> None:
    keys = [line["idempotency_key"] for line in population]
    assert len(set(keys)) == len(keys)


def test_no_personal_identity_code_leaves_the_fields(
    definition: RegisterDefinition, population: list[Line]
) -> None:
    codes = set(typed_values(definition, population, FieldType.PERSONAL_IDENTITY_CODE))
    for line in population:
        data = {k: v for k, v in line["data"].items() if k != "fields"}
        outside = orjson.dumps({**line, "data": data}).decode()
        assert not any(code in outside for code in codes)


def test_the_population_tells_every_kind_of_story(population: list[Line]) -> None:
    types = {line["type"] for line in population}
    assert types >= {
        "SubjectRegistered", "PersonalDataRecorded", "ContractStarted", "ContractEnded",
        "ConsentGranted", "ConsentWithdrawn", "ObjectionRecorded", "ProfileDerived",
        "DataDisclosed",
    }  # fmt: skip
    kinds = {line["data"]["kind"] for line in population if line["type"] == "SubjectRegistered"}
    assert kinds == {"person", "contact_person"}
    sources = {
        line["data"]["category"]: line["source"]
        for line in population
        if line["type"] == "PersonalDataRecorded"
    }
    assert sources["metering_point"] == "datahub"
    assert sources["cookies"] == "cookies"
    assert sources["web_logs"] == "web_services"


def test_consents_rest_on_purposes_that_allow_consent(
    definition: RegisterDefinition, population: list[Line]
) -> None:
    for line in population:
        if line["type"] == "ConsentGranted":
            purpose = definition.purpose(line["data"]["purpose"])
            assert purpose is not None
            assert "consent" in purpose.bases
            assert line["data"]["evidence"]


def test_a_register_without_recipients_gets_no_disclosures(
    definition: RegisterDefinition, window: tuple[datetime, datetime]
) -> None:
    bare = definition.model_copy(update={"recipients": ()})
    start, end = window
    lines = list(generate_population(bare, 100, seed=SEED, start=start, end=end))
    assert lines
    assert "DataDisclosed" not in {line["type"] for line in lines}


def test_an_end_before_the_start_is_refused(
    definition: RegisterDefinition, window: tuple[datetime, datetime]
) -> None:
    start, _ = window
    with pytest.raises(ValueError, match="before start"):
        next(generate_population(definition, 1, seed=1, start=start, end=start - timedelta(1)))


def test_the_horizon_is_cut_to_midnight_only_when_there_is_room() -> None:
    start = datetime(2021, 6, 3, tzinfo=UTC)
    now = datetime(2026, 5, 4, 13, 14, 15, tzinfo=UTC)
    assert demo_horizon(start, now) == datetime(2026, 5, 4, tzinfo=UTC)
    assert demo_horizon(now - timedelta(hours=2), now) == now


# --- into a real ledger ----------------------------------------------------------------


def new_ledger(
    tmp_path: Path, raw: bytes, clock: FixedClock, effective_from: datetime | None = None
) -> Ledger:
    definition = RegisterDefinition.model_validate(tomllib.loads(raw.decode()))
    return Ledger.initialise(
        parse_store_url(f"sqlite:///{tmp_path / 'l.db'}"),
        MasterKeySource(tmp_path / "m.key"),
        definition,
        file_digest(raw),
        effective_from=effective_from,
        clock=clock,
    )


def test_run_demo_appends_and_a_second_run_finds_only_duplicates(
    tmp_path: Path, register_bytes: bytes, definition: RegisterDefinition
) -> None:
    ledger = new_ledger(tmp_path, register_bytes, FixedClock(datetime.now(UTC)))
    out = io.StringIO()
    first = run_demo(ledger, definition, subjects=50, seed=3, batch_size=100, out=out)
    assert first["appended"] > 50
    assert first["appended"] == first["lines"] == sum(first["by_type"].values())
    assert first["duplicates"] == 0
    assert "events/s" in out.getvalue()
    second = run_demo(ledger, definition, subjects=50, seed=3, batch_size=100, out=io.StringIO())
    assert second["appended"] == 0
    assert second["duplicates"] == first["lines"]
    events = ledger.stream(ledger.subject_id("C-100001"))
    assert events[0].type == "SubjectRegistered"
    ledger.close()


def test_run_demo_fits_a_population_into_a_notice_published_just_now(
    tmp_path: Path, register_bytes: bytes, definition: RegisterDefinition
) -> None:
    now = datetime.now(UTC)
    ledger = new_ledger(tmp_path, register_bytes, FixedClock(now), effective_from=now)
    figures = run_demo(ledger, definition, subjects=10, seed=1, batch_size=7, out=io.StringIO())
    assert figures["appended"] == figures["lines"] > 10
    assert figures["start"] == figures["end"] == now.isoformat()
    ledger.close()
