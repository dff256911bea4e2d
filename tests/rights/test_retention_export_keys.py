"""Retention due and held, --apply, the subject export in a real browser, key rotation."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from ledger.appending.application import Ledger
from ledger.bootstrap import Core
from ledger.clock import FixedClock
from ledger.errors import KeyUnavailable
from ledger.persistence.keys import MasterKeySource
from ledger.persistence.store import parse_store_url
from ledger.rights.key_rotation import rotate_master
from projections.export.build import FORMAT, build_export
from projections.export.html import render_html
from projections.retention.apply import retention as due_and_held
from tests import factories as f


@pytest.fixture
def history(ledger: Ledger) -> Ledger:
    f.append(
        ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", {"billing_email": "a@example.fi"}, category="billing",
                        occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", {"cookie_id": "ck-1"}, category="cookies", source="cookies",
                        occurred_at="2022-01-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2021-09-01T00:00:00Z"),
        f.disclosed("C-1", occurred_at="2021-10-01T00:00:00Z"),
        f.contract_ended("C-1", occurred_at="2022-05-01T00:00:00Z"),
    )  # fmt: skip
    return ledger


def retention(core: Core, at: datetime) -> dict[str, tuple[str, datetime | None]]:
    answer = due_and_held(core.ledger, core.store, at=at)
    return {e.category: (e.status, e.until) for e in [*answer.due, *answer.held]
            if e.subject == "C-1"}  # fmt: skip


def test_retention_lists_what_is_due_and_what_is_held_until_when(
    core: Core, history: Ledger
) -> None:
    found = retention(core, datetime(2024, 3, 1, tzinfo=UTC))
    assert found["cookies"] == ("due", datetime(2023, 2, 1, tzinfo=UTC))  # 13 months after
    # "the end of the year" is midnight in Helsinki: 22:00 UTC the day before
    assert found["billing"] == ("held", datetime(2032, 12, 31, 22, tzinfo=UTC))
    assert found["customer_basic"] == ("held", datetime(2025, 12, 31, 22, tzinfo=UTC))


def test_held_categories_go_once_their_date_has_passed(
    core: Core, history: Ledger, clock: FixedClock
) -> None:
    later = datetime(2026, 1, 2, tzinfo=UTC)
    assert retention(core, later)["customer_basic"] == (
        "due", datetime(2025, 12, 31, 22, tzinfo=UTC),
    )  # fmt: skip
    assert retention(core, later)["billing"][0] == "held"


def test_apply_erases_what_is_due_and_is_idempotent(
    history: Ledger, clock: FixedClock, store_url: str
) -> None:
    from ledger.cli import run_captured

    clock.at = datetime(2026, 6, 1, tzinfo=UTC)
    key_file = str(history.key_source.path)
    args = [
        "retention",
        "--apply",
        "--store",
        store_url,
        "--key-file",
        key_file,
        "--at",
        "2026-06-01T00:00:00Z",
    ]
    code, out, _ = run_captured(args)
    assert code == 0
    applied = orjson.loads(out)["applied"]
    assert [(a["subject"], sorted(a["erased"])) for a in applied] == [
        ("C-1", ["cookies", "customer_basic"])
    ]
    code, out, _ = run_captured(args)
    assert orjson.loads(out)["applied"] == []
    assert [e["category"] for e in orjson.loads(out)["held"]] == ["billing"]


def test_the_export_holds_everything_the_register_holds(core, history: Ledger) -> None:
    doc = build_export(core.views(), "C-1")
    assert doc["format"] == FORMAT
    assert (
        doc["data"]["customer_basic"]["fields"]["personal_identity_code"]["value"] == "131052-308T"
    )
    assert doc["data"]["billing"]["fields"]["billing_email"]["source"] == "data_subject"
    assert [c["notice_version"] for c in doc["consents"]] == ["2021-06-03"]
    profiling = next(p for p in doc["purposes"] if p["id"] == "profiling")
    assert [i["basis"] for i in profiling["timeline"]] == ["consent"]
    assert [d["recipient"] for d in doc["disclosures"]] == ["print-house"]
    assert next(r for r in doc["recipients"] if r["id"] == "print-house")["received_your_data"]
    assert {c["business_id"] for c in doc["controllers"]} == {"0209628-8", "1993667-7"}
    assert doc["privacy_contact"]["email"]
    assert doc["automated_decisions"]["exists"] is False
    assert doc["rights"]
    assert {r["category"] for r in doc["retention"]} >= {"billing", "customer_basic"}
    assert [h["type"] for h in doc["history"]][:2] == ["SubjectRegistered", "PersonalDataRecorded"]
    assert orjson.loads(orjson.dumps(doc)) == doc  # plain JSON, importable elsewhere


def test_the_html_export_reads_in_a_real_browser(core, history: Ledger, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        reason = "the browser test needs Chromium (Debian package chromium; `make browser`)"
        if os.environ.get("LEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    page = tmp_path / "export.html"
    page.write_text(render_html(build_export(core.views(), "C-1")), encoding="utf-8")
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    headings = (
        "Your data", "Purposes and legal bases", "Consents and objections",
        "Recipients and disclosures", "How long your data is kept", "Automated decision-making",
        "Controllers and contact", "Your rights",
    )  # fmt: skip
    for heading in headings:
        assert f"<h2>{heading}</h2>" in dom
    assert "Aino Virtanen" in dom
    assert "131052-308T" in dom


def test_rotating_the_master_key_rewraps_every_key_without_touching_events(
    history: Ledger, store_url: str, key_source: MasterKeySource
) -> None:
    old_text = key_source.path.read_text()
    before = history.recorder.max_notification_id()
    states = [n.state for n in history.recorder.select_notifications(1, 100)]
    done = rotate_master(history)
    assert done.keys == 3
    assert key_source.path.read_text() != old_text
    assert [n.state for n in history.recorder.select_notifications(1, 100)] == states
    assert history.recorder.max_notification_id() == before
    reopened = Ledger(parse_store_url(store_url), key_source)
    assert reopened.stream(reopened.subject_id("C-1"))[1].data.fields["name"] == "Aino Virtanen"
    f.append(reopened, f.objection("C-1", idempotency_key="after-rotation"))
    key_source.path.write_text(old_text)
    stale = Ledger(parse_store_url(store_url), key_source)
    with pytest.raises(KeyUnavailable, match="is not the one this store was created with"):
        stale.stream(stale.subject_id("C-1"))
    reopened.close()
    stale.close()
