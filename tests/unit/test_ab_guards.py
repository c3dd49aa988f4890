"""The guards around each look: label-rate check, exact test on small counts, maximum duration,
segment guardrails, and the final look's spending."""
from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests

from modelops.experiments import (
    CONTINUE, INCONCLUSIVE, PROMOTE, REJECT, STOP_LABEL_RATE, ABCounts, ABTestConfig, VariantCounts, evaluate,
)
from modelops.experiments.clustered import RatioSums
from modelops.experiments.labelling import check_label_rate
from modelops.experiments.segments import judge_segments
from modelops.experiments.sequential import crossing_probability, upper_boundary

CONFIG = ABTestConfig()
START = dt.datetime(2026, 1, 5, 6)


def day(n: float) -> dt.datetime:
    return START + dt.timedelta(days=n)


def arm(labelled: int, correct: int, served: int | None = None) -> VariantCounts:
    return VariantCounts(labelled, correct, served=served)


# --- label rate ----------------------------------------------------------------------------------

def test_a_label_rate_gap_stops_the_test_naming_both_rates():
    # 43.4% against 40% of 25,000 and 225,000 served predictions: far beyond chance
    counts = ABCounts(VariantCounts(90_000, 76_500, assigned=45_000, served=225_000),
                      VariantCounts(10_850, 9_350, assigned=5_000, served=25_000))
    decision = evaluate(counts, [], CONFIG, START, day(10), baseline_accuracy=0.85)
    assert decision.decision == STOP_LABEL_RATE
    assert "43.4%" in decision.reason and "40.0%" in decision.reason
    assert decision.look is None
    assert decision.as_dict()["label_rate_p_value"] < CONFIG.label_rate_threshold / CONFIG.max_looks


def test_equal_label_rates_pass_and_the_check_is_the_two_sided_two_proportion_test():
    check = check_label_rate(RatioSums.independent(1_010, 2_500), RatioSums.independent(9_000, 22_500), 0.01, looks=42)
    assert not check.mismatch and check.threshold == pytest.approx(0.01 / 42)
    assert check.p_value > 0.5


def test_label_rates_of_a_simulated_healthy_test_rarely_stop_it():
    rng = np.random.default_rng(4)
    stops = 0
    for _ in range(2_000):
        served_t, served_c = rng.poisson(250 * 42), rng.poisson(2_250 * 42)
        stops += check_label_rate(RatioSums.independent(rng.binomial(served_t, 0.4), served_t),
                                  RatioSums.independent(rng.binomial(served_c, 0.4), served_c), 0.01, looks=1).mismatch
    assert stops <= 40  # a true 1% per look gives at most 37 in 2,000 with probability 0.999


# --- small counts ----------------------------------------------------------------------------------

def test_one_right_of_a_thousand_against_none_of_nine_thousand_is_not_promoted():
    # The pooled z is 3.0; the exact p is 0.10. Each arm's own variance (the treatment's, as control
    # has none) puts z at 1.0.
    assert fisher_exact([[1, 999], [0, 9_000]], alternative="greater").pvalue == pytest.approx(0.1)
    decision = evaluate(ABCounts(arm(9_000, 0), arm(1_000, 1)), [], CONFIG, START, day(25), baseline_accuracy=0.001)
    assert decision.decision != PROMOTE
    assert decision.comparison.p_value > 0.1


def test_where_errors_are_few_fishers_exact_test_must_agree_with_z():
    # 2 errors in 1,000 against 56 in 9,000: z = 1.67 passes the final look's 1.645, Fisher's p = 0.061 does not
    counts = ABCounts(arm(9_000, 8_944), arm(1_000, 998))
    decision = evaluate(counts, [], CONFIG, START, day(CONFIG.max_duration_days), baseline_accuracy=0.99)
    assert decision.comparison.z >= decision.boundary.z
    assert decision.exact_p_value == pytest.approx(
        fisher_exact([[998, 2], [8_944, 56]], alternative="greater").pvalue)
    assert decision.exact_p_value > decision.boundary.nominal_alpha
    assert decision.decision == INCONCLUSIVE and "Fisher" in decision.reason


