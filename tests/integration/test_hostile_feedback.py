"""Hostile feedback fails alone, on the real database: in a batch of good events, each deep, huge or
unstorable event is rejected with its reason and recorded in ai.rejected_events, the good ones are
stored, and a batch beyond the cap is refused whole, recorded, without its events being judged."""
from __future__ import annotations

import json
import math
import time
import uuid

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import text

from modelops import intake, tenants
from schemas.feedback import MAX_BATCH_EVENTS, MAX_EVENT_BYTES, MAX_EVENT_DEPTH
from tests.callers import signed
from tests.hostile_payloads import HUGE, WIDE, deep, nest
from workers.app import app

pytestmark = pytest.mark.integration

SERVICE = "hostile-ledger"
RECORD_BATCH = "modelops.feedback.record_batch"


@pytest.fixture(scope="module")
def tenant(database):
    created = tenants.create_tenant(f"hostile-{uuid.uuid4().hex[:6]}")
    tenants.add_member(created, SERVICE)
    return created


def event(tenant=None, **fields) -> dict:
    """A good event (of ``tenant``, or of the one the test gives it when None)."""
    return {"tenant_id": str(tenant) if tenant else None, "agent_type": "classification", "source": "classification_correction",
            "input_data": {"description": "CARD PAYMENT OFFICE DEPOT", "amount": 12.5, "currency": "USD",
                           "direction": "debit", "date": "2031-06-01"},
            "expected_output": {"category": "Office Supplies"}, "actual_output": {"category": "Travel"},
            "idempotency_key": f"hostile-{uuid.uuid4()}", **fields}


def with_memo(value) -> dict:
    good = event()
    return event(input_data={**good["input_data"], "memo": value})


# Events no check may let through (their tenant given by the test), and payloads that are no event at all.
BAD_EVENTS = st.one_of(
    deep(min_depth=MAX_EVENT_DEPTH).map(lambda payload: event(expected_output=payload)),
    deep(min_depth=MAX_EVENT_DEPTH).map(lambda payload: event(input_data={"deep": payload})),
    HUGE.map(lambda payload: event(user_feedback=payload)),
    st.sampled_from([math.nan, math.inf, "a\x00b", "x\ud800y", 2**300]).map(with_memo),
    deep(), WIDE, HUGE,
)


def rejections(owner, task_name: str) -> list[tuple[str, str | None]]:
    with owner.connect() as connection:
        return [tuple(row) for row in connection.execute(
            text("SELECT reason, idempotency_key FROM ai.rejected_events WHERE task_name = :task"),
            {"task": task_name})]


def stored_keys(owner, tenant, keys) -> set[str]:
    with owner.connect() as connection:
        return set(connection.execute(text("SELECT idempotency_key FROM ai.training_data WHERE tenant_id = :t AND idempotency_key = ANY(:keys)"),
                                      {"t": tenant, "keys": list(keys)}).scalars())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bad=st.lists(BAD_EVENTS, min_size=1, max_size=3), shuffle=st.randoms(use_true_random=False))
def test_each_hostile_event_of_a_batch_is_rejected_and_recorded_and_the_good_ones_are_stored(owner, tenant, bad, shuffle):
    for raw in bad:
        if isinstance(raw, dict) and "tenant_id" in raw:
            raw["tenant_id"] = str(tenant)
    good = [event(tenant) for _ in range(3)]
    order = list(range(len(good) + len(bad)))
    shuffle.shuffle(order)
    batch = [(good + bad)[i] for i in order]
    is_bad = [i >= len(good) for i in order]
    task_name = f"test-hostile-{uuid.uuid4().hex}"  # marks this example's rejections

    verdicts, accepted = intake.admit(batch, SERVICE, task_name)

    assert [verdict.status for verdict in verdicts] == ["rejected" if b else "accepted" for b in is_bad]
    reasons = [verdict.reason for verdict, b in zip(verdicts, is_bad) if b]
    assert all(reasons)
    assert sorted(reason for reason, _ in rejections(owner, task_name)) == sorted(reason[:2000] for reason in reasons)
    assert intake.scrub_and_store(accepted)["stored"] == len(good)
    assert stored_keys(owner, tenant, [e["idempotency_key"] for e in good]) == {e["idempotency_key"] for e in good}


def test_a_batch_beyond_the_cap_is_refused_whole_and_recorded_shortened(owner, tenant):
    batch = [event(tenant) for _ in range(MAX_BATCH_EVENTS + 1)]
    reason = intake.batch_problem(batch)
    assert reason == f"events: at most {MAX_BATCH_EVENTS} events per batch, got {MAX_BATCH_EVENTS + 1}; split the batch"
    task_name = f"test-cap-{uuid.uuid4().hex}"
    intake.record_rejection(batch, reason, task_name)
    with owner.connect() as connection:
        kept = connection.execute(text("SELECT reason, payload, tenant_id FROM ai.rejected_events WHERE task_name = :t"),
                                  {"t": task_name}).one()
    assert kept.reason == reason and kept.tenant_id is None
    assert kept.payload[-1].endswith("more items left out]") and len(json.dumps(kept.payload)) < 2 * MAX_EVENT_BYTES
    assert not stored_keys(owner, tenant, [e["idempotency_key"] for e in batch])


def wait_until(condition, timeout: float):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return found


def test_a_300_deep_event_sent_through_a_worker_fails_alone(worker, owner, tenant):
    good = [event(tenant) for _ in range(5)]
    hostile = event(tenant, expected_output=nest(300, ["dict", "list"], "Office Supplies"))
    batch = [good[0], hostile, *good[1:]]

    result = app.send_task(RECORD_BATCH, kwargs=signed(RECORD_BATCH, SERVICE, [tenant], events=batch)).get(timeout=60)

    assert result["counts"] == {"accepted": 5, "rejected": 1}
    assert [answer["status"] for answer in result["results"]] == ["accepted", "rejected", *["accepted"] * 4]
    reason = result["results"][1]["reason"]
    assert reason.endswith(f"nested more than {MAX_EVENT_DEPTH} levels deep") and reason.startswith("expected_output")
    keys = {e["idempotency_key"] for e in good}
    assert wait_until(lambda: stored_keys(owner, tenant, keys) == keys, timeout=60)
    with owner.connect() as connection:
        recorded = connection.execute(text("SELECT reason, task_name, tenant_id FROM ai.rejected_events WHERE idempotency_key = :k"),
                                      {"k": hostile["idempotency_key"]}).one()
    assert recorded.reason == reason and recorded.task_name == RECORD_BATCH and recorded.tenant_id == tenant
    assert not stored_keys(owner, tenant, [hostile["idempotency_key"]])
