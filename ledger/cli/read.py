"""Commands that read the views: trail, subject, basis, notifications, rebuild, replay, project."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ledger.access.records import subject_categories
from ledger.cli.access import checked_purpose, purpose_option, record_cli_read
from ledger.cli.common import (
    EXIT_OK,
    EXIT_VERIFY,
    Io,
    command,
    open_from,
    progress_bar,
    table,
    when_options,
)
from ledger.faces.times import human_time, when
from projections.queries import Views
from projections.replay import replay_compare


def cmd_trail(args: argparse.Namespace, io: Io) -> int:
    """Every event of a subject, in order, from the audit-trail view."""
    with views_of(args) as views:
        answer = views.trail(args.subject)
    if args.json:
        io.json(answer.model_dump(mode="json"))
    else:
        rows = [e.model_dump(mode="json") for e in answer.events]
        table(io, ["position", "type", "occurred_at", "recorded_at", "actor", "source"], rows)
    return EXIT_OK


def cmd_subject(args: argparse.Namespace, io: Io) -> int:
    """The register view of a subject, now or at an instant, as known at a time."""
    purpose = checked_purpose(args)
    with views_of(args) as views:
        answer = views.subject(args.subject, at=args.at or _now(views), known_at=args.known_at)
        categories = subject_categories(answer)
        record_cli_read(views.ledger, answer.subject, categories, "subject", purpose)
    if args.json:
        io.json(answer.model_dump(mode="json"))
        return EXIT_OK
    io.line(f"subject {answer.subject}  kind {answer.kind}  controller {answer.controller}")
    io.line(
        f"as of {human_time(answer.at)}"
        + (f", as known at {human_time(answer.known_at)}" if answer.known_at else "")
    )
    rows = [
        {"category": c, "field": n, "value": "(erased)" if v.erased else v.value,
         "source": v.source, "occurred_at": v.occurred_at}
        for c, fields in answer.fields.items() for n, v in fields.items()
    ]  # fmt: skip
    table(io, ["category", "field", "value", "source", "occurred_at"], rows)
    for contract in answer.contracts:
        io.line(f"contract {contract.contract} with {contract.controller}:"
                 f" {when(contract.started_at)} .. {when(contract.ended_at)}")  # fmt: skip
    for consent in answer.consents:
        io.line(f"consent {consent.purpose} ({consent.channel}, notice {consent.notice_version}):"
                 f" {when(consent.granted_at)} .. {when(consent.withdrawn_at)}")  # fmt: skip
    for objection in answer.objections:
        io.line(f"objection {objection.purpose} at {when(objection.occurred_at)}")
    return EXIT_OK


def cmd_basis(args: argparse.Namespace, io: Io) -> int:
    """Was processing for a purpose lawful at an instant, on which basis, with evidence."""
    with views_of(args) as views:
        answer = views.basis(
            args.subject, args.purpose, at=args.at or _now(views), known_at=args.known_at,
            timeline=args.timeline, controller=args.controller,
        )  # fmt: skip
    if args.json:
        io.json(answer.model_dump(mode="json", exclude_none=False))
        return EXIT_OK
    verdict = "lawful" if answer.lawful else "NOT lawful"
    io.line(f"{answer.subject} / {answer.purpose} at {human_time(answer.at)}: {verdict}"
             f" (notice {answer.notice_version})")  # fmt: skip
    if len(answer.by_controller) > 1:
        for each in answer.by_controller:
            io.line(f"  controller {each.controller}: {'lawful' if each.lawful else 'NOT lawful'}")
    for interval in answer.timeline or answer.bases:
        evidence = ", ".join(f"#{e.position} {e.type}" for e in interval.evidence)
        ended = "" if interval.ended_by is None else (
            f", ended by #{interval.ended_by.position} {interval.ended_by.type}"
        )  # fmt: skip
        io.line(f"  {interval.basis} ({interval.controller}): {when(interval.since)}"
                 f" .. {when(interval.until)}  [{evidence}]{ended}")  # fmt: skip
    last = answer.last_ended
    if last is not None and answer.timeline is None:
        how = "ran out" if last.ended_by is None else (
            f"was ended by #{last.ended_by.position} {last.ended_by.type}"
        )  # fmt: skip
        io.line(f"  the last basis, {last.basis} ({last.controller}) from {when(last.since)},"
                 f" {how} at {when(last.until)}")  # fmt: skip
    return EXIT_OK


def cmd_notifications(args: argparse.Namespace, io: Io) -> int:
    """Notifications owed to recipients of rectifications, erasures, restrictions (Art. 19)."""
    with views_of(args) as views:
        answer = views.notifications(subject=args.subject, recipient=args.recipient)
    if args.json:
        io.json(answer.model_dump(mode="json"))
        return EXIT_OK
    rows = [
        {"subject": o.subject, "recipient": o.recipient, "kind": o.event.kind,
         "event": f"#{o.event.position} {o.event.type}", "categories": ", ".join(o.categories),
         "since": o.since}
        for o in answer.owed
    ]  # fmt: skip
    table(io, ["subject", "recipient", "kind", "event", "categories", "since"], rows)
    return EXIT_OK


def cmd_rebuild(args: argparse.Namespace, io: Io) -> int:
    """Drop every view and replay the whole log into it."""
    core = open_from(args)
    try:
        runner = core.runner()
        started = time.monotonic()
        count = runner.rebuild(progress=progress_bar(io, "rebuild"))
        elapsed = time.monotonic() - started
    finally:
        core.close()
    io.json({"rebuilt": [p.name for p in runner.projections], "events": count,
              "seconds": round(elapsed, 3)})  # fmt: skip
    return EXIT_OK


def cmd_replay(args: argparse.Namespace, io: Io) -> int:
    """Rebuild every view into a scratch store and report any difference from the live one."""
    core = open_from(args)
    try:
        position, differences, compared = replay_compare(
            core.ledger, core.store, progress_bar(io, "replay")
        )
    finally:
        core.close()
    io.json(
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


def cmd_project(args: argparse.Namespace, io: Io) -> int:
    """Bring the views up to date; with --follow keep doing so until interrupted."""
    core = open_from(args)
    try:
        runner = core.runner()
        count = runner.catch_up(progress=progress_bar(io, "catch-up"))
        io.json({"applied": count, "positions": runner.positions()})
        if args.follow:
            stop = threading.Event()
            try:
                runner.follow(stop, poll=args.poll)
            except KeyboardInterrupt:
                stop.set()
    finally:
        core.close()
    return EXIT_OK


@contextmanager
def views_of(args: argparse.Namespace) -> Iterator[Views]:
    core = open_from(args)
    try:
        yield core.views()
    finally:
        core.close()


def _now(views: Views) -> datetime:
    return views.ledger.clock.now()


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the read commands to the parser."""
    trail = command(sub, "trail", cmd_trail, common)
    trail.add_argument("subject", help="the subject's reference, e.g. C-1001")

    subject = command(sub, "subject", cmd_subject, common)
    subject.add_argument("subject", help="the subject's reference, e.g. C-1001")
    when_options(subject)
    purpose_option(subject)

    basis = command(sub, "basis", cmd_basis, common)
    basis.add_argument("subject", help="the subject's reference, e.g. C-1001")
    basis.add_argument("purpose", help="a purpose id of the register, e.g. marketing")
    when_options(basis)
    basis.add_argument(
        "--timeline", action="store_true",
        help="every basis interval over time, not only those holding at --at",
    )  # fmt: skip
    basis.add_argument(
        "--controller", metavar="BUSINESS_ID",
        help="only this controller's bases, e.g. 0209628-8 (default: every controller of"
        " the purpose, each answered)",
    )  # fmt: skip

    notifications = command(sub, "notifications", cmd_notifications, common)
    notifications.add_argument("--subject", metavar="REF", help="only of this subject, e.g. C-1001")
    notifications.add_argument(
        "--recipient", metavar="ID", help="only to this recipient, e.g. print-house"
    )

    command(sub, "rebuild", cmd_rebuild, common)
    replay = command(sub, "replay", cmd_replay, common)
    replay.add_argument(
        "--compare", action="store_true", required=True,
        help="compare the scratch views with the live ones row by row (required)",
    )  # fmt: skip

    project = command(sub, "project", cmd_project, common)
    project.add_argument(
        "--follow", action="store_true", help="keep the views up to date until interrupted"
    )
    project.add_argument(
        "--poll", type=float, default=0.5, metavar="SECONDS",
        help="with --follow, seconds between looks at the log (default: 0.5)",
    )  # fmt: skip
