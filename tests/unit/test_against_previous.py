"""The slow-decay condition: production is rolled back for the version before it only when that
version leads by the margin and beyond chance, on enough rows."""
from __future__ import annotations

import numpy as np

from modelops.experiments.shadow import PairedReplay
from modelops.monitoring.against_previous import ALPHA, MARGIN, MIN_ROWS, judge
from tests.model_versions import model_version

CURRENT = model_version(version="v1.2")
PREVIOUS = model_version(version="v1.1", is_production=False, status="retired")


def pair(previous_right, current_right) -> PairedReplay:
    previous_right, current_right = list(map(bool, previous_right)), list(map(bool, current_right))
    return PairedReplay(previous_right, current_right, [True] * len(previous_right), {})


def test_a_predecessor_clearly_better_on_the_same_rows_breaches():
    rng = np.random.default_rng(1)
    both = rng.random(2000) < 0.80
    previous = both | (rng.random(2000) < 0.5)  # right on about 90%
    condition = judge(CURRENT, PREVIOUS, pair(previous, both))
    assert condition["breached"], condition["why"]
    assert condition["lead"] >= MARGIN and condition["p_value"] < ALPHA
    assert condition["only_current_right"] == 0 and condition["only_previous_right"] == int((previous & ~both).sum())
    assert "v1.1" in condition["why"] and "v1.2" in condition["why"]


def test_a_significant_lead_below_the_margin_does_not_breach():
    # 2,000 rows: previous right on 40 more than current, none the other way (2 points, p tiny)
    current = [True] * 1600 + [False] * 400
    previous = [True] * 1640 + [False] * 360
    condition = judge(CURRENT, PREVIOUS, pair(previous, current))
    assert condition["p_value"] < ALPHA and condition["lead"] < MARGIN
    assert not condition["breached"]


def test_a_lead_past_the_margin_that_chance_explains_does_not_breach():
    # 200 rows, 12 discordant: 10 for previous, 2 for current (a 4-point lead, p about 0.02)
    current = [True] * 150 + [True, True] + [False] * 10 + [False] * 38
    previous = [True] * 150 + [False, False] + [True] * 10 + [False] * 38
    condition = judge(CURRENT, PREVIOUS, pair(previous, current))
    assert condition["lead"] >= MARGIN and condition["p_value"] > ALPHA
    assert not condition["breached"]


def test_equal_models_are_not_judged_worse_over_many_looks():
    rng = np.random.default_rng(7)
    breaches = 0
    for _ in range(400):  # daily looks over a year's life, at the check's row count
        current, previous = rng.random(5000) < 0.85, rng.random(5000) < 0.85
        breaches += judge(CURRENT, PREVIOUS, pair(previous, current))["breached"]
    assert breaches == 0


def test_too_few_rows_are_reported_and_not_judged():
    condition = judge(CURRENT, PREVIOUS, pair([True] * (MIN_ROWS - 1), [False] * (MIN_ROWS - 1)))
    assert not condition["breached"] and condition["p_value"] is None
    assert f"fewer than {MIN_ROWS}" in condition["why"]
