"""Drift: are a production model's recent inputs and confidences still those it was trained on?

When a version is trained, the training pipeline stores a profile of its training inputs and of
its confidence on the validation rows (``training_profile``, ``record_profile``). The check
compares the version's recent logged predictions with that profile, feature by feature, by the
population stability index

    PSI = sum over bins of (recent share - training share) x ln(recent share / training share)

(shares floored at ``SHARE_FLOOR`` so that an empty bin counts as rare, not as infinitely
surprising). Conventionally a PSI under 0.1 is no shift, 0.1 to 0.25 a moderate one, above 0.25
a shift worth acting on: beyond ``PSI_THRESHOLD`` on any feature or on the confidences, a drift
alert is raised for the ML team and, when ``MODELOPS_DRIFT_RETRAIN`` is set, the tenant's model
is queued for an early retrain (once per version), since its own recent feedback is the evidence
of the new population.

Features are read from the validated inputs alike for every agent: nested objects are flattened
to dotted names; numbers are binned at the training deciles; strings with few distinct values in
training (currency, direction, a period) are categories; other strings (descriptions, merchants,
messages) are free text, compared by their length and by their words (the training's most
frequent words, and any other word as one more bin); lists count by their length; a missing value
is a bin of its own. Features that were constant in training carry no information and are left out.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import uuid
from collections import Counter
from typing import Any, Iterable

import numpy as np
from sqlalchemy import Connection, text

from modelops import db
from modelops.monitoring import alerts
from modelops.registry.versions import scope_parts
from modelops.training import runs

PSI_THRESHOLD = 0.25
SHARE_FLOOR = 1e-4
QUANTILES = np.linspace(0.1, 0.9, 9)  # deciles: ten bins of a continuous feature
MAX_CATEGORIES = 20  # a string feature with more distinct training values is free text
MAX_FEATURES = 40
PROFILE_ROWS = 20_000  # training rows profiled (an even sample of larger sets)
RECENT_WINDOW = dt.timedelta(days=1)
RECENT_ROWS = 5_000  # the most recent predictions of the window that are compared
MIN_RECENT = 500  # below this many the PSI of ten bins is mostly sampling noise
RETRAIN_SETTING = "MODELOPS_DRIFT_RETRAIN"
CHECKER = "drift-monitor"
_WORD = re.compile(r"[^\W\d_]{2,}")  # runs of letters: numbers and references differ on every row


# --- profiles (pure) ---------------------------------------------------------------------------------

def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted name: number | string | None}: objects flattened, lists as their length, booleans as
    the strings "true" / "false" (categories, not numbers)."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list):
        return {f"{prefix}.count": float(len(value))}
    if isinstance(value, bool):
        return {prefix: "true" if value else "false"}
    if isinstance(value, (int, float)):
        return {prefix: float(value) if math.isfinite(value) else None}
    return {prefix: value if value is None else str(value)}


def _numeric_bins(values: list[float | None]) -> dict | None:
    present = np.array([v for v in values if v is not None], dtype=float)
    if present.size == 0:
        return None
    edges = np.unique(np.quantile(present, QUANTILES))
    shares = _shares(_numeric_bin_indexes(edges.tolist(), values), len(edges) + 2)
    return {"kind": "numeric", "edges": edges.tolist(), "shares": shares}


def _numeric_bin_indexes(edges: list[float], values: Iterable[float | None]) -> np.ndarray:
    """Bin i holds values in (edges[i-1], edges[i]]; the last bin (len(edges) + 1) holds missing values."""
    numbers = np.array([np.nan if value is None else value for value in values], dtype=float)
    indexes = np.searchsorted(np.asarray(edges, dtype=float), numbers, side="left")
    indexes[np.isnan(numbers)] = len(edges) + 1
    return indexes


def _categorical_bins(values: list[str | None], categories: list[str]) -> dict:
    return {"kind": "categorical", "categories": categories,
            "shares": _shares(_categorical_bin_indexes(categories, values), len(categories) + 2)}


def _categorical_bin_indexes(categories: list[str], values: Iterable[str | None]) -> list[int]:
    """Each category its bin, then one for any other value, then one for missing values."""
    position = {category: index for index, category in enumerate(categories)}
    return [len(categories) + 1 if value is None else position.get(value, len(categories)) for value in values]


def _shares(indexes, bins: int) -> list[float]:
    counts = np.bincount(np.asarray(indexes, dtype=int), minlength=bins)[:bins]
    return (counts / max(1, len(indexes))).tolist()


def _informative(bins: dict | None) -> bool:
    return bins is not None and sum(share > 0 for share in bins["shares"]) > 1


def feature_columns(rows: list[dict]) -> dict[str, list[Any]]:
    """Every flattened feature's column over ``rows`` (None where a row lacks it)."""
    flat = [flatten(row) for row in rows]
    names = Counter(name for row in flat for name in row)
    return {name: [row.get(name) for row in flat] for name, _ in names.most_common()}


