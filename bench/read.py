"""Read side: catch-up rate of every projection from position 0, and basis latency.

Run from the project folder::

    .venv/bin/python bench/read.py [--subjects 100000] [--queries 2000]
        [--only sqlite|postgres] [--postgres-url URL]

For each store: fills a fresh store with the demo population (about 10.5 events
per subject: 100,000 subjects give about 1,050,000 events; the ledger opened by
``ledger.bootstrap.initialise`` with sealing on request, so the load figure is
appends only and sealing is timed on its own line), then

* rebuilds all projections together from position 0 (``core.runner().rebuild``)
  and prints events/s, the process's resident memory at 10%, 50% and 100% of the
  replay (flat figures mean memory does not grow with the log) and its peak;
* asks ``basis`` for random (subject, purpose, instant) triples through the same
  query path the command line uses (``core.views().basis``: indexed view queries,
  the interval computation and the evidence's leaf hashes) and prints p50 and p99.

Not a timed test: it prints figures. The machine's speed drifts; compare figures
from one run.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.population import RssMarks, arguments, build, stores, timed_seal
from ledger.bootstrap import Core

PURPOSES = ("marketing", "billing", "profiling", "customer_relationship", "development")


def catch_up(core: Core) -> dict[str, float]:
    """Rebuild every view; events/s and memory along the way."""
    runner = core.runner()
    progress = RssMarks()
    began = time.perf_counter()
    count = runner.rebuild(progress=progress)
    seconds = time.perf_counter() - began
    return {
        "events": count,
        "seconds": seconds,
        "rate": count / seconds,
        **progress.figures(),
    }


def basis_latency(core: Core, queries: int, seed: int) -> dict[str, float]:
    """p50 and p99 of basis answers for random subjects, purposes and instants."""
    views = core.views()
    refs = [r["ref"] for r in core.store.query("SELECT ref FROM {t}ledger_subjects")]
    rng = random.Random(seed)
    start = core.ledger.notices.versions[0].effective_from
    span = (core.ledger.clock.now() - start).total_seconds()
    timings = []
    for _ in range(queries):
        ref, purpose = rng.choice(refs), rng.choice(PURPOSES)
        when = start + timedelta(seconds=rng.uniform(0, span))
        began = time.perf_counter()
        views.basis(ref, purpose, at=when, known_at=None)
        timings.append((time.perf_counter() - began) * 1000)
    quantiles = statistics.quantiles(timings, n=100)
    return {"queries": queries, "subjects": len(refs), "p50": quantiles[49], "p99": quantiles[98]}


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=2000, help="basis queries to time")
    args = parser.parse_args()
    with stores(args.postgres_url, args.only) as each:
        for name, url, folder in each:
            core, events, seconds = build(url, folder, args.subjects)
            with core:
                print(
                    f"{name}: loaded {events:,} events for {args.subjects:,} subjects"
                    f" in {seconds:.1f} s ({events / seconds:,.0f} events/s, not sealed)"
                )
                print(f"{name}: sealed them (tree and a checkpoint) in {timed_seal(core):.1f} s")
                caught = catch_up(core)
                print(
                    f"{name}: rebuild of all projections: {caught['events']:,} events in"
                    f" {caught['seconds']:.1f} s = {caught['rate']:,.0f} events/s; RSS MiB at"
                    f" 10% {caught['rss_10']:.0f}, 50% {caught['rss_50']:.0f},"
                    f" 100% {caught['rss_100']:.0f}; peak {caught['peak']:.0f}"
                )
                latency = basis_latency(core, args.queries, seed=1)
                print(
                    f"{name}: basis over {latency['subjects']:,} subjects,"
                    f" {args.queries} queries: p50 {latency['p50']:.2f} ms,"
                    f" p99 {latency['p99']:.2f} ms"
                )


if __name__ == "__main__":
    main()
