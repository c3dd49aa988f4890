"""Sudden failure: how fast the short-window check rolls back a model that drops 20 points, and how
often it rolls back a stable one over four weeks.

    python bench/bench_sudden_failure.py [--runs 1000] [--seed 16]

A model serves 1,000 labelled predictions a day. Its reference accuracy is what the rollback check
would take: its live accuracy over the week before (7,000 labelled predictions, so the reference
carries that week's noise). The check reads the CUSUM of ``modelops.monitoring.sudden`` after every
labelled prediction (checks follow each metrics fold, about one a second).

- stable: four weeks (28,000 labelled predictions) at the model's accuracy; a rollback is false;
- sudden drop: after a week at its accuracy the model drops 20 points; the delay is the number of
  labelled predictions from the drop to the rollback (100 is about 2.4 hours).

Printed per accuracy: false rollbacks with a Clopper-Pearson 95% interval, the delay's median,
90th percentile and the share of drops caught within 100 labelled predictions.
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
CHUNK = 100  # runs simulated at once


def references(rng, accuracy: float, runs: int) -> np.ndarray:
    """Each run's reference: the accuracy of a week of its labelled predictions."""
    return rng.binomial(WEEK, accuracy, size=runs) / WEEK


def false_rollbacks(rng, accuracy: float, runs: int) -> int:
    alarms = 0
    for start in range(0, runs, CHUNK):
        size = min(CHUNK, runs - start)
        outcomes = rng.random((size, FOUR_WEEKS)) < accuracy
        ratios = sudden.log_likelihood_ratios(outcomes, references(rng, accuracy, size)[:, None])
        alarms += int((sudden.cusum(ratios, axis=1) >= sudden.THRESHOLD).any(axis=1).sum())
    return alarms


def delays(rng, accuracy: float, runs: int, after: int = 1_000) -> np.ndarray:
    """Labelled predictions from the drop to the rollback (after + 1 when none within ``after``)."""
    before = rng.random((runs, sudden.SHORT_WINDOW)) < accuracy
    broken = rng.random((runs, after)) < accuracy - sudden.SUDDEN_DROP
    ratios = sudden.log_likelihood_ratios(np.concatenate([before, broken], axis=1), references(rng, accuracy, runs)[:, None])
    caught = sudden.cusum(ratios, axis=1)[:, sudden.SHORT_WINDOW:] >= sudden.THRESHOLD
    return np.where(caught.any(axis=1), caught.argmax(axis=1) + 1, after + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"CUSUM of a {sudden.SUDDEN_DROP:.0%} drop, threshold {sudden.THRESHOLD}, {LABELLED_PER_DAY} labelled a day")
    for accuracy in (0.95, 0.85, 0.75):
        alarms = false_rollbacks(rng, accuracy, args.runs)
        low, high = proportion_confint(alarms, args.runs, alpha=0.05, method="beta")
        delay = delays(rng, accuracy, args.runs)
        print(f"accuracy {accuracy}: false rollbacks over 4 weeks {alarms}/{args.runs} = {alarms / args.runs:.1%} "
              f"[{low:.1%}, {high:.1%}]; 20-point drop caught after a median {np.median(delay):.0f} labelled "
              f"predictions (90th percentile {np.percentile(delay, 90):.0f}), within 100 in "
              f"{(delay <= 100).mean():.0%}", flush=True)


if __name__ == "__main__":
    main()
