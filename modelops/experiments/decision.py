"""One look at an A/B test: promote, reject, continue, end inconclusive, or stop on a broken split
or a label-rate mismatch.

A look needs only the counts so far and the records earlier looks left (``Look``), so the caller
keeps no other state: it stores ``decision.as_dict()`` in its decision row, and passes the
``Look`` of every earlier analysed look back in, oldest first.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from modelops.experiments import exact
from modelops.experiments.clustered import Difference, RatioSums, compare
from modelops.experiments.config import ABTestConfig
from modelops.experiments.labelling import LabelRateCheck, check_label_rate
from modelops.experiments.sample_size import SamplePlan, effective_size, plan_sample_size
from modelops.experiments.segments import SegmentResult, judge_segments
from modelops.experiments.sequential import Boundary, boundaries, upper_boundary
from modelops.experiments.srm import SrmCheck, check_sample_ratio

PROMOTE = "promote"
REJECT = "reject"
CONTINUE = "continue"
STOP_SRM = "stop_srm"
STOP_LABEL_RATE = "stop_label_rate"
INCONCLUSIVE = "inconclusive"


def _count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")


@dataclass(frozen=True)
class KeySums:
    """Second moments over one variant's keys (the unit traffic is split by): n_k labelled, c_k
    correct and s_k served predictions of key k. They give the variance of accuracy and of the
    label rate by key (``clustered``)."""

    labelled_keys: int  # keys with a labelled prediction
    labelled_sq: float  # sum n_k^2
    correct_sq: float  # sum c_k^2
    labelled_correct: float  # sum n_k c_k
    served_keys: int  # keys served at least once
    served_sq: float  # sum s_k^2
    served_labelled: float  # sum s_k n_k


@dataclass(frozen=True)
class VariantCounts:
    """One variant's predictions so far: ``labelled`` have feedback, ``correct`` of them were right.
    ``assigned`` counts the units (keys) assigned to the variant, for the split check; without it
    the labelled predictions are checked instead. ``served`` counts its predictions, for the
    label-rate check (not run without it). ``by_key`` holds the sums over keys; without them every
    prediction is taken as its own key."""

    labelled: int
    correct: int
    assigned: int | None = None
    served: int | None = None
    by_key: KeySums | None = None

    def __post_init__(self) -> None:
        _count("labelled", self.labelled)
        _count("correct", self.correct)
        for name in ("assigned", "served"):
            if getattr(self, name) is not None:
                _count(name, getattr(self, name))
        if self.correct > self.labelled:
            raise ValueError(f"correct ({self.correct}) cannot exceed labelled ({self.labelled})")
        if self.served is not None and self.labelled > self.served:
            raise ValueError(f"labelled ({self.labelled}) cannot exceed served ({self.served})")

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None

    @property
    def units(self) -> int:
        return self.labelled if self.assigned is None else self.assigned

    def accuracy_sums(self) -> RatioSums:
        if self.by_key is None:
            return RatioSums.independent(self.correct, self.labelled)
        k = self.by_key
        return RatioSums(k.labelled_keys, self.correct, self.labelled, k.correct_sq, k.labelled_sq, k.labelled_correct)

    def label_sums(self) -> RatioSums | None:
        if self.served is None:
            return None
        if self.by_key is None:
            return RatioSums.independent(self.labelled, self.served)
        k = self.by_key
        return RatioSums(k.served_keys, self.labelled, self.served, k.labelled_sq, k.served_sq, k.served_labelled)


@dataclass(frozen=True)
class ABCounts:
    control: VariantCounts
    treatment: VariantCounts
    # name -> the segment's own counts (tenants of a shared model, an agent's own segments)
    segments: Mapping[str, "ABCounts"] = field(default_factory=dict)
    # a shared model's test: its segments are the tenants it serves, each owed non-inferiority
    shared: bool = False

    def __post_init__(self) -> None:
        if (self.control.assigned is None) != (self.treatment.assigned is None):
            raise ValueError("give assigned counts for both variants or for neither")
        if (self.control.served is None) != (self.treatment.served is None):
            raise ValueError("give served counts for both variants or for neither")


@dataclass(frozen=True)
class Look:
    """What an analysed look leaves for the next one."""

    information_fraction: float  # effective labelled size over the plan's
    boundary: float  # the z boundary used; math.inf when the look had no alpha to spend
    alpha_spent: float  # cumulative, after this look
    plan: SamplePlan  # fixed at the first analysed look, so every fraction has one denominator
    decision: str
    # treatment crossed the promotion boundary at this look or an earlier one, and promotion was
    # held back (a segment's harm not ruled out, label rates): the efficacy claim stands, and a
    # later look promotes once nothing holds it back
    efficacy_shown: bool = False
    # a shared candidate's test: the guard period whose tenant bounds were judged last (0: none yet),
    # and the tenants whose bounds have cleared the harm margin at a guard look so far
    guard_period: int = 0
    cleared_tenants: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"information_fraction": self.information_fraction, "boundary": _finite(self.boundary),
                "alpha_spent": self.alpha_spent, "plan": self.plan.as_dict(), "decision": self.decision,
                "efficacy_shown": self.efficacy_shown, "guard_period": self.guard_period,
                "cleared_tenants": list(self.cleared_tenants)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "Look":
        boundary = values["boundary"]
        return cls(float(values["information_fraction"]), math.inf if boundary is None else float(boundary),
                   float(values["alpha_spent"]), SamplePlan(**values["plan"]), values["decision"],
                   bool(values.get("efficacy_shown", False)), int(values.get("guard_period", 0)),
                   tuple(values.get("cleared_tenants", ())))


def _finite(value: float | None) -> float | None:
    """JSON (and Postgres jsonb) has no infinity: an infinite boundary is stored as null."""
    return value if value is None or math.isfinite(value) else None


@dataclass(frozen=True)
class Decision:
    decision: str
    reason: str
    days_elapsed: float
    counts: ABCounts
    srm: SrmCheck
    config: ABTestConfig
    plan: SamplePlan | None = None
    label_rate: LabelRateCheck | None = None
    information_fraction: float | None = None
    comparison: Difference | None = None
    boundary: Boundary | None = None
    exact_p_value: float | None = None  # Fisher's, when the counts are too small for the normal approximation
    segments: tuple[SegmentResult, ...] = ()
    look: Look | None = None  # None when the look analysed nothing (gates, no new data, SRM)

    def as_dict(self) -> dict:
        """Every figure the decision used, JSON-able, for the decision row."""
        control, treatment = self.counts.control, self.counts.treatment
        lift = None if control.accuracy is None or treatment.accuracy is None else treatment.accuracy - control.accuracy
        boundary, comparison, labels = self.boundary, self.comparison, self.label_rate
        return {
            "decision": self.decision, "reason": self.reason, "days_elapsed": self.days_elapsed,
            "control_labelled": control.labelled, "control_correct": control.correct,
            "control_assigned": control.assigned, "control_served": control.served, "control_accuracy": control.accuracy,
            "treatment_labelled": treatment.labelled, "treatment_correct": treatment.correct,
            "treatment_assigned": treatment.assigned, "treatment_served": treatment.served,
            "treatment_accuracy": treatment.accuracy,
            "lift": lift,
            "allocation": self.config.allocation, "srm_p_value": self.srm.p_value, "srm_level": self.srm.threshold,
            "observed_treatment_share": self.srm.observed_treatment_share,
            "control_label_rate": labels.control_rate if labels else None,
            "treatment_label_rate": labels.treatment_rate if labels else None,
            "label_rate_p_value": labels.p_value if labels else None,
            "label_rate_level": labels.threshold if labels else None,
            "required_sample_size": self.plan.as_dict() if self.plan else None,
            "information_fraction": self.information_fraction,
            "z": comparison.z if comparison else None,
            "p_value": comparison.p_value if comparison else None,
            "variance": _finite(comparison.variance) if comparison else None,
            "degrees_of_freedom": comparison.degrees_of_freedom if comparison else None,
            "exact_p_value": self.exact_p_value,
            "promotion_boundary": _finite(boundary.z) if boundary else None,
            "harm_boundary": _finite(-boundary.z) if boundary else None,
            "nominal_alpha": boundary.nominal_alpha if boundary else None,
            "alpha_spent": boundary.alpha_spent if boundary else None,
            "alpha_spent_this_look": boundary.alpha_this_look if boundary else None,
            "alpha": self.config.alpha,
            "segments": [segment.as_dict() for segment in self.segments],
            "look": self.look.as_dict() if self.look else None,
        }


def _plan(counts: ABCounts, prior_looks: Sequence[Look], config: ABTestConfig,
          baseline_accuracy: float | None) -> SamplePlan | None:
    if prior_looks:
        return prior_looks[-1].plan
    baseline = counts.control.accuracy if baseline_accuracy is None else baseline_accuracy
    return None if baseline is None else plan_sample_size(baseline, config)


def _percent(rate: float | None) -> str:
    return "none" if rate is None else f"{rate:.1%}"


def evaluate(counts: ABCounts, prior_looks: Sequence[Look], config: ABTestConfig,
             started_at: dt.datetime, now: dt.datetime, baseline_accuracy: float | None = None) -> Decision:
    """Decide on an A/B test from its counts so far and the looks analysed before.

    In order: a sample ratio mismatch, then a label-rate mismatch, stops the test; before
    ``min_duration_days`` and ``min_samples_per_variant`` labelled predictions per variant it
    continues; then treatment's accuracy against control's, by key (``clustered``), is compared
    with the group-sequential boundary for this look's information (the planned variance over
    the observed one): treatment significantly worse, overall or in a sizable segment, rejects;
    significantly better promotes unless a sizable segment holds it back (``segments``) or the
    label rates differ at ``label_rate_hold``, and where the counts are small Fisher's exact test
    must agree (``exact``); the planned
    information reached without either rejects (futility); the maximum duration reached ends the
    test inconclusive, keeping control; otherwise it continues.

    ``baseline_accuracy`` (production's expected accuracy) sizes the plan; without it control's
    accuracy at the first analysed look does. Later looks keep that first plan.
    """
    if now < started_at:
        raise ValueError(f"now ({now.isoformat()}) is before the test started ({started_at.isoformat()})")
    if prior_looks and prior_looks[-1].decision != CONTINUE:
        raise ValueError(f"the test already ended with {prior_looks[-1].decision!r}")
    days = (now - started_at).total_seconds() / 86400.0
    control, treatment = counts.control, counts.treatment
    srm = check_sample_ratio(control.units, treatment.units, config.allocation, config.srm_threshold, config.max_looks)
    labels = None
    if control.served is not None:
        labels = check_label_rate(treatment.label_sums(), control.label_sums(), config.label_rate_threshold,
                                  config.max_looks)
    plan = _plan(counts, prior_looks, config, baseline_accuracy)
    context = dict(days_elapsed=days, counts=counts, srm=srm, config=config, plan=plan, label_rate=labels)
    final = days >= config.max_duration_days
    keep_control = f"inconclusive: keep control (the maximum duration of {config.max_duration_days:g} days is reached"

    if srm.mismatch:
        return Decision(STOP_SRM, f"sample ratio mismatch: treatment share {srm.observed_treatment_share:.4f} "
                                  f"against an allocation of {config.allocation} (exact p = {srm.p_value:.2e} "
                                  f"< {srm.threshold:.2e}, {config.srm_threshold} over {config.max_looks} looks)", **context)
    if labels is not None and labels.mismatch:
        return Decision(STOP_LABEL_RATE, f"label rate mismatch: {_percent(labels.treatment_rate)} of treatment's "
                                         f"predictions labelled against {_percent(labels.control_rate)} of control's "
                                         f"(p = {labels.p_value:.2e} < {labels.threshold:.2e}); accuracy on the labelled "
                                         f"predictions would compare different samples: fix or explain the feedback", **context)
    if days < config.min_duration_days:
        return Decision(CONTINUE, f"running {days:.1f} of at least {config.min_duration_days} days", **context)
    fewest = min(control.labelled, treatment.labelled)
    if fewest < config.min_samples_per_variant:
        gate = (f"{fewest} labelled predictions in the smaller variant, "
                f"{config.min_samples_per_variant} needed before a decision")
        return Decision(INCONCLUSIVE, f"{keep_control} with {gate})", **context) if final \
            else Decision(CONTINUE, gate, **context)

    comparison = compare(treatment.accuracy_sums(), control.accuracy_sums())
    fraction = effective_size(treatment.labelled, control.labelled) / plan.effective / comparison.design_effect
    if prior_looks and fraction <= prior_looks[-1].information_fraction:
        why = "no new labelled predictions (no information gained) since the last analysed look"
        return Decision(INCONCLUSIVE, f"{keep_control}; {why})", information_fraction=fraction, **context) if final \
            else Decision(CONTINUE, why, information_fraction=fraction, **context)
    boundary = upper_boundary([(look.information_fraction, look.boundary) for look in prior_looks],
                              fraction, config.alpha, final=final)
    guard_period, guard_note = _guard_look(counts, prior_looks, config, days)
    cleared = frozenset(prior_looks[-1].cleared_tenants) if prior_looks else frozenset()
    segments = tuple(judge_segments(
        {name: (arms.treatment.accuracy_sums(), arms.control.accuracy_sums()) for name, arms in counts.segments.items()},
        config.min_segment_share, config.guardrail_alpha, config.success_threshold,
        harm_margin=config.shared_harm_margin if counts.shared else None,
        margin_boundary=_guard_boundary(prior_looks, guard_period, config) if counts.shared and guard_note is None else None,
        cleared=cleared))
    cleared = tuple(sorted(cleared | {s.name for s in segments if s.margin_cleared}))
    label_hold = None
    if labels is not None and labels.p_value is not None and labels.p_value < config.label_rate_hold:
        label_hold = (f"label rates differ ({_percent(labels.treatment_rate)} of treatment's predictions labelled, "
                      f"{_percent(labels.control_rate)} of control's, p = {labels.p_value:.3g} < {config.label_rate_hold})")
    shown_before = bool(prior_looks) and prior_looks[-1].efficacy_shown
    verdict, reason, exact_p, shown = _verdict(counts, comparison, boundary, fraction, segments, label_hold,
                                               guard_note, final, keep_control, shown_before)
    figures = (f"accuracy {treatment.accuracy:.4f} (treatment) vs {control.accuracy:.4f} (control), "
               f"z = {comparison.z:.3f} by key, boundary {boundary.z:.3f}, information {fraction:.3f}, "
               f"alpha spent {boundary.alpha_spent:.4f} of {config.alpha}")
    look = Look(fraction, boundary.z, boundary.alpha_spent, plan, verdict, efficacy_shown=shown, guard_period=guard_period,
                cleared_tenants=cleared)
    return Decision(verdict, f"{reason}: {figures}", information_fraction=fraction, comparison=comparison,
                    boundary=boundary, exact_p_value=exact_p, segments=segments, look=look, **context)


def _guard_look(counts: ABCounts, prior_looks: Sequence[Look], config: ABTestConfig,
                days: float) -> tuple[int, str | None]:
    """(the guard period of this look, when a shared candidate's tenant bounds are judged next if
    not at this look, or None). They are judged at the first look of each guard period only, so
    that their level holds over the whole test (``_guard_boundary``)."""
    last = prior_looks[-1].guard_period if prior_looks else 0
    if not counts.shared:
        return last, None
    period = config.shared_guard_period(days)
    if period > last:
        return period, None
    return last, (f"the tenants' harm bounds are judged once every {config.shared_guard_interval_days:g} days, "
                  f"next on day {(last + 1) * config.shared_guard_interval_days:g}")


def _guard_boundary(prior_looks: Sequence[Look], period: int, config: ABTestConfig):
    """Each tenant's bound at the ``period``-th guard look: the O'Brien-Fleming boundary at guard
    time period / (the most guard looks), after the guard looks the test has had, for the level the
    tenant is owed. A skipped guard look (no look in its period) only leaves its share unspent."""
    looks = config.shared_guard_looks
    earlier = [p / looks for p in sorted({look.guard_period for look in prior_looks} - {0})]

    def z_for(level: float) -> float:
        prior = list(zip(earlier, boundaries(earlier, level)))
        return upper_boundary(prior, period / looks, level, final=period == looks).z
    return z_for


def _exact_disagrees(counts: ABCounts, direction: str, level: float) -> tuple[bool, float | None]:
    """Where the counts are small, whether Fisher's one-sided p is above the boundary's level."""
    t, c = counts.treatment, counts.control
    if not exact.is_small(t.correct, t.labelled, c.correct, c.labelled):
        return False, None
    p_value = exact.exact_p_value(t.correct, t.labelled, c.correct, c.labelled, direction)
    return p_value > level, p_value


def _segment_figures(segments: Sequence[SegmentResult]) -> str:
    return ", ".join(f"{s.name} ({s.share:.0%} of labels, lift {s.lift:+.4f}, lower bound {s.lower_bound:+.4f}, "
                     f"Holm-Sidak p = {s.adjusted_p_value:.3g})"
                     for s in segments)


def _verdict(counts: ABCounts, comparison: Difference, boundary: Boundary, fraction: float,
             segments: Sequence[SegmentResult], hold: str | None, guard_note: str | None, final: bool,
             keep_control: str, shown_before: bool) -> tuple[str, str, float | None, bool]:
    """(verdict, reason, Fisher's p where the counts are small, whether efficacy is shown).

    Efficacy shown at a look whose promotion was held back stays shown: the group-sequential test
    would have stopped there, so its error rate is spent once, and what holds the promotion is a
    separate condition (no sizable segment harmed beyond its margin, equal label rates) that later
    looks may meet as their evidence grows. It is kept only while treatment still leads."""
    z, level = comparison.z, boundary.nominal_alpha
    if z <= -boundary.z:
        disagrees, exact_p = _exact_disagrees(counts, "less", level)
        if not disagrees:
            return REJECT, "treatment significantly worse", exact_p, False
    harmed = [s for s in segments if s.harmed]
    if harmed:
        return REJECT, f"treatment significantly worse for {_segment_figures(harmed)}", None, False
    held = [s for s in segments if s.holds_promotion]
    exact_p = None
    shown_now = False
    if z >= boundary.z:
        disagrees, exact_p = _exact_disagrees(counts, "greater", level)
        shown_now = not disagrees
    shown = shown_now or (shown_before and comparison.difference > 0)
    if shown and not held and hold is None:
        return PROMOTE, ("treatment significantly better" if shown_now else
                         "treatment significantly better at an earlier look, its promotion held until now"), exact_p, True
    note = ""
    if held:
        note = f"; promotion held back by harm not yet ruled out for {_segment_figures(held)}"
        if guard_note is not None:
            note += f" ({guard_note})"
    elif hold is not None and shown:
        note = f"; promotion held back: {hold}"
    elif exact_p is not None and z >= boundary.z:
        note = f"; Fisher's exact p = {exact_p:.3g} on these small counts does not confirm it (level {level:.3g})"
    if fraction >= 1.0 and not shown:
        return REJECT, f"planned sample size reached without a significant improvement{note}", exact_p, False
    if final:
        return INCONCLUSIVE, f"{keep_control} without a significant difference{note})", exact_p, shown
    if shown:
        return CONTINUE, f"treatment significantly better{note}", exact_p, True
    return CONTINUE, f"no significant difference yet{note}", exact_p, False
