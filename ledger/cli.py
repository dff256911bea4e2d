"""The ``ledger`` command: argparse in, JSON or a readable table out.

``main(argv, stdin, stdout, stderr) -> exit code``; one table maps error types to
exit codes (0 ok, 1 unexpected, 2 usage, 3 input rejected, 4 not found,
5 verification failed). Refused input goes to stderr as one JSON object per line.
"""

from __future__ import annotations

import argparse
import io
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TextIO

import orjson
from pydantic import TypeAdapter, ValidationError

from ledger import master_key_source, store_config
from ledger.application import AppendResult, Ledger
from ledger.definition_file import load_definition
from ledger.demo import run_demo
from ledger.demo_tour import tour
from ledger.errors import (
    BatchRejected,
    ConfigurationError,
    LedgerError,
    NotFound,
    VerificationFailed,
)
from projections.queries import Views
from projections.replay import replay_compare
from projections.runner import ProjectionRunner
from schemas.base import Timestamp

EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, EXIT_REJECTED, EXIT_NOT_FOUND, EXIT_VERIFY = range(6)
_EXIT_CODES: tuple[tuple[type[LedgerError], int], ...] = (
    (BatchRejected, EXIT_REJECTED),
    (NotFound, EXIT_NOT_FOUND),
    (VerificationFailed, EXIT_VERIFY),
    (ConfigurationError, EXIT_USAGE),
)
_TIMESTAMP = TypeAdapter[datetime](Timestamp)


class _Io:
    def __init__(self, stdin: IO[bytes], stdout: TextIO, stderr: TextIO) -> None:
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr

    def json(self, value: Any) -> None:
        self.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")

    def line(self, text: str = "") -> None:
        self.stdout.write(text + "\n")


