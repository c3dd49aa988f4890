"""A/B tests through a real worker: started for a candidate, evaluated from the audit log's rows,
ended by what each look decides (promoted, rejected, stopped on a broken split), each look written
once; and a candidate replayed in shadow on production's logged predictions.

The worker and this process read one fixed clock, NOW; a test meant to be past its first week is
started eight days before it. The audit rows are written directly (as the owner) with the outcomes
each case needs: the evaluation reads the table, whoever wrote it.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import text

from modelops import db, tenants
from modelops.agents import get_agent
from modelops.agents.synthetic import generate
from modelops.config import settings
from modelops.experiments import ABTestConfig, lifecycle, plan_sample_size
from modelops.experiments.clustered import RatioSums, compare
from modelops.experiments.srm import srm_p_values
from modelops.registry import promotion
from modelops.registry.artifacts import ArtifactStore
from tests.integration.serving_models import record_model
from tests.cli import run
from tests.fixtures import audit_log_at
from workers.app import app

pytestmark = pytest.mark.integration

NOW = dt.datetime(2031, 6, 15, 12, 0)
AGENT = "classification"
EVALUATE = "modelops.experiments.evaluate_test"
EVALUATE_ALL = "modelops.experiments.evaluate_running_tests"
START = "modelops.experiments.start_test"
SHADOW = "modelops.experiments.shadow_evaluate"


@pytest.fixture(scope="module")
def fixed_worker(worker, owner):
    """The run's worker of every queue, and this process, with the clock standing at NOW."""
    with audit_log_at(owner, NOW):
        yield


@pytest.fixture
def scope(fixed_worker):
    """A tenant with a production model and a candidate of its own (status 'candidate', as the
    promotion gate leaves one that passed)."""

    def make(seed: int, candidates: int = 1) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
        tenant = tenants.create_tenant(f"ab-{seed}-{uuid.uuid4().hex[:6]}")
        production = record_model(AGENT, tenant, tenant_seed=seed, rows=300)["id"]
        made = [record_model(AGENT, tenant, tenant_seed=seed + 1 + n, rows=300, promote=False)["id"] for n in range(candidates)]
        return tenant, production, made

    return make


def start(tenant, candidate, days_ago: float) -> dict:
    """Start a test as the training pipeline does, in the tenant's scope, ``days_ago`` before NOW."""
    with db.tenant_scope(tenant) as connection:
        return lifecycle.start_test(connection, candidate, actor="training", now=NOW - dt.timedelta(days=days_ago))


LOG_ROWS = text("""
    INSERT INTO ai.prediction_log (model_version_id, agent_type, tenant_id, input_data, predicted_output, was_correct,
                                   prediction_timestamp, ab_test_id, ab_group, request_key)
    SELECT :version, 'classification', :tenant, '{}'::jsonb, '{}'::jsonb,
           CASE WHEN n <= :correct THEN true WHEN n <= :labelled THEN false END,
           :at, :test, :group, CAST(:group AS text) || '-' || n::text
    FROM generate_series(1, :keys) AS n
""")


def log_group(owner, test: dict, group: str, *, keys: int, labelled: int, correct: int,
              at: dt.datetime = NOW - dt.timedelta(days=1)) -> None:
    """One prediction for each of ``keys`` sticky keys of ``group``; the first ``correct`` were
    right, the next up to ``labelled`` wrong, the rest have no feedback."""
    version = test["control_version_id"] if group == "control" else test["candidate_version_id"]
    with owner.begin() as connection:
        connection.execute(LOG_ROWS, {"version": version, "tenant": test["tenant"], "test": test["test_id"], "group": group,
                                      "keys": keys, "labelled": labelled, "correct": correct, "at": at})


def evaluate(test_id) -> dict:
    return app.send_task(EVALUATE, args=[str(test_id)]).get(timeout=120)


def rows(owner, sql: str, **params) -> list[dict]:
    with owner.begin() as connection:
        return [dict(row) for row in connection.execute(text(sql), params).mappings()]


def decisions(owner, test_id) -> list[dict]:
    return rows(owner, "SELECT * FROM ai.ab_test_decisions WHERE ab_test_id = :id ORDER BY look_number", id=test_id)


def ab_test_row(owner, test_id) -> dict:
    return rows(owner, "SELECT * FROM ai.ab_tests WHERE id = :id", id=test_id)[0]


def version_row(owner, version_id) -> dict:
    return rows(owner, "SELECT * FROM ai.model_versions WHERE id = :id", id=version_id)[0]


