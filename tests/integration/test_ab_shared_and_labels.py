"""A/B tests of shared models and the label-rate stop, through a real worker.

A regional shared model and its candidate are tested on the traffic of the tenants the region's
model serves; each tenant is a segment of the decision, and a candidate that harms one of them is
refused naming it. A test whose arms get feedback at different rates is stopped with its reason.
The audit rows are written directly (as the owner), as in test_ab_lifecycle.
"""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from modelops import db, tenants
from modelops.config import settings
from modelops.registry import promotion, versions
from modelops.registry.artifacts import ArtifactStore
from tests.integration.serving_models import TEST_PRINCIPAL
from tests.integration.test_ab_lifecycle import (
    AGENT, EVALUATE, NOW, START, ab_test_row, decisions, fixed_worker, rows, scope, start, version_row,
)
from workers.app import app

pytestmark = pytest.mark.integration
__all__ = ["fixed_worker", "scope"]  # fixtures this module's tests use

LOG_ROWS = text("""
    INSERT INTO ai.prediction_log (model_version_id, agent_type, tenant_id, input_data, predicted_output, was_correct,
                                   prediction_timestamp, ab_test_id, ab_group, request_key)
    SELECT :version, 'classification', :tenant, '{}'::jsonb, '{}'::jsonb,
           CASE WHEN n <= :correct THEN true WHEN n <= :labelled THEN false END,
           :at, :test, :group, CAST(:tenant AS text) || '-' || CAST(:group AS text) || '-' || n::text
    FROM generate_series(1, :keys) AS n
""")


def log(owner, test: dict, tenant: uuid.UUID, group: str, *, keys: int, labelled: int, correct: int) -> None:
    """One prediction for each of ``keys`` keys of ``tenant`` in ``group``: ``correct`` right, up to
    ``labelled`` wrong, the rest without feedback."""
    version = test["control_version_id"] if group == "control" else test["candidate_version_id"]
    with owner.begin() as connection:
        connection.execute(LOG_ROWS, {"version": version, "tenant": tenant, "test": test["test_id"], "group": group,
                                      "keys": keys, "labelled": labelled, "correct": correct,
                                      "at": NOW - dt.timedelta(days=1)})


def regional_version(region: str, *, promote: bool) -> uuid.UUID:
    """A shared model of ``region`` (no tenant); its artifact is never loaded by these tests."""
    stored = ArtifactStore(settings().artifact_dir).save({"shared test model": region})
    new = versions.NewVersion(
        agent_type=AGENT, tenant_id=None, region=region, trained_on=NOW - dt.timedelta(days=30),
        training_samples=800, validation_samples=200,
        metrics={"accuracy": 0.85, "precision": 0.85, "recall": 0.85, "f1": 0.85},
        metrics_detail={"note": "shared test model"}, training_duration=dt.timedelta(0),
        artifact_path=stored.path, artifact_sha256=stored.sha256, artifact_size_bytes=stored.size_bytes,
        training_config={"data": {"region": region}}, created_by=TEST_PRINCIPAL,
    )
    with db.operator_scope() as connection:
        version_id, _ = versions.record(connection, new, NOW - dt.timedelta(days=30))
        if promote:
            promotion.promote(connection, version_id, actor="tests", reason="shared test model", event="first_model",
                              now=NOW - dt.timedelta(days=30))
    return version_id


@pytest.fixture
def shared_test(fixed_worker):
    """A running test of a regional candidate against its production model, started by the worker
    fifteen days before NOW (its look falls in the third week: the first week's guard look asks a
    tenant's bound for far more evidence), and three tenants of the region: 60%, 30% and 10% of the
    traffic."""
    region = f"T{uuid.uuid4().hex[:8]}"
    production = regional_version(region, promote=True)
    candidate = regional_version(region, promote=False)
    started = app.send_task(START, args=[str(candidate)]).get(timeout=120)
    assert started["status"] == "started" and started["control_version_id"] == str(production)
    with db.operator_scope() as connection:  # as if started fifteen days ago
        connection.execute(text("UPDATE ai.ab_tests SET started_at = :at WHERE id = :id"),
                           {"at": NOW - dt.timedelta(days=15), "id": started["test_id"]})
    names = [f"shared-{share}-{uuid.uuid4().hex[:6]}" for share in (60, 30, 10)]
    return {**started, "production": production, "candidate": candidate,
            "tenants": [(tenants.create_tenant(name), name) for name in names]}


