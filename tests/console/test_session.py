"""Signing in to the console: cookies, roles, CSRF, and what an auditor never sees."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from ledger.access.tokens import list_tokens, revoke_token
from ledger.bootstrap import Core
from tests.console.conftest import sign_in
from tests.service.conftest import DEMO_VALUES, Tokens


def pages(core: Core) -> list[str]:
    """Every page of the console, over the story (its finding's own position)."""
    (finding,) = core.views().findings(None).findings
    return [
        "/ui/subjects", "/ui/subjects?ref=C-1001", "/ui/subjects?ref=C-1001&purpose=audit",
        "/ui/subjects/C-1001/basis", "/ui/findings", f"/ui/findings/{finding.position}",
        "/ui/disclosures?recipient=print-house", "/ui/disclosures.csv", "/ui/disclosures.json",
        "/ui/log?verify=1", f"/ui/proof/{finding.event.position}",
        "/ui/subjects/C-1001/export?purpose=audit", "/ui/subjects/C-1001/erase",
        "/ui/retention",
    ]  # fmt: skip


def test_a_page_without_a_session_sends_the_reader_to_sign_in(client: TestClient) -> None:
    answer = client.get("/ui/findings", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/"
    form = client.get("/ui/")
    assert form.status_code == 200
    assert '<label for="token">' in form.text


def test_signing_in_sets_an_httponly_strict_cookie_scoped_to_the_console(
    client: TestClient, tokens: Tokens
) -> None:
    answer = client.post("/ui/signin", data={"token": tokens.dpo}, follow_redirects=False)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/ui" in cookie


def test_an_unknown_token_is_refused_without_echoing_it(client: TestClient) -> None:
    answer = client.post("/ui/signin", data={"token": "lgr_not-a-real-token"})
    assert answer.status_code == 401
    assert "unknown, revoked or expired" in answer.text
    assert "lgr_not-a-real-token" not in answer.text


def test_a_service_token_is_refused_at_sign_in_and_on_every_page(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    answer = client.post("/ui/signin", data={"token": tokens.service})
    assert answer.status_code == 403
    assert "service token may not use the console" in answer.text
    client.cookies.set("ledger_console", tokens.service, path="/ui")
    for page in pages(core):
        assert client.get(page).status_code == 403, page


def test_an_auditor_sees_no_decrypted_value_on_any_page(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.auditor)
    for page in pages(core):
        answer = client.get(page)
        assert answer.status_code in {200, 403}, page
        for value in DEMO_VALUES:
            assert value not in answer.text, page
    assert client.get("/ui/subjects?ref=C-1001&purpose=audit").status_code == 403
    assert client.get("/ui/subjects/C-1001/basis").status_code == 200


def test_a_revoked_token_signs_the_reader_out(
    client: TestClient, core: Core, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    assert client.get("/ui/findings").status_code == 200
    (info,) = [t for t in list_tokens(core.ledger) if t.name == "dpo-desk"]
    revoke_token(core.ledger, info.id, actor="test")
    deadline = time.monotonic() + 3
    while client.get("/ui/findings", follow_redirects=False).status_code != 303:
        assert time.monotonic() < deadline, "a revoked token still opened the console"
        time.sleep(0.1)


def test_signing_out_needs_the_sessions_csrf_field_and_clears_the_cookie(
    client: TestClient, tokens: Tokens
) -> None:
    sign_in(client, tokens.dpo)
    assert client.post("/ui/signout", data={"csrf": "forged"}).status_code == 403
    page = client.get("/ui/subjects").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = client.post("/ui/signout", data={"csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    client.cookies.clear()
    assert client.get("/ui/findings", follow_redirects=False).status_code == 303


def test_a_bad_instant_is_refused_naming_the_field_without_echoing_it(
    client: TestClient, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    answer = client.get("/ui/subjects/C-1001/basis?at=yesterday-ish")
    assert answer.status_code == 400
    assert "the at is not a date and time" in answer.text
    assert "yesterday-ish" not in answer.text


def test_pages_are_never_framed_cached_or_allowed_to_load_from_elsewhere(
    client: TestClient, tokens: Tokens, story: str
) -> None:
    sign_in(client, tokens.dpo)
    for url in ("/ui/", "/ui/subjects?ref=C-1001&purpose=audit", "/ui/retention", "/ui/nope/x"):
        answer = client.get(url)
        if answer.status_code == 404 and "json" in answer.headers["content-type"]:
            continue  # not a console page: the service's own answer
        assert answer.headers["x-frame-options"] == "DENY", url
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], url
        assert "script-src" not in answer.headers["content-security-policy"], url
        assert answer.headers["cache-control"] == "no-store", url
    exported = client.get("/ui/subjects/C-1001/export", params={"purpose": "copy for the subject"})
    assert exported.headers["cache-control"] == "no-store"
    assert client.get("/ui/disclosures.csv").headers["cache-control"] == "no-store"
