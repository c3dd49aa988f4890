"""Benchmarks of the six agents: training time, validation accuracy beside the majority-class
baseline, how well confidences match accuracy, and artifact size; the classification agent at
larger scales with its peak memory; the chat agent on BANKING77 when the data set is present.

    .venv/bin/python bench/bench_agents.py                     # everything (the 1M run takes minutes)
    .venv/bin/python bench/bench_agents.py --scales 100000     # skip the million-row run

Times are medians of ``--repeats`` fits on all rows (the million-row run is fitted once).
Accuracy, the majority-class baseline and ECE are measured on the 20% of a seeded stratified
80/20 split, with a model fitted on the 80%. Sizes are ``joblib.dump`` bytes, uncompressed (what the artifact
store writes and roughly what a worker holds in memory) and with ``compress=3`` for reference.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import joblib
import numpy as np
from sklearn.model_selection import train_test_split

from modelops import AGENT_TYPES
from modelops.agents import get_agent
from modelops.agents.synthetic import generate

SEED, TENANT = 0, 1


def artifact_sizes(model) -> tuple[int, int]:
    raw, packed = io.BytesIO(), io.BytesIO()
    joblib.dump(model, raw)
    joblib.dump(model, packed, compress=3)
    return len(raw.getvalue()), len(packed.getvalue())


def calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """Expected calibration error: the gap between confidence and accuracy, averaged over ten
    confidence bins weighted by their rows (0 = a confidence of 0.8 is right 80% of the time)."""
    confidences, correct = np.asarray(confidences), np.asarray(correct, dtype=float)
    which = np.minimum((confidences * bins).astype(int), bins - 1)
    return float(sum(abs(correct[which == b].mean() - confidences[which == b].mean()) * (which == b).sum()
                     for b in range(bins) if (which == b).any()) / len(confidences))


def evaluate(agent, inputs: list[dict], labels: list, repeats: int) -> dict:
    """Fit time on all rows; accuracy, calibration and size of a model fitted on 80% of them."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        agent.build_estimator().fit(inputs, labels)
        times.append(time.perf_counter() - started)
    train_x, val_x, train_y, val_y = train_test_split(inputs, labels, test_size=0.2, stratify=labels, random_state=SEED)
    model = agent.build_estimator().fit(train_x, train_y)
    started = time.perf_counter()
    predictions = agent.predict(model, val_x)
    predict_seconds = time.perf_counter() - started
    correct = [p.label == label for p, label in zip(predictions, val_y)]
    majority = Counter(train_y).most_common(1)[0][0]
    raw, packed = artifact_sizes(model)
    return {"rows": len(inputs), "fit_s": statistics.median(times), "accuracy": float(np.mean(correct)),
            "baseline": float(np.mean([label == majority for label in val_y])),
            "ece": calibration_error([p.confidence for p in predictions], correct),
            "predict_ms_per_1k": 1000 * predict_seconds / len(val_x) * 1000, "raw_kb": raw / 1024, "packed_kb": packed / 1024}


def line(name: str, figures: dict) -> str:
    return (f"{name:<26} {figures['rows']:>9,} {figures['fit_s']:>8.2f} {figures['accuracy']:>8.3f} {figures['baseline']:>8.3f}"
            f" {figures['ece']:>6.3f} {figures['predict_ms_per_1k']:>9.1f} {figures['raw_kb']:>8.0f} {figures['packed_kb']:>8.0f}")


HEADER = (f"{'agent (data)':<26} {'rows':>9} {'fit s':>8} {'accuracy':>8} {'majority':>8} {'ECE':>6}"
          f" {'ms/1k pred':>9} {'KB raw':>8} {'KB zip':>8}")


def scale_run(n: int, repeats: int) -> dict:
    """In a process of its own, so its peak memory is its own: fit classification on n rows."""
    agent = get_agent("classification")
    rows = generate("classification", n, seed=SEED, tenant_seed=TENANT)
    inputs, labels = [data for data, _ in rows], [agent.label(expected) for _, expected in rows]
    del rows
    held_out = generate("classification", 20_000, seed=SEED + 1, tenant_seed=TENANT)
    data_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model = agent.build_estimator().fit(inputs, labels)
        times.append(time.perf_counter() - started)
    predictions = agent.predict(model, [data for data, _ in held_out])
    correct = [p.label == agent.label(expected) for p, (_, expected) in zip(predictions, held_out)]
    majority = Counter(labels).most_common(1)[0][0]
    raw, packed = artifact_sizes(model)
    return {"rows": n, "fit_s": statistics.median(times), "runs": repeats, "accuracy": float(np.mean(correct)),
            "baseline": float(np.mean([agent.label(expected) == majority for _, expected in held_out])),
            "ece": calibration_error([p.confidence for p in predictions], correct),
            "data_mb": data_mb, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "raw_kb": raw / 1024, "packed_kb": packed / 1024}


def banking77(path: Path | None) -> tuple[list[dict], list[str]] | None:
    if path is None or not path.exists():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [{"message": row["text"]} for row in rows], [row["category"] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="synthetic rows per agent")
    parser.add_argument("--repeats", type=int, default=3, help="fits per timing")
    parser.add_argument("--scales", type=int, nargs="*", default=[100_000, 1_000_000],
                        help="row counts for the classification scale runs")
    parser.add_argument("--banking77", type=Path, help="BANKING77's train.csv (text,category); skipped when absent")
    parser.add_argument("--scale-run", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.scale_run:
        print(json.dumps(scale_run(options.scale_run, options.repeats)))
        return

    print(f"synthetic data: {options.rows:,} rows per agent (tenant_seed={TENANT}, seed={SEED}). fit s: median of "
          f"{options.repeats} fits on all rows; accuracy, ECE and size: a model fitted on a stratified 80% split")
    print(HEADER)
    for name in AGENT_TYPES:
        agent = get_agent(name)
        rows = generate(name, options.rows, seed=SEED, tenant_seed=TENANT)
        print(line(f"{name} (synthetic)", evaluate(agent, [agent.validate_input(d) for d, _ in rows],
                                                    [agent.label(e) for _, e in rows], options.repeats)), flush=True)
    real = banking77(options.banking77)
    if real is None:
        print("chat (BANKING77): no --banking77 file given or found, skipped")
    else:
        agent = get_agent("chat")
        print(line("chat (BANKING77)", evaluate(agent, [agent.validate_input(d) for d in real[0]], real[1],
                                                options.repeats)), flush=True)

    print("\nclassification at scale: fitted on all rows, scored on 20,000 fresh rows; one process per size")
    print(f"{'rows':>10} {'fit s':>8} {'runs':>5} {'accuracy':>8} {'majority':>8} {'ECE':>6} {'data MB':>8} {'peak MB':>8} {'KB raw':>8}")
    for n in options.scales:
        repeats = options.repeats if n <= 100_000 else 1
        done = subprocess.run([sys.executable, __file__, "--scale-run", str(n), "--repeats", str(repeats)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{n:>10,} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
            continue
        f = json.loads(done.stdout)
        print(f"{n:>10,} {f['fit_s']:>8.1f} {f['runs']:>5} {f['accuracy']:>8.3f} {f['baseline']:>8.3f} {f['ece']:>6.3f}"
              f" {f['data_mb']:>8.0f} {f['peak_mb']:>8.0f} {f['raw_kb']:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
