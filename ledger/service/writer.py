"""The writer: one thread owns every write into the core.

Appends from concurrent requests are gathered, for up to ``group_wait_ms`` or
``group_max_lines``, and committed with one ``Ledger.append_group`` call: one
transaction for all of them, each request still all or nothing on its own (a
refused one gets its ``BatchRejected``, the others commit). Other writes
(erasure, retention, access records) run as single jobs on the same thread, so
the order of writes is the order of the queue. A request's future completes
only after its commit; ``stop`` finishes what is queued before it returns.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from ledger.appending.outcomes import AppendResult
from ledger.bootstrap import Core
from ledger.errors import BatchRejected, StoreUnavailable
from ledger.faces.problems import with_seal
from ledger.service.gate import Gate
from ledger.service.metrics import Metrics

Line = str | bytes | Mapping[str, Any]


@dataclass(slots=True)
class _Append:
    lines: Sequence[Line]
    future: Future[dict[str, Any]] = field(default_factory=Future)


@dataclass(slots=True)
class _Job:
    work: Callable[[Core], Any]
    future: Future[Any] = field(default_factory=Future)


_STOP = object()


class Stopping(StoreUnavailable):
    """The service is shutting down: the write was not taken (retry elsewhere or later)."""


class GroupWriter:
    """The one thread that writes, committing concurrent appends together."""

    def __init__(
        self, gate: Gate, metrics: Metrics, *, wait_ms: float = 2.0, max_lines: int = 5000
    ) -> None:
        self._gate = gate
        self._metrics = metrics
        self._wait = max(0.0, wait_ms) / 1000
        self._max_lines = max(1, max_lines)
        self._queue: queue.SimpleQueue[_Append | _Job | object] = queue.SimpleQueue()
        self._held: object = None
        self._accepting = False
        self._thread = threading.Thread(target=self._loop, name="ledger-writer", daemon=True)

    def start(self) -> None:
        """Start taking writes."""
        self._accepting = True
        self._thread.start()

    def stop(self) -> None:
        """Refuse new writes, finish every queued one, then end the thread."""
        if not self._accepting:
            return
        self._accepting = False
        self._queue.put(_STOP)
        self._thread.join()

    def append(self, lines: Sequence[Line]) -> Future[dict[str, Any]]:
        """Queue one request's lines; its future is the append answer, or BatchRejected."""
        item = _Append(lines)
        self._put(item)
        return item.future

    def run(self, work: Callable[[Core], Any]) -> Future[Any]:
        """Queue a single write job (erasure, retention, access records)."""
        item = _Job(work)
        self._put(item)
        return item.future

    def _put(self, item: _Append | _Job) -> None:
        if not self._accepting:
            msg = "the service is shutting down: nothing was written; retry"
            raise Stopping(msg)
        self._queue.put(item)

    # --- the thread ---------------------------------------------------------------

    def _loop(self) -> None:
        stopping = False
        while True:
            item = self._next(block=not stopping)
            if item is None:
                return  # stopping, and nothing is left
            if item is _STOP:
                stopping = True
            elif isinstance(item, _Job):
                self._run_job(item)
            elif isinstance(item, _Append):
                self._commit(self._gather(item))

    def _next(self, *, block: bool) -> object:
        if self._held is not None:
            item, self._held = self._held, None
            return item
        try:
            return self._queue.get(block=block)
        except queue.Empty:
            return None

    def _gather(self, first: _Append) -> list[_Append]:
        """Appends queued with ``first``, waiting up to the group wait for more."""
        group, lines = [first], len(first.lines)
        deadline = time.monotonic() + self._wait
        while lines < self._max_lines:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if not isinstance(item, _Append) or lines + len(item.lines) > self._max_lines:
                self._held = item  # a job, the stop, or one too many lines: next round
                break
            group.append(item)
            lines += len(item.lines)
        return group

    def _commit(self, group: list[_Append]) -> None:
        group = [a for a in group if a.future.set_running_or_notify_cancel()]
        if not group:
            return  # every caller went away before the commit: nothing to write
        self._metrics.group(len(group), sum(len(a.lines) for a in group))
        try:
            with self._gate.lock:  # the views' lock is not needed: a commit touches no view
                results = self._gate.core.ledger.append_group([a.lines for a in group])
                answers = [self._answer(r) for r in results]
        except Exception as e:  # noqa: BLE001 - the whole group failed: each request hears why
            for item in group:
                item.future.set_exception(e)
            return
        for item, answer in zip(group, answers, strict=True):
            if isinstance(answer, BatchRejected):
                item.future.set_exception(answer)
            else:
                item.future.set_result(answer)

    def _answer(self, result: AppendResult | BatchRejected) -> dict[str, Any] | BatchRejected:
        if isinstance(result, BatchRejected):
            return result
        self._metrics.appended(result.appended)
        return with_seal(self._gate.core, result.as_dict())

    def _run_job(self, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            outcome = self._gate.use(job.work)
        except Exception as e:  # noqa: BLE001 - handed to the request that asked
            job.future.set_exception(e)
            return
        job.future.set_result(outcome)
