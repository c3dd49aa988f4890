"""Segment guardrails: a candidate better on average may still be worse for part of the traffic
(a shared model that helps the big tenants and hurts a small one; a model better on invoices and
worse on receipts). Each sizable segment (at least ``min_segment_share`` of the labelled
predictions) is compared on its own, by key (``clustered``), and a one-sided harm p-value taken.
Holm's step-down correction over the sizable segments keeps the chance of calling any unharmed
segment harmed at ``guardrail_alpha``; a harmed segment refuses the candidate, naming it. Segments
hold disjoint keys, so their tests are independent and the Sidak form of Holm's procedure
(statsmodels' ``holm-sidak``, slightly more powerful than Bonferroni steps) keeps that level.

Harm that is not (yet) significant still holds a promotion back: a segment whose estimated lift
is below ``-success_threshold``, a harm as large as the gain the test is built to detect, must
gather more evidence first. A shared model's candidate is held to more (``harm_margin``): each
sizable tenant's one-sided lower bound on the lift must be above ``-harm_margin``, so a tenant with
little traffic, whose estimate is uncertain, is not harmed for want of evidence. The bounds are
simultaneous (each at the Sidak level for the number of sizable tenants, together at ``alpha``).
They are judged at a few guard looks only, each tenant's bound by a group-sequential boundary over
those looks, and a tenant whose bound has cleared the margin at one stays clear: the chance that a
tenant beyond the margin ever clears it is its level, however many looks the test has. Held to
the end of the test, the candidate ends inconclusive and control stays.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from scipy.stats import norm
from statsmodels.stats.multitest import multipletests

from modelops.experiments.clustered import RatioSums, compare


@dataclass(frozen=True)
class SegmentResult:
    name: str
    share: float  # of both arms' labelled predictions
    control_accuracy: float
    treatment_accuracy: float
    lift: float
    z: float
    harm_p_value: float  # one-sided: treatment worse in this segment
    adjusted_p_value: float  # Holm-Sidak, over the sizable segments
    harmed: bool  # significantly worse after the correction
    holds_promotion: bool  # harm not ruled out: estimated at the test's minimum detectable effect, or beyond the margin
    lower_bound: float  # one-sided (1 - alpha) lower confidence bound on the lift
    margin_cleared: bool = False  # a shared model's tenant: its bound cleared the margin at a guard look

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def judge_segments(segments: Mapping[str, tuple[RatioSums, RatioSums]], min_share: float, alpha: float,
                   hold_below: float, harm_margin: float | None = None,
                   margin_boundary: Callable[[float], float] | None = None,
                   cleared: frozenset[str] = frozenset()) -> list[SegmentResult]:
    """``segments``: name -> (treatment, control) accuracy sums. Segments under ``min_share`` of
    the labelled predictions, or with an arm unlabelled, are not judged. With ``harm_margin`` (a
    shared model's tenants) a segment also holds promotion until its lower bound has cleared the
    margin: at this look, when ``margin_boundary`` gives the z of each tenant's bound for the level
    it is owed (``alpha`` shared out over the tenants), or at an earlier one (``cleared``). Without
    ``margin_boundary`` the bounds are not judged at this look."""
    total = sum(treatment.b + control.b for treatment, control in segments.values())
    sizable = {name: arms for name, arms in segments.items()
               if total and (arms[0].b + arms[1].b) / total >= min_share and arms[0].b and arms[1].b}
    if not sizable:
        return []
    comparisons = {name: compare(*arms) for name, arms in sizable.items()}
    names = sorted(sizable)
    harm = [1.0 - comparisons[name].p_value for name in names]
    rejected, adjusted, _, _ = multipletests(harm, alpha=alpha, method="holm-sidak")
    # A shared candidate's bounds are simultaneous (Sidak over the sizable tenants): "no tenant is
    # harmed beyond the margin" is one claim about all of them, and each bound at alpha alone would
    # let a harmed tenant clear the margin by chance once in a few tests of six tenants.
    each = alpha if harm_margin is None else 1.0 - (1.0 - alpha) ** (1.0 / len(names))
    judged = harm_margin is not None and margin_boundary is not None
    z_bound = margin_boundary(each) if judged else float(norm.isf(each))
    results = []
    for name, p_value, adjusted_p, is_harmed in zip(names, harm, adjusted, rejected):
        treatment, control = sizable[name]
        difference = comparisons[name]
        lower = difference.difference - z_bound * difference.variance ** 0.5
        clear = harm_margin is not None and (name in cleared or (judged and lower > -harm_margin))
        held = difference.difference <= -hold_below or (harm_margin is not None and not clear)
        results.append(SegmentResult(
            name, (treatment.b + control.b) / total, control.ratio, treatment.ratio, difference.difference,
            difference.z, p_value, float(adjusted_p), bool(is_harmed), held, lower, clear))
    return results
