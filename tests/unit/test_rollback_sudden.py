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


def state(recent=(), window=STEADY, baseline=BASELINE, confidences=(), bands=None) -> VersionState:
    return VersionState(id=uuid.uuid4(), agent_type="classification", version="v1.1", tenant_id=uuid.uuid4(),
                        region=None, scope_key="tenant:x", is_production=True, window=window, baseline=baseline,
                        recent_outcomes=tuple(recent), recent_confidences=tuple(confidences),
                        confidence_bands=bands or {})


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


# --- risk adjustment by confidence -----------------------------------------------------------------

# a record of 5,000 labelled predictions: 3,000 given at 0.95-0.99 (97% right), 2,000 at 0.65-0.69 (67% right)
RECORD = {19: (3_000, 2_910), 13: (2_000, 1_340)}


def test_each_band_is_the_reference_moved_by_its_shrunk_difference_and_capped():
    mean = (2_910 + 1_340) / 5_000
    by_band = sudden.band_references(RECORD, 0.85)
    assert by_band[19] == pytest.approx(min(0.85 + (2_910 - 3_000 * mean) / (3_000 + sudden.SHRINKAGE), sudden.CEILING))
    assert by_band[13] == pytest.approx(0.85 + (1_340 - 2_000 * mean) / (2_000 + sudden.SHRINKAGE))
    assert by_band[13] < 0.85 < by_band[19]
    # every prediction in one band: the plain reference, whatever the band's own record says
    assert sudden.band_references({17: (5_000, 4_000)}, 0.85) == {17: pytest.approx(0.85)}
    assert sudden.band_references({}, 0.85) == {}
    # a high band is capped, and so is the plain reference
    assert sudden.band_references({19: (4_000, 3_990), 10: (1_000, 600)}, 0.95)[19] == sudden.CEILING
    refs = sudden.prediction_references([0.99, None, 0.42, 1.0], {19: 0.9, 13: 0.6}, 0.995)
    assert refs.tolist() == pytest.approx([0.9, sudden.CEILING, sudden.CEILING, 0.9])


def test_wrong_answers_given_confidently_weigh_more_than_wrong_answers_given_in_doubt():
    by_band = sudden.band_references(RECORD, 0.85)
    wrong = [False] * 20
    confident = sudden.statistic(wrong, sudden.prediction_references([0.97] * 20, by_band, 0.85))
    doubtful = sudden.statistic(wrong, sudden.prediction_references([0.67] * 20, by_band, 0.85))
    plain = sudden.statistic(wrong, 0.85)
    assert confident > plain > doubtful


def test_the_condition_reads_the_confidences_and_names_the_record_it_used():
    # 200 labelled: the last 40 given at 0.97, 24 of them wrong (a model right 97% of the time there)
    recent = [True] * 160 + [True, False, False] * 8 + [True] * 16
    confidences = [0.67] * 160 + [0.97] * 40
    adjusted = rollback.judge(state(recent, confidences=confidences, bands=RECORD)).conditions["sudden_failure"]
    plain = rollback.judge(state(recent)).conditions["sudden_failure"]
    assert adjusted["breached"] and not plain["breached"]
    assert "confidence band" in adjusted["why"] and "5000 labelled before them" in adjusted["why"]
    assert set(adjusted["band_accuracy"]) == {"13", "19"} and plain["band_accuracy"] == {}


def test_with_calibrated_confidences_a_drop_is_caught_sooner_and_stable_models_stay():
    """A model 85% right, its confidences spread (standard deviation 0.14) and calibrated; the
    bands from 5,000 labelled predictions, as the check reads them."""
    rng = np.random.default_rng(8)
    alpha_, beta_ = 0.85 * 5.505, 0.15 * 5.505  # Beta with mean 0.85 and standard deviation 0.14

    def record():
        confidence = np.round(rng.beta(alpha_, beta_, size=5_000), 2)
        right = rng.random(5_000) < confidence
        bands = np.minimum((confidence * sudden.BINS).astype(int), sudden.BINS - 1)
        by_band = sudden.band_references({int(b): (int((bands == b).sum()), int(right[bands == b].sum()))
                                          for b in np.unique(bands)}, 0.85)
        return lambda confidences: sudden.prediction_references(confidences, by_band, 0.85)

    alarms = 0
    for _ in range(100):  # four weeks of a stable model, read after every labelled prediction
        confidence = np.round(rng.beta(alpha_, beta_, size=28_000), 2)
        ratios = sudden.log_likelihood_ratios(rng.random(28_000) < confidence, record()(confidence.tolist()))
        alarms += bool((sudden.cusum(ratios) >= sudden.THRESHOLD).any())
    assert alarms <= 4  # a true 1% gives at most 4 of 100 with probability 0.996
    delays = []
    for _ in range(200):  # 200 sound predictions, then every one right 20 points less often
        confidence = np.round(rng.beta(alpha_, beta_, size=400), 2)
        chance = np.concatenate([confidence[:200], np.clip(confidence[200:] - 0.2, 0.0, 1.0)])
        path = sudden.cusum(sudden.log_likelihood_ratios(rng.random(400) < chance, record()(confidence.tolist())))[200:]
        delays.append(int(np.argmax(path >= sudden.THRESHOLD)) + 1 if (path >= sudden.THRESHOLD).any() else 1_000)
    # without the confidences the median is about 90 and 59% are caught within 100 (docs/rollback.md)
    assert np.median(delays) <= 75 and np.mean(np.array(delays) <= 100) >= 0.8
