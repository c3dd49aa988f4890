"""One look at an A/B test: promote, reject, continue, or stop on a broken split.

A look needs only the counts so far and the records earlier looks left (``Look``), so the caller
keeps no other state: it stores ``decision.as_dict()`` in its decision row, and passes the
``Look`` of every earlier analysed look back in, oldest first.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from modelops.experiments.comparison import Comparison, compare_accuracy
from modelops.experiments.config import ABTestConfig
from modelops.experiments.sample_size import SamplePlan, effective_size, plan_sample_size
from modelops.experiments.sequential import Boundary, upper_boundary
from modelops.experiments.srm import SrmCheck, check_sample_ratio

PROMOTE = "promote"
REJECT = "reject"
CONTINUE = "continue"
STOP_SRM = "stop_srm"


def _count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")


@dataclass(frozen=True)
class VariantCounts:
    """One variant's predictions so far: ``labelled`` have feedback, ``correct`` of them were right.
    ``assigned`` counts the units assigned to the variant, for the split check; without it the
    labelled predictions are checked instead."""

    labelled: int
    correct: int
    assigned: int | None = None

    def __post_init__(self) -> None:
        _count("labelled", self.labelled)
        _count("correct", self.correct)
        if self.assigned is not None:
            _count("assigned", self.assigned)
        if self.correct > self.labelled:
            raise ValueError(f"correct ({self.correct}) cannot exceed labelled ({self.labelled})")

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None

    @property
    def units(self) -> int:
        return self.labelled if self.assigned is None else self.assigned


@dataclass(frozen=True)
class ABCounts:
    control: VariantCounts
    treatment: VariantCounts

    def __post_init__(self) -> None:
        if (self.control.assigned is None) != (self.treatment.assigned is None):
            raise ValueError("give assigned counts for both variants or for neither")


@dataclass(frozen=True)
class Look:
    """What an analysed look leaves for the next one."""

    information_fraction: float  # effective labelled size over the plan's
    boundary: float  # the z boundary used; math.inf when the look had no alpha to spend
    alpha_spent: float  # cumulative, after this look
    plan: SamplePlan  # fixed at the first analysed look, so every fraction has one denominator
    decision: str

    def as_dict(self) -> dict:
        return {"information_fraction": self.information_fraction, "boundary": _finite(self.boundary),
                "alpha_spent": self.alpha_spent, "plan": self.plan.as_dict(), "decision": self.decision}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "Look":
        boundary = values["boundary"]
        return cls(float(values["information_fraction"]), math.inf if boundary is None else float(boundary),
                   float(values["alpha_spent"]), SamplePlan(**values["plan"]), values["decision"])


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
    information_fraction: float | None = None
    comparison: Comparison | None = None
    boundary: Boundary | None = None
    look: Look | None = None  # None when the look analysed nothing (gates, no new data, SRM)

    def as_dict(self) -> dict:
        """Every figure the decision used, JSON-able, for the decision row."""
        control, treatment = self.counts.control, self.counts.treatment
        lift = None if control.accuracy is None or treatment.accuracy is None else treatment.accuracy - control.accuracy
        boundary = self.boundary
        return {
            "decision": self.decision, "reason": self.reason, "days_elapsed": self.days_elapsed,
            "control_labelled": control.labelled, "control_correct": control.correct,
            "control_assigned": control.assigned, "control_accuracy": control.accuracy,
            "treatment_labelled": treatment.labelled, "treatment_correct": treatment.correct,
            "treatment_assigned": treatment.assigned, "treatment_accuracy": treatment.accuracy,
            "lift": lift,
            "allocation": self.config.allocation, "srm_p_value": self.srm.p_value,
            "observed_treatment_share": self.srm.observed_treatment_share,
            "required_sample_size": self.plan.as_dict() if self.plan else None,
            "information_fraction": self.information_fraction,
            "z": self.comparison.z if self.comparison else None,
            "p_value": self.comparison.p_value if self.comparison else None,
            "promotion_boundary": _finite(boundary.z) if boundary else None,
            "harm_boundary": _finite(-boundary.z) if boundary else None,
            "nominal_alpha": boundary.nominal_alpha if boundary else None,
            "alpha_spent": boundary.alpha_spent if boundary else None,
            "alpha_spent_this_look": boundary.alpha_this_look if boundary else None,
            "alpha": self.config.alpha,
            "look": self.look.as_dict() if self.look else None,
        }


def _plan(counts: ABCounts, prior_looks: Sequence[Look], config: ABTestConfig,
          baseline_accuracy: float | None) -> SamplePlan | None:
    if prior_looks:
        return prior_looks[-1].plan
    baseline = counts.control.accuracy if baseline_accuracy is None else baseline_accuracy
    return None if baseline is None else plan_sample_size(baseline, config)


def evaluate(counts: ABCounts, prior_looks: Sequence[Look], config: ABTestConfig,
             started_at: dt.datetime, now: dt.datetime, baseline_accuracy: float | None = None) -> Decision:
    """Decide on an A/B test from its counts so far and the looks analysed before.

    In order: a sample ratio mismatch stops the test; before ``min_duration_days`` and
    ``min_samples_per_variant`` labelled predictions per variant it continues; then the one-sided
    two-proportion z test is compared with the group-sequential boundary for this look's
    information fraction: promote at or above it, reject at or below its mirror (treatment
    significantly worse), reject when the planned size is reached without either (futility),
    and otherwise continue.

    ``baseline_accuracy`` (production's expected accuracy) sizes the plan; without it control's
    accuracy at the first analysed look does. Later looks keep that first plan.
    """
    if now < started_at:
        raise ValueError(f"now ({now.isoformat()}) is before the test started ({started_at.isoformat()})")
    if prior_looks and prior_looks[-1].decision != CONTINUE:
        raise ValueError(f"the test already ended with {prior_looks[-1].decision!r}")
    days = (now - started_at).total_seconds() / 86400.0
    control, treatment = counts.control, counts.treatment
    srm = check_sample_ratio(control.units, treatment.units, config.allocation, config.srm_threshold)
    plan = _plan(counts, prior_looks, config, baseline_accuracy)
    context = dict(days_elapsed=days, counts=counts, srm=srm, config=config, plan=plan)

    if srm.mismatch:
        return Decision(STOP_SRM, f"sample ratio mismatch: treatment share {srm.observed_treatment_share:.4f} "
                                  f"against an allocation of {config.allocation} (chi-square p = {srm.p_value:.2e} "
                                  f"< {config.srm_threshold})", **context)
    if days < config.min_duration_days:
        return Decision(CONTINUE, f"running {days:.1f} of at least {config.min_duration_days} days", **context)
    fewest = min(control.labelled, treatment.labelled)
    if fewest < config.min_samples_per_variant:
        return Decision(CONTINUE, f"{fewest} labelled predictions in the smaller variant, "
                                  f"{config.min_samples_per_variant} needed before a decision", **context)

    fraction = effective_size(treatment.labelled, control.labelled) / plan.effective
    if prior_looks and fraction <= prior_looks[-1].information_fraction:
        return Decision(CONTINUE, "no new labelled predictions since the last analysed look",
                        information_fraction=fraction, **context)
    boundary = upper_boundary([(look.information_fraction, look.boundary) for look in prior_looks],
                              fraction, config.alpha)
    comparison = compare_accuracy(treatment.correct, treatment.labelled, control.correct, control.labelled)
    verdict, reason = _verdict(comparison.z, boundary.z, fraction)
    figures = (f"accuracy {treatment.accuracy:.4f} (treatment) vs {control.accuracy:.4f} (control), "
               f"z = {comparison.z:.3f}, boundary {boundary.z:.3f}, information {fraction:.3f}, "
               f"alpha spent {boundary.alpha_spent:.4f} of {config.alpha}")
    look = Look(fraction, boundary.z, boundary.alpha_spent, plan, verdict)
    return Decision(verdict, f"{reason}: {figures}", information_fraction=fraction, comparison=comparison,
                    boundary=boundary, look=look, **context)


def _verdict(z: float, boundary: float, fraction: float) -> tuple[str, str]:
    if z >= boundary:
        return PROMOTE, "treatment significantly better"
    if z <= -boundary:
        return REJECT, "treatment significantly worse"
    if fraction >= 1.0:
        return REJECT, "planned sample size reached without a significant improvement"
    return CONTINUE, "no significant difference yet"
