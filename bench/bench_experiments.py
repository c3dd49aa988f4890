"""A/B decisions on simulated live traffic: false promotions and power, with counts and 95% intervals.

    python bench/bench_experiments.py [--runs 1000] [--seed 16] [--only NAME ...] [--set FIELD=VALUE ...]

Each run is one A/B test at the default config (10% treatment, looked at once a day for at most
``max_duration_days``), decided by ``modelops.experiments.evaluate`` itself, on traffic drawn key by
key as the evaluation reads it from the audit log:

- 1,000 labelled predictions a day: 2,500 served a day from 500 keys (a user, a vendor), each key
  in one arm (random, with the treatment's share of keys), five predictions a key a day (Poisson);
  independent units spread the same traffic over 20,000 keys, and a shared model, which serves
  several tenants, over 5,000;
- each key has its own accuracy, drawn from a Beta distribution around the model's with
  intraclass correlation rho, so a key's predictions are right or wrong together (rho = 0: the
  predictions are independent); a candidate's lift moves every key of its segment alike;
- each prediction is labelled with probability 0.40 (the scenario may make it depend on the arm
  and on whether the prediction was right), and the label arrives the same day or, with late
  labels, after a geometric delay;
- keys belong to segments (tenants of a shared model) with the scenario's shares of traffic.

Printed per scenario: how many runs promoted, rejected, ended inconclusive or were stopped (split
or label rate), each promotion rate with its Clopper-Pearson 95% interval, and how many runs named
the scenario's harmed segment. The figures are in docs/experiments.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from statsmodels.stats.proportion import proportion_confint

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from modelops.experiments import (  # noqa: E402
    CONTINUE, PROMOTE, ABCounts, ABTestConfig, KeySums, Look, VariantCounts, evaluate,
)

CONFIG = ABTestConfig()
BASELINE = 0.85
KEYS = 500
SERVED_PER_DAY = 2_500
LABEL_RATE = 0.40  # 1,000 labelled a day
START = dt.datetime(2026, 1, 5, 6)  # a Monday
DAYS = int(CONFIG.max_duration_days)


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    lifts: tuple[float, ...] = (0.0,)  # the treatment's lift in each segment
    shares: tuple[float, ...] = (1.0,)  # each segment's share of the keys
    rho: float = 0.0
    # P(labelled) for (treatment right, treatment wrong, control right, control wrong)
    labelling: tuple[float, float, float, float] = (LABEL_RATE,) * 4
    mean_label_delay_days: float = 0.0
    harmed_segment: str | None = None  # the segment a refusal should name
    keys: int = KEYS
    segment_names: tuple[str, ...] = field(default=())

    def names(self) -> tuple[str, ...]:
        return self.segment_names or tuple(f"segment {i}" for i in range(len(self.shares)))


# Independent units: so many keys that most have a prediction or two over the test.
INDEPENDENT_KEYS = 20_000
TENANTS = ("tenant A", "tenant B", "tenant C", "tenant D", "tenant E", "tenant F")
TENANT_SHARES = (0.30, 0.20, 0.15, 0.15, 0.10, 0.10)

SCENARIOS = [
    Scenario("independent A/A", "identical models, independent predictions", keys=INDEPENDENT_KEYS),
    Scenario("independent +2", "candidate 2 points better, independent predictions", lifts=(0.02,),
             keys=INDEPENDENT_KEYS),
    Scenario("clustered 0.02 A/A", "identical models, within-key correlation 0.02", rho=0.02),
    Scenario("clustered 0.05 A/A", "identical models, within-key correlation 0.05", rho=0.05),
    Scenario("clustered 0.2 A/A", "identical models, within-key correlation 0.2", rho=0.2),
    Scenario("clustered 0.02 +2", "candidate 2 points better, within-key correlation 0.02", lifts=(0.02,), rho=0.02),
    Scenario("clustered 0.05 +2", "candidate 2 points better, within-key correlation 0.05", lifts=(0.02,), rho=0.05),
    Scenario("differential labelling A/A", "identical models; treatment's right answers labelled 0.44, control's 0.40",
             labelling=(0.44, 0.40, 0.40, 0.40)),
    Scenario("late labels A/A", "identical models; labels arrive after 3 days on average", mean_label_delay_days=3.0),
    Scenario("late labels +2", "candidate 2 points better; labels arrive after 3 days on average", lifts=(0.02,),
             mean_label_delay_days=3.0),
    Scenario("mixed segments", "+3 points on 70% of traffic, -4 on the other 30%", lifts=(0.03, -0.04),
             shares=(0.7, 0.3), segment_names=("invoices", "receipts"), harmed_segment="receipts"),
    Scenario("shared -2%", "shared candidate 2% worse for every tenant", lifts=(-0.02 * BASELINE,) * 6,
             shares=TENANT_SHARES, segment_names=TENANTS, keys=5_000),
    Scenario("shared harms one tenant", "shared candidate +2 for five tenants, -5 for tenant F (10% of traffic)",
             lifts=(0.02,) * 5 + (-0.05,), shares=TENANT_SHARES, segment_names=TENANTS, harmed_segment="tenant F",
             keys=5_000),
    Scenario("shared +2", "shared candidate 2 points better for every tenant", lifts=(0.02,) * 6,
             shares=TENANT_SHARES, segment_names=TENANTS, keys=5_000),
]


def key_accuracies(rng, rho: float, mean: float, size: int) -> np.ndarray:
    """Per-key accuracies with mean ``mean`` and intraclass correlation ``rho`` (Beta-binomial)."""
    if rho == 0.0:
        return np.full(size, mean)
    concentration = (1.0 - rho) / rho
    return rng.beta(mean * concentration, (1.0 - mean) * concentration, size=size)


def arrivals(rng, labelled: np.ndarray, mean_delay: float) -> np.ndarray:
    """Labels by the day they arrive, from labels by the day of their prediction (keys x days)."""
    if mean_delay == 0.0:
        return labelled
    arrived = np.zeros((labelled.shape[0], labelled.shape[1] + 1), dtype=labelled.dtype)
    remaining = labelled.copy()
    step = 1.0 / (1.0 + mean_delay)  # geometric: P(arrives today | not yet) on each day
    for delay in range(labelled.shape[1]):
        now = rng.binomial(remaining, step)
        arrived[:, delay:labelled.shape[1]] += now[:, :labelled.shape[1] - delay]
        remaining = remaining - now
    return arrived[:, :labelled.shape[1]]


def simulate(rng, scenario: Scenario) -> dict[str, np.ndarray]:
    """Per key and day: served, labelled (by the day it arrives) and correct among the labelled."""
    keys = scenario.keys
    treated = rng.random(keys) < CONFIG.allocation
    segment = rng.choice(len(scenario.shares), size=keys, p=np.array(scenario.shares) / sum(scenario.shares))
    base = key_accuracies(rng, scenario.rho, BASELINE, keys)
    accuracy = np.clip(base + np.where(treated, np.array(scenario.lifts)[segment], 0.0), 0.0, 1.0)
    served = rng.poisson(SERVED_PER_DAY / keys, size=(keys, DAYS))
    right = rng.binomial(served, accuracy[:, None])
    t_right, t_wrong, c_right, c_wrong = scenario.labelling
    p_right = np.where(treated, t_right, c_right)[:, None]
    p_wrong = np.where(treated, t_wrong, c_wrong)[:, None]
    labelled_right = rng.binomial(right, p_right)
    labelled_wrong = rng.binomial(served - right, p_wrong)
    correct = arrivals(rng, labelled_right, scenario.mean_label_delay_days)
    labelled = correct + arrivals(rng, labelled_wrong, scenario.mean_label_delay_days)
    return {"treated": treated, "segment": segment, "served": np.cumsum(served, axis=1),
            "labelled": np.cumsum(labelled, axis=1), "correct": np.cumsum(correct, axis=1)}


def variant(sim: dict, keys: np.ndarray, day: int) -> VariantCounts:
    """One arm's counts after ``day`` as the evaluation's query gives them (sums over keys)."""
    s = sim["served"][keys, day].astype(float)
    n = sim["labelled"][keys, day].astype(float)
    c = sim["correct"][keys, day].astype(float)
    by_key = KeySums(labelled_keys=int((n > 0).sum()), labelled_sq=float(n @ n), correct_sq=float(c @ c),
                     labelled_correct=float(n @ c), served_keys=int((s > 0).sum()), served_sq=float(s @ s),
                     served_labelled=float(s @ n))
    return VariantCounts(int(n.sum()), int(c.sum()), assigned=int((s > 0).sum()), served=int(s.sum()), by_key=by_key)


def counts_on(sim: dict, scenario: Scenario, day: int) -> ABCounts:
    treated, segment = sim["treated"], sim["segment"]
    segments = {}
    if len(scenario.shares) > 1:
        segments = {name: ABCounts(variant(sim, ~treated & (segment == i), day), variant(sim, treated & (segment == i), day))
                    for i, name in enumerate(scenario.names())}
    return ABCounts(variant(sim, ~treated, day), variant(sim, treated, day), segments,
                    shared=scenario.name.startswith("shared"))


def one_test(rng, scenario: Scenario):
    sim = simulate(rng, scenario)
    looks: list[Look] = []
    for day in range(DAYS):
        decision = evaluate(counts_on(sim, scenario, day), looks, CONFIG, START, START + dt.timedelta(days=day + 1),
                            baseline_accuracy=BASELINE)
        if decision.look:
            looks.append(decision.look)
        if decision.decision != CONTINUE:
            break
    return decision


def interval(count: int, runs: int) -> str:
    low, high = proportion_confint(count, runs, alpha=0.05, method="beta")
    return f"{count}/{runs} = {count / runs:.1%} [{low:.1%}, {high:.1%}]"


def run(scenario: Scenario, runs: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    outcomes, named, took = Counter(), 0, time.perf_counter()
    for _ in range(runs):
        decision = one_test(rng, scenario)
        outcomes[decision.decision] += 1
        named += bool(scenario.harmed_segment and decision.decision != PROMOTE and scenario.harmed_segment in decision.reason)
    return {"outcomes": outcomes, "named": named, "seconds": time.perf_counter() - took}


def configured(settings: list[str]) -> ABTestConfig:
    """The default config with ``FIELD=VALUE`` settings (numbers) applied."""
    changes = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        if name in ("max_duration_days", "allocation"):
            raise SystemExit(f"--set {name}: the simulated traffic is drawn for the default")
        changes[name] = int(value) if value.isdigit() else float(value)
    return ABTestConfig.from_spec(changes) if changes else ABTestConfig()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--only", nargs="*", help="scenario names to run (default: all)")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="ABTestConfig fields other than the defaults, e.g. shared_harm_margin=0.03 "
                             "(max_duration_days and allocation stay: the traffic is drawn for them)")
    args = parser.parse_args()
    global CONFIG
    CONFIG = configured(args.set)
    print(f"config: {CONFIG}")
    print(f"traffic: {SERVED_PER_DAY * LABEL_RATE:.0f} labelled a day, baseline accuracy {BASELINE}")
    for number, scenario in enumerate(SCENARIOS):
        if args.only and scenario.name not in args.only:
            continue
        result = run(scenario, args.runs, args.seed + number)
        outcomes = result["outcomes"]
        line = (f"{scenario.name}: {scenario.what}\n  promoted {interval(outcomes[PROMOTE], args.runs)}; "
                + ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items()) if name != PROMOTE))
        if scenario.harmed_segment:
            line += f"; not promoted and naming {scenario.harmed_segment}: {interval(result['named'], args.runs)}"
        print(f"{line}  ({result['seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
