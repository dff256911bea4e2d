"""Prometheus metrics of one service (its own registry, so tests and apps never share)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)


class Metrics:
    """Requests, latency, appended events, group-commit sizes and projection lag."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ledger_http_requests", "HTTP requests by route template, method and status.",
            ["route", "method", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "ledger_http_request_duration_seconds", "Time to answer a request, by route.",
            ["route", "method"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip
        self.events = Counter(
            "ledger_appended_events", "Events appended (duplicates not counted).",
            registry=self.registry,
        )  # fmt: skip
        self.group_requests = Histogram(
            "ledger_group_commit_requests", "Append requests committed together in one commit.",
            registry=self.registry, buckets=_SIZES,
        )  # fmt: skip
        self.group_lines = Histogram(
            "ledger_group_commit_lines", "Lines committed together in one group commit.",
            registry=self.registry, buckets=_SIZES,
        )  # fmt: skip
        self.lag = Gauge(
            "ledger_projection_lag_events", "Events the slowest projection is behind the log.",
            registry=self.registry,
        )  # fmt: skip

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def group(self, requests: int, lines: int) -> None:
        """One group commit of ``requests`` requests holding ``lines`` lines."""
        self.group_requests.observe(requests)
        self.group_lines.observe(lines)

    def appended(self, events: int) -> None:
        """Events one request appended."""
        self.events.inc(events)

    def text(self) -> bytes:
        """Everything in the Prometheus text format."""
        return generate_latest(self.registry)
