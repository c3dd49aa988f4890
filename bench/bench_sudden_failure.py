"""Sudden failure: how fast the short-window check rolls back a model that drops 20 points, and how
often it rolls back a stable one over four weeks.

    python bench/bench_sudden_failure.py [--runs 1000] [--seed 16] [--spreads 0 0.10 0.14]

A model serves 1,000 labelled predictions a day. Its reference is what the rollback check would
take: its live accuracy over the week before (7,000 labelled predictions, so the reference carries
that week's noise) and, per band of confidence, the accuracy of the last 2,000 of them
(``modelops.monitoring.sudden``). The check reads the CUSUM after every labelled prediction
(checks follow each metrics fold, about one a second).

Each prediction's confidence is drawn from a Beta distribution with the model's accuracy as its
mean and the given standard deviation, logged to two decimals, and the prediction is right with
that probability (a calibrated model; spread 0: every prediction alike, so the check is the plain
CUSUM, as without confidences).

- stable: four weeks (28,000 labelled predictions) as above; a rollback is false;
- sudden drop: after a week the model drops 20 points, either at every confidence alike (each
  prediction right 20 points less often than its confidence says) or with its confidence telling
  nothing any more (every prediction right at the accuracy less 20 points); the delay is the
  number of labelled predictions from the drop to the rollback (100 is about 2.4 hours).

Printed per accuracy and spread: false rollbacks with a Clopper-Pearson 95% interval, and per kind
of drop the delay's median, 90th percentile and the share of drops caught within 100.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from statsmodels.stats.proportion import proportion_confint

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from modelops.monitoring import sudden  # noqa: E402

LABELLED_PER_DAY = 1_000
WEEK = 7 * LABELLED_PER_DAY
FOUR_WEEKS = 28 * LABELLED_PER_DAY
AFTER = 1_000  # labelled predictions simulated after a drop
CHUNK = 50  # runs simulated at once


def confidences(rng, accuracy: float, spread: float, shape) -> np.ndarray:
    """Logged confidences (two decimals) with mean ``accuracy`` and standard deviation ``spread``."""
    if spread == 0.0:
        return np.full(shape, round(accuracy, 2))
    concentration = accuracy * (1.0 - accuracy) / spread ** 2 - 1.0
    drawn = rng.beta(accuracy * concentration, (1.0 - accuracy) * concentration, size=shape)
    return np.round(drawn, 2)


def banded(confidence: np.ndarray) -> np.ndarray:
    """``sudden.band`` of each confidence, at once."""
    return np.minimum((confidence * sudden.BINS).astype(int), sudden.BINS - 1)


def references(rng, accuracy: float, spread: float, runs: int) -> np.ndarray:
    """Each run's p0 per confidence band (runs x BINS), from a week of its labelled predictions
    as the check reads them: the week's accuracy, moved per band as the last REFERENCE_ROWS show."""
    week = confidences(rng, accuracy, spread, (runs, WEEK))
    right = rng.random((runs, WEEK)) < week
    overall = right.mean(axis=1)
    last = slice(WEEK - sudden.REFERENCE_ROWS, WEEK)
    bands = banded(week[:, last])
    table = np.empty((runs, sudden.BINS))
    for run in range(runs):
        labelled = np.bincount(bands[run], minlength=sudden.BINS)
        correct = np.bincount(bands[run], weights=right[run, last], minlength=sudden.BINS)
        by_band = sudden.band_references({b: (int(labelled[b]), int(correct[b])) for b in np.flatnonzero(labelled)},
                                         overall[run])
        table[run] = sudden.prediction_references(np.arange(sudden.BINS) / sudden.BINS, by_band, overall[run])
    return table


def statistics(outcomes: np.ndarray, confidence: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The CUSUM after each labelled prediction, each at its band's reference."""
    reference = np.take_along_axis(table, banded(confidence), axis=1)
    return sudden.cusum(sudden.log_likelihood_ratios(outcomes, reference), axis=1)


def false_rollbacks(rng, accuracy: float, spread: float, runs: int) -> int:
    alarms = 0
    for start in range(0, runs, CHUNK):
        size = min(CHUNK, runs - start)
        table = references(rng, accuracy, spread, size)
        confidence = confidences(rng, accuracy, spread, (size, FOUR_WEEKS))
        outcomes = rng.random((size, FOUR_WEEKS)) < confidence
        alarms += int((statistics(outcomes, confidence, table) >= sudden.THRESHOLD).any(axis=1).sum())
    return alarms


def delays(rng, accuracy: float, spread: float, runs: int, telling: bool) -> np.ndarray:
    """Labelled predictions from the drop to the rollback (AFTER + 1 when none within AFTER).
    ``telling``: the broken model's confidence still ranks its answers (every band 20 points down)."""
    table = references(rng, accuracy, spread, runs)
    confidence = confidences(rng, accuracy, spread, (runs, sudden.SHORT_WINDOW + AFTER))
    broken = np.clip(confidence - sudden.SUDDEN_DROP, 0.0, 1.0) if telling \
        else np.full_like(confidence, accuracy - sudden.SUDDEN_DROP)
    chance = np.concatenate([confidence[:, :sudden.SHORT_WINDOW], broken[:, sudden.SHORT_WINDOW:]], axis=1)
    outcomes = rng.random(chance.shape) < chance
    caught = statistics(outcomes, confidence, table)[:, sudden.SHORT_WINDOW:] >= sudden.THRESHOLD
    return np.where(caught.any(axis=1), caught.argmax(axis=1) + 1, AFTER + 1)


def described(delay: np.ndarray) -> str:
    return (f"median {np.median(delay):.0f} (90th percentile {np.percentile(delay, 90):.0f}), "
            f"within 100 in {(delay <= 100).mean():.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--spreads", type=float, nargs="*", default=[0.0, 0.10, 0.14],
                        help="standard deviations of the confidence (0: every prediction alike)")
    parser.add_argument("--accuracies", type=float, nargs="*", default=[0.95, 0.85, 0.75])
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"CUSUM of a {sudden.SUDDEN_DROP:.0%} drop, threshold {sudden.THRESHOLD}, {LABELLED_PER_DAY} labelled a day, "
          f"{args.runs} runs a line")
    for accuracy in args.accuracies:
        for spread in args.spreads:
            alarms = false_rollbacks(rng, accuracy, spread, args.runs)
            low, high = proportion_confint(alarms, args.runs, alpha=0.05, method="beta")
            line = (f"accuracy {accuracy}, confidence spread {spread}: false rollbacks over 4 weeks {alarms}/{args.runs} = "
                    f"{alarms / args.runs:.1%} [{low:.1%}, {high:.1%}]; 20-point drop caught after a "
                    f"{described(delays(rng, accuracy, spread, args.runs, telling=True))}")
            if spread:
                line += f"; with its confidence telling nothing: {described(delays(rng, accuracy, spread, args.runs, telling=False))}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
