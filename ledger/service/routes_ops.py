"""Operations: liveness, readiness (store reachable, views caught up), metrics."""

# No `from __future__ import annotations`: FastAPI reads these annotations at runtime,
# and they name dependencies built inside `router`.

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from ledger.bootstrap import Core
from ledger.faces.problems import problem
from ledger.service.context import Service, json_answer
from ledger.service.metrics import CONTENT_TYPE_LATEST
from ledger.service.problems import problem_response


def projection_lag(core: Core) -> int:
    """Events the slowest projection is behind the log's head."""
    runner = core.runner()
    positions = runner.positions()
    return max(0, runner.head() - min(positions.values(), default=0))


def router(service: Service) -> APIRouter:
    """``/healthz``, ``/readyz``, ``/metrics`` (no token needed)."""
    api = APIRouter()
    gate, metrics, bound = service.gate, service.metrics, service.settings.ready_lag

    @api.get("/healthz", summary="The process answers")
    def healthz() -> Response:
        return json_answer({"status": "ok"})

    @api.get("/readyz", summary="The store answers and the views are caught up")
    def readyz() -> Response:
        lag = gate.use(projection_lag)  # a store failure answers 503 (problems)
        metrics.lag.set(lag)
        if lag > bound:
            detail = f"the views are {lag} events behind the log (bound {bound})"
            return problem_response(503, detail, [problem("views_behind", detail)])
        return json_answer({"status": "ready", "projection_lag": lag})

    @api.get(
        "/metrics", summary="Prometheus text format", response_class=PlainTextResponse,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )  # fmt: skip
    def metrics_() -> Response:
        return Response(metrics.text(), media_type=CONTENT_TYPE_LATEST)

    return api
