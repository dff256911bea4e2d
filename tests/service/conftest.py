"""A service over a core on each store, a client per test and a token per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from ledger.access.tokens import issue_token
from ledger.bootstrap import Core
from ledger.service.app import create_app
from ledger.service.settings import ServiceSettings
from tests.factories import (
    append,
    consent_granted,
    contract_started,
    disclosed,
    personal_data,
    subject_registered,
)

NAME = "Aino Virtanen"
CODE = "131052-308T"
DEMO_VALUES = (NAME, CODE)
"""The decrypted values of the seeded subject: never in an auditor's answer."""
PURPOSE = {"X-Access-Purpose": "customer asked for a copy (ticket 42)"}


@dataclass(frozen=True)
class Tokens:
    dpo: str
    auditor: str
    service: str
    consent_only: str
    """A service token limited to ConsentGranted lines from web_forms."""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(core: Core) -> Tokens:
    ledger = core.ledger

    def issue(name: str, role: str, **limits: list[str]) -> str:
        return issue_token(ledger, name=name, role=role, actor="test", **limits)[1]  # type: ignore[arg-type]

    return Tokens(
        dpo=issue("dpo-desk", "dpo"),
        auditor=issue("outside-auditor", "auditor"),
        service=issue("crm", "service"),
        consent_only=issue("web", "service", types=["ConsentGranted"], sources=["web_forms"]),
    )


@pytest.fixture
def seeded(core: Core) -> str:
    """C-1001 with personal data, a contract, a consent and a disclosure."""
    append(
        core.ledger,
        subject_registered("C-1001"),
        personal_data("C-1001", {"name": NAME, "personal_identity_code": CODE}),
        contract_started("C-1001"),
        consent_granted("C-1001"),
        disclosed("C-1001"),
    )
    return "C-1001"


@pytest.fixture
def settings() -> ServiceSettings:
    return ServiceSettings(group_wait_ms=5)


@pytest.fixture
def client(core: Core, settings: ServiceSettings) -> Iterator[TestClient]:
    with TestClient(create_app(core, settings), raise_server_exceptions=False) as test_client:
        yield test_client
