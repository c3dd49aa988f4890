"""Shadow evaluation: replay a candidate on production's logged inputs whose outcome is known, and
report its accuracy beside production's on the very same rows, before (or instead of) live traffic.

The rows are the audit log's predictions made by the scope's current production model that got
feedback with the right answer (``was_correct`` known, ``actual_output`` holding the label), the
most recent ``limit`` of them. Both models are loaded through the registry's hash-checked loading
and replayed on the logged input, which is stored exactly as the model read it, and each answer is
scored against the label the agent reads from ``actual_output``: the same rule for both, so the
two accuracies are comparable. Production's accuracy as the users judged its logged answers
(``was_correct``) is reported beside it. On the same rows the comparison is paired, so McNemar's
exact test on the rows where only one of the two was right says whether the difference could be
chance.

The report is recorded on the candidate, under ``metrics_detail.shadow`` (the latest replaces the
one before): it describes the candidate, beside its validation metrics, and is no A/B look (no
test exists, no traffic was split), so it is not a decision row. No transaction is open while the
models load and predict.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

from sqlalchemy import text
from statsmodels.stats.contingency_tables import mcnemar

from modelops import db
from modelops.agents import get_agent
from modelops.experiments.lifecycle import ExperimentRefused, as_uuid
from modelops.registry import versions
from modelops.registry.loading import load_estimator
from modelops.registry.artifacts import ArtifactIntegrityError

# Enough rows to tell a one-point difference from chance, few enough to replay in seconds.
SHADOW_ROWS = 20_000

LOGGED_OUTCOMES = text("""
    SELECT input_data, actual_output, was_correct, prediction_timestamp
    FROM ai.prediction_log
    WHERE model_version_id = :production AND was_correct IS NOT NULL AND actual_output IS NOT NULL
      AND prediction_timestamp <= :now
    ORDER BY prediction_timestamp DESC, id
    LIMIT :limit
""")

RECORD = text("""
    UPDATE ai.model_versions
    SET metrics_detail = coalesce(metrics_detail, '{}'::jsonb) || jsonb_build_object('shadow', CAST(:report AS jsonb))
    WHERE id = :id
""")


def shadow_evaluate(candidate_version_id: Any, now: dt.datetime, limit: int = SHADOW_ROWS) -> dict:
    """Replay the candidate and production on production's labelled logged predictions; the
    report (also recorded on the candidate)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ExperimentRefused(f"limit must be a whole number >= 1, got {limit!r}")
    with db.operator_scope() as connection:
        candidate = versions.get(connection, as_uuid(candidate_version_id, "a model version id"))
        if candidate is None:
            raise ExperimentRefused(f"model version {candidate_version_id} does not exist")
        production = versions.production(connection, candidate["agent_type"], candidate["scope_key"])
        if production is None or production["id"] == candidate["id"]:
            what = "is itself production" if production else "has no production model"
            raise ExperimentRefused(f"nothing to compare {candidate['version']} with: {candidate['agent_type']} for "
                                    f"{candidate['scope_key']} {what}")
        rows = connection.execute(LOGGED_OUTCOMES, {"production": production["id"], "now": now, "limit": limit}).all()
    report = _replay(candidate, production, rows, now)
    with db.operator_scope() as connection:
        connection.execute(RECORD, {"id": candidate["id"], "report": json.dumps(report)})
    return report


def _replay(candidate: dict, production: dict, rows, now: dt.datetime) -> dict:
    agent = get_agent(candidate["agent_type"])
    try:
        models = {name: load_estimator(version) for name, version in (("candidate", candidate), ("production", production))}
    except ArtifactIntegrityError as error:
        raise ExperimentRefused(f"cannot replay: {error}") from None
    inputs, labels, logged, skipped = [], [], [], Counter()
    for row in rows:
        label = agent.label(row.actual_output)
        if label is None:
            skipped["actual_output carries no label"] += 1
            continue
        try:
            inputs.append(agent.validate_input(row.input_data))
        except ValueError:
            skipped["logged input no longer valid"] += 1
            continue
        labels.append(label)
        logged.append(row.was_correct)
    right = {name: [p.label == label for p, label in zip(agent.predict(model, inputs), labels)]
             for name, model in models.items()}
    only_candidate = sum(c and not p for c, p in zip(right["candidate"], right["production"]))
    only_production = sum(p and not c for c, p in zip(right["candidate"], right["production"]))
    n = len(labels)
    report = {
        "evaluated_at": now.isoformat(), "rows": n, "skipped": dict(skipped),
        "window": {"from": rows[-1].prediction_timestamp.isoformat(), "to": rows[0].prediction_timestamp.isoformat()} if rows else None,
        "candidate": _accuracy(candidate, sum(right["candidate"]), n),
        "production": {**_accuracy(production, sum(right["production"]), n),
                       "logged_correct": sum(logged), "logged_accuracy": sum(logged) / n if n else None},
        "only_candidate_correct": only_candidate, "only_production_correct": only_production,
        # exact binomial on the discordant rows: valid however few they are
        "mcnemar_p_value": float(mcnemar([[0, only_production], [only_candidate, 0]], exact=True).pvalue) if n else None,
    }
    report["lift"] = report["candidate"]["accuracy"] - report["production"]["accuracy"] if n else None
    return report


def _accuracy(version: dict, correct: int, n: int) -> dict:
    return {"version_id": str(version["id"]), "version": version["version"], "correct": correct,
            "accuracy": correct / n if n else None}
