"""Fisher's exact test as a second opinion where the normal approximation fails: few errors (a
model right 999 times in 1,000) or few successes. There the z statistic of two proportions can be
far from normal; a control right 0 of 9,000 times against a treatment right 1 of 1,000 has z = 3.0,
while the exact one-sided p is 0.10. A decision on such counts stands only if the exact test
agrees at the level the sequential boundary works at. Fisher's test conditions on the margins and
is conservative, which costs a little power only where the counts are small; Boschloo's test is
more powerful but takes about a second at these sizes, too slow for a look over every segment.
"""
from __future__ import annotations

from scipy.stats import fisher_exact

# Below this many predictions in the rarer outcome (right or wrong), over both arms together,
# the normal approximation is not trusted on its own: it is usually trusted once each arm has
# about ten of each outcome, and at a 10/90 split the treatment holds a tenth of them.
SMALL_COUNT = 100


def is_small(treatment_correct: int, treatment_labelled: int, control_correct: int, control_labelled: int) -> bool:
    correct = treatment_correct + control_correct
    wrong = treatment_labelled + control_labelled - correct
    return min(correct, wrong) < SMALL_COUNT


def exact_p_value(treatment_correct: int, treatment_labelled: int, control_correct: int, control_labelled: int,
                  alternative: str) -> float:
    """One-sided p of Fisher's test: ``"greater"`` that treatment is more accurate, ``"less"`` that it is less."""
    table = [[treatment_correct, treatment_labelled - treatment_correct],
             [control_correct, control_labelled - control_correct]]
    return float(fisher_exact(table, alternative=alternative).pvalue)
