"""Finnish identifiers: personal identity codes (henkilötunnus) and business IDs.

Pure functions, no I/O. Neither function ever echoes the value it checked: a
personal identity code must not reach an error message or a log (Data Protection
Act 1050/2018 §29).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

_PIC_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_CENTURY = {
    "+": 1800,
    "-": 1900, "Y": 1900, "X": 1900, "W": 1900, "V": 1900, "U": 1900,
    "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000,
}  # fmt: skip
_PIC_RE = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})([+\-YXWVUABCDEF])([0-9]{3})([0-9A-Y])")
_BUSINESS_ID_RE = re.compile(r"([0-9]{7})-([0-9])")
"""Both are used with ``fullmatch`` only: ASCII digits, nothing before or after (a
pattern ending in ``$`` would also match before a final newline, and ``\\d`` would
match any Unicode digit, which ``int`` then reads)."""
_BUSINESS_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def check_character(birth_ddmmyy: str, individual: str) -> str:
    """The check character of a personal identity code (the century sign is not in it)."""
    return _PIC_CHECK[int(birth_ddmmyy + individual) % 31]


def business_id_check_digit(digits: str) -> int | None:
    """The check digit for seven business ID digits; None when no valid ID has them."""
    weighted = sum(int(d) * w for d, w in zip(digits, _BUSINESS_ID_WEIGHTS, strict=True))
    remainder = weighted % 11
    if remainder == 1:
        return None
    return 0 if remainder == 0 else 11 - remainder


def personal_identity_code_problem(code: str) -> str | None:
    """Return why ``code`` is not a valid personal identity code, or None if it is.

    Checks the shape, the century sign (including the signs in force since
    1.1.2023), that the birth date exists, the individual number range 002-999
    and the check character. Temporary codes (900-999) are accepted: they are
    valid codes even though they are not in the population register.
    """
    match = _PIC_RE.fullmatch(code)
    if match is None:
        return "must have the form DDMMYYCNNNQ with a valid century sign"
    day, month, year, sign, individual, check = match.groups()
    try:
        date(_CENTURY[sign] + int(year), int(month), int(day))
    except ValueError:
        return "the birth date it encodes does not exist"
    if int(individual) < 2:  # noqa: PLR2004 - 000 and 001 are never issued
        return "the individual number must be 002-999"
    if check != check_character(day + month + year, individual):
        return "the check character does not match"
    return None


def birth_date(code: str) -> date:
    """Return the birth date encoded in a valid personal identity code."""
    match = _PIC_RE.fullmatch(code)
    if match is None:
        msg = "not a personal identity code"
        raise ValueError(msg)
    day, month, year, sign, _, _ = match.groups()
    return date(_CENTURY[sign] + int(year), int(month), int(day))


def business_id_shaped(value: str) -> bool:
    """Whether a string has a business ID's shape (``NNNNNNN-N``), check digit aside."""
    return _BUSINESS_ID_RE.fullmatch(value) is not None


@lru_cache(maxsize=1024)
def business_id_problem(business_id: str) -> str | None:
    """Return why ``business_id`` is not a valid Finnish business ID, or None.

    The check digit is ``11 - (sum of digit x weight) mod 11``, 0 when the
    remainder is 0; a remainder of 1 means no valid business ID has those digits.
    Remembered for the last 1024 values: a register names few controllers, and
    every line names one of them (business IDs are no personal data).
    """
    match = _BUSINESS_ID_RE.fullmatch(business_id)
    if match is None:
        return "must have the form NNNNNNN-C"
    digits, check = match.groups()
    expected = business_id_check_digit(digits)
    if expected is None:
        return "no valid business ID has these digits (remainder 1)"
    if int(check) != expected:
        return "the check digit does not match"
    return None
