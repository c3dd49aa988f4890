from __future__ import annotations

import datetime as dt

import pytest

from modelops import AGENT_TYPES
from modelops.training.schedule import RETRAINING_SCHEDULE, decide

NOW = dt.datetime(2026, 11, 26, 3)


def test_every_agent_has_a_schedule_and_the_spec_values_hold():
    assert set(RETRAINING_SCHEDULE) == set(AGENT_TYPES)
    assert RETRAINING_SCHEDULE["classification"]["min_samples"] == 50
    assert RETRAINING_SCHEDULE["reconciliation"]["min_samples"] == 25
    assert RETRAINING_SCHEDULE["insight"]["max_age_days"] == 30


@pytest.mark.parametrize("new, days_ago, in_flight, decision, trigger", [
    (49, 1, False, "wait", None),
    (50, 1, False, "train", "min_samples"),
    (50, None, False, "train", "min_samples"),
    (10, None, False, "wait", None),
    (1, 7, False, "train", "max_age"),
    (1, 6.9, False, "wait", None),
    (0, 30, False, "wait", None),
    (500, 30, True, "in_flight", None),
])
def test_classification_trains_at_50_new_samples_or_after_7_days(new, days_ago, in_flight, decision, trigger):
    last = NOW - dt.timedelta(days=days_ago) if days_ago is not None else None
    result = decide("classification", new, last, NOW, in_flight)
    assert (result.decision, result.trigger) == (decision, trigger)
    assert result.reason
