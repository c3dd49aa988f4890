"""Automatic rollback through a real worker: each of the spec's three triggers, injected into
``ai.model_metrics`` as the metric fold leaves it, rolls the model back with an event, a ticket and
an alert, and the serving worker answers with the restored version; no previous version gives one
emergency alert to operations; a rollback racing a second rollback or an A/B promotion: exactly one
wins. Then a stable model lives four simulated weeks of ordinary noise, checked after every
simulated fold as the fold task sends its checks, and is not rolled back, while a twin that
degrades in week three is.

The worker and this process read one fixed clock, NOW (the four-week run has a scaled clock of its
own). Versions are recorded at the times each case needs, and metric rows written directly (as the
owner), as ``modelops.metrics.fold_counters`` adds them: the check reads the table, whoever wrote it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import uuid
from contextlib import contextmanager

import numpy as np
import pytest
from sqlalchemy import text

from modelops import clock, db, tenants
from modelops.agents.synthetic import generate
from modelops.clock import FixedClock, ScaledClock
from modelops.config import SYSTEM_ROLE
from modelops.experiments import evaluation, lifecycle
from modelops.monitoring import baseline, rollback
from tests.integration.serving_models import record_model
from tests.integration.test_ab_shared_and_labels import regional_version
from tests.callers import signed_prediction
from tests.cli import run
from tests.fixtures import audit_log_at
from tests.integration.training_support import other_workers, start_worker, wait_until, worker_group, workers_paused
from workers.app import app

pytestmark = pytest.mark.integration

NOW = dt.datetime(2031, 8, 20, 12, 0)
AGENT = "classification"
CHECK = "modelops.rollback.check_models"
MANUAL = "modelops.rollback.trigger_rollback"
PREDICT = "modelops.serving.predict"
DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def fixed_worker(worker, owner):
    """The run's worker of every queue, and this process, with the clock standing at NOW."""
    with audit_log_at(owner, NOW):
        yield worker


@contextmanager
def clock_at(moment: dt.datetime):
    previous = clock.use(FixedClock(moment))
    try:
        yield
    finally:
        clock.use(previous)


def version_at(tenant, moment: dt.datetime, seed: int, promote: bool = True) -> uuid.UUID:
    """A real model of the tenant recorded (and promoted) at ``moment``."""
    with clock_at(moment):
        return record_model(AGENT, tenant, tenant_seed=seed, rows=400, promote=promote)["id"]


ADD_METRICS = text("""
    INSERT INTO ai.model_metrics (model_version_id, metric_date, tenant_id, total_predictions, labelled_predictions,
                                  correct_predictions, user_overrides, response_time_sum_ms)
    VALUES (:version, :day, :tenant, :predictions, :labelled, :correct, :overrides, :response_ms)
    ON CONFLICT (model_version_id, metric_date) DO UPDATE SET
        total_predictions = ai.model_metrics.total_predictions + EXCLUDED.total_predictions,
        labelled_predictions = ai.model_metrics.labelled_predictions + EXCLUDED.labelled_predictions,
        correct_predictions = ai.model_metrics.correct_predictions + EXCLUDED.correct_predictions,
        user_overrides = ai.model_metrics.user_overrides + EXCLUDED.user_overrides,
        response_time_sum_ms = ai.model_metrics.response_time_sum_ms + EXCLUDED.response_time_sum_ms
""")


def add_metrics(owner, version, tenant, day: dt.date, *, predictions=2_000, labelled=600, accuracy=None,
                override_rate=0.05, ms=20.0) -> None:
    """One day's counts of the version, added as a fold adds them; accuracy defaults to the
    version's validation accuracy (a model doing as well as it did in validation)."""
    if accuracy is None:
        accuracy = float(row(owner, "SELECT accuracy_score FROM ai.model_versions WHERE id = :id", id=version)["accuracy_score"])
    with owner.begin() as connection:
        connection.execute(ADD_METRICS, {"version": version, "day": day, "tenant": tenant, "predictions": predictions,
                                         "labelled": labelled, "correct": round(labelled * accuracy),
                                         "overrides": round(predictions * override_rate), "response_ms": ms * predictions})


def rows(owner, sql: str, **params) -> list[dict]:
    with owner.begin() as connection:
        return [dict(r) for r in connection.execute(text(sql), params).mappings()]


def row(owner, sql: str, **params) -> dict:
    (found,) = rows(owner, sql, **params)
    return found


