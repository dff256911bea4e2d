"""The access package a customer can read (issue 15), on both stores.

Labels instead of ids, durations in words, times to the minute in the register's
zone, sections on sources, transfers and automated decisions with their logic, in
English and Finnish; the JSON export holds the same with DPV terms beside the ids.
"""

from __future__ import annotations

import html
import re
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from fastapi.testclient import TestClient

from ledger.bootstrap import Core
from ledger.cli import run_captured
from projections.export.build import build_export
from projections.export.html import render_html
from schemas.register import AutomatedDecisions, Logic
from tests import factories as f
from tests.service import conftest as service
from tests.service.conftest import PURPOSE, Tokens, bearer

client = service.client
settings = service.settings
tokens = service.tokens
"""The service's fixtures, reused by name."""

REGISTER_FILE = Path(__file__).parents[2] / "examples" / "register.toml"
NAME = "Aino Virtanen"
CODE = "131052-308T"
DESCRIBED = "credit-rule-7"
UNDESCRIBED = "manual-score-v2"
SECOND_NOTICE = "2023-08-01"
CREDIT_LOGIC = Logic(
    explanation={
        "en": "A points rule weighs your payment history with us and decides the invoice interval.",
        "fi": "Pisteytyssääntö painottaa maksuhistoriaasi ja päättää laskutusvälin.",
    },
    consequences={
        "en": "A weak payment history can shorten your invoice interval.",
        "fi": "Heikko maksuhistoria voi lyhentää laskutusväliäsi.",
    },
)


def register_ids() -> dict[str, set[str]]:
    """The ids the example register defines, by kind (what the page must not show)."""
    with REGISTER_FILE.open("rb") as handle:
        raw = tomllib.load(handle)
    return {
        "purposes": {p["id"] for p in raw["purposes"]},
        "categories": {c["id"] for c in raw["categories"]},
        "fields": {name for c in raw["categories"] for name in c["fields"]},
        "sources": {s["id"] for s in raw["sources"]},
        "recipients": {r["id"] for r in raw["recipients"]},
        "periods": {r["period"] for r in raw["retention"]},
        "bases": {b for p in raw["purposes"] for b in p["bases"]},
    }


def visible(page: str) -> str:
    """The text a reader sees: no style, no tags, entities decoded."""
    body = re.sub(r"<style>.*?</style>", " ", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "\n", body))


def cells(page: str) -> list[str]:
    """Every table cell's and list item's visible text."""
    found = re.findall(r"<(?:td|li|dd)[^>]*>(.*?)</(?:td|li|dd)>", page, flags=re.DOTALL)
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in found]


