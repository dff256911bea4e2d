"""Consent receipts (ISO/IEC TS 27560, Kantara 1.1): made, signed, verified offline."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import orjson
import pytest

from ledger.cli import run_captured
from ledger.integrity.checkpoint import parse_verifier_key
from ledger.standards.receipt_keys import load_or_create, public_key_text
from ledger.standards.signing import sign
from tests import factories as f
from tests.conftest import EXAMPLE_REGISTER

SCHEMAS = Path(__file__).parents[2] / "schemas" / "json"
SCHEMA_FILES = {
    "iso27560": "consent-record27560.schema.json",
    "kantara": "kantara-receipt.schema.json",
}
GRANTED = "2023-05-04T10:00:00+03:00"
LATER = "2023-06-01T00:00:00Z"


@pytest.fixture
def master_key(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "l.master.key"


@pytest.fixture
def store(store_url: str, master_key: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store made by ``ledger init``; C-1 consented to marketing and holds a name."""
    monkeypatch.setenv("LEDGER_MASTER_KEY_FILE", str(master_key))
    monkeypatch.delenv("LEDGER_RECEIPT_KEY_FILE", raising=False)
    code, _, err = run_captured(["init", "--store", store_url, "--register", str(EXAMPLE_REGISTER)])
    assert (code, err) == (0, "")
    _append(
        store_url, f.subject_registered("C-1"), f.personal_data("C-1"), f.consent_granted("C-1")
    )
    return store_url


def _append(store: str, *lines: dict[str, Any]) -> None:
    code, _, err = run_captured(["append", "--store", store], b"".join(
        orjson.dumps(x) + b"\n" for x in lines
    ))  # fmt: skip
    assert (code, err) == (0, "")


def _receipt(store: str, form: str = "iso27560", at: str = LATER) -> dict[str, Any]:
    code, out, err = run_captured(["receipt", "C-1", "marketing", "--store", store,
                                   "--at", at, "--format", form])  # fmt: skip
    assert (code, err) == (0, "")
    receipt: dict[str, Any] = orjson.loads(out)
    return receipt


def _public_key(store: str) -> str:
    code, out, _ = run_captured(["receipt-key", "--store", store])
    assert code == 0
    return out.strip()


def _verify(tmp_path: Path, receipt: dict[str, Any], key: str) -> tuple[int, dict[str, Any], str]:
    path = tmp_path / "receipt.json"
    path.write_bytes(orjson.dumps(receipt))
    code, out, err = run_captured(["verify-receipt", str(path), "--public-key", key])
    return code, orjson.loads(out), err


