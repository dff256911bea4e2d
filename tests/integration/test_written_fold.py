"""What a call wrote is folded into the cached histories as a read of the store gives it.

After a call commits, ``HistoryCache.written`` folds the states the call built (not
decoded again from what it stored) with ``fold_event``. Over many generated calls
(registrations, personal data, grants with and without expiry, withdrawals,
objections, contracts, uses of every kind, restrictions, findings, late facts,
erasures), each cached history must equal, exactly (datetimes and their zones
included), ``read_histories`` over the subject's stream as the store returns it.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from ledger.appending.judging import SubjectHistory, read_histories
from ledger.errors import BatchRejected
from ledger.rights.erasure import erase
from tests import factories as f

if TYPE_CHECKING:
    from collections.abc import Callable

    from ledger.appending.application import Ledger

CALLS = 160
CATEGORIES = {
    "customer_basic": None,  # the factory's name and identity code
    "billing": {"billing_address": "Hovioikeudenpuistikko 1, Vaasa"},
    "cookies": {"cookie_id": "c-17", "website": "vaasansahko.fi"},
    "web_logs": {"ip_address": "192.0.2.7", "usage": "evenings"},
}
ZONES = ("+02:00", "+00:00", "-05:00", "+05:30")


def when(rng: random.Random) -> str:
    """An instant in January or February 2024, in one of several zones (often late)."""
    return (
        f"2024-{rng.randint(1, 2):02d}-{rng.randint(1, 28):02d}"
        f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        f"{rng.choice(ZONES)}"
    )


def personal_data(rng: random.Random, ref: str) -> dict[str, Any]:
    category = rng.choice(sorted(CATEGORIES))
    return f.personal_data(ref, CATEGORIES[category], category=category, occurred_at=when(rng))


def grant(rng: random.Random, ref: str) -> dict[str, Any]:
    purpose = rng.choice(["marketing", "profiling", "development"])
    data = {"expires_at": f"2024-0{rng.randint(3, 9)}-01T00:00:00Z"} if rng.random() < 0.4 else {}
    return f.consent_granted(ref, purpose, data=data, occurred_at=when(rng))


def withdrawal(rng: random.Random, ref: str) -> dict[str, Any]:
    purpose = rng.choice(["marketing", "profiling", "development"])
    return f.consent_withdrawn(ref, purpose, occurred_at=when(rng))


def objection(rng: random.Random, ref: str) -> dict[str, Any]:
    return f.objection(ref, rng.choice(["marketing", "profiling"]), occurred_at=when(rng))


def contract(rng: random.Random, ref: str) -> dict[str, Any]:
    make = f.contract_started if rng.random() < 0.6 else f.contract_ended
    return make(ref, rng.choice(["K-1", "K-2"]), occurred_at=when(rng))


def processed(rng: random.Random, ref: str) -> dict[str, Any]:
    purpose = rng.choice(["marketing", "billing", "development", "customer_relationship"])
    categories = rng.sample(["customer_basic", "billing", "cookies"], rng.randint(1, 2))
    controller = f.RETAIL if purpose == "marketing" else rng.choice([f.RETAIL, f.NETWORK])
    return f.processed(
        ref, purpose, categories=categories, controller=controller, occurred_at=when(rng)
    )


def disclosed(rng: random.Random, ref: str) -> dict[str, Any]:
    return f.disclosed(ref, rng.choice(["print-house", "debt-collection"]), occurred_at=when(rng))


def derived(rng: random.Random, ref: str) -> list[dict[str, Any]]:
    """A profile, after the data it is derived from (in the same call)."""
    sources = [
        f.personal_data(ref, CATEGORIES[c], category=c, source="cookies", occurred_at=when(rng))
        for c in ("cookies", "web_logs")
    ]
    return [*sources, f.profile_derived(ref, occurred_at=when(rng))]


def decision(rng: random.Random, ref: str) -> dict[str, Any]:
    return f.automated_decision(ref, occurred_at=when(rng))


def restriction(rng: random.Random, ref: str) -> dict[str, Any]:
    make = f.restricted if rng.random() < 0.6 else f.restriction_lifted
    kw: dict[str, Any] = {"occurred_at": when(rng)}
    if rng.random() < 0.5:
        kw["categories"] = rng.sample(["customer_basic", "billing", "cookies"], 1)
    if rng.random() < 0.3:
        kw["controller"] = f.RETAIL
    return make(ref, **kw)


def erased_fields(rng: random.Random, ref: str) -> dict[str, Any]:
    return f.erased_fields(ref, occurred_at=when(rng))


MAKERS: list[Callable[[random.Random, str], dict[str, Any] | list[dict[str, Any]]]] = [
    personal_data, personal_data, grant, grant, withdrawal, objection, contract,
    processed, processed, processed, disclosed, derived, decision, restriction,
    restriction, erased_fields,
]  # fmt: skip


def some(rng: random.Random, ref: str) -> list[dict[str, Any]]:
    """The lines of one generated fact about ``ref``."""
    made = rng.choice(MAKERS)(rng, ref)
    return made if isinstance(made, list) else [made]


def exactly(history: SubjectHistory) -> tuple[Any, ...]:
    """Everything a history holds, datetimes with their zones (``repr``), sets sorted."""
    return (
        repr(history.facts), repr(sorted(history.last_recorded.items())),
        repr(history.erasures), repr(history.restrictions), repr(history.uses),
        sorted(history.recorded),
    )  # fmt: skip


def folded_as_stored(ledger: Ledger, refs: list[str]) -> int:
    """Check each cached history against a read of its stream; how many were checked."""
    checked = 0
    for ref in refs:
        known = ledger._histories.known(ref)
        if known is None or known.history is None:
            continue
        rows = list(ledger.ledger_recorder.select_events(known.subject_id))
        assert known.version == rows[-1].originator_version
        stored = read_histories(rows, ledger.mapper)[known.subject_id]
        assert known.history == stored, ref
        assert exactly(known.history) == exactly(stored), ref
        checked += 1
    return checked


def test_histories_folded_from_what_calls_wrote_equal_a_read_of_the_stored_streams(
    ledger: Ledger,
) -> None:
    rng = random.Random(20240301)
    refs = [f"W-{i}" for i in range(8)]
    alive: set[str] = set()
    written = refused = erasures = checked = 0
    for call in range(CALLS):
        if alive and rng.random() < 0.06:
            ref = rng.choice(sorted(alive))
            scope = rng.choice(["subject", "category"])
            categories = None if scope == "subject" else [rng.choice(sorted(CATEGORIES))]
            result = erase(ledger, ref, reason="asked", categories=categories, scope=scope)
            erasures += 1
            if result.reference_removed:
                alive.discard(ref)
            continue
        first: list[dict[str, Any]] = []
        newcomers = [r for r in refs if r not in alive]
        if newcomers and (not alive or rng.random() < 0.3):
            ref = rng.choice(newcomers)
            first.append(f.subject_registered(ref, occurred_at="2023-12-01T09:00:00+02:00"))
            first += [x for _ in range(rng.randint(0, 3)) for x in some(rng, ref)]
        groups: list[list[dict[str, Any]]] = []
        for ref in rng.sample(sorted(alive), min(len(alive), rng.randint(1, 3))):
            groups += [some(rng, ref) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.05:
            groups.append([f.recipient_registered(f"mailer-{call}")])  # takes the full read
        rng.shuffle(groups)
        try:
            f.append(ledger, *first, *(x for group in groups for x in group))
        except BatchRejected:
            refused += 1  # a refused call leaves the cache as it was: checked all the same
        else:
            written += 1
            alive |= {x["subject"] for x in first[:1]}
        checked += folded_as_stored(ledger, refs)
    # The calls wrote every kind of history the fold keeps, and most were checked.
    assert written > CALLS // 2, (written, refused)
    assert erasures > 3
    assert checked > 3 * CALLS
    known = [ledger._histories.known(r) for r in refs]
    kept = [k.history for k in known if k is not None and k.history is not None]
    assert any(h.recorded for h in kept)
    assert any(h.erasures for h in kept)
    assert any(h.restrictions for h in kept)
    assert any(any(x.expires_at for x in h.facts) for h in kept)
    assert any(h.last_recorded for h in kept)
    assert {u.type for h in kept for u in h.uses} >= {"DataProcessed", "ProfileDerived"}
