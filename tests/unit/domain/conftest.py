"""The pure core's fixtures: notices built from examples/register.toml, no store."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.register import NoticeHistory, NoticeVersion
from schemas.register import RegisterDefinition

REGISTER_FILE = Path(__file__).parents[3] / "examples" / "register.toml"
V1_FROM = datetime.fromisoformat("2021-06-03T00:00:00+03:00")

Change = Callable[[dict[str, Any]], None]
MakeNotice = Callable[..., NoticeVersion]
"""make_notice(version="2021-06-03", effective_from=V1_FROM, *changes)"""


@pytest.fixture(scope="session")
def register_toml() -> dict[str, Any]:
    with REGISTER_FILE.open("rb") as handle:
        return tomllib.load(handle)


@pytest.fixture(scope="session")
def make_notice(register_toml: dict[str, Any]) -> MakeNotice:
    """A notice version of the example register, with changes applied to its TOML."""

    def make(
        version: str = "2021-06-03", effective_from: datetime = V1_FROM, *changes: Change
    ) -> NoticeVersion:
        raw = copy.deepcopy(register_toml)
        raw["version"] = version
        raw["effective_from"] = effective_from
        for change in changes:
            change(raw)
        definition = RegisterDefinition.model_validate(raw)
        return NoticeVersion(version, effective_from, definition, digest=f"digest-{version}")

    return make


@pytest.fixture(scope="session")
def notice(make_notice: MakeNotice) -> NoticeVersion:
    """The example register as published: version 2021-06-03."""
    return make_notice()


@pytest.fixture
def notices(notice: NoticeVersion) -> NoticeHistory:
    return NoticeHistory([notice])