def started_test(tenant, production, candidate, days_ago: float) -> dict:
    started = start(tenant, candidate, days_ago)
    assert started["status"] == "started" and started["control_version_id"] == str(production)
    return {**started, "tenant": tenant}


def test_a_clearly_better_candidate_is_promoted_once_past_its_first_week(scope, owner):
    tenant, production, (candidate,) = scope(11)
    test = started_test(tenant, production, candidate, days_ago=8)
    assert start(tenant, candidate, days_ago=8)["test_id"] == test["test_id"]  # the same candidate: the same test
    assert version_row(owner, candidate)["status"] == "testing"
    config = ab_test_row(owner, test["test_id"])["config"]
    baseline = float(version_row(owner, production)["accuracy_score"])  # no live predictions yet: validation accuracy
    assert config["baseline"]["accuracy"] == baseline
    plan = plan_sample_size(baseline, ABTestConfig())
    assert config["planned_sample_size"] == plan.as_dict()
    assert config["settings"]["allocation_ratio"] == 0.1 and config["settings"]["minimum_sample_size"] == 1000

    log_group(owner, test, "control", keys=9000, labelled=9000, correct=7200)
    log_group(owner, test, "treatment", keys=1000, labelled=1000, correct=950)
    # a second prediction for 3,000 control keys and 333 treatment keys, without feedback: the split
    # is drawn per key, so it is still 9,000 : 1,000, and both arms have 75% of their predictions labelled
    log_group(owner, test, "control", keys=3000, labelled=0, correct=0, at=NOW - dt.timedelta(hours=5))
    log_group(owner, test, "treatment", keys=333, labelled=0, correct=0, at=NOW - dt.timedelta(hours=5))
    # predictions after NOW are not part of this look
    log_group(owner, test, "treatment", keys=500, labelled=500, correct=0, at=NOW + dt.timedelta(hours=1))

    result = evaluate(test["test_id"])
    assert result["written"] and result["test_status"] == "promoted"
    assert result["decision"]["decision"] == "promote" and result["decision"]["look_number"] == 9

    (row,) = decisions(owner, test["test_id"])
    assert (row["control_samples"], row["control_correct"], row["treatment_samples"], row["treatment_correct"]) == (9000, 7200, 1000, 950)
    assert (float(row["control_accuracy"]), float(row["treatment_accuracy"])) == (0.8, 0.95)
    # one labelled prediction a key: the comparison by key is that of independent predictions
    expected = compare(RatioSums.independent(950, 1000), RatioSums.independent(7200, 9000))
    assert row["z_statistic"] == pytest.approx(expected.z, rel=1e-9)
    assert row["p_value"] == pytest.approx(expected.p_value, rel=1e-6, abs=1e-300)
    assert row["required_sample_size"] == plan.treatment
    assert row["srm_p_value"] == pytest.approx(float(srm_p_values(9000, 1000, 0.1)))
    assert row["details"]["control_assigned"] == 9000 and row["details"]["treatment_assigned"] == 1000
    assert (row["details"]["control_served"], row["details"]["treatment_served"]) == (12000, 1333)
    assert row["details"]["segments"] == []  # a tenant's own test has no tenant segments
    assert row["details"]["look"]["decision"] == "promote" and row["alpha_spent"] > 0

    scope_key = f"tenant:{tenant}"
    in_production = rows(owner, "SELECT id FROM ai.model_versions WHERE scope_key = :s AND agent_type = :a AND is_production",
                         s=scope_key, a=AGENT)
    assert in_production == [{"id": candidate}]
    assert version_row(owner, production)["status"] == "retired"
    assert version_row(owner, candidate)["rollback_version"] == production
    history = rows(owner, "SELECT * FROM ai.production_history WHERE scope_key = :s ORDER BY started_at, ended_at NULLS LAST", s=scope_key)
    assert [(h["model_version_id"], h["event"], h["ended_at"]) for h in history] == [
        (production, "first_model", NOW), (candidate, "promotion", None)]
    assert history[1]["actor"] == "experiments" and test["test_id"] in history[1]["reason"]
    ended = ab_test_row(owner, test["test_id"])
    assert ended["status"] == "promoted" and ended["ended_at"] == NOW

    again = evaluate(test["test_id"])  # a redelivered evaluation
    assert not again["written"] and again["test_status"] == "promoted"
    assert len(decisions(owner, test["test_id"])) == 1
    assert rows(owner, "SELECT count(*) AS n FROM ai.production_history WHERE scope_key = :s", s=scope_key) == [{"n": 2}]