def production_of(owner, tenant) -> uuid.UUID:
    return row(owner, "SELECT id FROM ai.model_versions WHERE agent_type = :a AND scope_key = :s AND is_production",
               a=AGENT, s=f"tenant:{tenant}")["id"]


def check(*version_ids) -> list[dict]:
    return app.send_task(CHECK, kwargs={"model_version_ids": [str(v) for v in version_ids]}).get(timeout=120)["results"]


@pytest.fixture
def degradable(fixed_worker, owner):
    """A tenant whose v1.0 served until twelve days ago and whose v1.1 serves since, healthy for
    its first week (its response-time baseline: 20 ms)."""

    def make(seed: int) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        tenant = tenants.create_tenant(f"rollback-{seed}-{uuid.uuid4().hex[:6]}")
        stable = version_at(tenant, NOW - 40 * DAY, seed)
        current = version_at(tenant, NOW - 12 * DAY, seed + 1)
        for days_ago in range(12, 5, -1):
            add_metrics(owner, current, tenant, (NOW - days_ago * DAY).date())
        return tenant, stable, current

    return make


# Each breach alone, on the last six days; the week's other figures as in its first week.
BREACHES = {
    "accuracy_drop": dict(accuracy=0.40),
    "high_override_rate": dict(override_rate=0.40),
    "performance_degradation": dict(ms=60.0),
}


@pytest.mark.both_brokers
@pytest.mark.parametrize("trigger", list(BREACHES))
def test_each_trigger_rolls_back_to_the_previous_version_with_an_event_a_ticket_and_an_alert(trigger, degradable, owner):
    tenant, stable, current = degradable(seed=100 + list(BREACHES).index(trigger) * 10)
    for days_ago in range(5, -1, -1):
        add_metrics(owner, current, tenant, (NOW - days_ago * DAY).date(), **BREACHES[trigger])

    (result,) = check(current)
    assert result["outcome"] == "rolled_back" and result["triggers"] == [trigger]
    assert (result["from_version_id"], result["to_version_id"]) == (str(current), str(stable))
    assert production_of(owner, tenant) == stable

    rolled_back = row(owner, "SELECT * FROM ai.model_versions WHERE id = :id", id=current)
    assert rolled_back["status"] == "retired" and not rolled_back["is_active"]
    assert rolled_back["status_reason"].startswith("rolled back by rollback-monitor to v1.0")
    history = rows(owner, "SELECT * FROM ai.production_history WHERE scope_key = :s ORDER BY started_at", s=f"tenant:{tenant}")
    assert [(h["model_version_id"], h["event"], h["ended_at"]) for h in history] == [
        (stable, "first_model", NOW - 12 * DAY), (current, "promotion", NOW), (stable, "rollback", None)]
    assert history[-1]["actor"] == "rollback-monitor"

    event = row(owner, "SELECT * FROM ai.rollback_events WHERE from_version_id = :id", id=current)
    assert (event["to_version_id"], event["outcome"], event["tenant_id"], event["created_at"]) == (stable, "rolled_back", tenant, NOW)
    assert list(event["triggers"]) == [trigger] and event["triggers"][trigger]["breached"] is True
    assert event["triggers"][trigger]["current"] is not None and event["id"] == uuid.UUID(result["rollback_event_id"])
    ticket = row(owner, "SELECT * FROM ai.investigation_tickets WHERE rollback_event_id = :id", id=event["id"])
    assert ticket["status"] == "open" and ticket["model_version_id"] == current and trigger in ticket["title"]
    alert = row(owner, "SELECT * FROM ai.alerts WHERE model_version_id = :id AND alert_type = 'rollback_triggered'", id=current)
    assert (alert["severity"], alert["audience"], alert["status"]) == ("critical", "ml", "active")
    assert alert["message"].startswith("Rollback triggered for model classification v1.1")
    assert alert["notified_at"] == NOW  # handed to the notifiers by the task, after its commit
    recorded = row(owner, "SELECT * FROM ai.rollback_checks WHERE model_version_id = :id", id=current)
    assert recorded["outcome"] == "rolled_back" and recorded["conditions"][trigger]["breached"]

    # the next fold's check of the same version: it is no longer production, nothing happens again
    assert check(current)[0]["outcome"] == "not_production"
    assert len(rows(owner, "SELECT id FROM ai.rollback_events WHERE from_version_id = :id", id=current)) == 1


