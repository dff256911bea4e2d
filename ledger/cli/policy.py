"""Commands for recipients and policy: check, findings, lineage, disclosures."""

from __future__ import annotations

import argparse
from typing import Any

from ledger.cli.common import EXIT_OK, Io, table, timestamp
from ledger.cli.read import views_of
from projections.check import check


def cmd_check(args: argparse.Namespace, io: Io) -> int:
    """May this be done now? The basis answer plus the recipient's agreement and transfer."""
    with views_of(args) as views:
        categories = args.categories.split(",") if args.categories else None
        answer = check(
            views, args.subject, args.purpose, at=args.at or views.ledger.clock.now(),
            recipient=args.recipient, categories=categories,
        )  # fmt: skip
    if args.json:
        io.json(answer.model_dump(mode="json"))
    else:
        io.line(
            f"{answer.subject} / {answer.purpose}: {'allowed' if answer.allowed else 'NOT allowed'}"
        )
        for problem in answer.problems:
            io.line(f"  - {problem}")
    return EXIT_OK


def cmd_findings(args: argparse.Namespace, io: Io) -> int:
    """Policy findings recorded at append time, with the events behind them."""
    with views_of(args) as views:
        answer = views.findings(args.since)
    if args.json:
        io.json(answer.model_dump(mode="json"))
    else:
        rows = [
            {"position": f.position, "recorded_at": f.recorded_at.isoformat(), "subject": f.subject,
             "rule": f.rule, "event": f"#{f.event.position} {f.event.type}", "message": f.message}
            for f in answer.findings
        ]  # fmt: skip
        table(io, ["position", "recorded_at", "subject", "rule", "event", "message"], rows)
    return EXIT_OK


def cmd_lineage(args: argparse.Namespace, io: Io) -> int:
    """Each datum's source, changes, what was derived from it and who received it."""
    with views_of(args) as views:
        answer = views.lineage(args.subject, args.field)
    if args.json:
        io.json(answer.model_dump(mode="json"))
        return EXIT_OK
    for datum in answer.data:
        io.line(
            f"{datum.category}.{datum.field}: from {datum.source}, {len(datum.changes)} change(s)"
        )
        for d in datum.derived:
            io.line(f"  derived into {d['category']} for {d['purpose']} at {d['occurred_at']}")
        for r in datum.received_by:
            io.line(f"  received by {r['recipient']} for {r['purpose']} at {r['occurred_at']}")
    return EXIT_OK


def cmd_disclosures(args: argparse.Namespace, io: Io) -> int:
    """Disclosures by recipient, subject, category and period; --breach lists subjects."""
    with views_of(args) as views:
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


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the policy commands to the parser."""
    check_ = sub.add_parser("check", parents=[common], help=cmd_check.__doc__)
    check_.add_argument("subject")
    check_.add_argument("purpose")
    check_.add_argument("--recipient")
    check_.add_argument("--categories", help="comma-separated")
    check_.add_argument("--at", type=timestamp, help="instant to judge at (default: now)")
    check_.add_argument("--json", action="store_true")
    check_.set_defaults(run=cmd_check)

    findings = sub.add_parser("findings", parents=[common], help=cmd_findings.__doc__)
    findings.add_argument("--since", type=timestamp)
    findings.add_argument("--json", action="store_true")
    findings.set_defaults(run=cmd_findings)

    lineage = sub.add_parser("lineage", parents=[common], help=cmd_lineage.__doc__)
    lineage.add_argument("subject")
    lineage.add_argument("--field")
    lineage.add_argument("--json", action="store_true")
    lineage.set_defaults(run=cmd_lineage)

    disclosures = sub.add_parser("disclosures", parents=[common], help=cmd_disclosures.__doc__)
    for option in ("--recipient", "--subject", "--category"):
        disclosures.add_argument(option)
    disclosures.add_argument("--since", type=timestamp)
    disclosures.add_argument("--until", type=timestamp)
    disclosures.add_argument("--breach", action="store_true", help="subjects and categories")
    disclosures.add_argument("--json", action="store_true")
    disclosures.set_defaults(run=cmd_disclosures)