def test_rare_errors_do_not_reject_an_equal_model_for_harm():
    # 0.999 accurate models: a few errors more in treatment by chance; Fisher decides
    rng = np.random.default_rng(7)
    rejections = 0
    for _ in range(400):
        control = 20_000 - rng.binomial(20_000, 0.001)
        treatment = 2_400 - rng.binomial(2_400, 0.001)
        decision = evaluate(ABCounts(arm(20_000, int(control)), arm(2_400, int(treatment))), [], CONFIG, START,
                            day(25), baseline_accuracy=0.999)
        rejections += decision.decision == REJECT and "significantly worse" in decision.reason
    assert rejections <= 400 * 0.05


# --- maximum duration ---------------------------------------------------------------------------

def test_the_maximum_duration_ends_inconclusive_keeping_control():
    # thin traffic: far short of the plan after six weeks, and no significant difference
    counts = ABCounts(arm(9_000, 7_650), arm(1_000, 852))
    decision = evaluate(counts, [], CONFIG, START, day(CONFIG.max_duration_days), baseline_accuracy=0.85)
    assert decision.decision == INCONCLUSIVE
    assert decision.reason.startswith("inconclusive: keep control")
    assert decision.information_fraction < 1
    # the final look spends all of alpha, not the spending function's share at its information
    assert decision.boundary.alpha_spent == pytest.approx(CONFIG.alpha)
    assert evaluate(counts, [], CONFIG, START, day(CONFIG.max_duration_days - 1), baseline_accuracy=0.85).decision == CONTINUE


def test_too_few_labels_at_the_maximum_duration_are_inconclusive_too():
    decision = evaluate(ABCounts(arm(4_000, 3_400), arm(400, 350)), [], CONFIG, START, day(50))
    assert decision.decision == INCONCLUSIVE and "400 labelled" in decision.reason


def test_a_final_look_spends_exactly_the_rest_of_alpha():
    first = upper_boundary([], 0.3, 0.05)
    final = upper_boundary([(0.3, first.z)], 0.6, 0.05, final=True)
    assert crossing_probability([0.3, 0.6], [first.z, final.z], 0.0) == pytest.approx(0.05, abs=1e-6)


# --- segments -------------------------------------------------------------------------------------

def segment(control_labelled, control_correct, treatment_labelled, treatment_correct):
    return ABCounts(arm(control_labelled, control_correct), arm(treatment_labelled, treatment_correct))


def test_a_significantly_harmed_tenant_refuses_promotion_and_is_named():
    segments = {
        "tenant big": segment(36_000, 30_600, 4_000, 3_500),  # 85% -> 87.5%
        "tenant small": segment(5_400, 4_590, 600, 450),  # 85% -> 75%
    }
    overall = ABCounts(arm(41_400, 35_190), arm(4_600, 3_950), segments)
    decision = evaluate(overall, [], CONFIG, START, day(20), baseline_accuracy=0.85)
    assert decision.decision == REJECT
    assert "tenant small" in decision.reason and "tenant big" not in decision.reason
    small = next(s for s in decision.as_dict()["segments"] if s["name"] == "tenant small")
    assert small["harmed"] and small["lift"] == pytest.approx(-0.10)


def test_holm_sidak_over_the_sizable_segments_only():
    arms = {
        "a": (RatioSums.independent(850, 1_000), RatioSums.independent(8_500, 10_000)),
        "b": (RatioSums.independent(80, 100), RatioSums.independent(850, 1_000)),
        "tiny": (RatioSums.independent(1, 10), RatioSums.independent(85, 100)),  # under 5%: not judged
    }
    results = judge_segments(arms, min_share=0.05, alpha=0.05, hold_below=0.02)
    assert [r.name for r in results] == ["a", "b"]
    raw = [r.harm_p_value for r in results]
    assert [r.adjusted_p_value for r in results] == pytest.approx(
        list(multipletests(raw, method="holm-sidak")[1]))
    assert results[1].holds_promotion and not results[0].holds_promotion