@pytest.mark.both_brokers
def test_overrides_counted_in_redis_are_folded_and_the_check_the_fold_sends_rolls_back(degradable, owner, broker):
    """The whole path after the counters: the fold task (beat's, every second) adds them to the
    table and sends the check of the versions it touched, which rolls the model back."""
    from modelops.monitoring import counters

    tenant, stable, current = degradable(seed=135)
    tally = counters.Tally()
    tally.add(current, NOW.date(), "predictions", 2_000)
    tally.add(current, NOW.date(), "overrides", 1_000)
    broker.register_script(counters.ADD_SCRIPT)(keys=[counters.LIVE], args=tally.arguments())
    app.send_task("modelops.metrics.fold_counters").get(timeout=60)
    wait_until(lambda: production_of(owner, tenant) == stable, timeout=60, what="the rollback after the fold")
    event = row(owner, "SELECT * FROM ai.rollback_events WHERE from_version_id = :id", id=current)
    assert list(event["triggers"]) == ["high_override_rate"] and event["actor"] == "rollback-monitor"


def test_a_healthy_model_stays_and_why_is_recorded(degradable, owner):
    tenant, _, current = degradable(seed=140)
    for days_ago in range(5, -1, -1):
        add_metrics(owner, current, tenant, (NOW - days_ago * DAY).date())
    assert check(current) == [{"model_version_id": str(current), "outcome": "healthy"}]
    assert production_of(owner, tenant) == current
    recorded = row(owner, "SELECT * FROM ai.rollback_checks WHERE model_version_id = :id", id=current)
    assert recorded["outcome"] == "healthy" and recorded["checked_at"] == NOW
    assert recorded["figures"]["labelled"] == 7 * 600 and recorded["figures"]["baseline"]["response_time_ms"] == 20.0
    assert not any(condition["breached"] for condition in recorded["conditions"].values())
    assert rows(owner, "SELECT id FROM ai.rollback_events WHERE from_version_id = :id", id=current) == []


def test_without_a_previous_version_operations_get_one_emergency_alert_and_the_model_stays(fixed_worker, owner):
    tenant = tenants.create_tenant(f"rollback-alone-{uuid.uuid4().hex[:6]}")
    only = version_at(tenant, NOW - 3 * DAY, seed=150)
    for days_ago in range(3, -1, -1):
        add_metrics(owner, only, tenant, (NOW - days_ago * DAY).date(), accuracy=0.3)

    first, again = check(only)[0], check(only)[0]
    assert first["outcome"] == again["outcome"] == "no_previous_version"
    assert production_of(owner, tenant) == only
    assert row(owner, "SELECT status FROM ai.model_versions WHERE id = :id", id=only)["status"] == "production"
    emergency = row(owner, "SELECT * FROM ai.alerts WHERE model_version_id = :id AND audience = 'operations'", id=only)
    assert (emergency["alert_type"], emergency["severity"], emergency["occurrences"]) == ("rollback_impossible", "critical", 2)
    assert emergency["message"].startswith("No previous model available for rollback")
    ml = row(owner, "SELECT * FROM ai.alerts WHERE model_version_id = :id AND audience = 'ml'", id=only)
    assert ml["alert_type"] == "rollback_triggered" and ml["occurrences"] == 2
    (event,) = rows(owner, "SELECT * FROM ai.rollback_events WHERE from_version_id = :id", id=only)
    assert event["outcome"] == "no_previous_version" and event["to_version_id"] is None
    assert len(rows(owner, "SELECT id FROM ai.investigation_tickets WHERE model_version_id = :id", id=only)) == 1
    assert first["rollback_event_id"] == str(event["id"]) and again["rollback_event_id"] is None
    # what an operator would do, done: one early retrain on the tenant's recent feedback, named in the alert
    (run,) = rows(owner, "SELECT * FROM ai.training_runs WHERE tenant_id = :tenant", tenant=tenant)
    assert (run["trigger"], run["run_key"], str(run["id"])) == ("degraded", f"degraded:{only}", first["training_run_id"])
    assert again["training_run_id"] is None
    assert f"a retrain on the tenant's recent feedback: training run {run['id']}, " in emergency["message"]


