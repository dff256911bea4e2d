"""Commands for recipients and policy: check, findings, lineage, disclosures."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ledger.cli.common import EXIT_OK, Io, command, table, timestamp
from ledger.cli.read import views_of
from ledger.errors import NotKnown
from ledger.faces.problems import check_problems
from ledger.faces.times import human_time
from ledger.standards.prov import lineage_prov
from projections.check import check


def cmd_check(args: argparse.Namespace, io: Io) -> int:
    """May this be done now? The basis answer plus the recipient's agreement and transfer."""
    with views_of(args) as views, _as_options("recipient", "categories"):
        categories = args.categories.split(",") if args.categories else None
        answer = check(
            views, args.subject, args.purpose, at=args.at or views.ledger.clock.now(),
            recipient=args.recipient, categories=categories, controller=args.controller,
        )  # fmt: skip
    if args.json:
        io.json(answer.model_dump(mode="json") | {"problem_details": check_problems(answer)})
    else:
        io.line(
            f"{answer.subject} / {answer.purpose}: {'allowed' if answer.allowed else 'NOT allowed'}"
        )
        for line in answer.problems:
            io.line(f"  - {line}")
    return EXIT_OK


def cmd_findings(args: argparse.Namespace, io: Io) -> int:
    """Policy findings recorded at append time, with the events behind them."""
    with views_of(args) as views:
        # What was known then: findings recorded by that instant (a late fact's
        # findings are recorded with it, not with the use they are about).
        answer = views.findings(args.since, args.known_at)
    if args.json:
        io.json(answer.model_dump(mode="json"))
    else:
        rows = [
            {"position": f.position, "recorded_at": f.recorded_at, "subject": f.subject,
             "rule": f.rule, "event": f"#{f.event.position} {f.event.type}", "message": f.message}
            for f in answer.findings
        ]  # fmt: skip
        table(io, ["position", "recorded_at", "subject", "rule", "event", "message"], rows)
    return EXIT_OK


def cmd_lineage(args: argparse.Namespace, io: Io) -> int:
    """Each datum's source, changes, what was derived from it and who received it."""
    with views_of(args) as views, _as_options("field"):
        answer = views.lineage(args.subject, args.field)
        notices = views.ledger.notices
    if args.format == "prov":
        io.json(lineage_prov(answer, notices))
        return EXIT_OK
    if args.json:
        io.json(answer.model_dump(mode="json"))
        return EXIT_OK
    for datum in answer.data:
        io.line(
            f"{datum.category}.{datum.field}: from {datum.source}, {len(datum.changes)} change(s)"
        )
        for d in datum.derived:
            at = human_time(d["occurred_at"])
            io.line(f"  derived into {d['category']} for {d['purpose']} at {at}")
        for r in datum.received_by:
            at = human_time(r["occurred_at"])
            io.line(f"  received by {r['recipient']} for {r['purpose']} at {at}")
    return EXIT_OK


def cmd_disclosures(args: argparse.Namespace, io: Io) -> int:
    """Disclosures by recipient, subject, category and period; --breach lists subjects."""
    with views_of(args) as views, _as_options("recipient", "category"):
        answer = views.disclosures(
            recipient=args.recipient, subject=args.subject, category=args.category,
            since=args.since, until=args.until, by_subject=args.breach,
        )  # fmt: skip
    if args.json:
        io.json(answer.model_dump(mode="json"))
    elif args.breach:
        rows = [s.model_dump(mode="json") for s in answer.subjects or []]
        table(io, ["subject", "categories", "disclosures", "first", "last"], rows)
    else:
        rows = [d.model_dump(mode="json") for d in answer.disclosures]
        table(
            io, ["position", "occurred_at", "subject", "recipient", "purpose", "categories"], rows
        )
    return EXIT_OK


@contextmanager
def _as_options(*names: str) -> Iterator[None]:
    """An unknown name given by an option is reported as that option (``--recipient``)."""
    try:
        yield
    except NotKnown as e:
        if e.field in names:
            e.field = f"--{e.field}"
        raise


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the policy commands to the parser."""
    check_ = command(sub, "check", cmd_check, common)
    check_.add_argument("subject", help="the subject's reference, e.g. C-1001")
    check_.add_argument("purpose", help="a purpose id of the register, e.g. marketing")
    check_.add_argument(
        "--recipient", metavar="ID", help="also check a disclosure to this recipient"
    )
    check_.add_argument(
        "--categories", metavar="C,...",
        help="also check that the subject has data in these categories (comma-separated)",
    )  # fmt: skip
    check_.add_argument(
        "--at", type=timestamp, metavar="TIME", help="instant to judge at (default: now)"
    )
    check_.add_argument(
        "--controller", metavar="BUSINESS_ID",
        help="the controller that would process, e.g. 0209628-8 (default: any of the purpose's)",
    )  # fmt: skip

    findings = command(sub, "findings", cmd_findings, common)
    findings.add_argument(
        "--since", type=timestamp, metavar="TIME", help="only findings recorded from then on"
    )
    findings.add_argument(
        "--known-at", type=timestamp, metavar="TIME",
        help="what was known then: only findings recorded by then (default: now)",
    )  # fmt: skip

    lineage = command(sub, "lineage", cmd_lineage, common)
    lineage.add_argument("subject", help="the subject's reference, e.g. C-1001")
    lineage.add_argument("--field", metavar="NAME", help="only this field, e.g. name")
    lineage.add_argument(
        "--format", choices=("json", "prov"), default="json",
        help="json: the ledger's own answer (text unless --json); prov: W3C PROV-JSON"
        " (entities, activities, agents; never values)",
    )  # fmt: skip

    disclosures = command(sub, "disclosures", cmd_disclosures, common)
    disclosures.add_argument("--recipient", metavar="ID", help="only to this recipient")
    disclosures.add_argument("--subject", metavar="REF", help="only of this subject")
    disclosures.add_argument(
        "--category", metavar="CATEGORY", help="only those that included this category"
    )
    disclosures.add_argument(
        "--since", type=timestamp, metavar="TIME", help="only those that occurred from then on"
    )
    disclosures.add_argument(
        "--until", type=timestamp, metavar="TIME", help="only those that occurred before then"
    )
    disclosures.add_argument(
        "--breach", action="store_true",
        help="also list the subjects and categories concerned (for a breach notification)",
    )  # fmt: skip