def _timestamp(text: str) -> datetime:
    try:
        return _TIMESTAMP.validate_python(text)
    except ValidationError:
        msg = f"not an RFC 3339 timestamp with an offset: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        msg = f"must be a positive whole number: {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def _open(args: argparse.Namespace) -> Ledger:
    store = store_config(args.store)
    return Ledger(store, master_key_source(store, args.key_file))


# --- commands ---------------------------------------------------------------------


def cmd_init(args: argparse.Namespace, io_: _Io) -> int:
    """Create the store's tables and keys and publish the first notice version."""
    store = store_config(args.store)
    loaded = load_definition(Path(args.register))
    ledger = Ledger.initialise(
        store,
        master_key_source(store, args.key_file),
        loaded.definition,
        loaded.digest,
        effective_from=args.effective_from,
    )
    notice = ledger.notices.versions[-1]
    io_.json(
        {
            "store": store.redacted(),
            "register": loaded.definition.name,
            "notice_version": notice.version,
            "effective_from": notice.effective_from.isoformat(),
            "master_key": (
                "LEDGER_MASTER_KEY" if ledger.key_source.env_value else str(ledger.key_source.path)
            ),
        }
    )
    ledger.close()
    return EXIT_OK


def cmd_notice_publish(args: argparse.Namespace, io_: _Io) -> int:
    """Publish a new version of the register definition."""
    loaded = load_definition(Path(args.file))
    ledger = _open(args)
    position = ledger.publish_notice(
        loaded.definition, loaded.digest, effective_from=args.effective_from
    )
    notice = ledger.notices.get(loaded.definition.version)
    assert notice is not None  # noqa: S101 - just published
    io_.json(
        {
            "notice_version": notice.version,
            "effective_from": notice.effective_from.isoformat(),
            "digest": notice.digest,
            "position": position,
        }
    )
    ledger.close()
    return EXIT_OK


def cmd_notice_list(args: argparse.Namespace, io_: _Io) -> int:
    """List published notice versions."""
    ledger = _open(args)
    rows = [
        {
            "version": n.version,
            "effective_from": n.effective_from.isoformat(),
            "digest": n.digest,
        }
        for n in ledger.notices.versions
    ]
    ledger.close()
    if args.json:
        io_.json(rows)
    else:
        _table(io_, ["version", "effective_from", "digest"], rows)
    return EXIT_OK


def _input_lines(path: str, io_: _Io) -> Iterator[bytes]:
    if path == "-":
        yield from io_.stdin
        return
    try:
        with Path(path).open("rb") as f:
            yield from f
    except OSError as e:
        msg = f"cannot read {path}: {e.strerror}"
        raise ConfigurationError(msg) from None


def cmd_append(args: argparse.Namespace, io_: _Io) -> int:
    """Append NDJSON lines: one transaction, or one per --batch-size lines."""
    ledger = _open(args)
    lines = _input_lines(args.file, io_)
    try:
        if args.batch_size is None:
            io_.json(ledger.append_batch(list(lines)).as_dict())
            return EXIT_OK
        return _append_in_batches(ledger, lines, args.batch_size, io_)
    finally:
        ledger.close()


def _append_in_batches(ledger: Ledger, lines: Iterable[bytes], size: int, io_: _Io) -> int:
    total = AppendResult(0, 0, None)
    try:
        for result in ledger.append_stream(lines, batch_size=size):
            total = AppendResult(
                total.appended + result.appended,
                total.duplicates + result.duplicates,
                result.last_position or total.last_position,
                total.findings + result.findings,
            )
    except BatchRejected as e:
        summary = total.as_dict() | {
            "committed_lines": e.committed,
            "stopped_at_line": e.committed + 1,
        }
        io_.json(summary)
        raise
    io_.json(total.as_dict())
    return EXIT_OK


def cmd_trail(args: argparse.Namespace, io_: _Io) -> int:
    """Every event of a subject, in order, from the audit-trail view."""
    with _views(args) as views:
        answer = views.trail(args.subject)
    if args.json:
        io_.json(answer.model_dump(mode="json"))
    else:
        rows = [e.model_dump(mode="json") for e in answer.events]
        _table(io_, ["position", "type", "occurred_at", "recorded_at", "actor", "source"], rows)
    return EXIT_OK


def cmd_subject(args: argparse.Namespace, io_: _Io) -> int:
    """The register view of a subject, now or at an instant, as known at a time."""
    with _views(args) as views:
        answer = views.subject(args.subject, at=args.at or _now(views), known_at=args.known_at)
    if args.json:
        io_.json(answer.model_dump(mode="json"))
        return EXIT_OK
    io_.line(f"subject {answer.subject}  kind {answer.kind}  controller {answer.controller}")
    io_.line(
        f"as of {answer.at.isoformat()}"
        + (f", as known at {answer.known_at.isoformat()}" if answer.known_at else "")
    )
    rows = [
        {"category": c, "field": n, "value": "(erased)" if v.erased else v.value,
         "source": v.source, "occurred_at": v.occurred_at.isoformat()}
        for c, fields in answer.fields.items() for n, v in fields.items()
    ]  # fmt: skip
    _table(io_, ["category", "field", "value", "source", "occurred_at"], rows)
    for contract in answer.contracts:
        io_.line(f"contract {contract.contract} with {contract.controller}:"
                 f" {_when(contract.started_at)} .. {_when(contract.ended_at)}")  # fmt: skip
    for consent in answer.consents:
        io_.line(f"consent {consent.purpose} ({consent.channel}, notice {consent.notice_version}):"
                 f" {_when(consent.granted_at)} .. {_when(consent.withdrawn_at)}")  # fmt: skip
    for objection in answer.objections:
        io_.line(f"objection {objection.purpose} at {_when(objection.occurred_at)}")
    return EXIT_OK


def cmd_basis(args: argparse.Namespace, io_: _Io) -> int:
    """Was processing for a purpose lawful at an instant, on which basis, with evidence."""
    with _views(args) as views:
        answer = views.basis(
            args.subject, args.purpose, at=args.at or _now(views), known_at=args.known_at,
            timeline=args.timeline,
        )  # fmt: skip
    if args.json:
        io_.json(answer.model_dump(mode="json", exclude_none=False))
        return EXIT_OK
    verdict = "lawful" if answer.lawful else "NOT lawful"
    io_.line(f"{answer.subject} / {answer.purpose} at {answer.at.isoformat()}: {verdict}"
             f" (notice {answer.notice_version})")  # fmt: skip
    for interval in answer.timeline or answer.bases:
        evidence = ", ".join(f"#{e.position} {e.type}" for e in interval.evidence)
        io_.line(f"  {interval.basis}: {_when(interval.since)} .. {_when(interval.until)}"
                 f"  [{evidence}]")  # fmt: skip
    return EXIT_OK


def cmd_rebuild(args: argparse.Namespace, io_: _Io) -> int:
    """Drop every view and replay the whole log into it."""
    ledger = _open(args)
    try:
        runner = ProjectionRunner(ledger)
        started = time.monotonic()
        count = runner.rebuild(progress=_progress_bar(io_, "rebuild"))
        elapsed = time.monotonic() - started
    finally:
        ledger.close()
    io_.json({"rebuilt": [p.name for p in runner.projections], "events": count,
              "seconds": round(elapsed, 3)})  # fmt: skip
    return EXIT_OK


def cmd_replay(args: argparse.Namespace, io_: _Io) -> int:
    """Rebuild every view into a scratch store and report any difference from the live one."""
    ledger = _open(args)
    try:
        position, differences, compared = replay_compare(ledger, _progress_bar(io_, "replay"))
    finally:
        ledger.close()
    io_.json(
        {
            "position": position,
            "rows_compared": compared,
            "identical": not differences,
            "differences": [
                {"table": d.table, "live": d.live, "replayed": d.replayed} for d in differences[:50]
            ],
        }
    )
    return EXIT_OK if not differences else EXIT_VERIFY


def cmd_project(args: argparse.Namespace, io_: _Io) -> int:
    """Bring the views up to date; with --follow keep doing so until interrupted."""
    ledger = _open(args)
    try:
        runner = ProjectionRunner(ledger)
        count = runner.catch_up(progress=_progress_bar(io_, "catch-up"))
        io_.json({"applied": count, "positions": runner.positions()})
        if args.follow:
            stop = threading.Event()
            try:
                runner.follow(stop, poll=args.poll)
            except KeyboardInterrupt:
                stop.set()
    finally:
        ledger.close()
    return EXIT_OK


@contextmanager
def _views(args: argparse.Namespace) -> Iterator[Views]:
    ledger = _open(args)
    try:
        yield Views(ledger)
    finally:
        ledger.close()


def _now(views: Views) -> datetime:
    return views.ledger.clock.now()


def _when(at: datetime | None) -> str:
    return "open" if at is None else at.isoformat()


def _progress_bar(io_: _Io, label: str) -> Callable[[int, int], None]:
    width = 30

    def show(position: int, target: int) -> None:
        done = min(1.0, position / target) if target else 1.0
        bar = "#" * int(done * width)
        io_.stderr.write(f"\r{label} [{bar:<{width}}] {done:4.0%} position {position}/{target}")
        if position >= target:
            io_.stderr.write("\n")
        io_.stderr.flush()

    return show


def cmd_demo(args: argparse.Namespace, io_: _Io) -> int:
    """Load the example register and a generated population into a SQLite file."""
    store = store_config(args.store or "sqlite:///demo/ledger.db")
    if store.sqlite_path is not None:
        store.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    loaded = load_definition(Path(args.register))
    keys = master_key_source(store, args.key_file)
    try:
        ledger = Ledger.initialise(store, keys, loaded.definition, loaded.digest)
        io_.line(f"initialised {store.redacted()} with notice {loaded.definition.version}")
    except ConfigurationError:
        ledger = Ledger(store, keys)
        io_.line(f"{store.redacted()} exists: appending again shows idempotent retries")
    try:
        run_demo(
            ledger,
            loaded.definition,
            subjects=args.subjects,
            seed=args.seed,
            batch_size=1000,
            out=io_.stdout,
        )
        tour(Views(ledger, catch_up=False), io_.stdout)
    finally:
        ledger.close()
    return EXIT_OK


def _table(io_: _Io, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    cells = [[("" if r.get(c) is None else str(r[c])) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    io_.line("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        io_.line("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


# --- argument parsing -------------------------------------------------------------


def _when_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--at", type=_timestamp, help="valid time (default: now)")
    parser.add_argument("--known-at", type=_timestamp, help="what the ledger knew then")
    parser.add_argument("--json", action="store_true")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", help="store URL (default: $LEDGER_STORE or sqlite:///ledger.db)")
    common.add_argument("--key-file", help="master key file (default: beside the store)")
    parser = argparse.ArgumentParser(prog="ledger", description=__doc__, parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", parents=[common], help=cmd_init.__doc__)
    init.add_argument("--register", required=True, help="register definition (TOML)")
    init.add_argument("--effective-from", type=_timestamp)
    init.set_defaults(run=cmd_init)

    notice = sub.add_parser("notice", help="notice versions")
    notice_sub = notice.add_subparsers(dest="notice_command", required=True)
    publish = notice_sub.add_parser("publish", parents=[common], help=cmd_notice_publish.__doc__)
    publish.add_argument("file")
    publish.add_argument("--effective-from", type=_timestamp)
    publish.set_defaults(run=cmd_notice_publish)
    listing = notice_sub.add_parser("list", parents=[common], help=cmd_notice_list.__doc__)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_notice_list)

    append = sub.add_parser("append", parents=[common], help=cmd_append.__doc__)
    append.add_argument("file", nargs="?", default="-", help="NDJSON file, or - for stdin")
    append.add_argument("--batch-size", type=_positive, help="commit every N lines")
    append.set_defaults(run=cmd_append)

    trail = sub.add_parser("trail", parents=[common], help=cmd_trail.__doc__)
    trail.add_argument("subject")
    trail.add_argument("--json", action="store_true")
    trail.set_defaults(run=cmd_trail)

    subject = sub.add_parser("subject", parents=[common], help=cmd_subject.__doc__)
    subject.add_argument("subject")
    _when_options(subject)
    subject.set_defaults(run=cmd_subject)

    basis = sub.add_parser("basis", parents=[common], help=cmd_basis.__doc__)
    basis.add_argument("subject")
    basis.add_argument("purpose")
    _when_options(basis)
    basis.add_argument("--timeline", action="store_true", help="every interval, not only at --at")
    basis.set_defaults(run=cmd_basis)

    sub.add_parser("rebuild", parents=[common], help=cmd_rebuild.__doc__).set_defaults(
        run=cmd_rebuild
    )
    replay = sub.add_parser("replay", parents=[common], help=cmd_replay.__doc__)
    replay.add_argument("--compare", action="store_true", required=True)
    replay.set_defaults(run=cmd_replay)

    project = sub.add_parser("project", parents=[common], help=cmd_project.__doc__)
    project.add_argument("--follow", action="store_true")
    project.add_argument("--poll", type=float, default=0.5, help="seconds between polls")
    project.set_defaults(run=cmd_project)

    demo = sub.add_parser("demo", parents=[common], help=cmd_demo.__doc__)
    demo.add_argument("--register", default="examples/register.toml")
    demo.add_argument("--subjects", type=_positive, default=3000)
    demo.add_argument("--seed", type=int, default=2021)
    demo.set_defaults(run=cmd_demo)
    return parser


def main(
    argv: Sequence[str] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one command; returns the exit code."""
    io_ = _Io(stdin or sys.stdin.buffer, stdout or sys.stdout, stderr or sys.stderr)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    run: Callable[[argparse.Namespace, _Io], int] = args.run
    try:
        return run(args, io_)
    except BatchRejected as e:
        for v in e.violations:
            io_.stderr.write(orjson.dumps(v.as_dict()).decode() + "\n")
        return EXIT_REJECTED
    except LedgerError as e:
        code = next((c for t, c in _EXIT_CODES if isinstance(e, t)), EXIT_UNEXPECTED)
        io_.stderr.write(f"ledger: {e}\n")
        return code


def run_captured(argv: Sequence[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """Run in-process with captured streams: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, io.BytesIO(stdin), out, err)
    return code, out.getvalue(), err.getvalue()


if __name__ == "__main__":
    sys.exit(main())
