"""Commands that write: init, notice publish/list/show/diff, append, demo."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ledger.appending.definition_file import load_definition
from ledger.appending.outcomes import AppendResult
from ledger.bootstrap import Core, bootstrap, initialise
from ledger.cli.common import (
    EXIT_OK,
    Io,
    command,
    group,
    open_from,
    positive,
    table,
    timestamp,
    watch,
    with_seal,
)
from ledger.cli.notice_text import diff_lines, notice_lines
from ledger.demo.population import run_demo
from ledger.demo.tour import scenario, tour
from ledger.domain.notice_diff import diff_notices, find_notice
from ledger.errors import ConfigurationError, LedgerError
from ledger.persistence.sources import store_config


def cmd_init(args: argparse.Namespace, io: Io) -> int:
    """Create the store's tables and keys and publish the first notice version."""
    store = store_config(args.store)
    loaded = load_definition(Path(args.register))
    core = watch(
        initialise(args.store, loaded, key_file=args.key_file, effective_from=args.effective_from)
    )
    ledger = core.ledger
    notice = ledger.notices.versions[-1]
    io.json(
        with_seal(core, {"store": store.redacted()})
        | {
            "verifier_key": ledger.verifier_key(),
            "register": loaded.definition.name,
            "notice_version": notice.version,
            "effective_from": notice.effective_from,
            "master_key": (
                "LEDGER_MASTER_KEY" if ledger.key_source.env_value else str(ledger.key_source.path)
            ),
        }
    )
    core.close()
    return EXIT_OK


def cmd_notice_publish(args: argparse.Namespace, io: Io) -> int:
    """Publish a new version of the register definition."""
    loaded = load_definition(Path(args.file))
    core = open_from(args)
    ledger = core.ledger
    position = ledger.publish_notice(
        loaded.definition, loaded.digest, effective_from=args.effective_from
    )
    notice = ledger.notices.get(loaded.definition.version)
    assert notice is not None  # noqa: S101 - just published
    io.json(
        {
            "notice_version": notice.version,
            "effective_from": notice.effective_from,
            "digest": notice.digest,
            "position": position,
        }
    )
    core.close()
    return EXIT_OK


def cmd_notice_list(args: argparse.Namespace, io: Io) -> int:
    """List published notice versions."""
    core = open_from(args)
    rows = [
        {
            "version": n.version,
            "effective_from": n.effective_from,
            "digest": n.digest,
        }
        for n in core.ledger.notices.versions
    ]
    core.close()
    if args.json:
        io.json(rows)
    else:
        table(io, ["version", "effective_from", "digest"], rows)
    return EXIT_OK


def cmd_notice_show(args: argparse.Namespace, io: Io) -> int:
    """Show one published notice version in the register's words."""
    core = open_from(args)
    try:
        notice = find_notice(core.ledger.notices, args.version)
    finally:
        core.close()
    if args.json:
        io.json(
            {
                "notice_version": notice.version,
                "effective_from": notice.effective_from,
                "digest": notice.digest,
                "definition": notice.definition.model_dump(mode="json"),
            }
        )
    else:
        for line in notice_lines(notice):
            io.line(line)
    return EXIT_OK


def cmd_notice_diff(args: argparse.Namespace, io: Io) -> int:
    """What changed between two notice versions: added, removed, changed."""
    core = open_from(args)
    try:
        old = find_notice(core.ledger.notices, args.old, field="old")
        new = find_notice(core.ledger.notices, args.new, field="new")
    finally:
        core.close()
    diff = diff_notices(old.definition, new.definition)
    if args.json:
        times = {"old_effective_from": old.effective_from, "new_effective_from": new.effective_from}
        io.json(diff.as_dict() | times)
    else:
        for line in diff_lines(diff):
            io.line(line)
    return EXIT_OK


def _input_lines(path: str, io: Io) -> Iterator[bytes]:
    if path == "-":
        yield from io.stdin
        return
    try:
        with Path(path).open("rb") as f:
            yield from f
    except OSError as e:
        msg = f"cannot read {path}: {e.strerror}"
        raise ConfigurationError(msg) from None


def cmd_append(args: argparse.Namespace, io: Io) -> int:
    """Append NDJSON lines: one transaction, or one per --batch-size lines."""
    core = open_from(args)
    lines = _input_lines(args.file, io)
    try:
        if args.batch_size is None:
            result = core.ledger.append_batch(list(lines))
            io.json(with_seal(core, result.as_dict()))
            return EXIT_OK
        return _append_in_batches(core, lines, args.batch_size, io)
    finally:
        core.close()


