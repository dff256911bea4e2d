"""Tamper evidence: sealing, verify throughput and proof generation at scale.

Run from the project folder::

    .venv/bin/python bench/verify.py [--subjects 100000] [--only sqlite|postgres]

For each store: fills a fresh store (about 10.5 events per subject), seals it
(the Merkle projection from position 0 and one signed checkpoint), then runs
``verify`` over the whole log (every leaf recomputed from the stored bytes, the
tree rebuilt, every checkpoint checked) and prints events/s with the resident
memory at 10%, 50% and 100% and its peak, and finally times inclusion proofs for
random positions and consistency proofs against the latest checkpoint (each
through the same path as ``ledger prove``, reading stored leaves and subtree roots).
"""

from __future__ import annotations

import random
import statistics
import time

from bench.population import RssMarks, arguments, build, stores
from ledger.appending.application import Ledger
from ledger.evidence.proofs import prove_inclusion
from ledger.evidence.sealing import Sealer
from ledger.evidence.verification import verify
from ledger.integrity.verifier import check_inclusion


def seal(ledger: Ledger) -> float:
    began = time.perf_counter()
    Sealer(ledger).seal()
    return time.perf_counter() - began


def verify_all(ledger: Ledger) -> dict[str, float]:
    progress = RssMarks()

    began = time.perf_counter()
    report = verify(ledger, progress=progress)
    seconds = time.perf_counter() - began
    if not report.ok:
        raise SystemExit(f"verify failed: {report.problems[:3]}")
    return {
        "events": report.events,
        "seconds": seconds,
        "rate": report.events / seconds,
        **progress.figures(),
    }


def proofs(ledger: Ledger, count: int) -> dict[str, float]:
    sealer = Sealer(ledger)
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
    position = ledger.recorder.max_notification_id() or 1
    document = prove_inclusion(ledger, position)
    if check_inclusion(document, ledger.verifier_key()):
        raise SystemExit("a generated proof does not verify")
    return {
        "size": size,
        "inclusion_p50": statistics.median(inclusion),
        "inclusion_max": max(inclusion),
        "consistency_p50": statistics.median(consistency),
        "consistency_max": max(consistency),
    }


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--proofs", type=int, default=200)
    args = parser.parse_args()
    with stores(args.postgres_url, args.only) as each:
        for name, url, folder in each:
            ledger, events, seconds = build(url, folder, args.subjects)
            print(f"{name}: loaded {events:,} events in {seconds:.0f} s")
            print(f"{name}: sealed (tree from position 0 and a checkpoint) in {seal(ledger):.1f} s")
            v = verify_all(ledger)
            print(
                f"{name}: verify: {v['events']:,} events in {v['seconds']:.1f} s ="
                f" {v['rate']:,.0f} events/s; RSS MiB at 10% {v['rss_10']:.0f},"
                f" 50% {v['rss_50']:.0f}, 100% {v['rss_100']:.0f}; peak {v['peak']:.0f}"
            )
            p = proofs(ledger, args.proofs)
            print(
                f"{name}: proofs at size {p['size']:,}: inclusion p50 {p['inclusion_p50']:.2f} ms"
                f" (max {p['inclusion_max']:.2f}), consistency p50 {p['consistency_p50']:.2f} ms"
                f" (max {p['consistency_max']:.2f})"
            )
            ledger.close()


if __name__ == "__main__":
    main()