def lengths(column: list[Any]) -> list[float | None]:
    return [None if value is None else float(len(str(value))) for value in column]


def words(column: list[Any]) -> list[str | None]:
    """Every word of every value, one entry each (None for a value without words): a text's
    vocabulary is its distribution, and new merchants or phrasings move it."""
    found: list[str | None] = []
    for value in column:
        tokens = _WORD.findall(str(value).lower()) if value is not None else []
        found.extend(tokens or [None])
    return found


def profile_feature(field: str, column: list[Any]) -> dict[str, dict]:
    """The views of one training column worth comparing: {name: bins with the field and how it is
    read}. Numbers and few-valued strings are read as they are; free text by its length and by
    its words (the training's most frequent ``MAX_CATEGORIES``, then any other)."""
    strings = [value for value in column if isinstance(value, str)]
    distinct = Counter(strings)
    if not strings:
        views = {field: ("value", _numeric_bins(column))}
    elif len(distinct) <= MAX_CATEGORIES:
        views = {field: ("value", _categorical_bins(column, sorted(distinct)))}
    else:
        vocabulary = [word for word, _ in Counter(w for w in words(column) if w).most_common(MAX_CATEGORIES)]
        views = {f"{field}.length": ("length", _numeric_bins(lengths(column))),
                 f"{field}.words": ("words", _categorical_bins(words(column), vocabulary))}
    return {name: {**bins, "field": field, "read_as": read_as} for name, (read_as, bins) in views.items()
            if _informative(bins)}


def training_profile(inputs: list[dict], confidences: list[float]) -> dict:
    """The profile of a version: its training inputs' features and its validation confidences
    (rounded as the audit log stores them)."""
    step = max(1, math.ceil(len(inputs) / PROFILE_ROWS))
    sample = inputs[::step]
    features: dict[str, dict] = {}
    for field, column in feature_columns(sample).items():
        features.update(profile_feature(field, column))
        if len(features) >= MAX_FEATURES:
            break
    confidence = _numeric_bins([round(float(c), 2) for c in confidences]) if confidences else None
    return {"rows": len(sample), "features": features, "confidence": confidence}


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
        return _shares(_numeric_bin_indexes(bins["edges"], numbers), len(bins["edges"]) + 2)
    labels = [None if value is None else str(value) for value in values]
    return _shares(_categorical_bin_indexes(bins["categories"], labels), len(bins["categories"]) + 2)


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

def record_profile(connection: Connection, version_id: uuid.UUID, *, agent_type: str, tenant_id: Any, profile: dict,
                   now: dt.datetime) -> None:
    """Store a version's profile once (a redelivered training job finds it there)."""
    connection.execute(
        text("""INSERT INTO ai.training_profiles (model_version_id, tenant_id, agent_type, rows_profiled, profile, created_at)
                VALUES (:version, :tenant, :agent, :rows, CAST(:profile AS jsonb), :now)
                ON CONFLICT (model_version_id) DO NOTHING"""),
        {"version": version_id, "tenant": tenant_id, "agent": agent_type, "rows": profile["rows"],
         "profile": json.dumps(profile), "now": now},
    )