def log_tenants(owner, test: dict, treatment_accuracy: list[float]) -> None:
    """Each tenant's share of 60,000 keys, 10% in treatment, all labelled; control right 85% of the
    time everywhere, treatment at the given accuracy per tenant."""
    for (tenant, _), share, accuracy in zip(test["tenants"], (0.6, 0.3, 0.1), treatment_accuracy):
        control, treatment = round(54_000 * share), round(6_000 * share)
        log(owner, test, tenant, "control", keys=control, labelled=control, correct=round(0.85 * control))
        log(owner, test, tenant, "treatment", keys=treatment, labelled=treatment, correct=round(accuracy * treatment))


def test_a_shared_candidate_that_harms_one_tenant_is_refused_naming_that_tenant(shared_test, owner):
    # better for the two big tenants, ten points worse for the one with 10% of the traffic
    log_tenants(owner, shared_test, [0.90, 0.90, 0.75])
    result = app.send_task(EVALUATE, args=[shared_test["test_id"]]).get(timeout=120)
    assert result["decision"]["decision"] == "reject" and result["test_status"] == "rejected"
    (harmed_tenant, harmed_name) = shared_test["tenants"][2]
    reason = result["decision"]["reason"]
    assert reason.startswith("treatment significantly worse for tenant") and harmed_name in reason
    assert all(name not in reason for _, name in shared_test["tenants"][:2])
    (row,) = decisions(owner, shared_test["test_id"])
    segments = {s["name"]: s for s in row["details"]["segments"]}
    assert len(segments) == 3
    harmed = segments[f"tenant {harmed_name} ({harmed_tenant})"]
    assert harmed["harmed"] and harmed["lift"] == pytest.approx(-0.10)
    # overall the candidate looked better: only the segment refused it
    assert float(row["treatment_accuracy"]) > float(row["control_accuracy"])
    assert version_row(owner, shared_test["candidate"])["status"] == "rejected"
    assert version_row(owner, shared_test["production"])["is_production"]


def test_a_shared_candidate_better_for_every_tenant_is_promoted(shared_test, owner):
    log_tenants(owner, shared_test, [0.90, 0.90, 0.90])
    result = app.send_task(EVALUATE, args=[shared_test["test_id"]]).get(timeout=120)
    assert result["decision"]["decision"] == "promote" and result["test_status"] == "promoted"
    (row,) = decisions(owner, shared_test["test_id"])
    assert sorted(s["name"].split(" (")[0] for s in row["details"]["segments"]) == sorted(
        f"tenant {name}" for _, name in shared_test["tenants"])
    assert not any(s["harmed"] or s["holds_promotion"] for s in row["details"]["segments"])
    assert version_row(owner, shared_test["candidate"])["is_production"]


def test_arms_labelled_at_different_rates_stop_the_test_with_the_reason(scope, owner):
    tenant, production, (candidate,) = scope(61)
    test = {**start(tenant, candidate, days_ago=8), "tenant": tenant}
    # the split is right (9,000 : 1,000 keys) but treatment gets feedback on 60% of its predictions, control on 40%
    log(owner, test, tenant, "control", keys=9_000, labelled=3_600, correct=3_060)
    log(owner, test, tenant, "treatment", keys=1_000, labelled=600, correct=540)

    result = app.send_task(EVALUATE, args=[test["test_id"]]).get(timeout=120)
    assert result["decision"]["decision"] == "stop_label_rate" and result["test_status"] == "stopped"
    assert "label rate mismatch: 60.0% of treatment's predictions labelled against 40.0% of control's" in (
        result["decision"]["reason"])
    (row,) = decisions(owner, test["test_id"])
    assert row["z_statistic"] is None  # no comparison is made on biased labels
    assert row["details"]["srm_p_value"] > 0.01  # the split itself was fine
    (alert,) = rows(owner, "SELECT * FROM ai.alerts WHERE alert_type = 'ab_test_label_rate_mismatch' "
                           "AND details->>'ab_test_id' = :k", k=test["test_id"])
    assert alert["severity"] == "critical" and alert["details"]["treatment_label_rate"] == pytest.approx(0.6)
    assert ab_test_row(owner, test["test_id"])["status"] == "stopped"
    assert version_row(owner, candidate)["status"] == "candidate"  # waits for a person's look, untested
    assert version_row(owner, production)["is_production"]
