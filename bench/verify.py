"""Tamper evidence: sealing, verify throughput and proof generation at scale.

Run from the project folder::

    .venv/bin/python bench/verify.py [--subjects 100000] [--proofs 200]
        [--only sqlite|postgres] [--postgres-url URL]

For each store: fills a fresh store with the demo population (about 10.5 events
per subject; the ledger opened by ``ledger.bootstrap.initialise`` with sealing on
request, so nothing but the first notice is sealed while loading), seals it
(``core.seal()``: the Merkle projection over every appended event and one signed
checkpoint), then runs ``verify(core.sealer)`` over the whole log (every leaf
recomputed from the stored bytes, the tree rebuilt, every checkpoint checked) and
prints events/s with the resident memory at 10%, 50% and 100% and its peak, and
finally times inclusion proofs for random positions and consistency proofs
against the latest checkpoint (each through the same path as ``ledger prove``,
reading stored leaves and subtree roots).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.population import RssMarks, arguments, build, stores, timed_seal
from ledger.bootstrap import Core
from ledger.evidence.proofs import prove_inclusion
from ledger.evidence.verification import verify
from ledger.integrity.verifier import check_inclusion


def verify_all(core: Core) -> dict[str, float]:
    """Verify the whole log; events/s and memory along the way."""
    progress = RssMarks()
    began = time.perf_counter()
    report = verify(core.sealer, progress=progress)
    seconds = time.perf_counter() - began
    if not report.ok:
        raise SystemExit(f"verify failed: {report.problems[:3]}")
    return {
        "events": report.events,
        "seconds": seconds,
        "rate": report.events / seconds,
        **progress.figures(),
    }


def proofs(core: Core, count: int) -> dict[str, float]:
    """Times of inclusion and consistency proofs at the latest checkpoint's size."""
    sealer = core.sealer
    checkpoint = sealer.latest()
    if checkpoint is None:
        raise SystemExit("no checkpoint")
    rng = random.Random(3)
    size = checkpoint.size
    inclusion, consistency = [], []
    for _ in range(count):
        index = rng.randrange(size)
        began = time.perf_counter()
        sealer.inclusion(index, size)
        inclusion.append((time.perf_counter() - began) * 1000)
        old = rng.randrange(1, size)
        began = time.perf_counter()
        sealer.consistency(old, size)
        consistency.append((time.perf_counter() - began) * 1000)
    position = core.ledger.recorder.max_notification_id() or 1
    document = prove_inclusion(sealer, position)
    if problem := check_inclusion(document, core.ledger.verifier_key()):
        raise SystemExit(f"a generated proof does not verify: {problem}")
    return {
        "size": size,
        "inclusion_p50": statistics.median(inclusion),
        "inclusion_max": max(inclusion),
        "consistency_p50": statistics.median(consistency),
        "consistency_max": max(consistency),
    }


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--proofs", type=int, default=200, help="proofs of each kind to time")
    args = parser.parse_args()
    with stores(args.postgres_url, args.only) as each:
        for name, url, folder in each:
            core, events, seconds = build(url, folder, args.subjects)
            with core:
                print(f"{name}: loaded {events:,} events in {seconds:.1f} s (not sealed)")
                print(
                    f"{name}: sealed (the tree over every appended event and a checkpoint)"
                    f" in {timed_seal(core):.1f} s"
                )
                v = verify_all(core)
                print(
                    f"{name}: verify: {v['events']:,} events in {v['seconds']:.1f} s ="
                    f" {v['rate']:,.0f} events/s; RSS MiB at 10% {v['rss_10']:.0f},"
                    f" 50% {v['rss_50']:.0f}, 100% {v['rss_100']:.0f}; peak {v['peak']:.0f}"
                )
                p = proofs(core, args.proofs)
                print(
                    f"{name}: proofs at size {p['size']:,}:"
                    f" inclusion p50 {p['inclusion_p50']:.2f} ms (max {p['inclusion_max']:.2f}),"
                    f" consistency p50 {p['consistency_p50']:.2f} ms"
                    f" (max {p['consistency_max']:.2f})"
                )


if __name__ == "__main__":
    main()
