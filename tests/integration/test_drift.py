"""Drift through real workers: the training pipeline stores a version's profile; predictions the
serving worker logs are compared with it by the drift task; inputs from another population raise
one drift alert, and an early retrain is queued when configured."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from modelops import clock, db, tenants
from modelops.agents.synthetic import generate
from modelops.monitoring import drift
from tests.callers import signed_batch
from tests.integration.training_support import seed, synthetic_rows, train
from workers.app import app

pytestmark = pytest.mark.integration

AGENT = "classification"
CHECK_DRIFT = "modelops.rollback.check_drift"
PREDICT_BATCH = "modelops.serving.predict_batch"


@pytest.fixture(scope="module")
def trained(worker):
    """A tenant whose classification model was trained by the pipeline on its own feedback."""
    tenant = tenants.create_tenant(f"drift-{uuid.uuid4().hex[:6]}")
    seed(tenant, AGENT, synthetic_rows(AGENT, 600, tenant_seed=41))
    result = train(AGENT, tenant)
    assert result["status"] == "succeeded" and result["decision"]["outcome"] == "production", result
    return tenant, uuid.UUID(result["model_version_id"])


def predict(tenant, tenant_seed: int, count: int, data_seed: int) -> None:
    """``count`` predictions through the serving worker, of inputs drawn from ``tenant_seed``'s population."""
    requests = [{"tenant_id": str(tenant), "agent_type": AGENT, "input_data": row}
                for row, _ in generate(AGENT, count, seed=data_seed, tenant_seed=tenant_seed)]
    for start in range(0, len(requests), 500):
        answers = app.send_task(PREDICT_BATCH, kwargs=signed_batch(PREDICT_BATCH, requests[start:start + 500])).get(timeout=120)
        assert all(answer["status"] == "predicted" for answer in answers)


def check(version) -> dict:
    (result,) = app.send_task(CHECK_DRIFT, kwargs={"model_version_ids": [str(version)]}).get(timeout=120)["results"]
    return result


def drift_rows(owner, version) -> list[dict]:
    with owner.begin() as connection:
        return [dict(r) for r in connection.execute(
            text("SELECT * FROM ai.drift_checks WHERE model_version_id = :v ORDER BY checked_at"), {"v": version}).mappings()]


def test_the_pipeline_stores_the_profile_of_what_the_model_was_trained_on(trained, owner):
    tenant, version = trained
    with owner.begin() as connection:
        stored = connection.execute(text("SELECT * FROM ai.training_profiles WHERE model_version_id = :v"), {"v": version}).mappings().one()
    assert stored["tenant_id"] == tenant and stored["agent_type"] == AGENT and stored["rows_profiled"] > 400
    assert {"amount", "merchant.words", "description.words"} <= set(stored["profile"]["features"])
    assert sum(stored["profile"]["confidence"]["shares"]) == pytest.approx(1)


def test_inputs_like_the_training_data_show_no_drift_and_too_few_are_not_judged(trained, owner):
    tenant, version = trained
    predict(tenant, tenant_seed=41, count=100, data_seed=7)
    early = check(version)
    assert early["outcome"] == "too_few" and early["sample_size"] == 100
    predict(tenant, tenant_seed=41, count=700, data_seed=8)
    result = check(version)
    assert result["outcome"] == "stable" and result["sample_size"] == 800 and result["shifted"] == {}
    assert result["max_psi"] < drift.PSI_THRESHOLD
    (recorded,) = drift_rows(owner, version)
    assert not recorded["drifted"] and recorded["alert_id"] is None and recorded["sample_size"] == 800
    with owner.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM ai.alerts WHERE model_version_id = :v AND alert_type = 'drift'"),
                                  {"v": version}).scalar() == 0


def test_inputs_from_another_population_raise_one_drift_alert(trained, owner):
    tenant, version = trained
    predict(tenant, tenant_seed=977, count=2_000, data_seed=9)  # another business's transactions
    result = check(version)
    assert result["outcome"] == "drifted" and result["training_run_id"] is None  # no early retrain unless configured
    assert set(result["shifted"]) & {"merchant.words", "description.words"}
    assert all(value > drift.PSI_THRESHOLD for value in result["shifted"].values())
    again = check(version)
    assert again["outcome"] == "drifted" and again["alert_id"] == result["alert_id"]
    with owner.begin() as connection:
        alert = connection.execute(text("SELECT * FROM ai.alerts WHERE id = :id"), {"id": result["alert_id"]}).mappings().one()
    assert (alert["alert_type"], alert["severity"], alert["audience"], alert["occurrences"]) == ("drift", "warning", "ml", 2)
    assert alert["tenant_id"] == tenant and alert["model_version_id"] == version and alert["notified_at"] is not None
    assert "Input drift on classification" in alert["message"]
    latest = drift_rows(owner, version)[-1]
    assert latest["drifted"] and latest["alert_id"] == alert["id"] and latest["features"]["merchant.words"] > drift.PSI_THRESHOLD


def test_a_drifted_tenant_model_is_queued_for_an_early_retrain_once_when_configured(trained, owner):
    tenant, version = trained
    results, queued = drift.check_drift(clock.now(), [version], retrain=True)
    assert results[0]["outcome"] == "drifted" and queued == [uuid.UUID(results[0]["training_run_id"])]
    with db.operator_scope() as connection:
        run = connection.execute(text("SELECT * FROM ai.training_runs WHERE id = :id"), {"id": queued[0]}).mappings().one()
    assert (run["trigger"], run["status"], run["scope_key"], run["requested_by"]) == ("drift", "queued", f"tenant:{tenant}", "drift-monitor")
    assert "input drift on v1.0" in run["trigger_reason"]
    _, again = drift.check_drift(clock.now(), [version], retrain=True)
    assert again == []  # one early retrain per drifted version
