"""The access package in a real browser: Debian's Chromium over the console, on each store.

A DPO opens a customer's package (``/ui/subjects/REF/export``) in English and in
Finnish: the sections a customer needs are there, no raw id of the register, ISO
duration or microsecond time is in the visible text, and the print layout hides the
navigation and keeps headings with what follows. Screenshots go to
``docs/screenshots/access-package-{en,fi}.png`` (shown in the README, not compared).
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlencode

from tests.console import test_browser as chromium
from tests.console.test_browser import WHY, Served, heading, shoot, sign_in, wait_for_heading
from tests.rights import test_access_package as package
from tests.rights.test_access_package import CREDIT_LOGIC, NAME, register_ids
from tests.service.conftest import Tokens

try:
    from selenium.webdriver.common.by import By
except ImportError:  # pragma: no cover - the browser fixture skips (or fails) first
    By = None  # type: ignore[assignment,misc]

browser = chromium.browser
served = chromium.served
customer = package.customer
"""Fixtures reused by name: Chromium, the served console, the customer of the package tests."""

SECTIONS = (
    "data", "sources", "purposes", "consents", "recipients", "transfers", "processing",
    "retention", "automated", "controllers", "rights",
)  # fmt: skip


def open_package(driver: Any, server: Served, ref: str, lang: str) -> None:
    query = urlencode({"purpose": WHY, "lang": lang})
    driver.get(f"{server.url}/ui/subjects/{ref}/export?{query}")


def raw_shown(driver: Any) -> list[str]:
    """Register ids, ISO durations and RFC 3339 instants in what the browser shows."""
    text = driver.find_element(By.TAG_NAME, "body").text
    ids = register_ids()
    joined = sorted(
        i for kind in ("purposes", "categories", "fields", "sources", "recipients", "bases")
        for i in ids[kind] if re.search(r"[_\-]", i)
    )  # fmt: skip
    found = [i for i in joined if re.search(rf"(?<![\w\-]){re.escape(i)}(?![\w\-])", text)]
    found += [p for p in sorted(ids["periods"]) if re.search(rf"\b{p}\b", text)]
    found += re.findall(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?", text)
    bare = set().union(*ids.values())
    shown_cells = driver.find_elements(By.CSS_SELECTOR, "td, li, dd")
    found += [c.text.strip() for c in shown_cells if c.text.strip() in bare]
    return found


def section_headings(driver: Any) -> dict[str, str]:
    return {
        s.get_attribute("id"): s.find_element(By.TAG_NAME, "h2").text
        for s in driver.find_elements(By.CSS_SELECTOR, "main > section")
    }


def test_a_customer_reads_their_access_package_in_english_with_no_raw_ids(
    browser: Any,
    tokens: Tokens,
    customer: str,
    served: Served,
) -> None:
    sign_in(browser, served.url, tokens.dpo)
    wait_for_heading(browser, "Find a subject")
    open_package(browser, served, customer, "en")
    assert heading(browser) == f"Personal data held about {NAME}"
    found = section_headings(browser)
    assert tuple(found) == SECTIONS
    assert found["sources"] == "Where your data came from"
    assert found["transfers"] == "Transfers outside the EU/EEA"
    assert found["automated"] == "Automated decision-making"
    assert raw_shown(browser) == []
    transfers = browser.find_element(By.ID, "transfers").text
    assert "Web analytics service provider" in transfers
    assert "Standard contractual clauses adopted by the European Commission" in transfers
    automated = browser.find_element(By.ID, "automated").text
    assert CREDIT_LOGIC.explanation["en"] in automated
    assert "1 September 2023, 12:30" in automated  # 09:30 UTC, Helsinki summer time
    retention = browser.find_element(By.ID, "retention").text
    assert "10 years from the end of the year in which your contract ends" in retention
    shoot(browser, "access-package-en")


def test_the_finnish_package_reads_in_finnish_with_no_raw_ids(
    browser: Any,
    tokens: Tokens,
    customer: str,
    served: Served,
) -> None:
    sign_in(browser, served.url, tokens.dpo)
    wait_for_heading(browser, "Find a subject")
    open_package(browser, served, customer, "fi")
    assert heading(browser) == f"Sinusta tallennetut henkilötiedot \N{EN DASH} {NAME}"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fi"
    found = section_headings(browser)
    assert tuple(found) == SECTIONS
    assert (found["sources"], found["rights"]) == ("Mistä tietosi on saatu", "Oikeutesi")
    assert raw_shown(browser) == []
    data = browser.find_element(By.ID, "data").text
    assert "Henkilötunnus" in data
    assert "1.7.2021 klo 12.00" in data
    assert "13 kuukautta tietojen tallentamisesta" in browser.find_element(By.ID, "retention").text
    shoot(browser, "access-package-fi")


def test_the_package_prints_without_navigation_and_keeps_headings_with_their_content(
    browser: Any,
    tokens: Tokens,
    customer: str,
    served: Served,
) -> None:
    sign_in(browser, served.url, tokens.dpo)
    wait_for_heading(browser, "Find a subject")
    open_package(browser, served, customer, "en")
    contents = browser.find_element(By.CSS_SELECTOR, "nav.contents")
    assert contents.is_displayed()
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not contents.is_displayed()
        style = browser.execute_script(
            "const h = getComputedStyle(document.querySelector('section h2'));"
            "const t = getComputedStyle(document.querySelector('thead'));"
            "return [h.breakAfter, t.display];"
        )
        assert style == ["avoid", "table-header-group"]
        pdf = base64.b64decode(browser.print_page())
        assert pdf.startswith(b"%PDF")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert contents.is_displayed()
