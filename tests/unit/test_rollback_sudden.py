"""The short window: a CUSUM over the last labelled predictions catches a model that breaks outright
within about a hundred of them, and leaves stable models alone; overrides are judged against what
the version is expected to get wrong."""
from __future__ import annotations

import dataclasses
import uuid

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from modelops.monitoring import rollback, sudden
from modelops.monitoring.baseline import Baseline, VersionState, Window

BASELINE = Baseline(accuracy=0.85, validation_samples=500, response_time_ms=20.0, response_time_predictions=5000,
                    response_time_note="first week")
STEADY = Window(predictions=20_000, labelled=7_000, correct=5_950, overrides=1_000, response_time_sum_ms=20.0 * 20_000)


def state(recent=(), window=STEADY, baseline=BASELINE) -> VersionState:
    return VersionState(id=uuid.uuid4(), agent_type="classification", version="v1.1", tenant_id=uuid.uuid4(),
                        region=None, scope_key="tenant:x", is_production=True, window=window, baseline=baseline,
                        recent_outcomes=tuple(recent))


def test_the_recursion_and_its_vectorised_form_agree():
    rng = np.random.default_rng(3)
    outcomes = rng.random(300) < 0.7
    ratios = sudden.log_likelihood_ratios(outcomes, 0.85)
    running = 0.0
    for ratio in ratios:
        running = max(0.0, running + ratio)
    assert sudden.statistic(outcomes, 0.85) == pytest.approx(running)
    assert sudden.cusum(ratios)[-1] == pytest.approx(running)


def test_a_twenty_point_drop_is_caught_within_about_a_hundred_labelled_predictions():
    rng = np.random.default_rng(4)
    runs = 1_000
    before = rng.random((runs, 200)) < 0.85
    after = rng.random((runs, 300)) < 0.65
    path = sudden.cusum(sudden.log_likelihood_ratios(np.concatenate([before, after], axis=1), 0.85), axis=1)[:, 200:]
    caught = path >= sudden.THRESHOLD
    delay = np.where(caught.any(axis=1), caught.argmax(axis=1) + 1, 10_000)
    assert np.median(delay) <= 100
    assert (delay <= 300).mean() > 0.99


def test_four_weeks_of_a_stable_model_checked_after_every_label_rarely_roll_back():
    # 1,000 labelled a day for 28 days, the statistic read after each one
    rng = np.random.default_rng(5)
    runs, labels = 400, 28_000
    alarms = 0
    for _ in range(4):
        outcomes = rng.random((runs // 4, labels)) < 0.85
        alarms += int((sudden.cusum(sudden.log_likelihood_ratios(outcomes, 0.85), axis=1) >= sudden.THRESHOLD)
                      .any(axis=1).sum())
    assert alarms <= 8  # a true 1% gives at most 9 of 400 with probability 0.99; the threshold aims at 0.2%


def test_the_condition_fires_on_a_broken_run_and_says_why():
    broken = [True] * 100 + [False] * 60 + [True] * 40  # the last 100: 40% right
    verdict = rollback.judge(state(broken))
    condition = verdict.triggers["sudden_failure"]
    assert condition["statistic"] >= sudden.THRESHOLD
    assert condition["reference_accuracy"] == pytest.approx(0.85)
    assert "last 200 labelled predictions (140 right)" in condition["why"]
    assert list(rollback.judge(state([True, False] * 5 + [True] * 40)).triggers) == []


def test_without_enough_live_labels_the_reference_is_the_validation_accuracys_lower_bound():
    few = dataclasses.replace(STEADY, labelled=300, correct=255)
    expected = proportion_confint(425, 500, alpha=0.05, method="wilson")[0]
    assert rollback.judge(state((), few)).conditions["sudden_failure"]["reference_accuracy"] == pytest.approx(expected)
    nothing = dataclasses.replace(BASELINE, accuracy=None)
    condition = rollback.judge(state((), few, nothing)).conditions["sudden_failure"]
    assert condition["breached"] is False and "no reference" in condition["why"]


def test_overrides_are_judged_against_what_the_version_is_expected_to_get_wrong():
    insight = dataclasses.replace(BASELINE, accuracy=0.75)
    # 25% overridden: an agent 75% right does that when it is what it always was
    usual = dataclasses.replace(STEADY, overrides=5_000, correct=5_250)
    condition = rollback.judge(state((), usual, insight)).conditions["high_override_rate"]
    assert condition["threshold"] == pytest.approx(1 - 0.95 * 0.75)
    assert condition["breached"] is False
    # 33% is worse than it ever was
    worse = dataclasses.replace(usual, overrides=6_600)
    assert "high_override_rate" in rollback.judge(state((), worse, insight)).triggers
    # a 90% model keeps the spec's 20%
    assert rollback.override_limit(0.90) == pytest.approx(0.20)