def raw_ids_shown(page: str) -> list[str]:
    """Register ids, ISO durations and RFC 3339 instants that a reader would see."""
    text = visible(page)
    ids = register_ids()
    joined = {i for key in ("purposes", "categories", "fields", "sources", "recipients", "bases")
              for i in ids[key] if re.search(r"[_\-]", i)}  # fmt: skip
    shown = [i for i in sorted(joined) if re.search(rf"(?<![\w\-]){re.escape(i)}(?![\w\-])", text)]
    shown += [p for p in sorted(ids["periods"]) if re.search(rf"\b{p}\b", text)]
    shown += re.findall(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?", text)
    bare = set().union(*ids.values())
    shown += [c for c in cells(page) if c in bare]
    return shown


@pytest.fixture
def customer(core: Core) -> str:
    """C-1: data from four sources, a contract, a profiling consent, a derived profile,
    disclosures (one a transfer to the US), a newsletter and two automated decisions;
    a second notice version describes the logic of one of them."""
    first = core.ledger.notices.versions[0].definition
    decisions = AutomatedDecisions(
        exists=True,
        statement="Invoice intervals are set by an automated rule.",
        label={"fi": "Laskutusvälit asettaa automaattinen sääntö."},
        logic={DESCRIBED: CREDIT_LOGIC},
    )
    core.ledger.publish_notice(
        first.model_copy(update={"version": SECOND_NOTICE, "automated_decisions": decisions}),
        "d" * 64, effective_from=datetime(2023, 8, 1, tzinfo=ZoneInfo("Europe/Helsinki")),
    )  # fmt: skip
    f.append(
        core.ledger,
        f.subject_registered("C-1", occurred_at="2021-07-01T09:00:00Z"),
        f.personal_data("C-1", {"name": NAME, "personal_identity_code": CODE},
                        occurred_at="2021-07-01T09:00:00.123456Z"),
        f.personal_data("C-1", {"billing_email": "aino@example.fi"}, category="billing",
                        occurred_at="2021-07-01T09:05:00Z"),
        f.personal_data("C-1", {"cookie_id": "ck-1"}, category="cookies", source="cookies",
                        occurred_at="2022-01-01T10:00:00Z"),
        f.personal_data("C-1", {"ip_address": "192.0.2.1"}, category="web_logs",
                        source="web_services", occurred_at="2022-01-02T10:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-08-01T00:00:00Z"),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2021-09-01T00:00:00Z"),
        f.profile_derived("C-1", occurred_at="2022-02-01T10:00:00Z"),
        f.disclosed("C-1", occurred_at="2021-10-01T00:00:00Z"),
        f.line("DataDisclosed", "C-1", {"recipient": "analytics-us", "categories": ["cookies"],
               "purpose": "profiling", "controller": f.RETAIL}, occurred_at="2022-03-01T00:00:00Z"),
        f.processed("C-1", occurred_at="2022-04-01T09:00:00Z"),
        f.automated_decision("C-1", occurred_at="2023-09-01T09:30:00Z"),
        f.line("AutomatedDecisionMade", "C-1", {"purpose": "billing", "logic": UNDESCRIBED},
               occurred_at="2023-10-01T09:30:00Z"),
    )  # fmt: skip
    return "C-1"


def test_the_json_export_carries_labels_words_sources_and_dpv_terms_beside_the_ids(
    core: Core, customer: str
) -> None:
    doc = build_export(core.views(), customer)
    assert (doc["language"], doc["languages"], doc["time_zone"]) == (
        "en", ["en", "fi"], "Europe/Helsinki",
    )  # fmt: skip
    assert doc["register"]["label"]["fi"] == "Vaasan Sähkö konsernin Asiakasrekisteri"
    billing = next(p for p in doc["purposes"] if p["id"] == "billing")
    assert billing["label"] == {
        "en": "Payments, payment monitoring and debt collection",
        "fi": "Maksaminen, maksujen valvonta ja perintä",
    }
    assert billing["dpv"] == ["https://w3id.org/dpv#PaymentManagement"]
    assert billing["allowed_bases_dpv"] == [
        "https://w3id.org/dpv/legal/eu/gdpr#A6-1-b", "https://w3id.org/dpv/legal/eu/gdpr#A6-1-c",
    ]  # fmt: skip
    basic = doc["data"]["customer_basic"]
    assert basic["fields"]["name"]["value"] == NAME  # the values as before
    assert basic["label"]["fi"] == "Yleiset asiakastiedot"
    assert basic["field_labels"]["personal_identity_code"]["fi"] == "Henkilötunnus"
    assert "https://w3id.org/dpv/pd#Name" in basic["dpv"]
    rule = next(r for r in doc["retention"] if r["category"] == "billing")
    assert (rule["period"], rule["starts"]) == ("P10Y", "contract_ended")  # kept
    assert rule["period_words"] == {
        "en": "10 years from the end of the year in which your contract ends",
        "fi": "10 vuotta sen kalenterivuoden päättymisestä, jona sopimuksesi päättyy",
    }
    cookies = next(r for r in doc["retention"] if r["category"] == "cookies")
    assert cookies["period_words"]["en"] == "13 months after the data was recorded"
    analytics = next(r for r in doc["recipients"] if r["id"] == "analytics-us")
    assert (analytics["outside_eea"], analytics["received_your_data"]) == (True, True)
    assert analytics["transfer_dpv"] == "https://w3id.org/dpv#Transfer"
    assert analytics["safeguard_dpv"] == "https://w3id.org/dpv/legal/eu/gdpr#A46-2-c"
    assert [d["processing_dpv"] for d in doc["disclosures"]] == [
        "https://w3id.org/dpv#Disclose"
    ] * 2
    assert {h["type"]: h["type_dpv"] for h in doc["history"]}["ConsentGranted"] == (
        "https://w3id.org/dpv#ConsentGiven"
    )
    assert orjson.loads(orjson.dumps(doc)) == doc


def test_the_sources_say_which_data_came_from_where_and_when(core: Core, customer: str) -> None:
    doc = build_export(core.views(), customer)
    found = {s["id"]: (s["categories"], s["first_received_at"][:10]) for s in doc["sources"]}
    assert found == {
        "data_subject": (["customer_basic", "billing"], "2021-07-01"),
        "cookies": (["cookies"], "2022-01-01"),
        "web_services": (["web_logs", "profiles"], "2022-01-02"),
    }
    web = next(s for s in doc["sources"] if s["id"] == "web_services")
    assert web["label"]["fi"] == "Verkkopalvelumme ja sosiaalisen median kanavamme"
    assert web["dpv"] == [
        "https://w3id.org/dpv#DataControllerDataSource", "https://w3id.org/dpv#ObservedPersonalData",
    ]  # fmt: skip


def test_each_recorded_decision_carries_the_logic_the_register_states_for_it(
    core: Core, customer: str
) -> None:
    automated = build_export(core.views(), customer)["automated_decisions"]
    assert (automated["exists"], automated["statement"]) == (
        True, "Invoice intervals are set by an automated rule.",
    )  # fmt: skip
    described, undescribed = automated["recorded"]
    assert described["data"]["logic"] == DESCRIBED
    assert described["explanation"] == CREDIT_LOGIC.explanation
    assert described["consequences"] == CREDIT_LOGIC.consequences
    assert undescribed["data"]["logic"] == UNDESCRIBED
    assert "explanation" not in undescribed
    (profiles,) = automated["profiling"]
    assert (profiles["category"], profiles["held"]) == ("profiles", True)
    assert profiles["explanation"]["fi"].startswith("Profiilisi muodostetaan automaattisesti")


def test_the_english_page_reads_without_a_raw_id_duration_or_microsecond_time(
    core: Core, customer: str
) -> None:
    page = render_html(build_export(core.views(), customer))
    assert raw_ids_shown(page) == []
    text = visible(page)
    assert '<html lang="en">' in page
    assert f"<h1>Personal data held about {NAME}</h1>" in page
    for heading in (
        "Your data",
        "Where your data came from",
        "Purposes and legal bases",
        "Recipients and disclosures",
        "Transfers outside the EU/EEA",
        "How long your data is kept",
        "Automated decision-making",
        "Your rights",
    ):
        assert f"<h2>{heading}</h2>" in page  # fmt: skip
    assert "10 years from the end of the year in which your contract ends" in text
    assert "13 months after the data was recorded" in text
    assert "Personal identity code" in text
    assert "Standard contractual clauses adopted by the European Commission" in text
    assert CREDIT_LOGIC.explanation["en"] in text
    assert f"Decided by {UNDESCRIBED}" in text
    assert "Your profile is built automatically" in text
    assert 'data-activity="newsletter_sent">Newsletter sent</td>' in page


def test_times_are_shown_to_the_minute_in_the_registers_time_zone(
    core: Core, customer: str
) -> None:
    doc = build_export(core.views(), customer)
    english, finnish = visible(render_html(doc, "en")), visible(render_html(doc, "fi"))
    # 09:00:00.123456 UTC on 1 July 2021 is 12:00 in Helsinki (summer time)
    assert "1 July 2021, 12:00" in english
    assert "1.7.2021 klo 12.00" in finnish
    assert "Prepared on 1 March 2024, 14:00." in english  # the clock: 12:00 UTC in winter
    assert "Laadittu 1.3.2024 klo 14.00." in finnish
    assert "Times are local time in the time zone Europe/Helsinki." in english


def test_the_finnish_page_uses_the_registers_finnish_labels_and_words(
    core: Core, customer: str
) -> None:
    page = render_html(build_export(core.views(), customer), "fi")
    text = visible(page)
    assert '<html lang="fi">' in page
    assert f"<h1>Sinusta tallennetut henkilötiedot \N{EN DASH} {NAME}</h1>" in page
    expected = (
        "Tietosi", "Mistä tietosi on saatu", "Siirrot EU:n tai ETA:n ulkopuolelle",
        "Kuinka kauan tietojasi säilytetään", "Automaattinen päätöksenteko",
        "Yleiset asiakastiedot", "Henkilötunnus", "Maksaminen, maksujen valvonta ja perintä",
        "10 vuotta sen kalenterivuoden päättymisestä, jona sopimuksesi päättyy",
        "13 kuukautta tietojen tallentamisesta", "Laskutusvälit asettaa automaattinen sääntö.",
        CREDIT_LOGIC.explanation["fi"], "Euroopan komission hyväksymät vakiosopimuslausekkeet",
        "Verkkoanalytiikkapalvelun tarjoaja", "Yhdysvallat",
        "Voit peruuttaa suostumuksesi milloin tahansa",
    )  # fmt: skip
    for words in expected:
        assert words in text, words
    assert raw_ids_shown(page) == []
    assert "Personal identity code" not in text


def test_without_a_held_name_the_title_is_neutral_and_every_value_stays_escaped(
    core: Core,
) -> None:
    hostile = "<script>alert(1)</script>"
    f.append(
        core.ledger,
        f.subject_registered("C-2"),
        f.personal_data("C-2", {"cookie_id": hostile}, category="cookies", source="cookies"),
    )
    page = render_html(build_export(core.views(), "C-2"))
    assert "<h1>Personal data held about you</h1>" in page
    assert hostile not in page
    assert html.escape(hostile) in page
    assert "No automated decision has been made about you." in visible(page)


def test_the_command_line_writes_the_page_in_the_language_asked(
    core: Core, customer: str, store_url: str, tmp_path: Path
) -> None:
    page = tmp_path / "pakkaus.html"
    key = str(core.ledger.key_source.path)
    args = ["export", customer, "--format", "html", "--lang", "fi", "--output", str(page),
            "--store", store_url, "--key-file", key]  # fmt: skip
    code, _, err = run_captured(args)
    assert (code, err) == (0, "")
    assert '<html lang="fi">' in page.read_text(encoding="utf-8")
    code, _, err = run_captured(["export", customer, "--lang", "sv", "--store", store_url])
    assert code == 2
    assert "--lang" in err


def test_the_service_serves_the_page_in_the_language_asked(
    client: TestClient,
    tokens: Tokens,
    customer: str,
) -> None:
    headers = bearer(tokens.dpo) | PURPOSE
    page = client.get(f"/v1/subjects/{customer}/export?format=html&lang=fi", headers=headers)
    assert page.status_code == 200
    assert '<html lang="fi">' in page.text
    assert "Mistä tietosi on saatu" in page.text
    default = client.get(f"/v1/subjects/{customer}/export?format=html", headers=headers)
    assert '<html lang="en">' in default.text  # the register's language
    refused = client.get(f"/v1/subjects/{customer}/export?format=html&lang=sv", headers=headers)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "lang"
    assert NAME not in refused.text
