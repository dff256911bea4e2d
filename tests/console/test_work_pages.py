"""Findings, disclosures and breach scoping, rights work and the log's health."""

from __future__ import annotations

import csv
import io
import re

import orjson
from fastapi.testclient import TestClient

from ledger.bootstrap import Core
from ledger.faces.times import uniform_times
from tests.console.conftest import sign_in
from tests.service.conftest import NAME, Tokens

WHY = "erasure request (ticket 7)"


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert found is not None
    return found.group(1)


def test_findings_are_listed_and_filtered_by_rule_subject_recipient_and_period(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.auditor)
    (finding,) = core.views().findings(None).findings
    row = f'<tr data-position="{finding.position}">'
    assert row in client.get("/ui/findings").text
    assert row in client.get("/ui/findings", params={"rule": "no_lawful_basis"}).text
    assert row in client.get("/ui/findings", params={"subject": "C-1001"}).text
    assert row not in client.get("/ui/findings", params={"subject": "C-1002"}).text
    assert row not in client.get("/ui/findings", params={"recipient": "print-house"}).text
    assert row not in client.get("/ui/findings", params={"since": "2023-11-01T00:00"}).text
    assert row not in client.get("/ui/findings", params={"until": "2023-10-01T00:00"}).text
    assert row in client.get("/ui/findings", params={"until": "2023-11-01T00:00"}).text


def test_a_finding_opens_the_events_behind_it(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.auditor)
    (finding,) = core.views().findings(None).findings
    page = client.get(f"/ui/findings/{finding.position}")
    assert page.status_code == 200
    for event in [finding.event, *finding.evidence]:
        assert f'<a href="/ui/proof/{event.position}">#{event.position}</a>' in page.text
        assert event.hash in page.text
    assert "2023-10-02 09:00:00 +03:00" in page.text  # the judged newsletter, Helsinki time
    assert client.get("/ui/findings/1").status_code == 404


def test_breach_scoping_answers_as_disclosures_by_subject(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.auditor)
    query = {"recipient": "print-house", "since": "2023-05-01T00:00", "category": "billing"}
    page = client.get("/ui/disclosures", params=query).text
    answer = core.views().disclosures(
        recipient="print-house", category="billing", by_subject=True,
        since=core.views().ledger.clock.now().replace(year=2023, month=4, day=30, hour=21),
    )  # fmt: skip
    shown = re.findall(r'data-subject="([^"]*)" data-categories="([^"]*)"', page)
    assert shown == [(s.subject, " ".join(s.categories)) for s in answer.subjects or ()]
    assert [s for s, _ in shown] == ["C-1001", "C-1002"]
    downloaded = client.get("/ui/disclosures.json", params=query)
    assert downloaded.headers["content-type"] == "application/json"
    assert orjson.loads(downloaded.content) == uniform_times(answer.model_dump(mode="json"))
    rows = list(csv.DictReader(io.StringIO(client.get("/ui/disclosures.csv", params=query).text)))
    assert [(r["subject"], r["categories"]) for r in rows] == shown


def test_breach_scoping_over_several_categories_keeps_only_those_asked_about(
    client: TestClient, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    query = {"recipient": "print-house", "category": ["billing", "correspondence"]}
    page = client.get("/ui/disclosures", params=query).text
    shown = re.findall(r'data-subject="([^"]*)" data-categories="([^"]*)"', page)
    assert shown == [("C-1001", "billing"), ("C-1002", "billing")]
    assert client.get("/ui/disclosures", params={"recipient": "nobody"}).status_code == 404
    unknown = {"category": ["billing", "no_such_category"]}
    assert client.get("/ui/disclosures", params=unknown).status_code == 404


def test_erasure_needs_the_csrf_field_and_a_confirmation_before_it_destroys_keys(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    form = client.get("/ui/subjects/C-1001/erase").text
    assert "General customer data" in form
    url = "/ui/subjects/C-1001/erase"
    assert client.post(url, data={"reason": WHY, "csrf": "0" * 64}).status_code == 403
    assert client.post(url, data={"reason": "", "csrf": csrf_of(form)}).status_code == 400
    confirm = client.post(url, data={"reason": WHY, "csrf": csrf_of(form)})
    assert "cannot be undone" in confirm.text
    assert 'name="confirm" value="yes"' in confirm.text
    assert core.views().subject("C-1001", at=core.ledger.clock.now(), known_at=None).erased == []
    done = client.post(url, data={"reason": WHY, "csrf": csrf_of(form), "confirm": "yes"})
    assert done.status_code == 200
    assert "Holds it leaves" in done.text
    trail = [e.type for e in core.views().trail("C-1001").events]
    assert "SubjectErased" in trail


def test_retention_lists_what_is_due_and_applies_only_after_confirmation(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    later = "2045-01-01T00:00:00Z"
    page = client.get("/ui/retention", params={"at": later}).text
    assert "Due for erasure" in page
    csrf = csrf_of(page)
    confirm = client.post("/ui/retention/apply", data={"csrf": csrf, "at": later})
    assert "cannot be undone" in confirm.text
    assert "SubjectErased" not in [e.type for e in core.views().trail("C-1001").events]
    done = client.post("/ui/retention/apply", data={"csrf": csrf, "at": later, "confirm": "yes"})
    assert done.status_code == 200
    assert "Retention applied" in done.text
    assert NAME not in done.text


def test_the_log_page_shows_the_latest_checkpoint_and_verifies_on_demand(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.auditor)
    core.seal()  # the service's timer would within a second; the writer never waits for it
    page = client.get("/ui/log").text
    latest = core.sealer.latest()
    assert latest is not None
    assert f'<dd id="checkpoint-size">{latest.size}</dd>' in page
    assert latest.root.hex() in page
    assert "verify-result" not in page
    verified = client.get("/ui/log", params={"verify": "1"}).text
    assert "The log verifies" in verified


def test_the_log_page_lists_recorded_reads(client: TestClient, tokens: Tokens, story: str) -> None:
    sign_in(client, tokens.dpo)
    client.get("/ui/subjects", params={"ref": "C-1001", "purpose": WHY})
    page = client.get("/ui/log").text
    assert "Access log" in page
    assert WHY in page
    assert "dpo-desk" in page
