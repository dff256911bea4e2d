"""Art. 18 restriction of processing, judged from plain values (no store)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.domain.basis import Evidence, Restriction, restricted_at
from ledger.domain.findings import judge_restriction
from ledger.domain.register import NoticeHistory

RETAIL = "0209628-8"
NETWORK = "1993667-7"
AT = "2023-06-01"


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


Categories = tuple[str, ...] | None


def restricted(
    position: int, when: str, categories: Categories = None, controller: str | None = None
) -> Restriction:
    return Restriction(position, "ProcessingRestricted", t(when), categories, controller)


def lifted(
    position: int, when: str, categories: Categories = None, controller: str | None = None
) -> Restriction:
    return Restriction(position, "RestrictionLifted", t(when), categories, controller)


@pytest.mark.parametrize(
    ("restrictions", "used", "controller", "expected"),
    [
        pytest.param([], ("billing",), None, None, id="nothing-restricted"),
        pytest.param(
            [restricted(3, "2023-05-01")], ("billing",), None, [3], id="all-data-restricted"
        ),
        pytest.param(
            [restricted(3, "2023-05-01", ("billing",))],
            ("customer_basic", "billing"),
            None,
            [3],
            id="one-of-the-used-categories-restricted",
        ),
        pytest.param(
            [restricted(3, "2023-05-01", ("billing",))],
            ("customer_basic",),
            None,
            None,
            id="another-category-restricted",
        ),
        pytest.param(
            [restricted(3, "2023-07-01")], ("billing",), None, None, id="restricted-only-later"
        ),
        pytest.param(
            [restricted(3, "2023-05-01"), lifted(4, "2023-05-20")],
            ("billing",),
            None,
            None,
            id="lifted-before",
        ),
        pytest.param(
            [restricted(3, "2023-05-01"), lifted(4, "2023-06-01")],
            ("billing",),
            None,
            None,
            id="lifted-at-the-same-instant",
        ),
        pytest.param(
            [restricted(3, "2023-05-01"), lifted(4, "2023-06-20")],
            ("billing",),
            None,
            [3],
            id="lifted-only-later",
        ),
        pytest.param(
            [restricted(3, "2023-05-01"), lifted(4, "2023-05-20", ("customer_basic",))],
            ("customer_basic", "billing"),
            None,
            [3],
            id="a-partial-lift-leaves-the-rest-restricted",
        ),
        pytest.param(
            [restricted(3, "2023-05-01"), lifted(4, "2023-05-20", ("customer_basic",))],
            ("customer_basic",),
            None,
            None,
            id="a-partial-lift-frees-its-categories",
        ),
        pytest.param(
            [
                restricted(3, "2023-05-01", ("billing",)),
                lifted(4, "2023-05-20"),
                restricted(5, "2023-05-25", ("billing",)),
            ],
            ("billing",),
            None,
            [5],
            id="restricted-again-after-a-lift",
        ),
        pytest.param(
            [restricted(3, "2023-05-01", controller=NETWORK)],
            ("billing",),
            RETAIL,
            None,
            id="another-controllers-restriction",
        ),
        pytest.param(
            [restricted(3, "2023-05-01", controller=RETAIL)],
            ("billing",),
            RETAIL,
            [3],
            id="the-processing-controllers-restriction",
        ),
        pytest.param(
            [restricted(3, "2023-05-01")],
            None,
            None,
            [3],
            id="an-automated-decision-uses-all-data",
        ),
        pytest.param(
            [restricted(3, "2023-05-01", ("cookies",))],
            None,
            None,
            [3],
            id="an-automated-decision-while-any-category-is-restricted",
        ),
    ],
)
def test_use_of_a_restricted_category_is_a_finding_naming_the_restriction(
    notices: NoticeHistory,
    restrictions: list[Restriction],
    used: tuple[str, ...] | None,
    controller: str | None,
    expected: list[int] | None,
) -> None:
    found = judge_restriction(
        restrictions, used, purpose="billing", at=t(AT), notices=notices, controller=controller
    )

    if expected is None:
        assert found is None
        return
    assert found is not None
    assert found.rule == "processing_while_restricted"
    assert [e.position for e in found.evidence] == expected
    since = {r.position: r.occurred_at.isoformat() for r in restrictions}
    assert all(f"ProcessingRestricted of {since[p]}" in found.message for p in expected)
    assert (found.purpose, found.notice_version) == ("billing", "2021-06-03")


def test_restricted_at_names_each_category_with_the_restriction_that_binds_it() -> None:
    restrictions = [
        restricted(3, "2023-05-01", ("billing",)),
        restricted(5, "2023-05-02"),
        lifted(6, "2023-05-03", ("cookies",)),
    ]

    found = restricted_at(restrictions, ["billing", "cookies", "profiles"], None, t(AT))

    assert found == {
        "billing": Evidence(5, "ProcessingRestricted"),
        "profiles": Evidence(5, "ProcessingRestricted"),
    }