def test_a_clearly_worse_candidate_is_rejected_and_retired(scope, owner):
    tenant, production, (candidate,) = scope(21)
    test = started_test(tenant, production, candidate, days_ago=9)
    log_group(owner, test, "control", keys=9000, labelled=9000, correct=8100)
    log_group(owner, test, "treatment", keys=1000, labelled=1000, correct=700)

    result = evaluate(test["test_id"])
    assert result["decision"]["decision"] == "reject" and result["test_status"] == "rejected"
    assert result["decision"]["reason"].startswith("treatment significantly worse")
    rejected = version_row(owner, candidate)
    assert rejected["status"] == "rejected" and not rejected["is_production"] and not rejected["is_active"]
    assert test["test_id"] in rejected["status_reason"]
    assert version_row(owner, production)["is_production"]
    assert ab_test_row(owner, test["test_id"])["status"] == "rejected"
    (row,) = decisions(owner, test["test_id"])
    assert (row["control_samples"], row["control_correct"], row["treatment_samples"], row["treatment_correct"]) == (9000, 8100, 1000, 700)
    assert row["z_statistic"] == pytest.approx(
        compare(RatioSums.independent(700, 1000), RatioSums.independent(8100, 9000)).z, rel=1e-9)


def test_a_12_88_split_against_10_90_stops_the_test_and_raises_one_critical_alert(scope, owner):
    tenant, production, (candidate,) = scope(31)
    test = started_test(tenant, production, candidate, days_ago=8)
    log_group(owner, test, "control", keys=8800, labelled=8800, correct=7920)
    log_group(owner, test, "treatment", keys=1200, labelled=1200, correct=1080)

    result = evaluate(test["test_id"])
    assert result["decision"]["decision"] == "stop_srm" and result["test_status"] == "stopped"
    (row,) = decisions(owner, test["test_id"])
    expected_p = float(srm_p_values(8800, 1200, 0.1))
    assert expected_p < 0.001 / ABTestConfig().max_looks and row["srm_p_value"] == pytest.approx(expected_p, rel=1e-6)
    assert row["p_value"] is None and row["z_statistic"] is None  # no comparison is made on a broken split
    alerts = rows(owner, "SELECT * FROM ai.alerts WHERE alert_type = 'ab_test_sample_ratio_mismatch' AND details->>'ab_test_id' = :k", k=str(test['test_id']))
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert["severity"], alert["status"], alert["alert_type"]) == ("critical", "active", "ab_test_sample_ratio_mismatch")
    assert alert["tenant_id"] == tenant and alert["model_version_id"] == candidate and alert["occurrences"] == 1
    assert alert["details"]["treatment_assigned"] == 1200 and alert["details"]["control_assigned"] == 8800
    # the candidate is untested, not judged: it waits for a new test once the split is fixed
    assert version_row(owner, candidate)["status"] == "candidate"
    assert version_row(owner, production)["is_production"]

    again = evaluate(test["test_id"])
    assert not again["written"] and len(decisions(owner, test["test_id"])) == 1
    assert len(rows(owner, "SELECT id FROM ai.alerts WHERE alert_type = 'ab_test_sample_ratio_mismatch' AND details->>'ab_test_id' = :k", k=str(test['test_id']))) == 1


def test_before_seven_days_a_look_continues_with_the_reason_and_is_written_once(scope, owner):
    tenant, production, (candidate,) = scope(41)
    test = started_test(tenant, production, candidate, days_ago=3)
    # a lift that would be promoted after a week
    log_group(owner, test, "control", keys=9000, labelled=9000, correct=7200)
    log_group(owner, test, "treatment", keys=1000, labelled=1000, correct=950)

    daily = app.send_task(EVALUATE_ALL).get(timeout=300)  # the beat's task: every running test's look
    (mine,) = [entry for entry in daily["tests"] if entry["test_id"] == test["test_id"]]
    assert mine["written"] and mine["decision"]["decision"] == "continue_testing"
    assert mine["decision"]["reason"] == "running 3.0 of at least 7.0 days"
    assert mine["decision"]["look_number"] == 4 and mine["test_status"] == "running"

    again = evaluate(test["test_id"])  # on demand, the same day
    assert not again["written"] and again["decision"]["look_number"] == 4
    (row,) = decisions(owner, test["test_id"])
    assert row["decision"] == "continue_testing" and row["details"]["look"] is None
    assert (row["control_samples"], row["treatment_samples"]) == (9000, 1000)
    assert version_row(owner, candidate)["status"] == "testing" and version_row(owner, production)["is_production"]
    assert ab_test_row(owner, test["test_id"])["status"] == "running"


