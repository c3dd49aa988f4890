"""The training pipeline, as the spec lays it out: collect → preprocess → train → validate → save → record.

Transactions stay short: the run is claimed in one, the data read in another (as the tenant, so
row-level security applies), the model fitted with no transaction open, and the version recorded
in a last one. A redelivered job (its worker died) claims its run again and records at most one
version, since a version row's training run is unique.
"""
from __future__ import annotations

import datetime as dt
import platform
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from modelops import clock, db
from modelops.agents import get_agent
from modelops.config import settings
from modelops.privacy.pii import scrub_many
from modelops.registry import promotion, versions
from modelops.training import runs
from modelops.training.artifacts import ArtifactStore
from modelops.training.evaluation import score, split
from modelops.training.schedule import RETRAINING_SCHEDULE

# Below this many usable rows a model would only memorise; the run records why it made none.
MIN_TRAINING_ROWS = 20
# Principals are recorded as UUIDs (the spec's created_by column); the same name, the same id.
PRINCIPALS = uuid.UUID("6f1c2f0e-5d0b-4f3e-9a59-0d3c7d1b2a10")


class TrainingRefused(Exception):
    """The data cannot make a model (too few rows, a single class); the message says why."""


@dataclass
class Dataset:
    inputs: list[dict] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    collected: int = 0
    new_since_last: int = 0
    cutoff: dt.datetime | None = None


def principal_id(name: str) -> uuid.UUID:
    return uuid.uuid5(PRINCIPALS, name)


def _scope(tenant_id):
    return db.tenant_scope(tenant_id) if tenant_id else db.operator_scope()


def collect(agent_type: str, tenant_id, now: dt.datetime) -> tuple[list[dict], int]:
    """Every labelled row of the tenant for the agent up to now, and how many arrived since the
    last training: the model learns from all of its tenant's evidence, of which these are new."""
    with db.tenant_scope(tenant_id) as connection:
        last = connection.execute(
            text("SELECT max(trained_on) FROM ai.model_versions WHERE agent_type = :agent AND tenant_id = :tenant"),
            {"agent": agent_type, "tenant": tenant_id},
        ).scalar()
        rows = connection.execute(
            text("""SELECT input_data, expected_output, created_at FROM ai.training_data
                    WHERE agent_type = CAST(:agent AS ai.agent_type) AND expected_output IS NOT NULL AND created_at <= :now
                    ORDER BY created_at, id"""),
            {"agent": agent_type, "now": now},
        ).mappings().all()
    new = sum(1 for row in rows if last is None or row["created_at"] > last)
    return [dict(row) for row in rows], new


def preprocess(agent, rows: list[dict]) -> Dataset:
    """Scrub again (defence in depth), keep rows whose input fits the agent and whose label it reads."""
    data = Dataset(collected=len(rows))
    scrubbed = scrub_many([row["input_data"] for row in rows])
    for row, clean in zip(rows, scrubbed):
        try:
            features_input = agent.validate_input(clean.value)
        except ValueError as error:
            data.skipped[f"input: {str(error).split(':')[0]}"] += 1
            continue
        label = agent.label(row["expected_output"])
        if label is None:
            data.skipped["label: unreadable expected_output"] += 1
            continue
        data.inputs.append(features_input)
        data.labels.append(label)
    return data


def environment() -> dict[str, str]:
    import joblib
    import numpy
    import scipy
    import sklearn

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": numpy.__version__,
            "scipy": scipy.__version__, "joblib": joblib.__version__}


def train_run(run_id: uuid.UUID | str, worker: str) -> dict:
    """Carry out one training run end to end; returns its outcome (also recorded on the run)."""
    now = clock.now()
    with db.operator_scope() as connection:
        run = runs.claim(connection, run_id, worker, now)
        if run is None:
            finished = runs.get(connection, run_id)
            if finished is None:
                raise ValueError(f"training run {run_id} does not exist")
            return _outcome(finished)
    try:
        outcome = _train(run, now)
    except TrainingRefused as refusal:
        with db.operator_scope() as connection:
            runs.finish(connection, run_id, status="skipped", now=clock.now(), error=str(refusal))
        return {"run_id": str(run_id), "status": "skipped", "reason": str(refusal)}
    with db.operator_scope() as connection:
        runs.finish(connection, run_id, status="succeeded", now=clock.now(),
                    model_version_id=outcome["model_version_id"], details=outcome["details"])
    return {"run_id": str(run_id), "status": "succeeded", **outcome}


