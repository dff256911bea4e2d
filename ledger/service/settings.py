"""What an operator can tune about the service (``ledger serve`` options)."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Where the service listens and the bounds it keeps.

    Attributes:
        host: the address to listen on (loopback by default).
        port: the TCP port.
        max_body_bytes: the largest request body accepted (413 beyond it).
        rate_limit: requests per second per token (None: no limit).
        rate_burst: requests a token may send at once before the rate applies.
        group_wait_ms: how long the writer gathers appends for one commit.
        group_max_lines: how many lines one group commit takes at most.
        seal_every: seconds between seals of what was written (a timer seals).
        ready_lag: events the views may lag behind the log while still ready.
        lean_append: answer ``POST /v1/events`` beside the framework (``lean_append``);
            off, the FastAPI route answers it (the same answers, more Python each).
    """

    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 8 * MIB
    rate_limit: float | None = None
    rate_burst: int = 50
    group_wait_ms: float = 2.0
    group_max_lines: int = 5000
    seal_every: float = 1.0
    ready_lag: int = 10_000
    lean_append: bool = True
