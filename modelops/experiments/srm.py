"""Sample ratio mismatch: is the observed control/treatment split what the allocation would give?

A split far from the allocation means assignment or logging is broken (a variant crashing before
it logs, a cache serving one group, bots concentrated in one arm), and every comparison built on
such data is suspect, so it is checked before any decision and stops the test.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

# Below this expected count in either group the chi-square approximation is not trusted.
MIN_EXPECTED = 5.0


def srm_p_values(control, treatment, allocation: float) -> np.ndarray:
    """Chi-square goodness-of-fit p-values of observed (control, treatment) counts against a
    treatment share of `allocation`; vectorised over arrays of counts.

    The same test as ``scipy.stats.chisquare`` on the two cells, written out because that
    function's generic input handling costs about a millisecond a call and a simulation makes
    tens of thousands: with two cells the statistic is the square of the treatment count's
    binomial z score, so its chi-square (one degree of freedom) p-value is 2 Phi(-|z|).
    """
    control = np.asarray(control, dtype=float)
    treatment = np.asarray(treatment, dtype=float)
    total = control + treatment
    z = (treatment - total * allocation) / np.sqrt(total * allocation * (1.0 - allocation))
    return 2.0 * ndtr(-np.abs(z))


@dataclass(frozen=True)
class SrmCheck:
    control: int
    treatment: int
    expected_treatment_share: float
    p_value: float | None  # None when too few assignments to judge
    mismatch: bool

    @property
    def observed_treatment_share(self) -> float | None:
        total = self.control + self.treatment
        return self.treatment / total if total else None


def check_sample_ratio(control: int, treatment: int, allocation: float, threshold: float) -> SrmCheck:
    """Mismatch when the split's p-value under the allocation is below `threshold`."""
    total = control + treatment
    if total * min(allocation, 1.0 - allocation) < MIN_EXPECTED:
        return SrmCheck(control, treatment, allocation, None, False)
    p_value = float(srm_p_values(control, treatment, allocation))
    return SrmCheck(control, treatment, allocation, p_value, p_value < threshold)
