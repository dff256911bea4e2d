"""The console over a service on each store: an app, a client signed in per role."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ledger.bootstrap import Core
from ledger.domain.basis import HELSINKI
from ledger.faces.times import uniform_times
from ledger.service.app import create_app
from ledger.service.settings import ServiceSettings
from tests.factories import (
    append,
    consent_granted,
    consent_withdrawn,
    contract_started,
    disclosed,
    personal_data,
    processed,
    subject_registered,
)
from tests.service.conftest import (  # noqa: F401 - fixtures reused by name
    CODE,
    DEMO_VALUES,
    NAME,
    Tokens,
    seeded,
    settings,
    tokens,
)


def console_app(core: Core, service_settings: ServiceSettings) -> FastAPI:
    """The service's app: ``create_app`` mounts the console under ``/ui/``."""
    return create_app(core, service_settings)


@pytest.fixture
def client(core: Core, settings: ServiceSettings) -> Iterator[TestClient]:  # noqa: F811
    with TestClient(console_app(core, settings), raise_server_exceptions=False) as test_client:
        yield test_client


def sign_in(client: TestClient, token: str) -> None:
    answer = client.post("/ui/signin", data={"token": token}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


WITHDRAWN_AT = "2023-09-01T12:00:00+03:00"
SECOND_NOTICE = "2023-08-01"
AT = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
"""The fixed clock's now: the instant the pages are asked about."""


@pytest.fixture
def story(core: Core) -> str:
    """C-1001: data, a contract, a consent later withdrawn, a disclosure, a newsletter after
    the withdrawal (a finding); C-1002 disclosed to the same recipient. A second notice
    version takes effect on 1 August 2023."""
    first = core.ledger.notices.versions[0].definition
    core.ledger.publish_notice(
        first.model_copy(update={"version": SECOND_NOTICE}), "d" * 64,
        effective_from=datetime(2023, 8, 1, tzinfo=HELSINKI),
    )  # fmt: skip
    append(
        core.ledger,
        subject_registered("C-1001"),
        personal_data("C-1001", {"name": NAME, "personal_identity_code": CODE}),
        contract_started("C-1001"),
        consent_granted("C-1001"),
        disclosed("C-1001"),
        consent_withdrawn("C-1001", occurred_at=WITHDRAWN_AT),
        processed("C-1001", occurred_at="2023-10-02T09:00:00+03:00"),
        subject_registered("C-1002", occurred_at="2023-06-01T10:00:00+03:00"),
        contract_started("C-1002", "K-2", occurred_at="2023-06-01T10:00:00+03:00"),
        disclosed("C-1002", occurred_at="2023-06-02T10:00:00+03:00"),
    )
    return "C-1001"


_INTERVAL = re.compile(r'<rect class="interval[^"]*"[^>]*>')
_ATTRIBUTE = re.compile(r'data-(purpose|basis|controller|since|until)="([^"]*)"')

Interval = tuple[str, str, str, str, str]
"""purpose, basis, controller, since, until (RFC 3339 UTC; empty when none)."""


def page_intervals(page: str) -> list[Interval]:
    """The intervals a basis page draws, read back from the SVG's data attributes."""
    found: list[Interval] = []
    for rect in _INTERVAL.findall(page):
        attributes = dict(_ATTRIBUTE.findall(html.unescape(rect)))
        found.append(
            (attributes["purpose"], attributes["basis"], attributes["controller"],
             attributes["since"], attributes["until"])
        )  # fmt: skip
    return sorted(found)


def expected_intervals(core: Core, ref: str, at: datetime) -> list[Interval]:
    """Every purpose's ``basis --timeline --json`` intervals, as the page should draw them."""
    views = core.views()
    purposes = {p.id for n in core.ledger.notices.versions for p in n.definition.purposes}
    found: list[Interval] = []
    for purpose in purposes:
        answer = views.basis(ref, purpose, at=at, known_at=None, timeline=True)
        document = uniform_times(answer.model_dump(mode="json"))
        found.extend(
            (purpose, i["basis"], i["controller"] or "", i["since"], i["until"] or "")
            for i in document["timeline"]
        )
    return sorted(found)
