"""Retrain triggers through a real worker on a simulated clock: half a day passes every second, so
the schedule's weeks run in seconds. Every process of the test (this one and the worker) reads the
same clock, anchored to the same real instant."""
from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from sqlalchemy import text

from modelops import db, tenants
from modelops.clock import ScaledClock
from modelops.training.schedule import RETRAINING_SCHEDULE
from tests.fixtures import clock_set_to
from tests.integration.training_support import (
    CHECK_TRIGGERS, TRAIN_MODEL, events, queue_run, run_row, seed, synthetic_rows, versions_of, wait_until,
)
from tests.callers import signed
from workers.app import app

pytestmark = pytest.mark.integration

AGENT = "classification"
MIN_SAMPLES = RETRAINING_SCHEDULE[AGENT]["min_samples"]
MAX_AGE = dt.timedelta(days=RETRAINING_SCHEDULE[AGENT]["max_age_days"])
CALLER = "ledger-service"


@pytest.fixture(scope="module")
def simulated(worker):
    """The run's worker (and this process) on a clock that runs 43,200 times faster than the wall clock."""
    with clock_set_to(ScaledClock(dt.datetime(2031, 3, 3), real_anchor=time.time(), speed=43_200)) as simulated_clock:
        yield simulated_clock


def new_tenant(prefix: str) -> uuid.UUID:
    tenant = tenants.create_tenant(f"{prefix}-{uuid.uuid4().hex[:6]}", country="DE", region="EU")
    tenants.add_member(tenant, CALLER)
    return tenant


def checks_of(tenant) -> list[dict]:
    with db.operator_scope() as connection:
        rows = connection.execute(text("SELECT * FROM ai.retrain_checks WHERE tenant_id = :t AND agent_type = :a ORDER BY checked_at"),
                                  {"t": tenant, "a": AGENT}).mappings().all()
    return [dict(row) for row in rows]


def runs_of(tenant) -> list[dict]:
    with db.operator_scope() as connection:
        rows = connection.execute(text("SELECT * FROM ai.training_runs WHERE tenant_id = :t ORDER BY created_at"),
                                  {"t": tenant}).mappings().all()
    return [dict(row) for row in rows]


def check() -> dict:
    return app.send_task(CHECK_TRIGGERS, args=[AGENT]).get(timeout=60)


def stored_rows(tenant) -> int:
    with db.tenant_scope(tenant) as connection:
        return connection.execute(text("SELECT count(*) FROM ai.training_data")).scalar_one()


def send_feedback(tenant, rows: list[tuple[dict, dict]], extra: list[dict] = ()) -> None:
    """Through the intake's task, as other services send it; returns once the scrub task stored them."""
    before = stored_rows(tenant)
    batch = events(tenant, AGENT, rows) + list(extra)
    result = app.send_task("modelops.feedback.record_batch", kwargs=signed("modelops.feedback.record_batch", CALLER, events=batch)).get(timeout=60)
    assert result["counts"] == {"accepted": len(batch)}
    wait_until(lambda: stored_rows(tenant) == before + len(batch), timeout=60, what="the feedback being stored")


def finished(run_id) -> dict:
    return wait_until(lambda: (row := run_row(run_id))["status"] not in ("queued", "running") and row, timeout=300,
                      what=f"run {run_id} finishing")


def test_feedback_triggers_training_at_min_samples_and_not_one_sample_before(simulated):
    tenant = new_tenant("threshold")
    rows = synthetic_rows(AGENT, MIN_SAMPLES, tenant_seed=201)
    ratings = [{"tenant_id": str(tenant), "agent_type": AGENT, "source": "satisfaction_rating", "input_data": rows[0][0],
                "rating": 4, "idempotency_key": f"rating-{i}"} for i in range(5)]
    send_feedback(tenant, rows[:-1], extra=ratings)  # ratings carry no label: they are not samples
    check()
    waiting = checks_of(tenant)[-1]
    assert (waiting["decision"], waiting["new_samples"], waiting["training_run_id"]) == ("wait", MIN_SAMPLES - 1, None)
    assert waiting["reason"] == f"{MIN_SAMPLES - 1} new samples < {MIN_SAMPLES}, and no model yet"
    assert runs_of(tenant) == []

    send_feedback(tenant, rows[-1:])
    queued = check()["queued"]
    training = checks_of(tenant)[-1]
    assert (training["decision"], training["new_samples"]) == ("train", MIN_SAMPLES)
    assert training["reason"] == f"{MIN_SAMPLES} new samples >= {MIN_SAMPLES}"
    (run,) = runs_of(tenant)
    assert run["id"] == training["training_run_id"] and str(run["id"]) in queued
    assert (run["trigger"], run["requested_by"]) == ("min_samples", "scheduler")
    assert finished(run["id"])["status"] == "succeeded"
    (version,) = versions_of(AGENT, tenant)
    assert version["version"] == "v1.0" and version["training_samples"] + version["validation_samples"] == MIN_SAMPLES


