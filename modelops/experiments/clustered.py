"""Accuracy (or any rate) by the unit traffic is split by, and the difference of two such rates.

Traffic is assigned by ``request_key``: every prediction of one key goes to the same arm, and the
predictions of one key (a user, a vendor, a document stream) tend to be right or wrong together.
Counting predictions as if they were independent then understates the variance of an arm's
accuracy by the design effect, 1 + (m - 1) rho for m predictions a key at within-key correlation
rho, and a sequential test on that variance promotes identical models far more often than alpha.

An arm's accuracy is a ratio of per-key sums, R = sum(c_k) / sum(n_k), and its variance is taken
by the delta method over keys (the cluster-robust variance of a ratio estimator, with the
K / (K - 1) small-sample factor of CR1):

    Var(R) = K / (K - 1) * sum((c_k - R n_k)^2) / (sum n_k)^2
           = K / (K - 1) * (S_cc - 2 R S_nc + R^2 S_nn) / N^2

so an arm needs only six sums over its keys (K, N, C, S_nn, S_cc, S_nc), which one SQL query
computes. With one prediction a key the sums reduce to the counts and the variance to the
binomial one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm, t as student_t


@dataclass(frozen=True)
class RatioSums:
    """Sums over one arm's keys of a numerator a_k and a denominator b_k (correct and labelled
    predictions for accuracy; labelled and served predictions for the label rate)."""

    keys: int  # keys with b_k > 0
    a: float
    b: float
    aa: float  # sum of a_k^2
    bb: float  # sum of b_k^2
    ab: float  # sum of a_k b_k

    @classmethod
    def independent(cls, a: float, b: float) -> "RatioSums":
        """The sums when every unit is its own key and each a_k is 0 or 1 out of b_k = 1."""
        return cls(keys=int(b), a=a, b=b, aa=a, bb=b, ab=a)

    @property
    def ratio(self) -> float | None:
        return self.a / self.b if self.b else None

    @property
    def variance(self) -> float:
        """The delta-method variance of the ratio; infinite with fewer than two keys."""
        return self.variance_about(self.ratio) if self.b else math.inf

    def variance_about(self, r: float) -> float:
        """The same with the residuals a_k - r b_k taken about ``r`` rather than the arm's own ratio."""
        if self.keys < 2 or not self.b:
            return math.inf
        residual = max(self.aa - 2.0 * r * self.ab + r * r * self.bb, 0.0)
        return self.keys / (self.keys - 1.0) * residual / (self.b * self.b)


@dataclass(frozen=True)
class Difference:
    """Treatment's rate minus control's, standardised."""

    difference: float
    variance: float
    z: float  # on the standard normal scale, after the small-sample correction below
    p_value: float  # one-sided, P(Z >= z) when there is no difference
    degrees_of_freedom: int
    # variance over the binomial variance of as many independent predictions (>= 1): the labelled
    # predictions are worth that many times fewer independent ones, so information is scaled by it
    design_effect: float


def compare(treatment: RatioSums, control: RatioSums) -> Difference:
    """(R_t - R_c) / sqrt(variance), where the variance is the larger of the two arms' delta-method
    variances summed and the pooled binomial variance under no difference.

    The pooled floor is the variance the sample size was planned for, so independent traffic
    loses no power; it also keeps a tiny arm whose few keys happened to agree from claiming a
    variance near zero, and it is zero only when both arms are all right or all wrong, where the
    difference is zero too. The cluster-robust variance is estimated from only as many keys as
    the smaller arm has, so the statistic is read as Student's t with (keys - 1) degrees of
    freedom and mapped to the normal quantile of the same tail probability: the boundaries of
    ``sequential`` stay valid when an arm has few keys.
    """
    if not treatment.b or not control.b:
        raise ValueError("both arms need labelled predictions to be compared")
    difference = treatment.a / treatment.b - control.a / control.b
    pooled = (treatment.a + control.a) / (treatment.b + control.b)
    null_variance = pooled * (1.0 - pooled) * (1.0 / treatment.b + 1.0 / control.b)
    variance = max(treatment.variance_about(pooled) + control.variance_about(pooled), null_variance)
    df = max(min(treatment.keys, control.keys) - 1, 1)
    if variance == 0.0:
        return Difference(difference, 0.0, 0.0, 0.5, df, 1.0)
    design_effect = _design_effect(treatment, control)
    if math.isinf(variance):
        return Difference(difference, variance, 0.0, 0.5, df, design_effect)
    t_statistic = difference / math.sqrt(variance)
    p_value = float(student_t.sf(t_statistic, df))
    # beyond double precision the tail is 0 or 1 and has no normal quantile: t is then far past any boundary
    z = float(norm.isf(p_value)) if 0.0 < p_value < 1.0 else t_statistic
    return Difference(difference, variance, z, p_value, df, design_effect)


def _design_effect(treatment: RatioSums, control: RatioSums) -> float:
    """The arms' variance by key over the binomial variance of their labelled predictions, at least 1."""
    binomial = sum(arm.ratio * (1.0 - arm.ratio) / arm.b for arm in (treatment, control))
    by_key = treatment.variance + control.variance
    return max(1.0, by_key / binomial) if binomial > 0.0 else 1.0