def test_the_previous_stable_version_is_never_one_that_was_itself_rolled_back(degradable, owner):
    tenant, stable, bad = degradable(seed=160)
    with db.operator_scope() as connection:
        rollback.trigger_rollback(connection, AGENT, tenant, triggers={"manual": {}}, actor="ops", reason="bad answers",
                                  now=NOW - 5 * DAY)
    newest = version_at(tenant, NOW - 4 * DAY, seed=162)
    for days_ago in range(4, -1, -1):
        add_metrics(owner, newest, tenant, (NOW - days_ago * DAY).date(), accuracy=0.3)
    (result,) = check(newest)
    assert result["outcome"] == "rolled_back" and result["to_version_id"] == str(stable)  # not bad, served more recently
    assert production_of(owner, tenant) == stable


@pytest.mark.both_brokers
def test_after_a_rollback_the_serving_worker_answers_with_the_restored_version(degradable, owner):
    tenant, stable, current = degradable(seed=170)
    request = {"tenant_id": str(tenant), "agent_type": AGENT,
               "input_data": generate(AGENT, 1, seed=3, tenant_seed=170)[0][0]}

    def served() -> str:
        return app.send_task(PREDICT, kwargs=signed_prediction(PREDICT, **request)).get(timeout=60)["model_version"]["id"]

    assert served() == str(current)
    for days_ago in range(5, -1, -1):
        add_metrics(owner, current, tenant, (NOW - days_ago * DAY).date(), override_rate=0.5)
    assert check(current)[0]["outcome"] == "rolled_back"
    wait_until(lambda: served() == str(stable), timeout=30, what="the serving worker answering with the restored version")


def test_a_manual_rollback_through_the_task_and_requests_it_refuses(degradable, owner):
    tenant, stable, current = degradable(seed=180)
    result = app.send_task(MANUAL, kwargs={"agent_type": AGENT, "tenant_id": str(tenant), "reason": "customer complaint",
                                           "actor": "ops-anna"}).get(timeout=60)
    assert result["outcome"] == "rolled_back" and result["to_version_id"] == str(stable)
    event = row(owner, "SELECT * FROM ai.rollback_events WHERE from_version_id = :id", id=current)
    assert event["actor"] == "ops-anna" and event["triggers"] == {"manual": {"requested_by": "ops-anna", "reason": "customer complaint"}}

    refused = [
        ({"agent_type": "forecast", "tenant_id": str(tenant), "reason": "x", "actor": "ops"}, "unknown agent 'forecast'"),
        ({"agent_type": AGENT, "tenant_id": "acme", "reason": "x", "actor": "ops"}, "a tenant id must be a UUID, got 'acme'"),
        ({"agent_type": AGENT, "tenant_id": str(tenant), "reason": " ", "actor": "ops"}, "needs an actor and a reason"),
        ({"agent_type": AGENT, "tenant_id": str(uuid.uuid4()), "reason": "x", "actor": "ops"}, "has no production model to roll back"),
    ]
    for kwargs, reason in refused:
        answer = app.send_task(MANUAL, kwargs=kwargs).get(timeout=60)
        assert answer["outcome"] == "refused" and reason in answer["reason"]
    assert app.send_task(CHECK, kwargs={"model_version_ids": ["v1.1"]}).get(timeout=60) == {
        "outcome": "refused", "reason": "a model version id must be a UUID, got 'v1.1'"}
    assert production_of(owner, tenant) == stable  # nothing moved on a refusal


def test_the_rollback_command_line(degradable, owner):
    tenant, stable, current = degradable(seed=190)
    done = run("rollback", "--agent", AGENT, "--tenant", str(tenant), "--reason", "wrong categories", "--by", "ops-bo", "--json",
               env={"MODELOPS_CLOCK": f"fixed:{NOW.isoformat()}"})
    assert done.returncode == 0, done.stderr
    assert production_of(owner, tenant) == stable
    again = run("rollback", "--agent", AGENT, "--tenant", str(tenant), "--reason", "again")
    assert again.returncode == 2 and "no previous version" in again.stderr and "Traceback" not in again.stderr
    assert production_of(owner, tenant) == stable  # v1.0 is the only version left: it stays
    neither = run("rollback", "--agent", AGENT, "--reason", "x")
    assert neither.returncode == 2 and "--tenant" in neither.stderr


# --- races ----------------------------------------------------------------------------------------

