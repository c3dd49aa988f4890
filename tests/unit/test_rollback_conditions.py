"""The rollback conditions on one version's window: each fires on a clear breach, none on too few
samples or on a miss within noise, and the tests are the textbook ones."""
from __future__ import annotations

import math
import uuid

import pytest
from scipy.stats import norm
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.proportion import test_proportions_2indep as ratio_score_test

from modelops.monitoring import rollback
from modelops.monitoring.baseline import Baseline, VersionState, Window

BASELINE = Baseline(accuracy=0.90, validation_samples=500, response_time_ms=20.0, response_time_predictions=5000,
                    response_time_note="first two days")


def state(window: Window, baseline: Baseline = BASELINE) -> VersionState:
    return VersionState(id=uuid.uuid4(), agent_type="classification", version="v1.1", tenant_id=uuid.uuid4(), region=None,
                        scope_key="tenant:x", is_production=True, window=window, baseline=baseline)


def window(predictions=10_000, labelled=3_000, correct=2_700, overrides=800, ms=20.0) -> Window:
    return Window(predictions=predictions, labelled=labelled, correct=correct, overrides=overrides,
                  response_time_sum_ms=ms * predictions)


def test_a_healthy_window_fires_nothing_and_says_why_for_each_condition():
    verdict = rollback.judge(state(window()))
    assert verdict.triggers == {}
    assert set(verdict.conditions) == {"accuracy_drop", "high_override_rate", "performance_degradation", "sudden_failure"}
    assert all(condition["why"] for condition in verdict.conditions.values())


@pytest.mark.parametrize("breach, name", [
    (dict(correct=2_200), "accuracy_drop"),  # 0.733 < 0.95 x 0.90 = 0.855
    (dict(overrides=2_600), "high_override_rate"),  # 26% > 20%
    (dict(ms=31.0), "performance_degradation"),  # 31 ms > 1.5 x 20 ms
])
def test_each_condition_fires_alone_on_a_clear_breach(breach, name):
    verdict = rollback.judge(state(window(**breach)))
    assert list(verdict.triggers) == [name]
    assert verdict.triggers[name]["breached"] is True


def test_the_accuracy_threshold_is_095_of_the_baseline_with_the_spec_fields():
    condition = rollback.judge(state(window(correct=2_250))).triggers["accuracy_drop"]
    assert condition["current"] == pytest.approx(0.75) and condition["baseline"] == 0.90 and condition["threshold"] == 0.95


def test_a_miss_within_noise_is_not_a_breach():
    # 84.7% on 300 labelled is below 85.5%, but by less than a standard error: not evidence of a drop
    verdict = rollback.judge(state(window(labelled=300, correct=254)))
    assert "accuracy_drop" not in verdict.triggers
    assert verdict.conditions["accuracy_drop"]["p_value"] > rollback.ALPHA


def test_too_few_samples_never_fire_however_bad():
    few = window(predictions=rollback.MIN_PREDICTIONS - 1, labelled=rollback.MIN_LABELLED - 1, correct=0,
                 overrides=rollback.MIN_PREDICTIONS - 1, ms=500.0)
    verdict = rollback.judge(state(few))
    assert verdict.triggers == {}
    assert "fewer than" in verdict.conditions["accuracy_drop"]["why"]
    assert "fewer than" in verdict.conditions["high_override_rate"]["why"]
    assert "needs" in verdict.conditions["performance_degradation"]["why"]


def test_at_the_minimum_counts_a_clear_breach_fires():
    at_minimum = window(predictions=rollback.MIN_TIMED_PREDICTIONS, labelled=rollback.MIN_LABELLED, correct=50,
                        overrides=500, ms=40.0)
    assert set(rollback.judge(state(at_minimum)).triggers) == {"accuracy_drop", "high_override_rate", "performance_degradation"}


def test_without_a_response_time_baseline_latency_is_not_judged():
    young = Baseline(accuracy=0.9, validation_samples=500, response_time_ms=None, response_time_predictions=0,
                     response_time_note="its first 2 days in production are not over yet")
    verdict = rollback.judge(state(window(ms=400.0), young))
    assert "performance_degradation" not in verdict.triggers
    assert "not over yet" in verdict.conditions["performance_degradation"]["why"]


def test_a_baseline_of_few_predictions_is_not_trusted_for_latency():
    thin = Baseline(accuracy=0.9, validation_samples=500, response_time_ms=5.0, response_time_predictions=50, response_time_note="")
    assert rollback.judge(state(window(ms=40.0), thin)).triggers == {}


def test_the_override_test_is_the_one_sample_z_test_at_the_limit():
    p_value = rollback.override_p_value(2_150, 10_000)
    _, expected = proportions_ztest(2_150, 10_000, value=0.2, alternative="larger", prop_var=0.2)
    assert p_value == pytest.approx(expected, rel=1e-9)


def test_the_accuracy_test_is_the_score_test_of_the_live_to_validation_ratio():
    p_value = rollback.accuracy_p_value(800, 1_000, 0.9, 200)
    expected = ratio_score_test(800, 1_000, 180, 200, value=0.95, compare="ratio", alternative="smaller",
                               method="score").pvalue
    assert p_value == pytest.approx(expected, rel=1e-9)
    # the same live figures against a baseline known exactly are stronger evidence
    assert rollback.accuracy_p_value(800, 1_000, 0.9, None) < p_value


def test_a_lucky_validation_score_from_few_rows_is_not_taken_as_certain():
    # 39 of 40 right in validation, 73 of 100 live: for a model that is right 85% of the time
    # both are unlucky draws, and a Wald test's variance at 39/40 would call this a collapse
    threshold = 0.95 * 0.975
    wald_z = (0.73 - threshold) / math.sqrt(threshold * (1 - threshold) / 100 + 0.95 ** 2 * 0.975 * 0.025 / 40)
    assert norm.cdf(wald_z) < rollback.ALPHA
    assert rollback.accuracy_p_value(73, 100, 0.975, 40) > rollback.ALPHA
