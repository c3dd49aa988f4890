"""Drift: are a production model's recent inputs and confidences still those it was trained on?

When a version is trained, the training pipeline stores a profile of its training inputs and of
its confidence on the validation rows (modelops/training/profile.py). The check
compares the version's recent logged predictions with that profile, feature by feature, by the
population stability index

    PSI = sum over bins of (recent share - training share) x ln(recent share / training share)

(shares floored at ``SHARE_FLOOR`` so that an empty bin counts as rare, not as infinitely
surprising). Conventionally a PSI under 0.1 is no shift, 0.1 to 0.25 a moderate one, above 0.25
a shift worth acting on: beyond ``PSI_THRESHOLD`` on any feature or on the confidences, a drift
alert is raised for the ML team and, when ``MODELOPS_DRIFT_RETRAIN`` is set, the tenant's model
is queued for an early retrain (once per version), since its own recent feedback is the evidence
of the new population.

Recent inputs are read and binned as the profile's features were (see there).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from modelops import db
from modelops.alerting import alerts
from modelops.registry import store
from modelops.registry.versions import scope_parts
from modelops.training import runs
from modelops.training.profile import (
    bin_shares,
    categorical_bin_indexes,
    flatten,
    lengths,
    numeric_bin_indexes,
    words,
)

PSI_THRESHOLD = 0.25
SHARE_FLOOR = 1e-4
RECENT_WINDOW = dt.timedelta(days=1)
RECENT_ROWS = 5_000  # the most recent predictions of the window that are compared
MIN_RECENT = 500  # below this many the PSI of ten bins is mostly sampling noise
RETRAIN_SETTING = "MODELOPS_DRIFT_RETRAIN"
CHECKER = "drift-monitor"


# --- profiles (pure) ---------------------------------------------------------------------------------

def psi(expected: list[float], actual: list[float]) -> float:
    e = np.maximum(np.asarray(expected, dtype=float), SHARE_FLOOR)
    a = np.maximum(np.asarray(actual, dtype=float), SHARE_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


READERS = {"value": lambda column: column, "length": lengths, "words": words}


def recent_shares(bins: dict, column: list[Any]) -> list[float]:
    """Shares of ``column``, read as the profile's view reads it, in the view's training bins."""
    values = READERS[bins.get("read_as", "value")](column)
    if bins["kind"] == "numeric":
        numbers = [value if isinstance(value, (int, float)) and not isinstance(value, bool) else None for value in values]
        return bin_shares(numeric_bin_indexes(bins["edges"], numbers), len(bins["edges"]) + 2)
    labels = [None if value is None else str(value) for value in values]
    return bin_shares(categorical_bin_indexes(bins["categories"], labels), len(bins["categories"]) + 2)


def compare(profile: dict, inputs: list[dict], confidences: list[float]) -> dict:
    """{"features": {name: psi}, "confidence": psi or None} of recent inputs against ``profile``."""
    flat = [flatten(row) for row in inputs]
    features = {}
    for name, bins in profile["features"].items():
        column = [row.get(bins["field"]) for row in flat]
        features[name] = round(psi(bins["shares"], recent_shares(bins, column)), 6)
    confidence = None
    if profile.get("confidence") and confidences:
        confidence = round(psi(profile["confidence"]["shares"], recent_shares(profile["confidence"], confidences)), 6)
    return {"features": features, "confidence": confidence}


# --- storage and the check ---------------------------------------------------------------------------

PROFILES = text("SELECT model_version_id, profile FROM ai.training_profiles WHERE model_version_id = ANY(CAST(:ids AS uuid[]))")

RECENT = text("""
    SELECT input_data, confidence_score FROM ai.prediction_log
    WHERE model_version_id = :version AND prediction_timestamp > :since AND prediction_timestamp <= :now
    ORDER BY prediction_timestamp DESC
    LIMIT :limit
""")

RECORD_CHECK = text("""
    INSERT INTO ai.drift_checks (model_version_id, tenant_id, agent_type, checked_at, window_start, sample_size, max_psi,
                                 confidence_psi, drifted, features, reason, alert_id, training_run_id)
    VALUES (:version, :tenant, :agent, :now, :since, :sample, :max_psi, :confidence_psi, :drifted,
            CAST(:features AS jsonb), :reason, :alert, :run)
