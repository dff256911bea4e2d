"""A subject's pages: the register view (a recorded read), the basis timeline, the proofs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ledger.bootstrap import Core
from ledger.evidence.proofs import prove_inclusion
from tests.console.conftest import (
    AT,
    SECOND_NOTICE,
    expected_intervals,
    page_intervals,
    sign_in,
)
from tests.service.conftest import CODE, NAME, Tokens

WHY = "customer asked for a copy (ticket 42)"


def test_the_register_view_shows_the_data_and_records_the_read_with_its_purpose(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    page = client.get("/ui/subjects", params={"ref": "C-1001", "purpose": WHY})
    assert page.status_code == 200
    assert NAME in page.text
    assert CODE in page.text
    (record,) = core.views().access_log(None, "C-1001").records
    assert (record.purpose, record.what, record.via) == (WHY, "subject", "http")
    assert record.actor == "dpo-desk"
    assert record.categories == ["customer_basic"]


def test_the_register_view_uses_the_registers_words_and_helsinki_time(
    client: TestClient, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    page = client.get("/ui/subjects", params={"ref": "C-1001", "purpose": WHY}).text
    assert "General customer data: name and personal identity code." in page
    assert "The data subject themselves, with their consent." in page  # the source
    assert "Marketing, advertising and distance selling" in page  # the consent's purpose
    assert "2023-05-04 10:00:00 +03:00" in page  # recorded at 10:00 Helsinki summer time
    assert "form-2023-v4#abc" in page  # the consent's evidence
    assert "2021-06-03" in page  # the notice version it was given under


def test_without_a_purpose_no_value_is_shown_and_nothing_is_recorded(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    page = client.get("/ui/subjects", params={"ref": "C-1001", "purpose": ""})
    assert page.status_code == 400
    assert "State the purpose of this read" in page.text
    assert NAME not in page.text
    assert core.views().access_log(None, "C-1001").records == []


def test_the_at_picker_asks_the_same_page_as_of_another_instant(
    client: TestClient, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    before = client.get(
        "/ui/subjects", params={"ref": "C-1001", "purpose": WHY, "at": "2023-01-01T00:00"}
    ).text
    assert NAME not in before  # nothing was recorded yet then
    assert 'value="2023-01-01T00:00:00"' in before


def test_an_unknown_subject_is_a_not_found_page_that_does_not_echo_the_reference(
    client: TestClient, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    page = client.get("/ui/subjects", params={"ref": "131052-308T", "purpose": WHY})
    assert page.status_code == 404
    assert "131052-308T" not in page.text.split("<main", 1)[1].split('value="', 1)[0]


def test_the_basis_timeline_draws_the_same_intervals_as_basis_timeline(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.auditor)
    page = client.get("/ui/subjects/C-1001/basis", params={"at": "2024-03-01T14:00:00+02:00"})
    assert page.status_code == 200
    drawn = page_intervals(page.text)
    assert drawn == expected_intervals(core, "C-1001", AT)
    assert (
        "marketing",
        "consent",
        "0209628-8",
        "2023-05-04T07:00:00Z",
        "2023-09-01T09:00:00Z",
    ) in (drawn)


def test_the_basis_page_lists_each_intervals_events_with_their_leaf_hash_and_proof(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    page = client.get("/ui/subjects/C-1001/basis").text
    answer = core.views().basis("C-1001", "marketing", at=AT, known_at=None, timeline=True)
    consent = next(i for i in answer.timeline or () if i.basis == "consent")
    assert consent.ended_by is not None
    for event in consent.evidence:
        assert f'<a href="/ui/proof/{event.position}">#{event.position}</a>' in page
        assert event.hash in page
    assert "2023-09-01 12:00:00 +03:00" in page  # the withdrawal, in Helsinki time


def test_why_not_names_the_event_that_ended_the_basis(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    page = client.get("/ui/subjects/C-1001/basis").text
    answer = core.views().basis("C-1001", "marketing", at=AT, known_at=None, timeline=True)
    assert answer.last_ended is not None
    assert answer.last_ended.ended_by is not None
    position = answer.last_ended.ended_by.position
    why = page.split('id="purpose-marketing"', 1)[1].split("</section>", 1)[0]
    assert "Why not?" in why
    assert f"was ended by event #{position} ConsentWithdrawn" in why


def test_the_notice_versions_in_force_are_shaded_behind_the_timeline(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    page = client.get("/ui/subjects/C-1001/basis").text
    versions = [n.version for n in core.ledger.notices.versions]
    assert versions == ["2021-06-03", SECOND_NOTICE]
    for version in versions:
        assert f'data-version="{version}"' in page
    assert 'data-effective-from="2023-07-31T21:00:00Z"' in page


def test_the_proof_page_shows_proves_answer(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.auditor)
    page = client.get("/ui/proof/5")
    assert page.status_code == 200
    proof = prove_inclusion(core.sealer, 5)
    assert proof["leaf_hash"] in page.text
    for node in proof["audit_path"]:
        assert node in page.text
    for bad in ("0", "²", "9" * 5000, "-1"):
        assert client.get(f"/ui/proof/{bad}").status_code == 400, bad
    assert client.get("/ui/proof/999999").status_code == 404


def test_when_recording_the_read_fails_no_value_is_shown(
    client: TestClient, tokens: Tokens, story: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object, **__: object) -> list[int]:
        raise RuntimeError("the log is full")

    monkeypatch.setattr("ledger.console.pages_subject.record_accesses", refuse)
    monkeypatch.setattr("ledger.console.pages_rights.record_accesses", refuse)
    sign_in(client, tokens.dpo)
    for url in ("/ui/subjects?ref=C-1001&purpose=audit", "/ui/subjects/C-1001/export?purpose=a"):
        page = client.get(url)
        assert page.status_code == 500
        assert "unexpected failure" in page.text
        assert NAME not in page.text
        assert CODE not in page.text
        assert "the log is full" not in page.text