def _append_in_batches(core: Core, lines: Iterable[bytes], size: int, io: Io) -> int:
    """Commit every ``size`` lines; whatever stops the run, say what committed before it.

    The summary goes to stdout (``committed_lines``, ``stopped_at_line``) and the
    error to stderr with its own exit code, so a re-run knows where to resume.
    """
    total = AppendResult(0, 0, None)
    try:
        for result in core.ledger.append_stream(lines, batch_size=size):
            total = AppendResult(
                total.appended + result.appended,
                total.duplicates + result.duplicates,
                result.last_position or total.last_position,
                total.findings + result.findings,
            )
    except LedgerError as e:
        committed = total.appended + total.duplicates if e.committed is None else e.committed
        summary = total.as_dict() | {
            "committed_lines": committed,
            "stopped_at_line": committed + 1,
        }
        io.json(with_seal(core, summary))
        raise
    io.json(with_seal(core, total.as_dict()))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, io: Io) -> int:
    """Load the example register and a generated population, then tour the answers.

    The store defaults to sqlite:///demo/ledger.db. With --json the narration goes
    to stderr and stdout gets one JSON summary.
    """
    url = args.store or "sqlite:///demo/ledger.db"
    store = store_config(url)
    if store.sqlite_path is not None:
        store.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    loaded = load_definition(Path(args.register))
    text = io.stderr if args.json else io.stdout
    try:
        core = watch(initialise(url, loaded, key_file=args.key_file))
        text.write(f"initialised {store.redacted()} with notice {loaded.definition.version}\n")
    except ConfigurationError:
        core = watch(bootstrap(url, key_file=args.key_file))
        text.write(f"{store.redacted()} exists: appending again shows idempotent retries\n")
    try:
        figures = run_demo(
            core.ledger,
            loaded.definition,
            subjects=args.subjects,
            seed=args.seed,
            batch_size=1000,
            out=text,
        )
        views = core.views(catch_up=False)
        tour(views, text)
        scenario(views, text)
    finally:
        core.close()
    if args.json:
        io.json(with_seal(core, {"store": store.redacted(), **figures}))
    return EXIT_OK


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the write commands to the parser."""
    init = command(sub, "init", cmd_init, common)
    init.add_argument(
        "--register", required=True, metavar="FILE",
        help="the register definition (TOML), e.g. examples/register.toml",
    )  # fmt: skip
    init.add_argument(
        "--effective-from", type=timestamp, metavar="TIME",
        help="when the first notice version takes effect (default: the file's effective_from,"
        " else now)",
    )  # fmt: skip

    summary = "Publish, list, show and compare versions of the privacy notice."
    notice = group(sub, "notice", summary, common)
    publish = command(notice, "publish", cmd_notice_publish, common)
    publish.add_argument("file", help="the new register definition (TOML)")
    publish.add_argument(
        "--effective-from", type=timestamp, metavar="TIME",
        help="when it takes effect, after the latest version (default: the file's"
        " effective_from, else now)",
    )  # fmt: skip
    command(notice, "list", cmd_notice_list, common)
    show = command(notice, "show", cmd_notice_show, common)
    show.add_argument("version", help="a published notice version, e.g. 2021-06-03")
    diff = command(notice, "diff", cmd_notice_diff, common)
    diff.add_argument("old", help="the earlier notice version, e.g. 2021-06-03")
    diff.add_argument("new", help="the later notice version")

    append = command(sub, "append", cmd_append, common)
    append.add_argument(
        "file", nargs="?", default="-", help="NDJSON file, one event per line; - for stdin"
    )
    append.add_argument(
        "--batch-size", type=positive, metavar="N",
        help="commit every N lines (bulk loads: memory stays flat, a rerun resumes);"
        " default: all lines in one transaction",
    )  # fmt: skip

    demo = command(sub, "demo", cmd_demo, common)
    demo.add_argument(
        "--register", default="examples/register.toml", metavar="FILE",
        help="register definition (default: examples/register.toml)",
    )  # fmt: skip
    demo.add_argument(
        "--subjects", type=positive, default=3000, metavar="N",
        help="how many subjects to generate (default: 3000)",
    )  # fmt: skip
    demo.add_argument(
        "--seed", type=int, default=2021,
        help="generator seed; the same seed on the same day appends nothing new (default: 2021)",
    )  # fmt: skip