def test_a_segment_whose_harm_is_not_yet_significant_holds_promotion_back():
    segments = {
        "invoices": segment(13_500, 11_475, 1_500, 1_350),  # 85% -> 90%
        "receipts": segment(1_800, 1_530, 200, 164),  # 85% -> 82%: not significant, but 3 points down
    }
    overall = ABCounts(arm(15_300, 13_005), arm(1_700, 1_514), segments)
    decision = evaluate(overall, [], CONFIG, START, day(14), baseline_accuracy=0.85)
    assert decision.comparison.z >= decision.boundary.z
    assert decision.decision == CONTINUE
    assert "held back" in decision.reason and "receipts" in decision.reason


def test_label_rates_that_differ_short_of_a_stop_hold_a_promotion_back():
    # 42% against 40% labelled: p = 0.014, far from a stop, but enough doubt to wait
    counts = ABCounts(VariantCounts(14_400, 12_240, assigned=9_000, served=36_000),
                      VariantCounts(1_680, 1_512, assigned=1_000, served=4_000))
    decision = evaluate(counts, [], CONFIG, START, day(14), baseline_accuracy=0.85)
    assert decision.comparison.z >= decision.boundary.z
    assert CONFIG.label_rate_threshold / CONFIG.max_looks < decision.label_rate.p_value < CONFIG.label_rate_hold
    assert decision.decision == CONTINUE and "label rates differ" in decision.reason
    same_rates = ABCounts(VariantCounts(14_400, 12_240, assigned=9_000, served=36_000),
                          VariantCounts(1_600, 1_440, assigned=1_000, served=4_000))
    assert evaluate(same_rates, [], CONFIG, START, day(14), baseline_accuracy=0.85).decision == PROMOTE


def test_a_shared_candidate_is_held_until_each_tenant_rules_out_harm_beyond_the_margin():
    # the small tenant's estimate is +1 point, but on 100 treatment labels its lower bound is below -4
    segments = {
        "tenant big": segment(13_500, 11_475, 1_500, 1_320),  # 85% -> 88%
        "tenant small": segment(900, 765, 100, 86),  # 85% -> 86%, uncertain
    }
    shared = ABCounts(arm(14_400, 12_240), arm(1_600, 1_406), segments, shared=True)
    own = ABCounts(arm(14_400, 12_240), arm(1_600, 1_406), segments)
    held = evaluate(shared, [], CONFIG, START, day(20), baseline_accuracy=0.85)
    promoted = evaluate(own, [], CONFIG, START, day(20), baseline_accuracy=0.85)
    assert promoted.decision == PROMOTE  # a tenant's own model: no harm in sight, no hold
    assert held.decision != PROMOTE and "tenant small" in held.reason and "lower bound" in held.reason
    small = next(s for s in held.as_dict()["segments"] if s["name"] == "tenant small")
    assert small["holds_promotion"] and small["lower_bound"] < -CONFIG.shared_harm_margin < small["lift"]


def test_the_lower_bound_is_the_one_sided_normal_bound_of_the_segments_comparison():
    from scipy.stats import norm

    from modelops.experiments.clustered import compare

    arms = {"a": (RatioSums.independent(880, 1_000), RatioSums.independent(8_500, 10_000))}
    (result,) = judge_segments(arms, min_share=0.05, alpha=0.05, hold_below=0.02, harm_margin=0.04, margin_boundary=norm.isf)
    difference = compare(*arms["a"])
    assert result.lower_bound == pytest.approx(difference.difference - norm.isf(0.05) * difference.variance ** 0.5)
    assert not result.holds_promotion  # +3 points on 1,000: bound about +1.1 points, clear of the margin


