"""Sample ratio mismatch: is the observed control/treatment split what the allocation would give?

A split far from the allocation means assignment or logging is broken (a variant crashing before
it logs, a cache serving one group, bots concentrated in one arm), and every comparison built on
such data is suspect, so it is checked before any decision and stops the test.

The check is exact (the binomial distribution of the treatment's count), so it keeps its level at
50 units as at 50,000; a chi-square approximation raised false alarms at small counts to three
times its nominal rate. It runs at every look, so its level is corrected for the repeated looks:
each look is checked at ``threshold / looks`` (Bonferroni over the most looks a test can have), and
a healthy test is stopped by a false alarm with probability at most ``threshold`` over its life.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binom


def srm_p_values(control, treatment, allocation: float) -> np.ndarray:
    """Exact two-sided p-values of observed (control, treatment) counts against a treatment share
    of ``allocation``: twice the smaller binomial tail (capped at 1); vectorised over arrays.

    Doubling the smaller tail is the central exact test; it never rejects more often than its
    level, and unlike ``scipy.stats.binomtest``'s likelihood-ordered two-sided p it vectorises, so
    a simulation of tens of thousands of tests runs it directly.
    """
    control = np.asarray(control)
    treatment = np.asarray(treatment)
    total = control + treatment
    lower = binom.cdf(treatment, total, allocation)
    upper = binom.sf(treatment - 1, total, allocation)
    return np.minimum(1.0, 2.0 * np.minimum(lower, upper))


@dataclass(frozen=True)
class SrmCheck:
    control: int
    treatment: int
    expected_treatment_share: float
    p_value: float | None  # None before any unit is assigned
    threshold: float  # this look's level: the test-wide threshold over the looks
    mismatch: bool

    @property
    def observed_treatment_share(self) -> float | None:
        total = self.control + self.treatment
        return self.treatment / total if total else None


def check_sample_ratio(control: int, treatment: int, allocation: float, threshold: float, looks: int = 1) -> SrmCheck:
    """Mismatch when the split's exact p-value under the allocation is below ``threshold / looks``."""
    level = threshold / looks
    if control + treatment == 0:
        return SrmCheck(control, treatment, allocation, None, level, False)
    p_value = float(srm_p_values(control, treatment, allocation))
    return SrmCheck(control, treatment, allocation, p_value, level, p_value < level)
