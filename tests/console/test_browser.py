"""The console in a real browser: Debian's Chromium driven by Selenium over a real server.

A uvicorn server runs the service with the console on a free loopback port (a
thread), on each store. The browser and its driver are Debian's (``chromium``,
``chromium-driver``), never downloaded: the driver's path and the browser's
binary are given, so Selenium Manager is never asked. Without them the tests
skip, unless ``LEDGER_REQUIRE_BROWSER=1`` (CI), which fails. Screenshots of the
main pages go to ``docs/screenshots/`` (not compared).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn

from ledger.bootstrap import Core
from ledger.service.settings import ServiceSettings
from tests.console.conftest import AT, console_app, expected_intervals
from tests.service.conftest import DEMO_VALUES, Tokens

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
WHY = "subject access request (ticket 42)"
T = TypeVar("T")

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service as DriverService
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait
except ImportError:  # pragma: no cover - the dev extra installs it
    webdriver = None  # type: ignore[assignment]


def _missing() -> str | None:
    if webdriver is None:
        return "the browser tests need selenium (the dev extra)"
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return "the browser tests need Debian's chromium and chromium-driver (`make browser`)"
    return None


@dataclass(frozen=True)
class Served:
    """A running server's address, and its lock around the core (the test asks through it)."""

    url: str
    gate: Any

    def ask(self, question: Callable[[Core], T]) -> T:
        """Work with the core while the server runs, under the server's own lock."""
        answer: T = self.gate.use(question)
        return answer


@pytest.fixture
def served(core: Core) -> Iterator[Served]:
    """The service with the console, served by uvicorn on a free loopback port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    app = console_app(core, ServiceSettings(group_wait_ms=5))
    config = uvicorn.Config(
        app, log_level="warning",
        access_log=False, lifespan="on",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield Served(f"http://127.0.0.1:{port}", app.state.service.gate)
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Debian's chromedriver."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("LEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--window-size=1280,1100", f"--user-data-dir={tmp_path / 'profile'}",
    ):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(
        service=DriverService(executable_path=str(CHROMEDRIVER)), options=options
    )
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def heading(driver: Any) -> str:
    """The page's h1 once the navigation under way has settled."""

    def settled(d: Any) -> str | bool:
        try:
            found = d.find_elements(By.TAG_NAME, "h1")
            ready = d.execute_script("return document.readyState") == "complete"
            return found[0].text if found and ready else False
        except StaleElementReferenceException:
            return False

    time.sleep(0.05)
    return str(WebDriverWait(driver, 10).until(settled))


def wait_for_heading(driver: Any, expected: str) -> None:
    """Wait until the page's h1 is ``expected`` (after a click that navigates)."""
    WebDriverWait(driver, 10).until(lambda d: heading(d) == expected)


def sign_in(driver: Any, base_url: str, token: str) -> None:
    driver.get(f"{base_url}/ui/")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()


def shoot(driver: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(800, int(height)), 4000))
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    driver.set_window_size(1280, 1100)


def drawn_intervals(driver: Any) -> list[tuple[str, str, str, str, str]]:
    rects = driver.find_elements(By.CSS_SELECTOR, "svg.timeline rect.interval")
    return sorted(
        tuple(r.get_attribute(f"data-{name}") or "" for name in
              ("purpose", "basis", "controller", "since", "until"))  # type: ignore[misc]
        for r in rects
    )  # fmt: skip