@contextmanager
def scope_lock_held(owner, tenant, waiters: int):
    """Hold the scope's production lock until ``waiters`` other transactions wait for it, then
    let them go, in the order they queued (Postgres grants a lock's waiters first come, first served)."""
    holder = db.engine(db.role_url(SYSTEM_ROLE)).connect()  # as the monitoring pool acts: the system role
    transaction = holder.begin()
    holder.execute(text("SET LOCAL ROLE modelops_operator"))
    lifecycle.lock_scope(holder, AGENT, f"tenant:{tenant}")
    started: list[threading.Thread] = []

    def queued(count: int) -> None:
        wait_until(lambda: row(owner, "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")["n"] >= count,
                   timeout=30, what=f"{count} transactions waiting for the scope's lock")

    try:
        yield started, queued
        queued(waiters)
    finally:
        transaction.commit()
        holder.close()
        for thread in started:
            thread.join(timeout=60)


def in_thread(results: dict, name: str, action) -> threading.Thread:
    def target():
        try:
            results[name] = action()
        except Exception as error:  # reported by the assertions below
            results[name] = error

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def manual_rollback(tenant, actor: str):
    def action():
        with db.operator_scope() as connection:
            return rollback.trigger_rollback(connection, AGENT, tenant, triggers={"manual": {}}, actor=actor, reason="race", now=NOW)
    return action


def judged_rollback(tenant, version):
    """The checker's rollback of the version it judged degraded."""
    def action():
        with db.operator_scope() as connection:
            return rollback.trigger_rollback(connection, AGENT, tenant, triggers={"accuracy_drop": {"breached": True}},
                                             actor="rollback-monitor", reason="race", now=NOW, expected_version_id=version)
    return action


def test_two_rollbacks_racing_for_one_model_exactly_one_wins(degradable, owner):
    tenant, stable, current = degradable(seed=200)
    results: dict = {}
    with scope_lock_held(owner, tenant, waiters=2) as (started, queued):
        started.append(in_thread(results, "first", manual_rollback(tenant, "ops-1")))
        queued(1)
        started.append(in_thread(results, "second", manual_rollback(tenant, "ops-2")))
    assert results["first"]["outcome"] == "rolled_back", results
    assert results["second"]["outcome"] == "no_op" and "no longer production" in results["second"]["reason"]
    assert production_of(owner, tenant) == stable
    assert len(rows(owner, "SELECT id FROM ai.rollback_events WHERE tenant_id = :t", t=tenant)) == 1
    assert len(rows(owner, "SELECT id FROM ai.production_history WHERE scope_key = :s", s=f"tenant:{tenant}")) == 3


LOG_ROWS = text("""
    INSERT INTO ai.prediction_log (model_version_id, agent_type, tenant_id, input_data, predicted_output, was_correct,
                                   prediction_timestamp, ab_test_id, ab_group, request_key)
    SELECT :version, 'classification', :tenant, '{}'::jsonb, '{}'::jsonb, n <= :correct, :at, :test, :group,
           CAST(:group AS text) || '-' || n::text
    FROM generate_series(1, :keys) AS n
""")


@pytest.mark.parametrize("first", ["rollback", "promotion"])
def test_a_rollback_racing_an_ab_promotion_exactly_one_wins(first, degradable, owner):
    """The A/B test of a candidate against the degraded model decides to promote it, while the
    checker decides to roll the degraded model back: whichever takes the scope first moves
    production, and the other finds nothing left to do."""
    tenant, stable, current = degradable(seed=210 if first == "rollback" else 220)
    candidate = version_at(tenant, NOW - 9 * DAY, seed=230, promote=False)
    with db.tenant_scope(tenant) as connection:
        test = lifecycle.start_test(connection, candidate, actor="training", now=NOW - 8 * DAY)
    with owner.begin() as connection:
        for group, version, keys, correct in (("control", current, 9000, 7200), ("treatment", candidate, 1000, 950)):
            connection.execute(LOG_ROWS, {"version": version, "tenant": tenant, "test": test["test_id"], "group": group,
                                          "keys": keys, "correct": correct, "at": NOW - DAY})

    actions = {"rollback": judged_rollback(tenant, current), "promotion": lambda: evaluation.evaluate_test(test["test_id"], NOW)}
    second = "promotion" if first == "rollback" else "rollback"
    results: dict = {}
    with scope_lock_held(owner, tenant, waiters=2) as (started, queued):
        started.append(in_thread(results, first, actions[first]))
        queued(1)
        started.append(in_thread(results, second, actions[second]))

    rolled_back, promoted = results["rollback"], results["promotion"]
    assert not isinstance(rolled_back, Exception) and not isinstance(promoted, Exception), results
    events = rows(owner, "SELECT * FROM ai.rollback_events WHERE tenant_id = :t", t=tenant)
    if first == "rollback":
        assert rolled_back["outcome"] == "rolled_back" and rolled_back["cancelled_ab_test_id"] == test["test_id"]
        assert not promoted["written"] and promoted["test_status"] == "cancelled"  # its look found the test ended
        assert production_of(owner, tenant) == stable and len(events) == 1
        # the candidate is tested again, against the restored model
        (again,) = rows(owner, "SELECT * FROM ai.ab_tests WHERE scope_key = :s AND status = 'running'", s=f"tenant:{tenant}")
        assert (again["treatment_version_id"], again["control_version_id"]) == (candidate, stable)
    else:
        assert promoted["written"] and promoted["test_status"] == "promoted"
        assert rolled_back["outcome"] == "no_op" and "no longer production" in rolled_back["reason"]
        assert production_of(owner, tenant) == candidate and events == []
    # one move either way: the first model, the degraded one, and whichever came next
    assert len(rows(owner, "SELECT id FROM ai.production_history WHERE scope_key = :s", s=f"tenant:{tenant}")) == 3