@pytest.mark.parametrize("form", ["iso27560", "kantara"])
def test_a_receipt_validates_against_its_schema_and_verifies_with_only_the_public_key(
    store: str, form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = _receipt(store, form)
    schema = orjson.loads((SCHEMAS / SCHEMA_FILES[form]).read_bytes())
    jsonschema.validate(receipt, schema)
    key = _public_key(store)
    monkeypatch.setenv("LEDGER_STORE", "sqlite:////nonexistent/nowhere.db")  # no store at all
    monkeypatch.setenv("LEDGER_MASTER_KEY_FILE", "/nonexistent/none.master.key")
    code, report, err = _verify(tmp_path, receipt, key)
    assert (code, report, err) == (0, {"ok": True, "problems": []}, "")


def test_an_iso_receipt_carries_the_dpv_terms_notice_and_grant_position(store: str) -> None:
    receipt = _receipt(store)
    assert receipt["schema"] == "https://w3id.org/dpv/schema/dpv-27560#record"
    assert receipt["header"]["pii_principal_id"] == "C-1"
    (purpose,) = receipt["processing"]["purposes"]
    assert purpose["lawful_basis"] == "https://w3id.org/dpv/legal/eu/gdpr#A6-1-a"
    assert purpose["purpose_id"] == "marketing"
    assert purpose["purpose"].startswith("Marketing")
    assert purpose["pii_controllers"] == [f.RETAIL]
    assert receipt["events"][0]["event_state"] == "https://w3id.org/dpv#ConsentGiven"
    assert receipt["events"][0]["event_time"] == "2023-05-04T07:00:00Z"
    evidence = receipt["ledger"]
    assert evidence["notice_version"] == "2021-06-03"
    assert evidence["grant_event"]["log_position"] == 4  # notice, subject, data, grant


def test_a_kantara_receipt_names_its_controllers_purpose_and_public_key(store: str) -> None:
    receipt = _receipt(store, "kantara")
    assert (receipt["version"], receipt["piiPrincipalId"]) == ("KI-CR-v1.1.0", "C-1")
    assert [c["piiControllerId"] for c in receipt["piiControllers"]] == [f.RETAIL]
    assert receipt["collectionMethod"] == "web_form"
    assert receipt["consentTimestamp"] == 1683183600
    assert receipt["publicKey"] == _public_key(store)
    (service,) = receipt["services"]
    assert service["purposes"][0]["purpose"].startswith("Marketing")


@pytest.mark.parametrize(
    ("form", "path", "value"),
    [
        ("iso27560", ("header", "pii_principal_id"), "C-2"),
        ("iso27560", ("ledger", "notice_version"), "2099-01-01"),
        ("kantara", ("piiPrincipalId",), "C-2"),
        ("kantara", ("consentTimestamp",), 1),
    ],
)
def test_a_receipt_with_a_field_changed_fails_on_its_signature_with_exit_5(
    store: str, tmp_path: Path, form: str, path: tuple[str, ...], value: Any
) -> None:
    receipt = _receipt(store, form)
    holder = receipt
    for name in path[:-1]:
        holder = holder[name]
    holder[path[-1]] = value
    code, report, err = _verify(tmp_path, receipt, _public_key(store))
    assert code == 5
    assert report["ok"] is False
    assert [p.split(":")[0] for p in report["problems"]] == ["signature"]
    assert "the receipt does not verify: signature" in err


def test_a_receipt_with_an_altered_proof_fails_even_when_signed_again(
    store: str, tmp_path: Path, master_key: Path
) -> None:
    receipt = _receipt(store)
    proof = receipt["ledger"]["grant_event"]
    proof["audit_path"] = ["00" * 32 for _ in proof["audit_path"]]
    code, report, _ = _verify(tmp_path, receipt, _public_key(store))
    assert code == 5
    assert [p.split(":")[0] for p in report["problems"]] == ["signature", "inclusion proof"]
    key = load_or_create(master_key.with_name("l.receipt.key"))  # the signer itself lying
    code, report, _ = _verify(tmp_path, sign(receipt, key), _public_key(store))
    assert code == 5
    assert report["problems"] == [
        "inclusion proof: the audit path does not lead from the leaf hash to the checkpoint's root"
    ]


def test_a_receipt_checked_with_another_public_key_fails(store: str, tmp_path: Path) -> None:
    receipt = _receipt(store)
    other = public_key_text(load_or_create(tmp_path / "other.receipt.key"))
    code, report, _ = _verify(tmp_path, receipt, other)
    assert code == 5
    assert report["problems"][0].startswith("signature: does not verify")


def test_the_receipt_key_is_its_own_owner_only_file_not_the_checkpoint_key(
    store: str, master_key: Path
) -> None:
    public = _public_key(store)
    receipt_file = master_key.with_name("l.receipt.key")
    signing_file = master_key.with_name("l.signing.key")
    assert receipt_file.exists()
    assert stat.S_IMODE(receipt_file.stat().st_mode) == 0o600
    assert receipt_file.read_bytes() != signing_file.read_bytes()
    _, verifier, _ = run_captured(["public-key", "--store", store])
    _, _, checkpoint_public = parse_verifier_key(verifier.strip())
    assert public != public_key_text(checkpoint_public)
    assert _public_key(store) == public  # made once, then kept


def test_the_receipt_key_file_can_be_named_by_the_environment(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "elsewhere" / "receipts.key"
    monkeypatch.setenv("LEDGER_RECEIPT_KEY_FILE", str(chosen))
    public = _public_key(store)
    assert public == public_key_text(load_or_create(chosen))
    assert _receipt(store)["signature"]["public_key"] == public


def test_no_consent_in_force_exits_4_naming_the_withdrawal(store: str) -> None:
    _append(store, f.consent_withdrawn("C-1", occurred_at="2023-05-10T00:00:00Z"))
    args = ["receipt", "C-1", "marketing", "--store", store, "--at", LATER, "--json"]
    code, out, err = run_captured(args)
    assert (code, out) == (4, "")
    problem = orjson.loads(err)
    assert problem["rule"] == "not_found"
    assert "no consent of subject 'C-1' to purpose 'marketing'" in problem["message"]
    assert "was ended by event #5 ConsentWithdrawn at 2023-05-10T00:00:00Z" in problem["message"]


def test_no_consent_before_the_grant_exits_4(store: str) -> None:
    args = ["receipt", "C-1", "marketing", "--store", store, "--at", "2023-01-01T00:00:00Z"]
    code, out, err = run_captured(args)
    assert (code, out) == (4, "")
    assert err.startswith("ledger: no consent of subject 'C-1' to purpose 'marketing'")


@pytest.mark.parametrize("form", ["iso27560", "kantara"])
def test_a_receipt_never_holds_a_decrypted_personal_value(store: str, form: str) -> None:
    text = orjson.dumps(_receipt(store, form)).decode()
    assert "Aino" not in text
    assert "Virtanen" not in text
    assert "131052-308T" not in text


def test_an_expired_consent_exits_4_saying_it_ran_out(store: str) -> None:
    expiring = f.consent_granted(
        "C-1", data={"expires_at": "2023-05-20T00:00:00Z"}, occurred_at="2023-05-10T00:00:00Z"
    )
    _append(store, f.consent_withdrawn("C-1", occurred_at="2023-05-05T00:00:00Z"), expiring)
    args = ["receipt", "C-1", "marketing", "--store", store, "--at", LATER]
    code, _, err = run_captured(args)
    assert code == 4
    assert "ran out at 2023-05-20T00:00:00Z" in err


def test_a_receipt_key_file_holding_the_checkpoint_key_is_refused(
    store: str, master_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_RECEIPT_KEY_FILE", str(master_key.with_name("l.signing.key")))
    code, out, err = run_captured(["receipt", "C-1", "marketing", "--store", store])
    assert (code, out) == (2, "")
    assert "holds the checkpoint signing key" in err


def test_a_public_key_that_is_not_one_is_a_usage_error(store: str, tmp_path: Path) -> None:
    path = tmp_path / "receipt.json"
    path.write_bytes(orjson.dumps(_receipt(store)))
    code, out, err = run_captured(["verify-receipt", str(path), "--public-key", "not-a-key"])
    assert (code, out) == (2, "")
    assert "must be base64 of 32 bytes" in err


def test_a_receipt_for_a_controller_needs_the_consent_to_hold_for_that_controller(
    store: str,
) -> None:
    base = ["receipt", "C-1", "marketing", "--store", store, "--at", LATER, "--controller"]
    code, out, _ = run_captured([*base, f.RETAIL])
    assert code == 0
    assert orjson.loads(out)["processing"]["purposes"][0]["pii_controllers"] == [f.RETAIL]
    code, _, err = run_captured([*base, f.NETWORK])
    assert code == 4
    assert f"(controller {f.NETWORK}) is in force" in err
