"""The two-proportion z test of treatment against control accuracy."""
from __future__ import annotations

from dataclasses import dataclass

from statsmodels.stats.proportion import proportions_ztest


@dataclass(frozen=True)
class Comparison:
    z: float  # > 0 when treatment is more accurate; pooled variance, as under the null
    p_value: float  # one-sided, fixed-sample: P(Z >= z) with no difference


def compare_accuracy(treatment_correct: int, treatment_labelled: int,
                     control_correct: int, control_labelled: int) -> Comparison:
    """Treatment's accuracy against control's, one-sided in the treatment's favour.

    When both variants are all right or all wrong the pooled variance is zero and statsmodels
    would divide by it; the difference is then exactly zero, so z = 0 (no evidence either way).
    """
    if not treatment_labelled or not control_labelled:
        raise ValueError("both variants need labelled predictions to be compared")
    pooled = (treatment_correct + control_correct) / (treatment_labelled + control_labelled)
    if pooled in (0.0, 1.0):
        return Comparison(0.0, 0.5)
    z, p_value = proportions_ztest([treatment_correct, control_correct], [treatment_labelled, control_labelled],
                                   alternative="larger")
    return Comparison(float(z), float(p_value))
