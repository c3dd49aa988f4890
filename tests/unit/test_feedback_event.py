"""The feedback event contract: what each source needs and what it means for training."""
from __future__ import annotations

import uuid

import pytest

from modelops.intake import RejectedEvent, parse
from schemas.feedback import FeedbackEvent

TENANT = str(uuid.uuid4())


def make(source: str, **fields) -> dict:
    return {"tenant_id": TENANT, "agent_type": "classification", "source": source, "input_data": {"description": "x"}, **fields}


@pytest.mark.parametrize("source, fields, was_correct, label", [
    ("user_correction", {"expected_output": "Rent", "actual_output": "Travel"}, False, "Rent"),
    ("user_correction", {"expected_output": "Rent", "actual_output": "Rent"}, True, "Rent"),
    ("manual_override", {"expected_output": "approve", "actual_output": "approve"}, False, "approve"),
    ("accuracy_feedback", {"is_accurate": False}, False, None),
    ("suggestion_approved", {"actual_output": "Software"}, True, "Software"),
    ("classification_confirmed", {"actual_output": "Software", "expected_output": "Software"}, True, "Software"),
    ("verified_mapping", {"expected_output": "6100"}, None, "6100"),
    ("verified_mapping", {"expected_output": "6100", "actual_output": "6200"}, False, "6100"),
    ("satisfaction_rating", {"rating": 5}, None, None),
])
def test_what_each_source_means(source, fields, was_correct, label):
    event = parse(make(source, **fields))
    assert event.was_correct() is was_correct
    assert event.label() == label


@pytest.mark.parametrize("source, named", [
    ("user_correction", "expected_output, actual_output"),
    ("suggestion_approved", "actual_output"),
    ("accuracy_feedback", "is_accurate"),
    ("satisfaction_rating", "rating"),
    ("implicit_signal", "engagement or seconds_to_resolution"),
])
def test_a_source_without_its_fields_is_rejected_naming_them(source, named):
    with pytest.raises(RejectedEvent, match=named):
        parse(make(source))


def test_every_wrong_field_is_named_in_one_reason():
    with pytest.raises(RejectedEvent) as caught:
        parse({"tenant_id": "nope", "agent_type": "robot", "source": "rating", "input_data": [], "colour": "red"})
    for field in ("tenant_id", "agent_type", "source", "input_data", "colour"):
        assert field in str(caught.value)


def test_the_derived_key_depends_on_content_only():
    first = parse(make("satisfaction_rating", rating=4))
    assert first.key() == parse(make("satisfaction_rating", rating=4)).key()
    assert first.key() != parse(make("satisfaction_rating", rating=3)).key()
    assert parse(make("satisfaction_rating", rating=4, idempotency_key="k1")).key() == "k1"


def test_timestamps_with_a_zone_are_stored_as_utc():
    event = parse(make("satisfaction_rating", rating=4, occurred_at="2026-11-02T10:00:00+02:00"))
    assert event.occurred_at.isoformat() == "2026-11-02T08:00:00"


def test_ratings_and_behaviour_are_kept_as_the_signal():
    assert parse(make("implicit_signal", engagement="edited")).signal() == {"engagement": "edited"}
    assert FeedbackEvent.model_validate(make("user_correction", expected_output=1, actual_output=2)).signal() is None
