"""What a production model is compared with, and what it showed lately: read from the registry and
``ai.model_metrics`` for the rollback check.

The window is the spec's: the version's metric rows of the last ``WINDOW_DAYS`` days, today
included, summed (the table keeps additive sums beside its averages, so a week's accuracy is the
week's correct over the week's labelled predictions, not an average of daily averages).

The baseline of each figure is the version's own:

- accuracy: its validation accuracy (the version's ``accuracy_score``), measured when it was
  trained on held-out rows it never saw, together with how many rows that was
  (``validation_samples``), since a baseline from 80 rows is itself uncertain and the rollback test
  counts that uncertainty. The version's first days in production would be no baseline for
  accuracy: a model bad from its first day would be its own yardstick and never roll back.
- response time: its average over its first ``BASELINE_DAYS`` metric days in production (from
  the day it first went to production), once those days are over. Latency depends on the serving
  hosts and their load as much as on the model, so only what this model showed on them is a fair
  yardstick, and a whole week of it, weekdays and weekend: the day's mean response time wanders
  with load, and against two days' baseline a host whose daily mean wanders by 15% crossed 1.5 x
  by chance in 0.4% of four simulated weeks, against a week's in none of 2,000. A model younger
  than that has no baseline yet, and the response-time condition waits.
- the override rate's limit is the spec's 20%, raised for a version whose validation accuracy
  says it is wrong more often than that (``rollback.override_limit``).

Beside the window, the version's last ``sudden.SHORT_WINDOW`` labelled predictions, oldest first
(right or wrong, and at what confidence), and how often the ``sudden.REFERENCE_ROWS`` labelled
before them were right in each band of confidence (``confidence_record``), for the sudden-failure
check.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from modelops.monitoring import confidence_record
from modelops.monitoring.sudden import SHORT_WINDOW
from modelops.registry import store

WINDOW_DAYS = 7
BASELINE_DAYS = 7


@dataclass(frozen=True)
class Window:
    """Sums over the version's metric rows of the last WINDOW_DAYS days."""

    predictions: int
    labelled: int
    correct: int
    overrides: int
    response_time_sum_ms: float

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None

    @property
    def override_rate(self) -> float | None:
        return self.overrides / self.predictions if self.predictions else None

    @property
    def avg_response_time_ms(self) -> float | None:
        return self.response_time_sum_ms / self.predictions if self.predictions else None


@dataclass(frozen=True)
class Baseline:
    accuracy: float | None
    validation_samples: int | None
    response_time_ms: float | None  # None until the baseline days are over (or they saw no predictions)
    response_time_predictions: int
    response_time_note: str


@dataclass(frozen=True)
class VersionState:
    """What a rollback check reads about one version."""

    id: uuid.UUID
    agent_type: str
    version: str
    tenant_id: uuid.UUID | None
    region: str | None
    scope_key: str
    is_production: bool
    window: Window
    baseline: Baseline
    recent_outcomes: tuple[bool, ...] = ()  # the last labelled predictions, oldest first
    recent_confidences: tuple[float | None, ...] = ()  # their logged confidences, in the same order
    # the labelled predictions before those: confidence band -> (labelled, correct)
    confidence_bands: dict[int, tuple[int, int]] = field(default_factory=dict)

    def figures(self) -> dict:
        w, b = self.window, self.baseline
        return {"window_days": WINDOW_DAYS, "predictions": w.predictions, "labelled": w.labelled, "correct": w.correct,
                "recent_labelled": len(self.recent_outcomes), "recent_correct": sum(self.recent_outcomes),
                "overrides": w.overrides, "response_time_sum_ms": w.response_time_sum_ms,
                "baseline": {"accuracy": b.accuracy, "validation_samples": b.validation_samples,
                             "response_time_ms": b.response_time_ms,
                             "response_time_predictions": b.response_time_predictions,
                             "response_time_note": b.response_time_note}}


