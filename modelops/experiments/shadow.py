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
from collections import Counter
from dataclasses import dataclass
from typing import Any

from scipy.stats import binomtest
from sqlalchemy import text
from statsmodels.stats.contingency_tables import mcnemar

from modelops import db
from modelops.agents import get_agent
from modelops.experiments.lifecycle import ExperimentRefused, as_uuid
from modelops.registry import store
from modelops.registry.artifacts import ArtifactIntegrityError
from modelops.registry.loading import load_estimator

# Enough rows to tell a one-point difference from chance, few enough to replay in seconds.
SHADOW_ROWS = 20_000

LOGGED_OUTCOMES = text("""
    SELECT input_data, actual_output, was_correct, prediction_timestamp
    FROM ai.prediction_log
    WHERE model_version_id = :production AND was_correct IS NOT NULL AND actual_output IS NOT NULL
      AND prediction_timestamp > :since AND prediction_timestamp <= :now
    ORDER BY prediction_timestamp DESC, id
    LIMIT :limit
""")


def logged_outcomes(connection, version_id, now: dt.datetime, limit: int, since: dt.datetime | None = None) -> list:
    """The version's most recent ``limit`` logged predictions whose outcome is known, newest first."""
    since = since or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return connection.execute(LOGGED_OUTCOMES, {"production": version_id, "now": now, "since": since, "limit": limit}).all()


def shadow_evaluate(candidate_version_id: Any, now: dt.datetime, limit: int = SHADOW_ROWS) -> dict:
    """Replay the candidate and production on production's labelled logged predictions; the
    report (also recorded on the candidate)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ExperimentRefused(f"limit must be a whole number >= 1, got {limit!r}")
    with db.operator_scope() as connection:
        candidate = store.get(connection, as_uuid(candidate_version_id, "a model version id"))
        if candidate is None:
            raise ExperimentRefused(f"model version {candidate_version_id} does not exist")
        production = store.production(connection, candidate.agent_type, candidate.scope_key)
        if production is None or production.id == candidate.id:
            what = "is itself production" if production else "has no production model"
            raise ExperimentRefused(f"nothing to compare {candidate.version} with: {candidate.agent_type} for "
                                    f"{candidate.scope_key} {what}")
        rows = logged_outcomes(connection, production.id, now, limit)
    report = _replay(candidate, production, rows, now)
    with db.operator_scope() as connection:
        store.add_to_metrics_detail(connection, candidate.id, "shadow", report)
    return report


@dataclass(frozen=True)
class PairedReplay:
    """Two versions replayed on the same logged rows: which of them got each row right."""

    first: list[bool]
    second: list[bool]
    logged: list[bool]  # the users' verdict on the answer logged at the time (was_correct)
    skipped: dict[str, int]

    @property
    def rows(self) -> int:
        return len(self.first)

    @property
    def only_first(self) -> int:
        return sum(a and not b for a, b in zip(self.first, self.second))

    @property
    def only_second(self) -> int:
        return sum(b and not a for a, b in zip(self.first, self.second))

    def p_value_first_better(self) -> float:
        """One-sided exact test on the discordant rows that the first is right more often: valid
        however few they are (McNemar's exact test is its two-sided form)."""
        discordant = self.only_first + self.only_second
        return float(binomtest(self.only_first, discordant, 0.5, alternative="greater").pvalue) if discordant else 1.0


def replay_pair(first: store.ModelVersion, second: store.ModelVersion, rows) -> PairedReplay:
    """Both versions loaded through the hash-checked loading and replayed on the
    logged rows (input_data, actual_output, was_correct), each answer scored against the label the
    agent reads from actual_output: the same rule for both. Raises ArtifactIntegrityError when an
    artifact fails its check."""
    agent = get_agent(first.agent_type)
    models = [load_estimator(first), load_estimator(second)]
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
    first_right, second_right = ([p.label == label for p, label in zip(agent.predict(model, inputs), labels)]
                                 for model in models)
    return PairedReplay(first_right, second_right, logged, dict(skipped))


def _replay(candidate: store.ModelVersion, production: store.ModelVersion, rows, now: dt.datetime) -> dict:
    try:
        pair = replay_pair(candidate, production, rows)
    except ArtifactIntegrityError as error:
        raise ExperimentRefused(f"cannot replay: {error}") from None
    n = pair.rows
    report = {
        "evaluated_at": now.isoformat(), "rows": n, "skipped": pair.skipped,
        "window": {"from": rows[-1].prediction_timestamp.isoformat(), "to": rows[0].prediction_timestamp.isoformat()} if rows else None,
        "candidate": _accuracy(candidate, sum(pair.first), n),
        "production": {**_accuracy(production, sum(pair.second), n),
                       "logged_correct": sum(pair.logged), "logged_accuracy": sum(pair.logged) / n if n else None},
        "only_candidate_correct": pair.only_first, "only_production_correct": pair.only_second,
        # exact binomial on the discordant rows: valid however few they are
        "mcnemar_p_value": float(mcnemar([[0, pair.only_second], [pair.only_first, 0]], exact=True).pvalue) if n else None,
    }
    report["lift"] = report["candidate"]["accuracy"] - report["production"]["accuracy"] if n else None
    return report


def _accuracy(version: store.ModelVersion, correct: int, n: int) -> dict:
    return {"version_id": str(version.id), "version": version.version, "correct": correct,
            "accuracy": correct / n if n else None}