def test_a_newer_candidate_waits_for_the_running_test_and_the_newest_is_tested_when_it_ends(scope, owner):
    tenant, production, (first, second, third, held) = scope(51, candidates=4)
    with owner.begin() as connection:  # the newest, but the gate held it unjudged: no test until a person looks
        connection.execute(text("UPDATE ai.model_versions SET status_reason = 'not judged: production could not be loaded'"
                                " WHERE id = :id"), {"id": held})
    test = started_test(tenant, production, first, days_ago=8)
    queued = app.send_task(START, args=[str(second)]).get(timeout=60)
    assert queued["status"] == "queued" and queued["running_test_id"] == test["test_id"]
    assert start(tenant, third, days_ago=0)["status"] == "queued"
    assert version_row(owner, second)["status"] == "candidate" and test["test_id"] in version_row(owner, second)["status_reason"]

    log_group(owner, test, "control", keys=9000, labelled=9000, correct=8100)
    log_group(owner, test, "treatment", keys=1000, labelled=1000, correct=700)
    result = evaluate(test["test_id"])
    assert result["test_status"] == "rejected"
    assert result["next_test"]["status"] == "started" and result["next_test"]["candidate_version_id"] == str(third)

    running = rows(owner, "SELECT * FROM ai.ab_tests WHERE scope_key = :s AND status = 'running'", s=f"tenant:{tenant}")
    assert len(running) == 1 and running[0]["treatment_version_id"] == third
    assert running[0]["control_version_id"] == production and running[0]["started_at"] == NOW
    assert version_row(owner, third)["status"] == "testing"
    superseded = version_row(owner, second)
    assert superseded["status"] == "retired" and "newer candidate" in superseded["status_reason"]
    assert version_row(owner, held)["status"] == "candidate"


def test_a_test_whose_control_was_rolled_back_is_cancelled_and_its_candidate_tested_against_the_restored_model(fixed_worker, owner):
    tenant = tenants.create_tenant(f"ab-rollback-{uuid.uuid4().hex[:6]}")
    restored = record_model(AGENT, tenant, tenant_seed=101, rows=300)["id"]
    degraded = record_model(AGENT, tenant, tenant_seed=102, rows=300)["id"]  # replaces it in production
    candidate = record_model(AGENT, tenant, tenant_seed=103, rows=300, promote=False)["id"]
    test = started_test(tenant, degraded, candidate, days_ago=8)
    with db.tenant_scope(tenant) as connection:
        promotion.promote(connection, restored, actor="rollback", reason="accuracy fell", event="rollback", now=NOW)

    result = evaluate(test["test_id"])
    assert result["test_status"] == "cancelled" and not result["written"] and result["decision"] is None
    assert "is no longer production" in ab_test_row(owner, test["test_id"])["end_reason"]
    assert decisions(owner, test["test_id"]) == []
    assert result["next_test"]["status"] == "started" and result["next_test"]["candidate_version_id"] == str(candidate)
    assert result["next_test"]["control_version_id"] == str(restored)


def test_a_cancelled_test_frees_its_candidate_for_a_new_test(scope, owner):
    tenant, production, (candidate,) = scope(61)
    test = started_test(tenant, production, candidate, days_ago=2)
    with db.tenant_scope(tenant) as connection:
        cancelled = lifecycle.cancel_test(connection, test["test_id"], actor="ops", reason="wrong traffic mix", now=NOW)
    assert cancelled["changed"] and cancelled["status"] == "cancelled"
    ended = ab_test_row(owner, test["test_id"])
    assert ended["status"] == "cancelled" and ended["end_reason"] == "cancelled by ops: wrong traffic mix"
    assert version_row(owner, candidate)["status"] == "candidate"
    with db.tenant_scope(tenant) as connection:
        assert not lifecycle.cancel_test(connection, test["test_id"], actor="ops", reason="again", now=NOW)["changed"]
    restarted = app.send_task(START, args=[str(candidate)]).get(timeout=60)
    assert restarted["status"] == "started" and restarted["test_id"] != test["test_id"]


def test_requests_that_cannot_be_honoured_are_refused_with_the_reason(scope):
    tenant, production, (candidate,) = scope(71)
    assert app.send_task(START, args=["v1.1"]).get(timeout=60) == {
        "status": "refused", "reason": "a model version id must be a UUID, got 'v1.1'"}
    refused = app.send_task(START, args=[str(production)]).get(timeout=60)
    assert refused["status"] == "refused" and "is production: only a candidate can be A/B tested" in refused["reason"]
    unknown = uuid.uuid4()
    assert app.send_task(EVALUATE, args=[str(unknown)]).get(timeout=60) == {
        "status": "refused", "reason": f"A/B test {unknown} does not exist (or belongs to another tenant)"}
    assert app.send_task(SHADOW, args=[str(production)]).get(timeout=60)["status"] == "refused"