# --- four simulated weeks --------------------------------------------------------------------------

START = dt.datetime(2031, 10, 6)  # a Monday
WEEKS = 4
SPEED = WEEKS * 7 * 86_400 / 90  # four weeks in about a minute and a half


def hourly_counts(rng, hour: dt.datetime, accuracy: float, override_rate: float) -> dict:
    """An hour of a busy tenant's traffic: 100 predictions an hour on weekdays, 30 at weekends;
    a third get feedback; a 20 ms model whose day's mean wanders with load."""
    predictions = int(rng.poisson(100 if hour.weekday() < 5 else 30))
    labelled = int(rng.binomial(predictions, 0.3))
    return {"predictions": predictions, "labelled": labelled, "correct": int(rng.binomial(labelled, accuracy)),
            "overrides": int(rng.binomial(predictions, override_rate)),
            "response_ms": float(predictions * 20.0 * rng.lognormal(0, 0.1))}


def test_a_stable_model_is_not_rolled_back_in_four_simulated_weeks_while_a_degraded_twin_is(database, broker, owner,
                                                                                             tmp_path_factory):
    stable_tenant = tenants.create_tenant(f"weeks-stable-{uuid.uuid4().hex[:6]}")
    twin_tenant = tenants.create_tenant(f"weeks-twin-{uuid.uuid4().hex[:6]}")
    versions = {}
    for tenant, seed in ((stable_tenant, 300), (twin_tenant, 310)):
        version_at(tenant, START - 30 * DAY, seed)
        versions[tenant] = version_at(tenant, START, seed + 1)
    accuracy = {tenant: float(row(owner, "SELECT accuracy_score FROM ai.model_versions WHERE id = :id", id=v)["accuracy_score"])
                for tenant, v in versions.items()}
    degrades_at = START + 16 * DAY  # the twin's accuracy falls to half in week three

    simulated = ScaledClock(START, time.time() + 15, SPEED)  # START comes in 15 s, once the worker is up
    group = worker_group(tmp_path_factory.mktemp("weeks-worker"), MODELOPS_CLOCK=simulated.spec())
    previous = clock.use(simulated)
    rng = np.random.default_rng(2031)
    sent = []
    try:
        with workers_paused(other_workers()):
            start_worker(group, "rollback-weeks")
            hour = START
            while hour < START + WEEKS * 7 * DAY:
                while clock.now() < hour + dt.timedelta(hours=1):
                    time.sleep(0.02)
                for tenant, version in versions.items():  # a fold: the hour's counts, then the check it sends
                    degraded = tenant == twin_tenant and hour >= degrades_at
                    counts = hourly_counts(rng, hour, accuracy[tenant] / 2 if degraded else accuracy[tenant], 0.08)
                    with owner.begin() as connection:
                        connection.execute(ADD_METRICS, {"version": version, "day": hour.date(), "tenant": tenant, **counts})
                sent.append(app.send_task(CHECK, kwargs={"model_version_ids": [str(v) for v in versions.values()]}))
                hour += dt.timedelta(hours=1)
            for result in sent:
                result.get(timeout=120)
    finally:
        group.stop()
        clock.use(previous)

    stable, twin = versions[stable_tenant], versions[twin_tenant]
    assert production_of(owner, stable_tenant) == stable
    assert rows(owner, "SELECT id FROM ai.rollback_events WHERE from_version_id = :id", id=stable) == []
    last = row(owner, "SELECT * FROM ai.rollback_checks WHERE model_version_id = :id", id=stable)
    assert last["outcome"] == "healthy" and last["checked_at"] >= START + (WEEKS * 7 - 1) * DAY
    assert last["figures"]["labelled"] > 2_000 and last["figures"]["baseline"]["response_time_ms"] is not None
    # the same checks, the same noise, one real degradation: caught in week three
    (event,) = rows(owner, "SELECT * FROM ai.rollback_events WHERE from_version_id = :id", id=twin)
    assert event["outcome"] == "rolled_back" and "accuracy_drop" in event["triggers"]
    assert degrades_at < event["created_at"] < degrades_at + 7 * DAY


