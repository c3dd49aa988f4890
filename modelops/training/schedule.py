"""When each agent retrains: the spec's RETRAINING_SCHEDULE, and the decision for one scope.

The spec gives classification, reconciliation, insight and chat. Journal follows classification
(its suggestions are corrected in the same daily bookkeeping flow, so evidence arrives as fast),
with a longer maximum age because account mappings change slowly. Compliance is checked weekly
and needs more samples: its labels come from reviews, are rarer, and a hasty model that misses a
violation costs more than a stale one.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

RETRAINING_SCHEDULE = {
    "classification": {"frequency": "daily", "min_samples": 50, "max_age_days": 7, "validation_split": 0.2},
    "reconciliation": {"frequency": "daily_conditional", "min_samples": 25, "max_age_days": 7, "validation_split": 0.2},
    "insight": {"frequency": "weekly", "min_samples": 100, "max_age_days": 30, "validation_split": 0.2},
    "chat": {"frequency": "weekly", "min_samples": 50, "max_age_days": 30, "validation_split": 0.2},
    "journal": {"frequency": "daily", "min_samples": 50, "max_age_days": 14, "validation_split": 0.2},
    "compliance": {"frequency": "weekly", "min_samples": 100, "max_age_days": 30, "validation_split": 0.2},
}

CHECK_INTERVAL = {"daily": dt.timedelta(days=1), "daily_conditional": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}


@dataclass(frozen=True)
class Decision:
    decision: str  # train, wait, in_flight
    trigger: str | None
    reason: str


def decide(agent_type: str, new_samples: int, last_trained_at: dt.datetime | None, now: dt.datetime, in_flight: bool) -> Decision:
    """Train when min_samples new samples arrived OR max_age_days passed since the last training.

    The age trigger needs at least one new sample: with none, retraining would fit the same data
    with the same seed and produce the same model again.
    """
    config = RETRAINING_SCHEDULE[agent_type]
    if in_flight:
        return Decision("in_flight", None, "a training job for this scope is already queued or running")
    if new_samples >= config["min_samples"]:
        return Decision("train", "min_samples", f"{new_samples} new samples >= {config['min_samples']}")
    if last_trained_at is not None:
        age = now - last_trained_at
        if age >= dt.timedelta(days=config["max_age_days"]):
            if new_samples > 0:
                return Decision("train", "max_age", f"{age.days} days since the last training >= {config['max_age_days']}")
            return Decision("wait", None, f"{age.days} days since the last training, but no new samples")
        return Decision("wait", None, f"{new_samples} new samples < {config['min_samples']}, "
                                      f"{age.days} of {config['max_age_days']} days since the last training")
    return Decision("wait", None, f"{new_samples} new samples < {config['min_samples']}, and no model yet")
