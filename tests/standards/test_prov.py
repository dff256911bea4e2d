"""``ledger lineage SUBJECT --format prov`` on each store, read back by the ``prov`` library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from prov.model import (
    ProvActivity,
    ProvAgent,
    ProvAssociation,
    ProvAttribution,
    ProvDerivation,
    ProvDocument,
    ProvEntity,
    ProvGeneration,
    ProvInvalidation,
    ProvRecord,
    ProvSpecialization,
    ProvUsage,
)

from ledger.cli import run_captured
from tests import factories as f
from tests.cli.conftest import ndjson
from tests.conftest import EXAMPLE_REGISTER

NETWORK = "1993667-7"
VALUES = ("Aino Virtanen", "131052-308T", "Aino Korhonen", "ck-991", "vs.fi", "10.1.2.3",
          "evening-user", "K-1")  # fmt: skip
"""Every value the history below records: none may appear in the PROV document."""


@pytest.fixture
def store(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """C-1's history: data from three sources, a profile, a disclosure, a processing."""
    monkeypatch.setenv("LEDGER_MASTER_KEY_FILE", str(tmp_path / "keys" / "l.master.key"))
    code, _, err = run_captured(["init", "--store", store_url, "--register", str(EXAMPLE_REGISTER)])
    assert (code, err) == (0, "")
    lines = ndjson(
        f.subject_registered("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.contract_started("C-1", occurred_at="2021-07-01T00:00:00Z"),
        f.personal_data("C-1", {"cookie_id": "ck-991", "website": "vs.fi"}, category="cookies",
                        source="cookies", occurred_at="2021-08-01T00:00:00Z"),
        f.personal_data("C-1", {"ip_address": "10.1.2.3"}, category="web_logs",
                        source="web_services", occurred_at="2021-08-01T00:00:00Z"),
        f.consent_granted("C-1", purpose="profiling", occurred_at="2021-08-02T00:00:00Z"),
        f.profile_derived("C-1", occurred_at="2021-09-01T00:00:00Z"),
        f.disclosed("C-1", occurred_at="2021-10-01T00:00:00Z"),
        f.processed("C-1", purpose="billing", categories=["customer_basic"],
                    activity="invoice_run", controller=NETWORK,
                    occurred_at="2021-11-01T00:00:00Z"),
        f.personal_data("C-1", {"name": "Aino Korhonen"}, source="web_forms",
                        occurred_at="2022-07-01T00:00:00Z"),
        f.erased_fields("C-1", occurred_at="2023-01-01T00:00:00Z"),
        f.processed("C-1", purpose="billing", activity="reminder_run", controller=NETWORK,
                    occurred_at="2023-02-01T00:00:00Z"),
    )  # fmt: skip
    code, _, err = run_captured(["append", "--store", store_url], lines)
    assert (code, err) == (0, "")
    return store_url


def _lineage(store: str, *options: str) -> dict[str, Any]:
    """The JSON lineage answer: where the positions of the events come from."""
    code, out, err = run_captured(["lineage", "C-1", "--json", "--store", store, *options])
    assert (code, err) == (0, "")
    answer: dict[str, Any] = orjson.loads(out)
    return answer


def _prov(store: str, *options: str) -> tuple[str, ProvDocument]:
    argv = ["lineage", "C-1", "--format", "prov", "--store", store, *options]
    code, out, err = run_captured(argv)
    assert (code, err) == (0, "")
    return out, ProvDocument.deserialize(content=out, format="json")


def _ids(doc: ProvDocument, kind: type[ProvRecord]) -> set[str]:
    return {str(r.identifier) for r in doc.get_records(kind)}


def _pairs(doc: ProvDocument, kind: type[ProvRecord]) -> set[tuple[str, str]]:
    """A relation's first two formal attributes (e.g. entity, activity) as names."""
    return {(str(r.args[0]), str(r.args[1])) for r in doc.get_records(kind)}


def _datum(answer: dict[str, Any], category: str, field: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        d for d in answer["data"] if (d["category"], d["field"]) == (category, field)
    )
    return found


def test_lineage_as_prov_holds_entities_activities_and_agents(store: str) -> None:
    answer = _lineage(store)
    name = _datum(answer, "customer_basic", "name")
    first, second, erased = (c["position"] for c in name["changes"])
    _, doc = _prov(store)
    base = "ledger:subject/C-1"
    assert {f"{base}/customer_basic/name", f"{base}/customer_basic/name/{first}",
            f"{base}/customer_basic/name/{second}", f"{base}/profiles/segment",
            f"{base}/web_logs/ip_address"} <= _ids(doc, ProvEntity)  # fmt: skip
    assert {"ledger:source/data_subject", "ledger:source/web_forms", "ledger:source/cookies",
            "ledger:source/web_services", "ledger:recipient/print-house",
            "ledger:controller/0209628-8", f"ledger:controller/{NETWORK}"} == _ids(
        doc, ProvAgent
    )  # fmt: skip
    kinds = {
        str(a.identifier): {str(t) for t in a.get_asserted_types()}
        for a in doc.get_records(ProvActivity)
    }
    assert kinds[f"ledger:event/{first}"] == {"ledger:recording"}
    assert kinds[f"ledger:event/{erased}"] == {"ledger:erasing"}
    assert {k for types in kinds.values() for k in types} == {
        "ledger:recording", "ledger:deriving", "ledger:disclosing", "ledger:processing",
        "ledger:erasing",
    }  # fmt: skip
    entity = next(e for e in doc.get_records(ProvEntity) if str(e.identifier).endswith("/name"))
    assert {str(t) for t in entity.get_asserted_types()} == {"dpv:PersonalData"}
    assert {n.prefix: n.uri for n in doc.namespaces} == {
        "ledger": "urn:ledger:", "dpv": "https://w3id.org/dpv#",
    }  # fmt: skip


def test_each_value_is_generated_by_its_event_and_attributed_to_its_source(store: str) -> None:
    answer = _lineage(store)
    changes = _datum(answer, "customer_basic", "name")["changes"]
    first, second, erased = (c["position"] for c in changes)
    _, doc = _prov(store)
    v1, v2 = (f"ledger:subject/C-1/customer_basic/name/{p}" for p in (first, second))
    generated = {(v1, f"ledger:event/{first}"), (v2, f"ledger:event/{second}")}
    assert generated <= _pairs(doc, ProvGeneration)
    assert {(v1, "ledger:source/data_subject"), (v2, "ledger:source/web_forms")} <= _pairs(
        doc, ProvAttribution
    )
    assert (v2, v1) in _pairs(doc, ProvDerivation)
    general = "ledger:subject/C-1/customer_basic/name"
    assert {(v1, general), (v2, general)} <= _pairs(doc, ProvSpecialization)
    assert (v2, f"ledger:event/{erased}") in _pairs(doc, ProvInvalidation)


def test_a_profile_was_derived_from_the_values_current_at_its_derivation(store: str) -> None:
    answer = _lineage(store)
    (derivation,) = _datum(answer, "cookies", "cookie_id")["derived"]
    event = f"ledger:event/{derivation['position']}"
    cookie = _datum(answer, "cookies", "cookie_id")["changes"][0]["position"]
    ip = _datum(answer, "web_logs", "ip_address")["changes"][0]["position"]
    _, doc = _prov(store)
    segment = f"ledger:subject/C-1/profiles/segment/{derivation['position']}"
    used = {f"ledger:subject/C-1/cookies/cookie_id/{cookie}",
            f"ledger:subject/C-1/web_logs/ip_address/{ip}"}  # fmt: skip
    assert {(event, e) for e in used} <= _pairs(doc, ProvUsage)
    assert {(segment, e) for e in used} <= _pairs(doc, ProvDerivation)
    assert (segment, event) in _pairs(doc, ProvGeneration)
    assert (event, "ledger:controller/0209628-8") in _pairs(doc, ProvAssociation)
    assert (event, f"ledger:controller/{NETWORK}") not in _pairs(doc, ProvAssociation)


def test_a_disclosure_and_a_processing_used_the_name_then_current(store: str) -> None:
    answer = _lineage(store)
    name = _datum(answer, "customer_basic", "name")
    first = name["changes"][0]["position"]
    (disclosure,) = name["received_by"]
    processing, _ = name["processed"]
    _, doc = _prov(store)
    value = f"ledger:subject/C-1/customer_basic/name/{first}"
    disclosed, processed = (f"ledger:event/{r['position']}" for r in (disclosure, processing))
    assert {(disclosed, value), (processed, value)} <= _pairs(doc, ProvUsage)
    associations = _pairs(doc, ProvAssociation)
    assert (disclosed, "ledger:recipient/print-house") in associations
    assert (processed, f"ledger:controller/{NETWORK}") in associations
    assert (processed, "ledger:controller/0209628-8") not in associations
    activity = next(a for a in doc.get_records(ProvActivity) if str(a.identifier) == processed)
    assert activity.get_attribute("ledger:purpose") == {"billing"}
    assert activity.get_attribute("ledger:activity") == {"invoice_run"}


def test_a_processing_after_an_erasure_used_the_datum_not_a_value(store: str) -> None:
    answer = _lineage(store)
    _, late = _datum(answer, "customer_basic", "name")["processed"]
    code = _datum(answer, "customer_basic", "personal_identity_code")["changes"][0]["position"]
    _, doc = _prov(store)
    event = f"ledger:event/{late['position']}"
    used = {entity for activity, entity in _pairs(doc, ProvUsage) if activity == event}
    assert used == {
        "ledger:subject/C-1/customer_basic/name",
        f"ledger:subject/C-1/customer_basic/personal_identity_code/{code}",
    }


def test_every_relation_joins_elements_the_document_declares(store: str) -> None:
    out, _ = _prov(store, "--field", "cookie_id")
    document = orjson.loads(out)
    declared = {i for kind in ("entity", "activity", "agent") for i in document[kind]}
    ends = {
        value
        for kind, records in document.items()
        if kind not in ("prefix", "entity", "activity", "agent")
        for record in records.values()
        for name, value in record.items()
        if name not in ("prov:time", "prov:type")
    }
    assert ends
    assert ends <= declared


def test_the_prov_document_holds_no_value(store: str) -> None:
    out, doc = _prov(store)
    assert len(list(doc.get_records())) > 20
    assert [v for v in VALUES if v in out] == []


def test_one_field_s_lineage_names_the_derived_category_it_went_into(store: str) -> None:
    _, doc = _prov(store, "--field", "cookie_id")
    entities = _ids(doc, ProvEntity)
    assert "ledger:subject/C-1/profiles" in entities
    assert not any("/web_logs/" in e or "/profiles/" in e for e in entities)
    derived = {generated for generated, _ in _pairs(doc, ProvDerivation)}
    assert derived == {"ledger:subject/C-1/profiles"}


def test_the_default_format_is_still_the_ledger_s_own_answer(store: str) -> None:
    _, plain, _ = run_captured(["lineage", "C-1", "--json", "--store", store])
    argv = ["lineage", "C-1", "--format", "json", "--json", "--store", store]
    _, explicit, _ = run_captured(argv)
    assert plain == explicit
    assert set(orjson.loads(plain)) == {"subject", "data"}


def test_an_unknown_format_is_a_usage_error(store: str) -> None:
    code, out, err = run_captured(["lineage", "C-1", "--format", "rdf", "--json", "--store", store])
    assert (code, out) == (2, "")
    assert orjson.loads(err)["field"] == "--format"