""")


def check_drift(now: dt.datetime, model_version_ids: list[Any] | None = None,
                retrain: bool | None = None) -> tuple[list[dict], list[uuid.UUID]]:
    """Check every production version (or those named); returns (one result per version, the
    training runs queued for an early retrain, to be sent once this has committed)."""
    retrain = os.environ.get(RETRAIN_SETTING, "").lower() in ("1", "true", "yes") if retrain is None else retrain
    ids = [_version_id(value) for value in model_version_ids] if model_version_ids is not None else None
    results, queued = [], []
    with db.operator_scope() as connection:
        versions = store.production_versions(connection, ids)
        profiles = dict(connection.execute(PROFILES, {"ids": [str(version.id) for version in versions]}).all())
    for version in versions:
        with db.operator_scope() as connection:
            result = _check_version(connection, version, profiles.get(version.id), now, retrain)
        results.append(result)
        if result.get("training_run_id"):
            queued.append(uuid.UUID(result["training_run_id"]))
    return results, queued


def _check_version(connection: Connection, version: store.ModelVersion, profile: dict | None, now: dt.datetime,
                   retrain: bool) -> dict:
    base = {"model_version_id": str(version.id), "agent_type": version.agent_type, "scope_key": version.scope_key}
    if profile is None:
        return {**base, "outcome": "no_profile", "reason": "no training profile was stored for this version"}
    since = now - RECENT_WINDOW
    rows = connection.execute(RECENT, {"version": version.id, "since": since, "now": now, "limit": RECENT_ROWS}).all()
    if len(rows) < MIN_RECENT:
        return {**base, "outcome": "too_few", "sample_size": len(rows),
                "reason": f"{len(rows)} predictions in the last {RECENT_WINDOW}, fewer than {MIN_RECENT}"}
    confidences = [float(row.confidence_score) for row in rows if row.confidence_score is not None]
    found = compare(profile, [row.input_data for row in rows], confidences)
    shifted = {name: value for name, value in found["features"].items() if value > PSI_THRESHOLD}
    if found["confidence"] is not None and found["confidence"] > PSI_THRESHOLD:
        shifted["confidence"] = found["confidence"]
    max_psi = max(found["features"].values(), default=None)
    drifted = bool(shifted)
    largest_first = sorted(shifted.items(), key=lambda item: -item[1])
    reason = (f"PSI above {PSI_THRESHOLD}: " + ", ".join(f"{name} {value:.3f}" for name, value in largest_first) if drifted
              else f"every PSI at most {PSI_THRESHOLD} (largest {max(max_psi or 0, found['confidence'] or 0):.3f})")
    alert_id = run_id = None
    if drifted:
        alert_id = alerts.raise_alert(
            connection, alert_type="drift", severity="warning", audience="ml", tenant_id=version.tenant_id,
            agent_type=version.agent_type, model_version_id=version.id, now=now,
            message=f"Input drift on {version.agent_type} {version.version} of {version.scope_key}: {reason}",
            details={"psi": shifted, "threshold": PSI_THRESHOLD, "sample_size": len(rows)})["id"]
        if retrain:
            run_id = _queue_retrain(connection, version, reason, now)
    connection.execute(RECORD_CHECK, {
        "version": version.id, "tenant": version.tenant_id, "agent": version.agent_type, "now": now,
        "since": since, "sample": len(rows), "max_psi": max_psi, "confidence_psi": found["confidence"],
        "drifted": drifted, "features": json.dumps(found["features"]), "reason": reason, "alert": alert_id, "run": run_id,
    })
    return {**base, "outcome": "drifted" if drifted else "stable", "sample_size": len(rows), "max_psi": max_psi,
            "confidence_psi": found["confidence"], "shifted": shifted, "reason": reason,
            "alert_id": alert_id, "training_run_id": str(run_id) if run_id else None}


def _queue_retrain(connection: Connection, version: store.ModelVersion, reason: str, now: dt.datetime) -> uuid.UUID | None:
    """An early training run of a tenant's model, once per drifted version; shared (global and
    regional) models learn from pooled or synthetic data that a tenant's drift does not change."""
    tenant_id, _ = scope_parts(version.scope_key)
    if tenant_id is None:
        return None
    return runs.create(connection, agent_type=version.agent_type, tenant_id=tenant_id, scope_key=version.scope_key,
                       trigger="drift", reason=f"input drift on {version.version}: {reason}", requested_by=CHECKER,
                       run_key=f"drift:{version.id}", now=now)


def _version_id(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError(f"a model version id must be a UUID, got {value!r}") from None
