"""Daily performance of every model version: ``ai.daily_performance``, built from ``ai.model_metrics``.

For a model version and a date D, from the version's metric rows of D and of the 7 days before it:

``prediction_volume``
    predictions the version answered on D.
``accuracy_trend``
    accuracy on D minus the accuracy of the 7 days before D, each its correct over its labelled
    predictions (the week pooled, not an average of daily figures). Positive: better than its recent
    past. NULL when D or the week before has no labelled prediction.
``confidence_stability``
    1 - |average confidence on D - average confidence of the 7 days before| / the latter, kept
    within [0, 1]. 1: as sure of itself as over the past week; a model whose confidence moves
    (its inputs drifting, a feature broken upstream) scores lower. NULL when D or the week before
    has no prediction.
``user_satisfaction_score``
    the mean satisfaction rating (1 to 5) given to D's answers. NULL without ratings.
``error_rate``
    the share of requests routed to the version on D that it could not answer (its model failed to
    load or to predict): failed / (answered + failed). NULL when nothing was routed to it.

Feedback is counted on the day of the prediction it answers, so a day's figures move while its
feedback arrives; building a date again replaces its rows (one per version and date).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import Connection, text

from modelops.registry import store

WINDOW_DAYS = 7


@dataclass(frozen=True)
class DayCounts:
    """A version's additive sums on one day (one ai.model_metrics row)."""

    day: dt.date
    predictions: int = 0
    labelled: int = 0
    correct: int = 0
    confidence_sum: float = 0.0
    failed: int = 0
    rating_count: int = 0
    rating_sum: int = 0


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _accuracy(days: list[DayCounts]) -> float | None:
    value = _ratio(sum(d.correct for d in days), sum(d.labelled for d in days))
    return None if value is None else min(max(value, 0.0), 1.0)


def performance(date: dt.date, days: list[DayCounts]) -> dict[str, float | int | None]:
    """The figures of ``date`` from a version's rows of that date and the WINDOW_DAYS before it."""
    today = [d for d in days if d.day == date]
    before = [d for d in days if date - dt.timedelta(days=WINDOW_DAYS) <= d.day < date]
    accuracy_now, accuracy_before = _accuracy(today), _accuracy(before)
    confidence_now = _ratio(sum(d.confidence_sum for d in today), sum(d.predictions for d in today))
    confidence_before = _ratio(sum(d.confidence_sum for d in before), sum(d.predictions for d in before))
    stability = None
    if confidence_now is not None and confidence_before:
        stability = min(max(1 - abs(confidence_now - confidence_before) / confidence_before, 0.0), 1.0)
    answered, failed = sum(d.predictions for d in today), sum(d.failed for d in today)
    return {
        "prediction_volume": answered,
        "accuracy_trend": None if accuracy_now is None or accuracy_before is None else accuracy_now - accuracy_before,
        "confidence_stability": stability,
        "user_satisfaction_score": _ratio(sum(d.rating_sum for d in today), sum(d.rating_count for d in today)),
        "error_rate": _ratio(failed, answered + failed),
    }


METRIC_ROWS = text("""
    SELECT m.model_version_id, m.metric_date, coalesce(m.total_predictions, 0) AS predictions,
           m.labelled_predictions AS labelled, coalesce(m.correct_predictions, 0) AS correct, m.confidence_sum,
           m.failed_predictions AS failed, m.rating_count, m.rating_sum
    FROM ai.model_metrics m
    WHERE m.metric_date BETWEEN :first AND :date
      AND m.model_version_id IN (SELECT model_version_id FROM ai.model_metrics WHERE metric_date = :date)
""")

UPSERT = text("""
    INSERT INTO ai.daily_performance (
        agent_type, model_version, date, accuracy_trend, confidence_stability, user_satisfaction_score,
        prediction_volume, error_rate, created_at, model_version_id, tenant_id)
    SELECT r.agent_type, r.model_version, :date, round(r.accuracy_trend, 4), round(r.confidence_stability, 4),
           round(r.user_satisfaction_score, 2), r.prediction_volume, round(r.error_rate, 4), :now,
           r.model_version_id, r.tenant_id
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        agent_type text, model_version text, accuracy_trend numeric, confidence_stability numeric,
        user_satisfaction_score numeric, prediction_volume integer, error_rate numeric, model_version_id uuid,
        tenant_id uuid)
    ON CONFLICT (model_version_id, date) DO UPDATE SET
        accuracy_trend = EXCLUDED.accuracy_trend, confidence_stability = EXCLUDED.confidence_stability,
        user_satisfaction_score = EXCLUDED.user_satisfaction_score, prediction_volume = EXCLUDED.prediction_volume,
        error_rate = EXCLUDED.error_rate
""")


def build(connection: Connection, date: dt.date, now: dt.datetime) -> int:
    """Write (or rewrite) every version's row of ``date``; returns how many."""
    rows = connection.execute(METRIC_ROWS, {"first": date - dt.timedelta(days=WINDOW_DAYS), "date": date}).mappings().all()
    days: dict = {}
    for row in rows:
        days.setdefault(row["model_version_id"], []).append(DayCounts(
            row["metric_date"], row["predictions"], row["labelled"], row["correct"], row["confidence_sum"], row["failed"],
            row["rating_count"], row["rating_sum"]))
    identities = store.identities(connection, days)
    documents = [{
        "agent_type": version.agent_type, "model_version": version.version, "model_version_id": str(version.id),
        "tenant_id": str(version.tenant_id) if version.tenant_id else None, **performance(date, days[version.id]),
    } for version in (identities[version_id] for version_id in days)]
    if documents:
        connection.execute(UPSERT, {"rows": json.dumps(documents), "date": date, "now": now})
    return len(documents)


def dates_to_build(date: str | None, today: dt.date) -> list[dt.date]:
    """The date asked for (an ISO date, YYYY-MM-DD), or else yesterday (whose feedback still
    arrives) and today (so far); ValueError naming what was given when it is not a date."""
    if date is None:
        return [today - dt.timedelta(days=1), today]
    try:
        return [dt.date.fromisoformat(date)]
    except (TypeError, ValueError):
        raise ValueError(f"date must be an ISO date (YYYY-MM-DD), got {date!r}") from None