def test_a_shared_candidates_tenant_bounds_hold_together_at_the_guardrail_level():
    from scipy.stats import norm

    from modelops.experiments.clustered import compare

    arms = {name: (RatioSums.independent(880, 1_000), RatioSums.independent(8_500, 10_000)) for name in "abcdef"}
    results = judge_segments(arms, min_share=0.05, alpha=0.05, hold_below=0.02, harm_margin=0.04, margin_boundary=norm.isf)
    each = 1 - 0.95 ** (1 / 6)  # Sidak: six bounds that all hold with probability 0.95
    difference = compare(*arms["a"])
    assert [r.lower_bound for r in results] == pytest.approx([difference.difference - norm.isf(each) * difference.variance ** 0.5] * 6)
    own = judge_segments(arms, min_share=0.05, alpha=0.05, hold_below=0.02)  # a tenant's own model: each bound at alpha
    assert own[0].lower_bound == pytest.approx(difference.difference - norm.isf(0.05) * difference.variance ** 0.5)


def test_efficacy_shown_while_held_promotes_at_a_later_look_once_nothing_holds_it():
    small_uncertain = {"tenant big": segment(13_500, 11_475, 1_500, 1_320), "tenant small": segment(900, 765, 100, 86)}
    held = evaluate(ABCounts(arm(14_400, 12_240), arm(1_600, 1_406), small_uncertain, shared=True), [], CONFIG, START,
                    day(20), baseline_accuracy=0.85)
    assert held.decision == CONTINUE and held.look.efficacy_shown
    assert held.look.as_dict()["efficacy_shown"] and type(held.look).from_dict(held.look.as_dict()) == held.look
    # a week later the small tenant has the labels to rule out harm; the lead is still there but
    # short of this look's boundary (none is left to spend past the plan): the earlier claim stands
    small_clear = {"tenant big": segment(18_000, 15_300, 2_000, 1_713), "tenant small": segment(4_500, 3_825, 1_000, 860)}
    later = ABCounts(arm(22_500, 19_125), arm(2_500, 2_143), small_clear, shared=True)
    promoted = evaluate(later, [held.look], CONFIG, START, day(27), baseline_accuracy=0.85)
    assert promoted.decision == PROMOTE and "earlier look" in promoted.reason
    # without the earlier claim the same counts do not promote; nor does a lead that has gone
    fresh = evaluate(later, [dataclasses.replace(held.look, efficacy_shown=False)], CONFIG, START, day(27), baseline_accuracy=0.85)
    assert fresh.comparison.z < fresh.boundary.z and fresh.decision != PROMOTE
    gone = {"tenant big": segment(18_000, 15_300, 2_000, 1_690), "tenant small": segment(4_500, 3_825, 500, 420)}
    reversed_lead = ABCounts(arm(22_500, 19_125), arm(2_500, 2_110), gone, shared=True)
    assert evaluate(reversed_lead, [held.look], CONFIG, START, day(27), baseline_accuracy=0.85).decision != PROMOTE