PROFILED_PRODUCTION = text("""
    SELECT v.id, v.agent_type, v.version, v.tenant_id, v.scope_key, p.profile
    FROM ai.model_versions v LEFT JOIN ai.training_profiles p ON p.model_version_id = v.id
    WHERE v.is_production AND (CAST(:ids AS uuid[]) IS NULL OR v.id = ANY(CAST(:ids AS uuid[])))
    ORDER BY v.id
""")

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
    ids = [str(_version_id(value)) for value in model_version_ids] if model_version_ids is not None else None
    results, queued = [], []
    with db.operator_scope() as connection:
        versions = [dict(row) for row in connection.execute(PROFILED_PRODUCTION, {"ids": ids}).mappings()]
    for version in versions:
        with db.operator_scope() as connection:
            result = _check_version(connection, version, now, retrain)
        results.append(result)
        if result.get("training_run_id"):
            queued.append(uuid.UUID(result["training_run_id"]))
    return results, queued


def _check_version(connection: Connection, version: dict, now: dt.datetime, retrain: bool) -> dict:
    base = {"model_version_id": str(version["id"]), "agent_type": version["agent_type"], "scope_key": version["scope_key"]}
    if version["profile"] is None:
        return {**base, "outcome": "no_profile", "reason": "no training profile was stored for this version"}
    since = now - RECENT_WINDOW
    rows = connection.execute(RECENT, {"version": version["id"], "since": since, "now": now, "limit": RECENT_ROWS}).all()
    if len(rows) < MIN_RECENT:
        return {**base, "outcome": "too_few", "sample_size": len(rows),
                "reason": f"{len(rows)} predictions in the last {RECENT_WINDOW}, fewer than {MIN_RECENT}"}
    confidences = [float(row.confidence_score) for row in rows if row.confidence_score is not None]
    found = compare(version["profile"], [row.input_data for row in rows], confidences)
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
            connection, alert_type="drift", severity="warning", audience="ml", tenant_id=version["tenant_id"],
            agent_type=version["agent_type"], model_version_id=version["id"], now=now,
            message=f"Input drift on {version['agent_type']} {version['version']} of {version['scope_key']}: {reason}",
            details={"psi": shifted, "threshold": PSI_THRESHOLD, "sample_size": len(rows)})["id"]
        if retrain:
            run_id = _queue_retrain(connection, version, reason, now)
    connection.execute(RECORD_CHECK, {
        "version": version["id"], "tenant": version["tenant_id"], "agent": version["agent_type"], "now": now,
        "since": since, "sample": len(rows), "max_psi": max_psi, "confidence_psi": found["confidence"],
        "drifted": drifted, "features": json.dumps(found["features"]), "reason": reason, "alert": alert_id, "run": run_id,
    })
    return {**base, "outcome": "drifted" if drifted else "stable", "sample_size": len(rows), "max_psi": max_psi,
            "confidence_psi": found["confidence"], "shifted": shifted, "reason": reason,
            "alert_id": alert_id, "training_run_id": str(run_id) if run_id else None}


def _queue_retrain(connection: Connection, version: dict, reason: str, now: dt.datetime) -> uuid.UUID | None:
    """An early training run of a tenant's model, once per drifted version; shared (global and
    regional) models learn from pooled or synthetic data that a tenant's drift does not change."""
    tenant_id, _ = scope_parts(version["scope_key"])
    if tenant_id is None:
        return None
    return runs.create(connection, agent_type=version["agent_type"], tenant_id=tenant_id, scope_key=version["scope_key"],
                       trigger="drift", reason=f"input drift on {version['version']}: {reason}", requested_by=CHECKER,
                       run_key=f"drift:{version['id']}", now=now)


def _version_id(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError(f"a model version id must be a UUID, got {value!r}") from None