def test_a_shared_model_without_a_previous_version_gets_a_warning_with_its_cause_and_no_critical_alert(fixed_worker, owner):
    # a region's first shared model, four days at 4% accuracy (tenants' own labels it never saw)
    only = regional_version(f"R{uuid.uuid4().hex[:8]}", promote=True)
    for days_ago in range(3, -1, -1):
        add_metrics(owner, only, None, (NOW - days_ago * DAY).date(), accuracy=0.04)
    (result,) = check(only)
    assert result["outcome"] == "no_previous_version" and "accuracy_drop" in result["triggers"]
    alerts = rows(owner, "SELECT * FROM ai.alerts WHERE model_version_id = :id", id=only)
    assert [(a["alert_type"], a["severity"], a["audience"]) for a in alerts] == [("rollback_impossible", "warning", "operations")]
    assert "first shared model of its scope" in alerts[0]["message"] and alerts[0]["details"]["cause"]
    assert row(owner, "SELECT is_production FROM ai.model_versions WHERE id = :id", id=only)["is_production"]
    (event,) = rows(owner, "SELECT * FROM ai.rollback_events WHERE from_version_id = :id", id=only)
    assert event["outcome"] == "no_previous_version"


SHARED_PER_TENANT = "modelops.rollback.check_shared_models_per_tenant"
LOG_OUTCOME = text("""
    INSERT INTO ai.prediction_log (model_version_id, agent_type, tenant_id, input_data, predicted_output, was_correct,
                                   prediction_timestamp)
    VALUES (:version, 'classification', :tenant, '{}'::jsonb, '{}'::jsonb, :correct, :at)
""")


def test_a_shared_model_that_fits_one_tenant_poorly_warns_for_that_tenant_and_stays_for_the_others(fixed_worker, owner):
    shared = regional_version(f"R{uuid.uuid4().hex[:8]}", promote=True)  # validation accuracy 0.85 on 200 rows
    well, poorly, few = (tenants.create_tenant(f"shared-fit-{name}-{uuid.uuid4().hex[:6]}") for name in ("well", "poorly", "few"))
    outcomes = {well: [n % 100 < 84 for n in range(400)], poorly: [n % 100 < 45 for n in range(400)],
                few: [False] * 60}  # fewer labelled predictions than a judgement needs
    with owner.begin() as connection:
        connection.execute(LOG_OUTCOME, [{"version": shared, "tenant": tenant, "correct": correct,
                                          "at": NOW - dt.timedelta(minutes=5 * (n + 1))}
                                         for tenant, correct_list in outcomes.items() for n, correct in enumerate(correct_list)])
        # older than the week judged: not counted
        connection.execute(LOG_OUTCOME, [{"version": shared, "tenant": well, "correct": False, "at": NOW - 9 * DAY}] * 300)

    found = app.send_task(SHARED_PER_TENANT).get(timeout=120)["poor_fit"]

    mine = [f for f in found if f["model_version_id"] == str(shared)]
    assert [f["tenant_id"] for f in mine] == [str(poorly)]
    assert (mine[0]["condition"]["labelled"], mine[0]["condition"]["correct"]) == (400, 180)
    (alert,) = rows(owner, "SELECT * FROM ai.alerts WHERE model_version_id = :id", id=shared)
    assert (alert["alert_type"], alert["severity"], alert["tenant_id"]) == ("shared_model_poor_fit", "warning", poorly)
    assert str(poorly) in alert["message"] and "train this tenant's own model" in alert["message"]
    assert row(owner, "SELECT is_production FROM ai.model_versions WHERE id = :id", id=shared)["is_production"]
    assert rows(owner, "SELECT id FROM ai.rollback_events WHERE from_version_id = :id", id=shared) == []


