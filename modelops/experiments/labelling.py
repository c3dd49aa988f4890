"""The label-rate check: do both arms get feedback on the same share of their predictions?

Accuracy is measured on labelled predictions only. If users confirm one arm's answers more often
than the other's (say the treatment's right answers 44% of the time and the control's 40%), the
labelled predictions of the two arms are different samples and identical models look different:
in simulation such an A/A test was promoted 43% of the time. The split check cannot see it, since
assignment is sound. So beside it, every look compares labelled / served per arm, by key as the
accuracy is (``clustered``), and a difference that chance would not give stops the test, as a
split mismatch does. Like the split check it runs at every look and is corrected for the looks
(Bonferroni over the most a test can have).
"""
from __future__ import annotations

from dataclasses import dataclass

from modelops.experiments.clustered import RatioSums, compare


@dataclass(frozen=True)
class LabelRateCheck:
    control_rate: float | None
    treatment_rate: float | None
    p_value: float | None  # two-sided; None when an arm has served nothing
    threshold: float  # this look's level
    mismatch: bool


def check_label_rate(treatment: RatioSums, control: RatioSums, threshold: float, looks: int = 1) -> LabelRateCheck:
    """``treatment`` and ``control``: labelled (a) over served (b) predictions, summed by key."""
    level = threshold / looks
    if not treatment.b or not control.b:
        return LabelRateCheck(control.ratio, treatment.ratio, None, level, False)
    one_sided = compare(treatment, control).p_value
    p_value = min(1.0, 2.0 * min(one_sided, 1.0 - one_sided))
    return LabelRateCheck(control.ratio, treatment.ratio, p_value, level, p_value < level)