def test_the_max_age_trigger_fires_a_week_after_the_last_training_on_the_simulated_clock(simulated):
    tenant = new_tenant("max-age")
    seed(tenant, AGENT, synthetic_rows(AGENT, 60, tenant_seed=202))
    check()
    (first,) = runs_of(tenant)
    assert finished(first["id"])["status"] == "succeeded"
    trained_on = versions_of(AGENT, tenant)[0]["trained_on"]
    seed(tenant, AGENT, synthetic_rows(AGENT, 3, tenant_seed=202, seed=1))  # a few new samples, far below 50

    def aged_check():
        check()
        return checks_of(tenant)[-1]["decision"] == "train"

    wait_until(aged_check, timeout=120, interval=0.25, what="the max-age trigger")
    since = [c for c in checks_of(tenant) if c["checked_at"] > trained_on]
    *waits, fired = since
    assert waits, "the trigger was checked before the week was up"
    for waited in waits:
        assert waited["decision"] == "wait" and waited["last_trained_at"] == trained_on
        assert waited["checked_at"] - trained_on < MAX_AGE and waited["new_samples"] == 3
        assert waited["reason"].startswith("3 new samples < 50, ") and waited["reason"].endswith("of 7 days since the last training")
    age = fired["checked_at"] - trained_on
    assert age >= MAX_AGE and fired["new_samples"] == 3
    assert fired["reason"] == f"{age.days} days since the last training >= 7"
    second = run_row(fired["training_run_id"])
    assert second["trigger"] == "max_age"
    assert finished(second["id"])["status"] == "succeeded"
    assert [v["version"] for v in versions_of(AGENT, tenant)] == ["v1.0", "v1.1"]


def test_at_most_one_job_is_in_flight_per_agent_and_tenant(simulated):
    tenant = new_tenant("in-flight")
    seed(tenant, AGENT, synthetic_rows(AGENT, 60, tenant_seed=203))
    manual = queue_run(AGENT, tenant)  # queued by hand (`modelops train`), not yet picked up
    check()
    blocked = checks_of(tenant)[-1]
    assert (blocked["decision"], blocked["training_run_id"], blocked["new_samples"]) == ("in_flight", None, 60)
    assert blocked["reason"] == "a training job for this scope is already queued or running"
    assert [run["id"] for run in runs_of(tenant)] == [manual]
    assert app.send_task(TRAIN_MODEL, args=[str(manual)]).get(timeout=300)["status"] == "succeeded"

    seed(tenant, AGENT, synthetic_rows(AGENT, 60, tenant_seed=203, seed=1))
    seen = len(checks_of(tenant))
    both = [app.send_task(CHECK_TRIGGERS, args=[AGENT]) for _ in range(2)]  # two checks at once
    for result in both:
        result.get(timeout=60)
    decisions = [c["decision"] for c in checks_of(tenant)[seen:]]
    assert len(decisions) == 2 and decisions.count("train") == 1
    assert len(runs_of(tenant)) == 2  # the manual run and one scheduled run, never two at once
    assert finished(runs_of(tenant)[-1]["id"])["status"] == "succeeded"


def test_a_tenant_whose_data_made_no_model_waits_for_new_evidence_instead_of_retrying_at_every_check(simulated):
    tenant = new_tenant("one-class")
    rows = [(input_data, {"category": "Software"}) for input_data, _ in synthetic_rows(AGENT, 60, tenant_seed=204)]
    seed(tenant, AGENT, rows)
    check()
    (run,) = runs_of(tenant)
    skipped = finished(run["id"])
    assert skipped["status"] == "skipped" and "same label 'Software'" in skipped["error"]
    check()
    after = checks_of(tenant)[-1]
    assert after["decision"] == "wait" and after["new_samples"] == 0 and after["last_trained_at"] == skipped["claimed_at"]
    assert len(runs_of(tenant)) == 1
