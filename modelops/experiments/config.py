"""The settings of an A/B test, with the spec's AB_TEST_CONFIG values as defaults."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Mapping

# The spec's AB_TEST_CONFIG keys and the fields they set.
SPEC_KEYS = {
    "allocation_ratio": "allocation",
    "minimum_sample_size": "min_samples_per_variant",
    "test_duration_days": "min_duration_days",
    "success_threshold": "success_threshold",
    "statistical_power": "power",
    "alpha_level": "alpha",
}


def _within(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value < high:
        raise ValueError(f"{name} must be a number in ({low:g}, {high:g}), got {value!r}")


def _whole(name: str, value: Any, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")


# Power the by-key estimator loses against the binomial plan on independent traffic: simulated
# whole tests promoted a +2-point candidate in 78.5% of 400 runs when planned for 0.809
# (bench/bench_experiments.py), so the plan aims this much higher.
ESTIMATOR_POWER_MARGIN = 0.03


@dataclass(frozen=True)
class ABTestConfig:
    """How an A/B test splits traffic and when it may decide.

    ``success_threshold`` is the minimum detectable effect: the accuracy lift (absolute, over the
    baseline) the test is sized to detect with probability ``power``. It is not a bar the
    observed lift must clear: a treatment is promoted when it is significantly better than
    control, and requiring an observed lift of 0.02 on top would promote a true +0.02 model only
    about half the time (docs/experiments.md).
    """

    allocation: float = 0.1  # the treatment's share of traffic
    min_samples_per_variant: int = 1000  # labelled predictions each variant needs before any decision
    min_duration_days: float = 7.0  # whole weeks, so that weekday and weekend traffic both count
    alpha: float = 0.05  # the chance of promoting a treatment that is no better, over the whole test
    power: float = 0.8  # the chance of promoting a treatment that is success_threshold better
    success_threshold: float = 0.02
    # The chance, over a whole healthy test, that its split check stops it falsely; each daily look
    # is checked at this over the most looks a test can have (max_duration_days).
    srm_threshold: float = 0.001
    # The same for the label-rate check. It is looser than the split check: a label bias promotes
    # identical models unless it is caught before the test decides, and a false stop only costs
    # a restart, so it must be sensitive early.
    label_rate_threshold: float = 0.01
    # A difference in label rates short of a stop still holds a promotion back while its two-sided
    # p-value is below this: a label bias of a few points takes a week or two to reach the stop,
    # and a test may promote before that on the bias alone.
    label_rate_hold: float = 0.05
    # The looks the sample size is planned for (daily over four weeks); more looks need slightly
    # more samples for the same power, and the plan must not count on fewer than will happen.
    planning_looks: int = 28
    # A test still undecided after this many days ends "inconclusive: keep control" (thin or
    # strongly clustered traffic would otherwise keep a test, and its candidate, open for months).
    max_duration_days: float = 42.0
    # Segment guardrails: segments with at least this share of the labelled predictions are
    # judged, and a harm significant at guardrail_alpha (Holm over the segments) refuses promotion.
    min_segment_share: float = 0.05
    guardrail_alpha: float = 0.05
    # A shared (global or regional) model's candidate answers for tenants that did not choose it:
    # absence of evidence of harm is not enough. It is promoted only when, for every sizable
    # tenant, the one-sided bound on the harm is smaller than this margin, the bounds of all the
    # tenants holding together at guardrail_alpha. Three points: a tenant harmed by five is then
    # two points beyond it, far enough that its bound never cleared it in 2,000 simulated tests
    # (at four points, 0.3% did); the price is the power of shared candidates (a uniform +2 is
    # promoted within the test's 42 days in 19% of runs at three points, 46% at four:
    # docs/experiments.md).
    shared_harm_margin: float = 0.03
    # Those bounds are judged at one look per this many days (the first look of each period), not
    # daily: a tenant truly beyond the margin would clear it by chance at one of up to 35 daily
    # looks far more often than at one. Over the guard looks, each tenant's bound follows a
    # group-sequential boundary (O'Brien-Fleming spending by guard period), so its level holds
    # over all of them.
    shared_guard_interval_days: float = 7.0

    def __post_init__(self) -> None:
        _within("allocation", self.allocation, 0.0, 1.0)
        _within("alpha", self.alpha, 0.0, 0.5)
        _within("power", self.power, self.alpha, 1.0)
        _within("success_threshold", self.success_threshold, 0.0, 1.0)
        _within("srm_threshold", self.srm_threshold, 0.0, 1.0)
        _within("label_rate_threshold", self.label_rate_threshold, 0.0, 1.0)
        _within("label_rate_hold", self.label_rate_hold, 0.0, 1.0)
        _within("min_segment_share", self.min_segment_share, 0.0, 1.0)
        _within("guardrail_alpha", self.guardrail_alpha, 0.0, 1.0)
        _within("shared_harm_margin", self.shared_harm_margin, 0.0, 1.0)
        _whole("min_samples_per_variant", self.min_samples_per_variant, 1)
        _whole("planning_looks", self.planning_looks, 1)
        if not 0.0 < self.design_power < 1.0:
            raise ValueError(f"power {self.power} leaves no room for false stops by the split and label-rate checks "
                             f"(srm_threshold {self.srm_threshold}, label_rate_threshold {self.label_rate_threshold}): "
                             f"power / (1 - both) must be below 1")
        if isinstance(self.min_duration_days, bool) or not isinstance(self.min_duration_days, (int, float)) \
                or not self.min_duration_days >= 0:
            raise ValueError(f"min_duration_days must be a number >= 0, got {self.min_duration_days!r}")
        if isinstance(self.max_duration_days, bool) or not isinstance(self.max_duration_days, (int, float)) \
                or not self.max_duration_days > self.min_duration_days:
            raise ValueError(f"max_duration_days must be a number above min_duration_days ({self.min_duration_days}), "
                             f"got {self.max_duration_days!r}")
        if isinstance(self.shared_guard_interval_days, bool) or not isinstance(self.shared_guard_interval_days, (int, float)) \
                or not 0.0 < self.shared_guard_interval_days <= self.max_duration_days:
            raise ValueError(f"shared_guard_interval_days must be a number above 0 and at most max_duration_days "
                             f"({self.max_duration_days}), got {self.shared_guard_interval_days!r}")

    @property
    def design_power(self) -> float:
        """The power the sample size is planned for. A healthy test can also be stopped by a false
        alarm of the split or the label-rate check, with probability at most the sum of their
        thresholds over its life (each is corrected for its looks); planning that much higher keeps
        the chance of promoting a truly better treatment at ``power`` or above. The margin pays for
        the estimator: by key, its variance is the larger of the delta-method and the pooled
        binomial variance, which on independent traffic overstates the variance the plan assumed."""
        room = 1.0 - self.srm_threshold - self.label_rate_threshold
        return self.power / room + ESTIMATOR_POWER_MARGIN if room > 0.0 else math.inf

    @property
    def max_looks(self) -> int:
        """The most daily looks a test can have: what the split and label-rate checks correct for."""
        return math.ceil(self.max_duration_days)

    @property
    def shared_guard_looks(self) -> int:
        """The most guard looks a test can have: one per ``shared_guard_interval_days``."""
        return math.ceil(self.max_duration_days / self.shared_guard_interval_days)

    def shared_guard_period(self, days: float) -> int:
        """The guard period a look ``days`` into the test falls in (0 before the first one ends)."""
        return min(int(days // self.shared_guard_interval_days), self.shared_guard_looks)

    @property
    def control_per_treatment(self) -> float:
        """Control samples per treatment sample (statsmodels' ``ratio``)."""
        return (1.0 - self.allocation) / self.allocation

    @classmethod
    def from_spec(cls, values: Mapping[str, Any]) -> "ABTestConfig":
        """A config from the spec's AB_TEST_CONFIG keys (or this class's own field names)."""
        names = {field.name for field in fields(cls)}
        settings = {}
        for key, value in values.items():
            name = SPEC_KEYS.get(key, key)
            if name not in names:
                raise ValueError(f"unknown A/B test setting {key!r}; known: {sorted(set(SPEC_KEYS) | names)}")
            settings[name] = value
        return cls(**settings)