def test_a_shared_candidates_tenant_bounds_are_judged_once_a_guard_period_on_a_group_sequential_boundary():
    from modelops.experiments.clustered import compare

    # both tenants' bounds are clear of the margin at day 15, the first look of the third week
    clear = {"tenant big": segment(13_500, 11_475, 1_500, 1_320), "tenant small": segment(4_500, 3_825, 600, 528)}
    counts = ABCounts(arm(18_000, 15_300), arm(2_100, 1_848), clear, shared=True)
    first = evaluate(counts, [], CONFIG, START, day(15), baseline_accuracy=0.85)
    assert first.decision == PROMOTE and first.look.guard_period == 2
    # the guard look of period 2 of 6, the first one the test has had: O'Brien-Fleming at 1/3,
    # for each of two tenants' Sidak share of the level
    each = 1 - (1 - CONFIG.guardrail_alpha) ** (1 / 2)
    z = upper_boundary([], 2 / 6, each).z
    assert z > 3.0  # early guard looks demand far more than the fixed-sample 2.24
    small = compare(clear["tenant small"].treatment.accuracy_sums(), clear["tenant small"].control.accuracy_sums())
    judged = next(s for s in first.segments if s.name == "tenant small")
    assert judged.lower_bound == pytest.approx(small.difference - z * small.variance ** 0.5)
    assert first.look.cleared_tenants == ("tenant big", "tenant small")
    # had the small tenant not cleared at that guard look, the same counts at a later look of the
    # same period wait for the next guard look, naming it
    earlier = dataclasses.replace(first.look, decision=CONTINUE, efficacy_shown=True, information_fraction=0.1,
                                  cleared_tenants=("tenant big",))
    waiting = evaluate(counts, [earlier], CONFIG, START, day(18), baseline_accuracy=0.85)
    assert waiting.decision == CONTINUE and waiting.look.guard_period == 2
    assert "tenant small" in waiting.reason and "tenant big (" not in waiting.reason
    assert "once every 7 days" in waiting.reason and "day 21" in waiting.reason
    assert type(waiting.look).from_dict(waiting.look.as_dict()) == waiting.look
    # at the next guard look its boundary follows the one of period 2
    later = evaluate(counts, [earlier], CONFIG, START, day(21), baseline_accuracy=0.85)
    z3 = upper_boundary([(2 / 6, z)], 3 / 6, each).z
    judged = next(s for s in later.segments if s.name == "tenant small")
    assert later.look.guard_period == 3 and judged.lower_bound == pytest.approx(small.difference - z3 * small.variance ** 0.5)
    # a tenant that cleared at a guard look stays clear: with both cleared, the look promotes
    both = dataclasses.replace(earlier, cleared_tenants=("tenant big", "tenant small"))
    assert evaluate(counts, [both], CONFIG, START, day(18), baseline_accuracy=0.85).decision == PROMOTE
    # a tenant's own model has no guard looks: the same counts promote on any day
    own = ABCounts(counts.control, counts.treatment, clear)
    assert evaluate(own, [earlier], CONFIG, START, day(18), baseline_accuracy=0.85).decision == PROMOTE


def test_the_guard_periods_and_their_setting():
    assert CONFIG.shared_guard_looks == 6
    assert [CONFIG.shared_guard_period(d) for d in (6.9, 7.0, 13.5, 41.9, 42.0, 50.0)] == [0, 1, 1, 5, 6, 6]
    with pytest.raises(ValueError, match="shared_guard_interval_days"):
        ABTestConfig(shared_guard_interval_days=0)
    with pytest.raises(ValueError, match="shared_guard_interval_days"):
        ABTestConfig(shared_guard_interval_days=43)


def test_a_tenant_truly_beyond_the_margin_rarely_clears_it_at_any_guard_look_of_a_test():
    """Its bound is read at six weekly guard looks on O'Brien-Fleming boundaries, instead of at up
    to 35 daily looks at a fixed level. Simulated: a tenant with ten labelled treatment predictions
    a day at 0.80 (5 points below control's 0.85), ninety in control, owed one of six tenants'
    Sidak share of the 5% level; a fixed bound read daily lets it through in about 4% of tests, the
    guard looks in about 0.4% (docs/experiments.md)."""
    from modelops.experiments.sequential import boundaries

    each = 1 - 0.95 ** (1 / 6)
    weekly = boundaries([k / 6 for k in range(1, 7)], each)
    rng = np.random.default_rng(11)
    cleared = 0
    for _ in range(400):
        treatment = np.cumsum(rng.binomial(10, 0.80, size=42))
        control = np.cumsum(rng.binomial(90, 0.85, size=42))
        for period in range(1, 7):
            n = 70 * period
            (result,) = judge_segments({"tenant": (RatioSums.independent(int(treatment[n // 10 - 1]), n),
                                                   RatioSums.independent(int(control[n // 10 - 1]), 9 * n))},
                                       min_share=0.05, alpha=each, hold_below=1.0, harm_margin=0.04,
                                       margin_boundary=lambda level, z=weekly[period - 1]: z)
            if result.margin_cleared:
                cleared += 1
                break
    assert cleared <= 7  # a true 0.4% per test gives at most 7 of 400 with probability 0.999
