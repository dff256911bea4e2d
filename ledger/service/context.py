"""What every route needs: the guarded core, the writer, the authenticator, the metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Query
from fastapi.responses import Response

from ledger.bootstrap import Core
from ledger.faces.times import uniform_times
from ledger.service.auth import Authenticator
from ledger.service.gate import Gate
from ledger.service.metrics import Metrics
from ledger.service.settings import ServiceSettings
from ledger.service.writer import GroupWriter
from schemas.base import Timestamp

T = TypeVar("T")

Instant = Annotated[Timestamp | None, Query(description="RFC 3339 with an offset")]
"""An optional instant of a question (``at``, ``since``, ...), as the command line takes it."""


@dataclass(frozen=True, slots=True)
class Service:
    """One running service's parts, handed to each group of routes."""

    gate: Gate
    writer: GroupWriter
    auth: Authenticator
    metrics: Metrics
    settings: ServiceSettings

    async def write(self, work: Callable[[Core], T]) -> T:
        """Run a write job on the writer thread; returns once it committed."""
        result: T = await asyncio.wrap_future(self.writer.run(work))
        return result


def json_answer(value: Any, status: int = 200) -> Response:
    """An answer as the command line prints it under ``--json``: instants in UTC with ``Z``."""
    return Response(orjson.dumps(uniform_times(value)), status, media_type="application/json")