def _outcome(run: dict) -> dict:
    return {"run_id": str(run["id"]), "status": run["status"], "model_version_id": str(run["model_version_id"]) if run["model_version_id"] else None,
            "reason": run["error"], "details": run["details"]}


def _train(run: dict, now: dt.datetime) -> dict:
    agent_type, tenant_id = run["agent_type"], run["tenant_id"]
    agent = get_agent(agent_type)
    schedule = RETRAINING_SCHEDULE[agent_type]
    rows, new = collect(agent_type, tenant_id, now)
    data = preprocess(agent, rows)
    data.new_since_last, data.cutoff = new, now
    if len(data.labels) < MIN_TRAINING_ROWS:
        raise TrainingRefused(f"{len(data.labels)} usable rows (of {data.collected} collected), fewer than the {MIN_TRAINING_ROWS} a model needs")
    if len(set(data.labels)) < 2:
        raise TrainingRefused(f"every usable row has the same label {data.labels[0]!r}: nothing to learn to tell apart")

    config = agent.default_config()
    train_x, val_x, train_y, val_y = split(data.inputs, data.labels, schedule["validation_split"], config["random_state"])
    started = time.perf_counter()
    estimator = agent.build_estimator(config).fit(train_x, train_y)
    duration = dt.timedelta(seconds=time.perf_counter() - started)
    predicted = [p.label for p in agent.predict(estimator, val_x)]
    metrics = score(val_y, predicted, train_y)

    stored = ArtifactStore(settings().artifact_dir).save(estimator)
    new_version = versions.NewVersion(
        agent_type=agent_type, tenant_id=tenant_id, region=None, trained_on=now,
        training_samples=len(train_y), validation_samples=len(val_y),
        metrics=metrics["summary"], metrics_detail=metrics, training_duration=duration,
        artifact_path=stored.path, artifact_sha256=stored.sha256, artifact_size_bytes=stored.size_bytes,
        training_config={"agent": config, "schedule": schedule, "environment": environment(),
                         "data": {"collected": data.collected, "usable": len(data.labels), "new_since_last": new,
                                  "skipped": dict(data.skipped), "cutoff": now.isoformat()}},
        created_by=principal_id(run["requested_by"]), training_run_id=run["id"],
    )
    with _scope(tenant_id) as connection:
        version_id, version = _record_once(connection, new_version, now)
        decision = _gate(connection, agent, version_id, val_x, val_y, metrics, now)
    return {"model_version_id": str(version_id), "version": version, "metrics": metrics["summary"],
            "decision": decision, "details": {"skipped": dict(data.skipped), "decision": decision}}


def _record_once(connection, new_version: versions.NewVersion, now: dt.datetime) -> tuple[uuid.UUID, str]:
    existing = connection.execute(
        text("SELECT id, version FROM ai.model_versions WHERE training_run_id = :run"), {"run": new_version.training_run_id}
    ).first()
    return (existing.id, existing.version) if existing else versions.record(connection, new_version, now)


def _gate(connection, agent, version_id, val_x, val_y, metrics: dict, now: dt.datetime) -> dict:
    """First model: beat the majority class. Later: at least 0.98 x production on the same rows."""
    candidate = versions.get(connection, version_id)
    if candidate["status"] != "candidate":
        return {"outcome": candidate["status"], "reason": candidate["status_reason"]}
    current = versions.production(connection, candidate["agent_type"], candidate["scope_key"])
    accuracy = metrics["summary"]["accuracy"]
    if current is None:
        passed, reason = promotion.beats_baseline(accuracy, metrics["majority_baseline_accuracy"])
        if passed:
            promotion.promote(connection, version_id, actor="training", reason=reason, event="first_model", now=now)
            return {"outcome": "production", "reason": reason}
    else:
        model = ArtifactStore(settings().artifact_dir).load(current["model_artifact_path"], current["artifact_sha256"])
        production_accuracy = score(val_y, [p.label for p in agent.predict(model, val_x)], val_y)["summary"]["accuracy"]
        passed, reason = promotion.passes_gate(accuracy, production_accuracy)
        if passed:
            connection.execute(text("UPDATE ai.model_versions SET status_reason = :reason WHERE id = :id"),
                               {"reason": f"passed the promotion gate: {reason}", "id": version_id})
            return {"outcome": "candidate", "reason": reason, "production_accuracy": production_accuracy}
    promotion.retire(connection, version_id, status="rejected", reason=reason, now=now)
    return {"outcome": "rejected", "reason": reason}
