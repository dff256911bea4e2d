from __future__ import annotations

from schemas.events import APPENDABLE_TYPES, EVENT_TYPES
from schemas.export import stale_files


def test_the_committed_json_schemas_match_the_models() -> None:
    assert stale_files() == [], "run `make schemas` and commit schemas/json"


def test_the_catalogue_holds_every_contract_event_type() -> None:
    contract = {
        "SubjectRegistered", "PersonalDataRecorded", "PersonalDataErased", "ContractStarted",
        "ContractEnded", "ConsentGranted", "ConsentWithdrawn", "ObjectionRecorded",
        "ProfileDerived", "DataDisclosed", "RecipientRegistered", "AutomatedDecisionMade",
        "RecipientEnded", "DataProcessed", "ProcessingRestricted", "RestrictionLifted",
        "RecipientNotified",
    }  # fmt: skip
    assert contract == APPENDABLE_TYPES
    assert set(EVENT_TYPES) == contract | {
        "NoticePublished", "SubjectErased", "FindingRecorded",
        "TokenIssued", "TokenRevoked", "PersonalDataAccessed",
    }  # fmt: skip
