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
    srm_threshold: float = 0.001  # a split this unlikely under the allocation stops the test
    # The looks the sample size is planned for (daily over four weeks); more looks need slightly
    # more samples for the same power, and the plan must not count on fewer than will happen.
    planning_looks: int = 28

    def __post_init__(self) -> None:
        _within("allocation", self.allocation, 0.0, 1.0)
        _within("alpha", self.alpha, 0.0, 0.5)
        _within("power", self.power, self.alpha, 1.0)
        _within("success_threshold", self.success_threshold, 0.0, 1.0)
        _within("srm_threshold", self.srm_threshold, 0.0, 1.0)
        _whole("min_samples_per_variant", self.min_samples_per_variant, 1)
        _whole("planning_looks", self.planning_looks, 1)
        if not 0.0 < self.design_power < 1.0:
            raise ValueError(f"power {self.power} leaves no room for {self.planning_looks} looks' sample ratio "
                             f"checks at srm_threshold {self.srm_threshold}: power / (1 - looks x threshold) must be below 1")
        if isinstance(self.min_duration_days, bool) or not isinstance(self.min_duration_days, (int, float)) \
                or not self.min_duration_days >= 0:
            raise ValueError(f"min_duration_days must be a number >= 0, got {self.min_duration_days!r}")

    @property
    def design_power(self) -> float:
        """The power the sample size is planned for. A healthy test can also be stopped by a false
        sample ratio alarm, with probability at most planning_looks x srm_threshold over its
        looks (a union bound); planning that much higher keeps the chance of promoting a truly
        better treatment at ``power`` or above."""
        room = 1.0 - self.planning_looks * self.srm_threshold
        return self.power / room if room > 0.0 else math.inf

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
