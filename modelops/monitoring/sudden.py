"""Sudden failure: a model that breaks outright is caught on its last few labelled predictions.

The 7-day window of the spec's conditions needs a drop to fill a good share of a week before the
week's accuracy is past its threshold: a model that fails at once keeps serving for days. So the
check also reads the version's last ``SHORT_WINDOW`` labelled predictions, in order, and runs a
one-sided CUSUM (Page 1954) of a drop of ``SUDDEN_DROP`` from the version's reference accuracy p0:

    S_t = max(0, S_{t-1} + log(p1 / p0))            for a right prediction
    S_t = max(0, S_{t-1} + log((1 - p1) / (1 - p0))) for a wrong one,       p1 = p0 - SUDDEN_DROP

and rolls back once S reaches ``THRESHOLD``. The CUSUM is the fastest detector of a change for a
given rate of false alarms (Lorden 1971); over a window of 200 predictions its statistic is the
largest log-likelihood ratio of "the last k predictions are from the broken model" against "from
the sound one", k = 0..200. Its own noise guard is the threshold: checks follow every metrics fold,
so the statistic is read after nearly every labelled prediction, and the threshold is set so that
a stable model at 1,000 labelled predictions a day is rolled back falsely in under 1% of four-week
runs (bench/bench_sudden_failure.py, docs/rollback.md).

The reference p0 is the version's live accuracy over the long window when it has at least
``MIN_REFERENCE_LABELLED`` labelled predictions (what the model has been, not what its validation
promised); otherwise the lower 95% Wilson bound of its validation accuracy, so that a validation
score lucky on few rows does not make ordinary live accuracy look like a collapse.

Risk adjustment (Steiner, Cook, Farewell & Treasure 2000). Predictions are not equally likely to
be right: an answer given at 0.99 is wrong far less often than one given at 0.55, so a wrong answer
at 0.99 is much stronger evidence of a break. Each labelled prediction's own p0 is therefore the
accuracy the version has shown live at that confidence: p0 moved by how much more or less often
than the rest its last ``REFERENCE_ROWS`` labelled predictions before the short window were right
in that prediction's band of confidence (``BINS`` bands), the difference shrunk by ``SHRINKAGE``
pseudo-predictions (a band of a few rows says little), and never above ``CEILING``. The ratios
stay likelihood ratios of the version's own record, so the threshold keeps its meaning; where
confidence says nothing (every band as accurate as the rest) the statistic is the plain one. At
0.85 accuracy and confidences spread as our agents' do (standard deviation 0.15-0.25), a 20-point
drop is caught within 100 labelled predictions in 88-100% of simulated runs, against 60% without
the adjustment (bench/bench_sudden_failure.py, docs/rollback.md).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
from statsmodels.stats.proportion import proportion_confint

SHORT_WINDOW = 200  # the last labelled predictions read
REFERENCE_ROWS = 5000  # the labelled predictions before them that give each confidence band's accuracy
BINS = 20  # bands of confidence, 0.05 wide (the log keeps two decimals)
SHRINKAGE = 50.0  # pseudo-predictions at p0 added to each band
# No prediction's p0 is taken above this. A band right 99% of the time shows its error rate in a
# few dozen errors of a few thousand rows, half again or half less by chance, and a wrong answer
# there would weigh ln(0.21 / 0.01) = 3 nats: a band's lucky streak would make stable errors
# look like a break (15% of stable 0.95 models rolled back in four simulated weeks). At 0.98 a
# wrong answer weighs at most ln(0.22 / 0.02) = 2.4 nats.
CEILING = 0.98
SUDDEN_DROP = 0.20  # the drop, in accuracy points, the CUSUM is tuned to catch fastest
THRESHOLD = 13.0  # log-likelihood ratio at which the model is rolled back
MIN_REFERENCE_LABELLED = 1000
# p1 is kept off zero, where a right prediction would be impossible under the broken model
FLOOR = 0.01


def reference_accuracy(live_correct: int, live_labelled: int, validation_accuracy: float | None,
                       validation_samples: int | None) -> float | None:
    """p0: the long window's live accuracy, else the validation accuracy's lower bound, else None."""
    if live_labelled >= MIN_REFERENCE_LABELLED:
        return live_correct / live_labelled
    if validation_accuracy is None:
        return None
    if not validation_samples:
        return float(validation_accuracy)
    correct = round(validation_accuracy * validation_samples)
    return float(proportion_confint(correct, validation_samples, alpha=0.05, method="wilson")[0])


def band(confidence: float) -> int:
    """The confidence band of a logged confidence (1.00 falls in the top band)."""
    return min(int(float(confidence) * BINS), BINS - 1)


def band_references(bands: Mapping[int, tuple[int, int]], reference: float) -> dict[int, float]:
    """Each band's expected accuracy: ``reference`` plus how far the band's accuracy was from the
    record's own (``bands`` maps band -> (labelled, correct) of the version's recent record), that
    difference shrunk towards none. Only the differences come from the record: its few thousand
    rows would make a noisier level than the long window's, and with every prediction in one band
    the references are ``reference`` itself. A band without rows is ``reference``."""
    labelled = sum(n for n, _ in bands.values())
    if not labelled:
        return {}
    mean = sum(c for _, c in bands.values()) / labelled
    return {b: min(reference + (c - n * mean) / (n + SHRINKAGE), CEILING) for b, (n, c) in bands.items()}


def prediction_references(confidences, by_band: Mapping[int, float], reference: float) -> np.ndarray:
    """Each labelled prediction's p0: its confidence band's accuracy (``reference`` where the
    prediction has no logged confidence or its band no record), at most ``CEILING``."""
    plain = min(reference, CEILING)
    return np.array([plain if confidence is None else by_band.get(band(confidence), plain)
                     for confidence in confidences], dtype=float)


def log_likelihood_ratios(correct, reference):
    """Each outcome's log-likelihood ratio of the broken model (p0 - SUDDEN_DROP) against the sound one."""
    p0 = np.clip(np.asarray(reference, dtype=float), FLOOR + SUDDEN_DROP, 1.0 - 1e-6)
    p1 = np.maximum(p0 - SUDDEN_DROP, FLOOR)
    return np.where(np.asarray(correct, dtype=bool), np.log(p1 / p0), np.log((1.0 - p1) / (1.0 - p0)))


def cusum(ratios, axis: int = -1) -> np.ndarray:
    """The CUSUM statistic after each step along ``axis``: S_t = C_t - min(0, min_{k<=t} C_k), C the
    running sum, which is the recursion S_t = max(0, S_{t-1} + r_t) from S_0 = 0, vectorised."""
    running = np.cumsum(ratios, axis=axis)
    return running - np.minimum(np.minimum.accumulate(running, axis=axis), 0.0)


def statistic(correct_in_order, reference) -> float:
    """The CUSUM over the given outcomes (oldest first), at the last of them; ``reference`` is p0,
    one for all or one per outcome."""
    if len(correct_in_order) == 0:
        return 0.0
    return float(cusum(log_likelihood_ratios(correct_in_order, reference))[-1])