# The figures of each version (given with when it first went to production, from the registry):
# the window's, the baseline's and the latest labelled outcomes.
FIGURES = text("""
    SELECT v.id, coalesce(w.predictions, 0) AS predictions, coalesce(w.labelled, 0) AS labelled,
           coalesce(w.correct, 0) AS correct, coalesce(w.overrides, 0) AS overrides,
           coalesce(w.response_time_sum_ms, 0) AS response_time_sum_ms,
           coalesce(b.predictions, 0) AS baseline_predictions, b.response_time_sum_ms AS baseline_response_time_sum_ms,
           recent.outcomes AS recent_outcomes, recent.confidences AS recent_confidences
    FROM jsonb_to_recordset(CAST(:versions AS jsonb)) AS v(id uuid, first_served_at timestamp)
    LEFT JOIN LATERAL (
        SELECT sum(m.total_predictions) AS predictions, sum(m.labelled_predictions) AS labelled,
               sum(m.correct_predictions) AS correct, sum(m.user_overrides) AS overrides,
               sum(m.response_time_sum_ms) AS response_time_sum_ms
        FROM ai.model_metrics m
        WHERE m.model_version_id = v.id AND m.metric_date > :window_start AND m.metric_date <= :today
    ) w ON true
    LEFT JOIN LATERAL (
        SELECT sum(m.total_predictions) AS predictions, sum(m.response_time_sum_ms) AS response_time_sum_ms
        FROM ai.model_metrics m
        WHERE m.model_version_id = v.id AND m.metric_date >= CAST(v.first_served_at AS date)
          AND m.metric_date < CAST(v.first_served_at AS date) + :baseline_days
    ) b ON true
    LEFT JOIN LATERAL (
        SELECT array_agg(r.was_correct ORDER BY r.prediction_timestamp, r.id) AS outcomes,
               array_agg(CAST(r.confidence_score AS float8) ORDER BY r.prediction_timestamp, r.id) AS confidences
        FROM (SELECT p.was_correct, p.confidence_score, p.prediction_timestamp, p.id FROM ai.prediction_log p
              WHERE p.model_version_id = v.id AND p.was_correct IS NOT NULL
              ORDER BY p.prediction_timestamp DESC, p.id DESC LIMIT :short_window) r
    ) recent ON true
""")


def states(connection: Connection, version_ids: list[uuid.UUID], today: dt.date) -> list[VersionState]:
    """The window and baseline of each version (ids that name no version are left out)."""
    found = store.get_many(connection, version_ids)
    served = store.first_served(connection, [version.id for version in found])
    given = [{"id": str(version.id), "first_served_at": served[version.id].isoformat() if version.id in served else None}
             for version in found]
    figures = {row["id"]: row for row in connection.execute(FIGURES, {
        "versions": json.dumps(given), "today": today, "window_start": today - dt.timedelta(days=WINDOW_DAYS),
        "baseline_days": BASELINE_DAYS, "short_window": SHORT_WINDOW}).mappings()}
    bands = confidence_record.records.get(connection, [version.id for version in found])
    return [_state(version, served.get(version.id), figures[version.id], bands[version.id], today) for version in found]


def _state(version: store.ModelVersion, first_served: dt.datetime | None, figures, bands: dict[int, tuple[int, int]],
           today: dt.date) -> VersionState:
    window = Window(predictions=int(figures["predictions"]), labelled=int(figures["labelled"]), correct=int(figures["correct"]),
                    overrides=int(figures["overrides"]), response_time_sum_ms=float(figures["response_time_sum_ms"]))
    return VersionState(id=version.id, agent_type=version.agent_type, version=version.version, tenant_id=version.tenant_id,
                        region=version.region, scope_key=version.scope_key, is_production=bool(version.is_production),
                        window=window, baseline=_baseline(version, first_served, figures, today),
                        recent_outcomes=tuple(figures["recent_outcomes"] or ()),
                        recent_confidences=tuple(figures["recent_confidences"] or ()),
                        confidence_bands=bands)


def _baseline(version: store.ModelVersion, first: dt.datetime | None, figures, today: dt.date) -> Baseline:
    accuracy = float(version.accuracy_score) if version.accuracy_score is not None else None
    predictions = int(figures["baseline_predictions"])
    if first is None:
        response, note = None, "never in production"
    elif today < first.date() + dt.timedelta(days=BASELINE_DAYS):
        response, note = None, (f"its first {BASELINE_DAYS} days in production (from {first.date().isoformat()}) "
                                f"are not over yet")
    elif predictions == 0:
        response, note = None, f"no predictions in its first {BASELINE_DAYS} days in production"
    else:
        response = float(figures["baseline_response_time_sum_ms"]) / predictions
        note = f"average of its first {BASELINE_DAYS} days in production, from {first.date().isoformat()}"
    return Baseline(accuracy=accuracy, validation_samples=version.validation_samples, response_time_ms=response,
                    response_time_predictions=predictions, response_time_note=note)
