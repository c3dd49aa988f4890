"""Accuracy by key: the delta-method variance of a ratio of per-key sums, and a sequential test on it
that keeps its false promotions at alpha when a key's predictions are right or wrong together."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.stats import binom

from modelops.experiments import CONTINUE, PROMOTE, ABCounts, ABTestConfig, KeySums, Look, VariantCounts, evaluate
from modelops.experiments.clustered import RatioSums, compare

START = dt.datetime(2026, 1, 5, 6)


def sums(correct: np.ndarray, labelled: np.ndarray) -> RatioSums:
    return RatioSums(int((labelled > 0).sum()), float(correct.sum()), float(labelled.sum()), float(correct @ correct),
                     float(labelled @ labelled), float(correct @ labelled))


def test_one_prediction_a_key_gives_the_binomial_variance():
    rng = np.random.default_rng(1)
    correct = rng.binomial(1, 0.85, size=2_000).astype(float)
    by_key = sums(correct, np.ones(2_000))
    p = correct.mean()
    assert by_key.variance == pytest.approx(p * (1 - p) / 2_000 * 2_000 / 1_999)
    assert by_key == RatioSums.independent(correct.sum(), 2_000)


def test_the_delta_method_variance_matches_the_spread_of_clustered_accuracies():
    # 200 keys of 20 predictions each, within-key correlation 0.2: the variance of the accuracy
    # over many draws is about 1 + 19 x 0.2 = 4.8 times the binomial one, and the estimate follows it.
    rng = np.random.default_rng(2)
    keys, per_key, rho, mean = 200, 20, 0.2, 0.85
    concentration = (1 - rho) / rho
    draws = []
    estimates = []
    for _ in range(2_000):
        p = rng.beta(mean * concentration, (1 - mean) * concentration, size=keys)
        correct = rng.binomial(per_key, p).astype(float)
        by_key = sums(correct, np.full(keys, float(per_key)))
        draws.append(by_key.ratio)
        estimates.append(by_key.variance)
    observed = np.var(draws)
    assert np.mean(estimates) == pytest.approx(observed, rel=0.1)
    assert observed > 4 * mean * (1 - mean) / (keys * per_key)


def test_the_comparison_never_claims_less_variance_than_independent_predictions_would_have():
    # ten keys in treatment, all happening to agree: their variance by key is tiny, the pooled floor is not
    agreeing = RatioSums(keys=10, a=90.0, b=100.0, aa=810.0, bb=1_000.0, ab=900.0)
    control = RatioSums.independent(850.0, 1_000.0)
    difference = compare(agreeing, control)
    pooled = (90 + 850) / 1_100
    assert difference.variance >= pooled * (1 - pooled) * (1 / 100 + 1 / 1_000)
    # few keys: read as Student's t with 9 degrees of freedom, so z is below the raw ratio
    assert difference.degrees_of_freedom == 9
    assert difference.z < difference.difference / np.sqrt(difference.variance)


def test_both_arms_all_right_is_no_difference():
    difference = compare(RatioSums.independent(100, 100), RatioSums.independent(900, 900))
    assert (difference.z, difference.p_value) == (0.0, 0.5)


CONFIG = ABTestConfig()


def clustered_arm(rng, keys: int, days: np.ndarray, accuracy: np.ndarray) -> list[VariantCounts]:
    """Cumulative daily counts of one arm whose keys have their own accuracies."""
    served = rng.poisson(days[:, None] * np.ones(keys)[None, :])  # (days, keys)
    labelled = rng.binomial(served, 0.4)
    correct = rng.binomial(labelled, accuracy[None, :])
    labelled, correct, served = (np.cumsum(x, axis=0).astype(float) for x in (labelled, correct, served))
    out = []
    for n, c, s in zip(labelled, correct, served):
        by_key = KeySums(int((n > 0).sum()), float(n @ n), float(c @ c), float(n @ c), int((s > 0).sum()),
                         float(s @ s), float(s @ n))
        out.append(VariantCounts(int(n.sum()), int(c.sum()), assigned=int((s > 0).sum()), served=int(s.sum()),
                                 by_key=by_key))
    return out


def a_a_promotions(rng, tests: int, rho: float, by_key: bool) -> int:
    keys, days = 500, 42
    concentration = (1 - rho) / rho
    promoted = 0
    for _ in range(tests):
        treated = int(rng.binomial(keys, CONFIG.allocation))
        accuracy = rng.beta(0.85 * concentration, 0.15 * concentration, size=keys)
        daily = np.full(days, 5.0)
        treatment = clustered_arm(rng, treated, daily, accuracy[:treated])
        control = clustered_arm(rng, keys - treated, daily, accuracy[treated:])
        looks: list[Look] = []
        for day in range(days):
            t, c = treatment[day], control[day]
            if not by_key:  # what counting predictions as independent would see
                t, c = (VariantCounts(v.labelled, v.correct, v.assigned, v.served) for v in (t, c))
            decision = evaluate(ABCounts(c, t), looks, CONFIG, START, START + dt.timedelta(days=day + 1),
                                baseline_accuracy=0.85)
            if decision.look:
                looks.append(decision.look)
            if decision.decision != CONTINUE:
                break
        promoted += decision.decision == PROMOTE
    return promoted


@pytest.mark.slow
def test_clustered_a_a_tests_promote_at_most_alpha_by_key_and_far_more_by_prediction():
    # Within-key correlation 0.05, 1,000 labelled a day from 500 keys, daily looks for six weeks.
    tests = 300
    by_key = a_a_promotions(np.random.default_rng(5), tests, 0.05, by_key=True)
    by_prediction = a_a_promotions(np.random.default_rng(5), tests, 0.05, by_key=False)
    assert by_key <= int(binom.ppf(0.999, tests, CONFIG.alpha)), f"{by_key} of {tests} promoted by key"
    assert by_prediction > int(binom.ppf(0.999, tests, CONFIG.alpha)), f"{by_prediction} of {tests} by prediction"