def test_a_dpo_finds_the_subject_and_reads_its_basis_timeline(
    browser: Any, tokens: Tokens, story: str, served: Served
) -> None:
    sign_in(browser, served.url, tokens.dpo)
    wait_for_heading(browser, "Find a subject")
    browser.find_element(By.ID, "ref").send_keys(story)
    browser.find_element(By.ID, "purpose").send_keys(WHY)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_heading(browser, f"Register view of {story}")
    assert DEMO_VALUES[0] in browser.page_source
    shoot(browser, "console-subject")
    browser.find_element(By.LINK_TEXT, "Lawful basis timeline").click()
    wait_for_heading(browser, f"Lawful basis of {story}")
    expected = served.ask(lambda c: expected_intervals(c, story, AT))
    assert drawn_intervals(browser) == expected
    assert "Why not?" in browser.find_element(By.ID, "purpose-marketing").text
    shoot(browser, "console-basis")
    browser.find_element(By.CSS_SELECTOR, "table.events a").click()
    WebDriverWait(browser, 10).until(lambda d: heading(d).startswith("Inclusion proof of event #"))
    (record,) = served.ask(lambda c: c.views().access_log(None, story).records)
    assert record.purpose == WHY


def test_a_dpo_opens_a_findings_events_and_scopes_a_breach(
    browser: Any, tokens: Tokens, story: str, served: Served
) -> None:
    sign_in(browser, served.url, tokens.dpo)
    wait_for_heading(browser, "Find a subject")
    browser.find_element(By.LINK_TEXT, "Findings").click()
    wait_for_heading(browser, "Findings")
    shoot(browser, "console-findings")
    (finding,) = served.ask(lambda c: c.views().findings(None).findings)
    browser.find_element(By.PARTIAL_LINK_TEXT, f"#{finding.position}:").click()
    wait_for_heading(browser, f"Finding #{finding.position}: {finding.rule}")
    shown = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.events a")}
    assert shown == {f"#{e.position}" for e in [finding.event, *finding.evidence]}
    shoot(browser, "console-finding")
    browser.find_element(By.LINK_TEXT, "Disclosures").click()
    wait_for_heading(browser, "Disclosures and breach scoping")
    browser.find_element(By.CSS_SELECTOR, "#recipient option[value='print-house']").click()
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "table.breach tbody tr")
    )
    rows = browser.find_elements(By.CSS_SELECTOR, "table.breach tbody tr")
    shown_rows = [(r.get_attribute("data-subject"), r.get_attribute("data-categories"))
                  for r in rows]  # fmt: skip
    answer = served.ask(lambda c: c.views().disclosures(recipient="print-house", by_subject=True))
    assert shown_rows == [(s.subject, " ".join(s.categories)) for s in answer.subjects or ()]
    shoot(browser, "console-disclosures")
    browser.find_element(By.LINK_TEXT, "Log").click()
    wait_for_heading(browser, "The log's health")
    browser.find_element(By.XPATH, "//button[text()='Verify the log now']").click()
    verdict = WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "verify-result"))
    assert "The log verifies" in verdict[0].text
    shoot(browser, "console-log")


def test_an_auditor_sees_no_decrypted_value_in_the_browser(
    browser: Any, tokens: Tokens, story: str, served: Served
) -> None:
    sign_in(browser, served.url, tokens.auditor)
    wait_for_heading(browser, "Find a subject")
    (finding,) = served.ask(lambda c: c.views().findings(None).findings)
    for page in (
        "/ui/subjects", f"/ui/subjects?ref={story}&purpose=audit", f"/ui/subjects/{story}/basis",
        "/ui/findings", f"/ui/findings/{finding.position}", "/ui/disclosures?recipient=",
        "/ui/log?verify=1", f"/ui/subjects/{story}/export?purpose=audit",
        f"/ui/proof/{finding.event.position}", "/ui/retention",
    ):  # fmt: skip
        browser.get(served.url + page)
        for value in DEMO_VALUES:
            assert value not in browser.page_source, page
    assert served.ask(lambda c: c.views().access_log(None, story).records) == []


def test_a_service_token_is_refused_in_the_browser(
    browser: Any, tokens: Tokens, served: Served
) -> None:
    sign_in(browser, served.url, tokens.service)
    wait_for_heading(browser, "Not for this role")
    assert "service token may not use the console" in browser.page_source
    browser.get(f"{served.url}/ui/findings")
    assert heading(browser) == "Sign in"