def test_shadow_replay_reports_candidate_and_production_accuracy_on_the_same_logged_rows(scope, owner):
    tenant, production, (candidate,) = scope(81)
    agent = get_agent(AGENT)
    logged = [(agent.validate_input(i), o) for i, o in generate(AGENT, 300, seed=9, tenant_seed=81)]
    judged = [n % 4 != 0 for n in range(len(logged))]  # what users said of production's answers
    at = NOW - dt.timedelta(days=1)
    insert = text("""INSERT INTO ai.prediction_log (model_version_id, agent_type, tenant_id, input_data, predicted_output,
                                                    actual_output, was_correct, prediction_timestamp)
                     VALUES (:version, 'classification', :tenant, CAST(:input AS jsonb), '{}'::jsonb,
                             CAST(:actual AS jsonb), :correct, :at)""")

    def log(version, pairs, correct, when, actual=True):
        with owner.begin() as connection:
            connection.execute(insert, [{"version": version, "tenant": tenant, "input": json.dumps(i),
                                         "actual": json.dumps(o) if actual else None, "correct": c, "at": when}
                                        for (i, o), c in zip(pairs, correct)])

    log(production, logged, judged, at)
    distractors = logged[:20]
    log(production, distractors, [None] * 20, at)  # no feedback yet
    log(production, distractors, [True] * 20, at, actual=False)  # feedback without the right answer
    log(candidate, distractors, [False] * 20, at)  # served by another version
    log(production, distractors, [False] * 20, NOW + dt.timedelta(hours=2))  # after the evaluation's time

    store = ArtifactStore(settings().artifact_dir)
    labels = [agent.label(o) for _, o in logged]

    def right(version_id) -> list[bool]:
        version = version_row(owner, version_id)
        model = store.load(version["model_artifact_path"], version["artifact_sha256"])
        return [p.label == label for p, label in zip(agent.predict(model, [i for i, _ in logged]), labels)]

    by_candidate, by_production = right(candidate), right(production)
    report = app.send_task(SHADOW, args=[str(candidate)]).get(timeout=120)
    assert report["rows"] == 300 and report["skipped"] == {}
    assert report["candidate"]["correct"] == sum(by_candidate)
    assert report["candidate"]["accuracy"] == pytest.approx(sum(by_candidate) / 300)
    assert report["production"]["correct"] == sum(by_production)
    assert report["production"]["logged_correct"] == sum(judged) == 225
    assert report["lift"] == pytest.approx((sum(by_candidate) - sum(by_production)) / 300)
    assert report["only_candidate_correct"] == sum(c and not p for c, p in zip(by_candidate, by_production))
    assert report["only_production_correct"] == sum(p and not c for c, p in zip(by_candidate, by_production))
    assert sum(by_candidate) != sum(by_production) or by_candidate != by_production, "the two models should differ somewhere"
    detail = version_row(owner, candidate)["metrics_detail"]
    assert detail["shadow"] == report and "note" in detail  # recorded beside the validation metrics, which stay


def test_the_command_line_starts_shows_evaluates_and_replays(scope, owner):
    tenant, production, (candidate,) = scope(91)
    started = run("ab", "start", "--version", str(candidate), "--json")
    assert started.returncode == 0, started.stderr
    test_id = json.loads(started.stdout)["test_id"]
    status = run("ab", "status", "--tenant", str(tenant), "--json")
    (listed,) = json.loads(status.stdout)["tests"]
    assert listed["id"] == test_id and listed["status"] == "running" and listed["latest_decision"] is None
    assert listed["control_version_id"] == str(production) and listed["treatment_version_id"] == str(candidate)

    evaluated = run("ab", "evaluate", test_id, "--json")
    (result,) = json.loads(evaluated.stdout)["tests"]
    assert result["decision"]["decision"] == "continue_testing" and result["decision"]["look_number"] == 1
    status = run("ab", "status", "--tenant", str(tenant), "--json")
    assert json.loads(status.stdout)["tests"][0]["latest_decision"]["reason"] == "running 0.0 of at least 7.0 days"

    shadow = run("ab", "shadow", "--version", str(candidate), "--json")
    assert shadow.returncode == 0 and json.loads(shadow.stdout)["rows"] == 0  # production has logged nothing
    refused = run("ab", "start", "--version", str(production))
    assert refused.returncode == 2 and refused.stderr.startswith("error: ") and "is production" in refused.stderr
