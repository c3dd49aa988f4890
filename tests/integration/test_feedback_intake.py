"""Feedback intake through a real worker: every source kind, exactly once, scrubbed, isolated."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from sqlalchemy import text

from modelops import db, tenants
from workers.app import app
from workers.roundtrip import round_trip
from tests.callers import signed

pytestmark = pytest.mark.integration

RECORD = "modelops.feedback.record"
RECORD_BATCH = "modelops.feedback.record_batch"
TXN = {"description": "AWS invoice 7781", "merchant": "Amazon Web Services", "amount": 120.5,
       "currency": "USD", "direction": "debit", "date": "2026-11-02"}

# source → (extra event fields, expected was_correct, expected label)
SOURCES = {
    "user_correction": ({"expected_output": {"category": "Software"}, "actual_output": {"category": "Travel"}}, False, {"category": "Software"}),
    "classification_correction": ({"expected_output": {"category": "Rent"}, "actual_output": {"category": "Utilities"}}, False, {"category": "Rent"}),
    "manual_override": ({"expected_output": {"decision": "approve"}, "actual_output": {"decision": "review"}}, False, {"decision": "approve"}),
    "accuracy_feedback": ({"is_accurate": True, "actual_output": {"category": "Software"}}, True, None),
    "suggestion_approved": ({"actual_output": {"category": "Software"}}, True, {"category": "Software"}),
    "manual_match": ({"expected_output": {"category": "Software"}, "actual_output": {"category": "Software"}}, True, {"category": "Software"}),
    "verified_mapping": ({"expected_output": {"account": "6100"}, "actual_output": {"account": "6100"}}, True, {"account": "6100"}),
    "auto_match_confirmed": ({"actual_output": {"match": True, "ledger_id": "L-1"}}, True, {"match": True, "ledger_id": "L-1"}),
    "pattern_confirmed": ({"actual_output": {"pattern": "monthly"}}, True, {"pattern": "monthly"}),
    "journal_entry_validated": ({"actual_output": {"debit": "6100", "credit": "2000"}}, True, {"debit": "6100", "credit": "2000"}),
    "classification_confirmed": ({"actual_output": {"category": "Software"}}, True, {"category": "Software"}),
    "satisfaction_rating": ({"rating": 2, "user_feedback": "not helpful"}, None, None),
    "implicit_signal": ({"engagement": "ignored", "seconds_to_resolution": 340.0}, None, None),
}


@pytest.fixture(scope="module")
def tenant_pair(database):
    a = tenants.create_tenant("intake-a", country="DE", region="EU")
    b = tenants.create_tenant("intake-b", country="US", region="NA")
    tenants.add_member(a, "svc-a")
    tenants.add_member(b, "svc-b")
    return a, b


def event(tenant, source="suggestion_approved", **fields):
    extra, _, _ = SOURCES[source]
    return {"tenant_id": str(tenant), "agent_type": "classification", "source": source, "input_data": dict(TXN),
            "idempotency_key": f"{source}-{uuid.uuid4()}", **extra, **fields}


def wait_for_row(tenant, key, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.tenant_scope(tenant) as connection:
            row = connection.execute(text("SELECT * FROM ai.training_data WHERE idempotency_key = :k"), {"k": key}).mappings().first()
        if row:
            return row
        time.sleep(0.1)
    raise AssertionError(f"no training_data row for {key} within {timeout}s")


def rows_for(tenant, key) -> int:
    with db.operator_scope() as connection:
        return connection.execute(
            text("SELECT count(*) FROM ai.training_data WHERE tenant_id = :t AND idempotency_key = :k"), {"t": tenant, "k": key}
        ).scalar_one()


@pytest.mark.both_brokers
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_source_kind_lands_as_a_training_row(worker, tenant_pair, source):
    a, _ = tenant_pair
    sent = event(a, source, confidence_score=0.83)
    result = app.send_task(RECORD, kwargs=signed(RECORD, "svc-a", event=sent)).get(timeout=20)
    assert result == {"status": "accepted", "idempotency_key": sent["idempotency_key"]}
    row = wait_for_row(a, sent["idempotency_key"])
    _, was_correct, label = SOURCES[source]
    assert row["source"] == source and row["agent_type"] == "classification"
    assert row["was_correct"] is was_correct
    assert row["expected_output"] == label
    assert row["actual_output"] == sent.get("actual_output")
    assert float(row["confidence_score"]) == 0.83
    assert row["feedback_timestamp"] is not None
    if source == "satisfaction_rating":
        assert row["signal"] == {"rating": 2} and row["user_feedback"] == "not helpful"
    if source == "implicit_signal":
        assert row["signal"] == {"engagement": "ignored", "seconds_to_resolution": 340.0}


def test_a_correction_updates_the_prediction_it_answers(worker, tenant_pair, owner):
    a, _ = tenant_pair
    version, prediction = uuid.uuid4(), uuid.uuid4()
    with owner.begin() as connection:
        connection.execute(text("""INSERT INTO ai.model_versions (id, agent_type, version, trained_on, tenant_id)
                                   VALUES (:v, 'classification', 'v1.0', now(), :t)"""), {"v": version, "t": a})
        connection.execute(text("""INSERT INTO ai.prediction_log (id, model_version_id, agent_type, tenant_id, input_data, predicted_output)
                                   VALUES (:p, :v, 'classification', :t, :input, :out)"""),
                           {"p": prediction, "v": version, "t": a, "input": json.dumps(TXN), "out": json.dumps({"category": "Travel"})})
    sent = event(a, "user_correction", prediction_id=str(prediction), user_feedback="this is our cloud bill")
    app.send_task(RECORD, kwargs=signed(RECORD, "svc-a", event=sent)).get(timeout=20)
    wait_for_row(a, sent["idempotency_key"])
    with db.tenant_scope(a) as connection:
        logged = connection.execute(text("SELECT * FROM ai.prediction_log WHERE id = :p"), {"p": prediction}).mappings().one()
    assert logged["actual_output"] == {"category": "Software"}
    assert logged["was_correct"] is False and logged["user_override"] is True
    assert logged["override_reason"] == "this is our cloud bill"
    assert logged["feedback_at"] is not None


@pytest.mark.both_brokers
def test_a_second_delivery_changes_nothing(worker, tenant_pair):
    a, _ = tenant_pair
    sent = event(a)
    first = [app.send_task(RECORD, kwargs=signed(RECORD, "svc-a", event=sent)) for _ in range(3)]
    assert {r.get(timeout=20)["status"] for r in first} <= {"accepted", "duplicate"}
    wait_for_row(a, sent["idempotency_key"])
    again = app.send_task(RECORD, kwargs=signed(RECORD, "svc-a", event=sent)).get(timeout=20)
    assert again["status"] == "duplicate"
    time.sleep(0.5)  # any stray store task has run by now
    assert rows_for(a, sent["idempotency_key"]) == 1


def test_an_event_without_a_key_gets_one_from_its_content(worker, tenant_pair):
    a, _ = tenant_pair
    sent = event(a, user_feedback=f"unique {uuid.uuid4()}")
    del sent["idempotency_key"]
    first = app.send_task(RECORD, kwargs=signed(RECORD, "svc-a", event=sent)).get(timeout=20)
    assert first["idempotency_key"].startswith("sha256:")
    wait_for_row(a, first["idempotency_key"])
    assert app.send_task(RECORD, kwargs=signed(RECORD, "svc-a", event=sent)).get(timeout=20)["status"] == "duplicate"


def test_a_cross_tenant_attempt_is_refused_and_audited(worker, tenant_pair):
    a, b = tenant_pair
    sent = event(b)
    result = app.send_task(RECORD, kwargs=signed(RECORD, "svc-a", event=sent)).get(timeout=20)
    assert result["status"] == "refused" and "svc-a" in result["reason"]
    with db.operator_scope() as connection:
        audited = connection.execute(text(
            "SELECT count(*) FROM ai.access_audit WHERE principal = 'svc-a' AND tenant_id = :b AND NOT allowed"), {"b": b}).scalar_one()
    assert audited >= 1
    assert rows_for(b, sent["idempotency_key"]) == 0


MALFORMED = [
    ({"agent_type": "chat", "source": "implicit_signal", "input_data": {}, "engagement": "accepted"}, "tenant_id"),
    ({"tenant_id": "TENANT", "agent_type": "robot", "source": "suggestion_approved", "input_data": {}}, "agent_type"),
    ({"tenant_id": "TENANT", "agent_type": "chat", "source": "suggestion_approved", "input_data": "hello", "actual_output": 1}, "input_data"),
    ({"tenant_id": "TENANT", "agent_type": "chat", "source": "satisfaction_rating", "input_data": {}, "rating": "five"}, "rating"),
    ({"tenant_id": "TENANT", "agent_type": "chat", "source": "user_correction", "input_data": {}}, "expected_output"),
    ({"tenant_id": "TENANT", "agent_type": "chat", "source": "implicit_signal", "input_data": {"t": "x" * 70_000}, "engagement": "accepted"}, "bytes"),
    ({"tenant_id": "TENANT", "agent_type": "chat", "source": "implicit_signal", "input_data": {"t": "\udc80"}, "engagement": "accepted"}, "UTF-8"),
    ("not an object", "JSON object"),
]


@pytest.mark.parametrize("raw, named", MALFORMED)
def test_a_malformed_event_is_rejected_with_its_reason_and_leaves_no_row(worker, tenant_pair, raw, named):
    a, _ = tenant_pair
    if isinstance(raw, dict):
        raw = json.loads(json.dumps(raw).replace("TENANT", str(a)))
        raw["idempotency_key"] = key = f"bad-{uuid.uuid4()}"
    else:
        key = None
    result = app.send_task(RECORD, kwargs=signed(RECORD, "svc-a", event=raw)).get(timeout=20)
    assert result["status"] == "rejected" and named in result["reason"]
    if key:
        with db.operator_scope() as connection:
            recorded = connection.execute(text("SELECT reason FROM ai.rejected_events WHERE idempotency_key = :k"), {"k": key}).scalar_one()
        assert named in recorded
        assert rows_for(a, key) == 0
    assert len(round_trip(("ingest",), timeout=10)) == 1  # the worker is still there


@pytest.mark.both_brokers
def test_a_batch_with_bad_events_stores_the_good_ones(worker, tenant_pair):
    a, _ = tenant_pair
    good = [event(a) for _ in range(5)]
    bad = {"tenant_id": str(a), "agent_type": "chat", "source": "nope", "input_data": {}}
    result = app.send_task(RECORD_BATCH, kwargs=signed(RECORD_BATCH, "svc-a", events=[good[0], bad, *good[1:], good[0]])).get(timeout=20)
    assert result["counts"] == {"accepted": 5, "rejected": 1, "duplicate": 1}
    assert [r["status"] for r in result["results"]][:2] == ["accepted", "rejected"]
    for sent in good:
        wait_for_row(a, sent["idempotency_key"])


def test_a_batch_over_the_cap_is_rejected_whole_and_nothing_of_it_is_stored(worker, tenant_pair):
    from schemas.feedback import MAX_BATCH_EVENTS

    a, _ = tenant_pair
    events = [{"tenant_id": str(a), "agent_type": "chat", "source": "implicit_signal", "input_data": {"message": "hi"},
               "engagement": "accepted", "idempotency_key": f"over-cap-{i}"} for i in range(MAX_BATCH_EVENTS + 1)]
    result = app.send_task(RECORD_BATCH, kwargs=signed(RECORD_BATCH, "svc-a", events=events)).get(timeout=60)
    assert result["counts"] == {"rejected": 1}
    assert result["results"][0]["reason"].startswith(f"events: at most {MAX_BATCH_EVENTS} events per batch")
    assert rows_for(a, "over-cap-0") == 0


def test_personal_data_is_scrubbed_before_it_is_stored(worker, tenant_pair):
    a, _ = tenant_pair
    sent = event(a, user_feedback="call me at jane.doe@example.com", input_data={**TXN, "memo": "refund to jane.doe@example.com"})
    app.send_task(RECORD, kwargs=signed(RECORD, "svc-a", event=sent)).get(timeout=20)
    row = wait_for_row(a, sent["idempotency_key"])
    assert "jane.doe@example.com" not in json.dumps(dict(row), default=str)
    assert "[EMAIL]" in row["input_data"]["memo"] and "[EMAIL]" in row["user_feedback"]
    assert row["scrub_hits"].get("EMAIL", 0) + row["scrub_hits"].get("[EMAIL]", 0) == 2


@pytest.mark.both_brokers
def test_a_client_that_imports_nothing_of_ours_and_names_no_queue_is_served(worker, tenant_pair, broker):
    from celery import Celery

    from modelops.config import settings

    a, _ = tenant_pair
    plain = Celery(broker=settings().broker_url, backend=settings().redis_url)
    sent = event(a)
    try:
        result = plain.send_task(RECORD, kwargs=signed(RECORD, "svc-a", event=sent)).get(timeout=60)
    finally:
        plain.close()
    assert result["status"] == "accepted"
    wait_for_row(a, sent["idempotency_key"])
