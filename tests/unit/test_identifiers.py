from __future__ import annotations

from datetime import date

import pytest

from schemas.identifiers import (
    birth_date,
    business_id_problem,
    personal_identity_code_problem,
)


@pytest.mark.parametrize(
    "code",
    [
        "131052-308T",
        "100190Y999P",
        "100190-999P",
        "010101A123N",
        "010594Y9032",
        "311299-9872",
    ],
)
def test_valid_personal_identity_codes_pass(code: str) -> None:
    assert personal_identity_code_problem(code) is None


def test_every_century_sign_is_accepted_with_the_right_check_character() -> None:
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int("100190" + "123") % 31]
    for sign in "+-YXWVUABCDEF":
        assert personal_identity_code_problem(f"100190{sign}123{check}") is None


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("131052-308U", "check character"),
        ("131052G308T", "form"),
        ("131052-308", "form"),
        ("310252-308T", "date"),
        ("290201A1234", "date"),
        ("131052-001T", "individual number"),
        ("131052_308T", "form"),
        (" 131052-308T", "form"),
    ],
)
def test_invalid_personal_identity_codes_are_refused_with_a_reason(code: str, reason: str) -> None:
    problem = personal_identity_code_problem(code)
    assert problem is not None
    assert reason in problem


def test_a_problem_never_repeats_the_code() -> None:
    problem = personal_identity_code_problem("131052-308U")
    assert problem is not None
    assert "131052" not in problem


def test_the_2023_century_signs_tell_two_people_apart_by_their_birth_century() -> None:
    assert birth_date("100190Y999P") == date(1990, 1, 10)
    assert birth_date("010101A123N") == date(2001, 1, 1)
    assert birth_date("010101+123N") == date(1801, 1, 1)


@pytest.mark.parametrize("business_id", ["0209628-8", "1993667-7", "0737546-2", "1572860-0"])
def test_valid_business_ids_pass(business_id: str) -> None:
    assert business_id_problem(business_id) is None


def test_a_business_id_with_a_wrong_check_digit_is_refused() -> None:
    assert business_id_problem("0209628-7") == "the check digit does not match"


def test_digits_with_remainder_one_have_no_valid_business_id() -> None:
    digits = next(
        f"{n:07d}"
        for n in range(1, 10_000)
        if sum(int(d) * w for d, w in zip(f"{n:07d}", (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        == 1
    )
    for check in range(10):
        problem = business_id_problem(f"{digits}-{check}")
        assert problem == "no valid business ID has these digits (remainder 1)"


@pytest.mark.parametrize("business_id", ["209628-8", "0209628 8", "02096288", "0209628-X"])
def test_malformed_business_ids_are_refused(business_id: str) -> None:
    assert business_id_problem(business_id) == "must have the form NNNNNNN-C"