LOG_RUN = text("""
    INSERT INTO ai.prediction_log (model_version_id, agent_type, tenant_id, input_data, predicted_output, was_correct,
                                   confidence_score, prediction_timestamp)
    SELECT :version, 'classification', :tenant, '{}'::jsonb, '{}'::jsonb, n % :every >= :wrong, :confidence,
           CAST(:start AS timestamp) + n * interval '1 second'
    FROM generate_series(1, :count) AS n
""")


def test_wrong_answers_given_confidently_roll_back_where_the_plain_count_would_not(degradable, owner):
    tenant, stable, current = degradable(seed=160)
    older, recent = NOW - 2 * DAY, NOW - dt.timedelta(hours=1)
    logged = {"version": current, "tenant": tenant}
    with owner.begin() as connection:
        # its record: 3,000 answers at 0.97, 97% right; 2,000 at 0.67, 67% right
        connection.execute(LOG_RUN, {**logged, "count": 3_000, "every": 100, "wrong": 3, "confidence": 0.97, "start": older})
        connection.execute(LOG_RUN, {**logged, "count": 2_000, "every": 100, "wrong": 33, "confidence": 0.67,
                                     "start": older + dt.timedelta(hours=1)})
        # the last 200: 160 doubtful answers all right, then 36 confident ones a third wrong, then 4 right
        connection.execute(LOG_RUN, {**logged, "count": 160, "every": 1, "wrong": 0, "confidence": 0.67, "start": recent})
        connection.execute(LOG_RUN, {**logged, "count": 36, "every": 3, "wrong": 1, "confidence": 0.97,
                                     "start": recent + dt.timedelta(minutes=5)})
        connection.execute(LOG_RUN, {**logged, "count": 4, "every": 1, "wrong": 0, "confidence": 0.97,
                                     "start": recent + dt.timedelta(minutes=10)})

    (result,) = check(current)
    assert result["outcome"] == "rolled_back" and result["triggers"] == ["sudden_failure"]
    assert production_of(owner, tenant) == stable
    event = row(owner, "SELECT * FROM ai.rollback_events WHERE from_version_id = :id", id=current)
    condition = event["triggers"]["sudden_failure"]
    assert condition["recent_labelled"] == 200 and "5000 labelled before them" in condition["why"]
    assert set(condition["band_accuracy"]) == {"13", "19"}
    assert condition["band_accuracy"]["19"] > condition["reference_accuracy"] > condition["band_accuracy"]["13"]
    # the same 200 outcomes without their confidences stay under the threshold
    with owner.connect() as connection:
        (state,) = baseline.states(connection, [current], NOW.date())
    assert len(state.recent_confidences) == 200 and sum(n for n, _ in state.confidence_bands.values()) == 5_000
    plain = rollback.judge(dataclasses.replace(state, recent_confidences=(), confidence_bands={}))
    assert not plain.conditions["sudden_failure"]["breached"]


def test_a_versions_confidence_record_is_read_again_only_once_it_is_older_than_its_freshness(degradable, owner):
    from modelops.monitoring.confidence_record import BandRecords

    tenant, _, current = degradable(seed=170)
    logged = {"version": current, "tenant": tenant}
    with owner.begin() as connection:
        connection.execute(LOG_RUN, {**logged, "count": 1_000, "every": 10, "wrong": 1, "confidence": 0.93, "start": NOW - DAY})
    clock = [0.0]
    records = BandRecords(fresh_seconds=600.0, clock=lambda: clock[0])
    with owner.connect() as connection:
        first = records.get(connection, [current])[current]
    assert first == {18: (800, 720)}  # the 1,000 less the short window's 200; 90% right at 0.93
    with owner.begin() as connection:  # 300 newer, all wrong at 0.52: the record moves on
        connection.execute(LOG_RUN, {**logged, "count": 300, "every": 1, "wrong": 1, "confidence": 0.52,
                                     "start": NOW - dt.timedelta(hours=2)})
    clock[0] = 599.0
    with owner.connect() as connection:
        assert records.get(connection, [current])[current] == first
    clock[0] = 600.0
    with owner.connect() as connection:
        again = records.get(connection, [current])[current]
    assert again == {18: (1_000, 900), 10: (100, 0)}
