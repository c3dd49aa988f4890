"""Shared models judged per tenant: a global or regional model that serves one tenant poorly.

A shared model's rollback conditions read its metrics summed over every tenant it serves, so one
tenant it fits badly (its own categories, a bank feed unlike the others') hides among the many it
serves well, and rolling the shared model back would take it from all of them. So, once a day, each
shared production version's last ``WINDOW_DAYS`` days of labelled predictions are counted per
tenant, and a tenant with at least ``rollback.MIN_LABELLED`` of them whose accuracy is below
``rollback.ACCURACY_RATIO`` x the version's validation accuracy, by the rollback rule's own test
(the same score test at the same level), gets a warning for the ML team that names the tenant and
the remedy: that tenant's own model. Nothing is rolled back: the other tenants keep a model that
serves them.
"""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text

from modelops import db
from modelops.alerting import alerts
from modelops.monitoring import rollback
from modelops.registry import store

WINDOW_DAYS = 7
POOR_FIT = "shared_model_poor_fit"

PER_TENANT = text("""
    SELECT tenant_id, count(*) AS labelled, count(*) FILTER (WHERE was_correct) AS correct
    FROM ai.prediction_log
    WHERE model_version_id = :version AND was_correct IS NOT NULL
      AND prediction_timestamp > :since AND prediction_timestamp <= :now
    GROUP BY tenant_id
""")


def judge_tenant(labelled: int, correct: int, version: store.ModelVersion) -> dict:
    """The rollback rule's accuracy condition, on one tenant's share of a shared version's traffic."""
    baseline = version.accuracy_score
    condition = {"labelled": labelled, "correct": correct, "accuracy": correct / labelled if labelled else None,
                 "baseline": float(baseline) if baseline is not None else None, "threshold": rollback.ACCURACY_RATIO,
                 "validation_samples": version.validation_samples, "p_value": None, "breached": False}
    if baseline is None or labelled < rollback.MIN_LABELLED:
        return condition
    p_value = float(rollback.accuracy_p_value(correct, labelled, float(baseline), version.validation_samples))
    breached = bool(rollback.accuracy_breached(correct, labelled, float(baseline), version.validation_samples))
    return {**condition, "p_value": p_value, "breached": breached}


def check(now: dt.datetime) -> list[dict]:
    """Every shared production version, per tenant; one result per tenant it fits poorly."""
    with db.operator_scope() as connection:
        ids = store.production_ids(connection)
    found = []
    for version_id in ids:
        with db.operator_scope() as connection:
            version = store.get(connection, version_id)
            if version is None or version.tenant_id is not None:
                continue
            counts = connection.execute(PER_TENANT, {"version": version_id, "now": now,
                                                     "since": now - dt.timedelta(days=WINDOW_DAYS)}).all()
            for row in counts:
                condition = judge_tenant(row.labelled, row.correct, version)
                if condition["breached"]:
                    found.append(_warn(connection, version, row.tenant_id, condition, now))
    return found


def _warn(connection, version: store.ModelVersion, tenant_id: uuid.UUID, condition: dict, now: dt.datetime) -> dict:
    limit = rollback.ACCURACY_RATIO * condition["baseline"]
    message = (f"The shared {version.agent_type} model {version.version} ({version.scope_key}) serves tenant "
               f"{tenant_id} poorly: accuracy {condition['accuracy']:.4f} on its {condition['labelled']} labelled "
               f"predictions of the last {WINDOW_DAYS} days < {rollback.ACCURACY_RATIO} x validation "
               f"{condition['baseline']:.4f} = {limit:.4f} (one-sided p = {condition['p_value']:.3g}); the model stays "
               f"for the tenants it serves well: train this tenant's own model")
    alert = alerts.raise_alert(connection, alert_type=POOR_FIT, severity="warning", audience="ml", tenant_id=tenant_id,
                               agent_type=version.agent_type, model_version_id=version.id, now=now,
                               message=message, details=condition)
    return {"model_version_id": str(version.id), "tenant_id": str(tenant_id), "outcome": "poor_fit",
            "alert_id": alert["id"], "condition": condition}
