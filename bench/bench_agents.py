"""Benchmarks of the six agents beside plain models fitted on the same rows in the same run:
accuracy, macro-F1, expected calibration error, training and prediction time, artifact size; the
chat agent on BANKING77 when its training CSV is given, the classification agent on small
tenants' statement lines, and classification at larger scales with its peak memory.

    .venv/bin/python bench/bench_agents.py --banking77 PATH/TO/banking77/train.csv
    .venv/bin/python bench/bench_agents.py --rows 5000 --scales 100000 1000000

Held-out rows: synthetic agents and BANKING77, the 20% of a seeded stratified 80/20 split (every
model fitted on the 80%); statement lines, each tenant's later lines (``statement_corpus``).
Every model of a row of the table is fitted on the same rows. ``fit s`` is one fit; the agent's
fit includes its calibration (three more fits, on two thirds each). Sizes are ``joblib.dump``
bytes, uncompressed (what the artifact store writes and roughly what a worker holds in memory).
The baselines (``plain_baselines``): word TF-IDF + logistic regression for every agent, character
TF-IDF + logistic regression and word+char TF-IDF + a linear SVM for the text agents.
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
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from modelops import AGENT_TYPES
from modelops.agents import get_agent
from modelops.agents.synthetic import generate
from modelops.training.evaluation import calibration_error

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain_baselines import BASELINES, document  # noqa: E402
from statement_corpus import corpus  # noqa: E402

SEED, TENANT = 0, 1
TEXT_AGENTS = ("classification", "journal", "chat")
STATEMENT_TENANTS = 5


def artifact_sizes(model) -> tuple[int, int]:
    raw, packed = io.BytesIO(), io.BytesIO()
    joblib.dump(model, raw)
    joblib.dump(model, packed, compress=3)
    return len(raw.getvalue()), len(packed.getvalue())


def figures(truth: list, predicted: list, confidences: list[float] | None, fit_s: float, predict_s: float,
            model) -> dict:
    correct = [p == t for p, t in zip(predicted, truth)]
    return {"accuracy": float(np.mean(correct)),
            "macro_f1": float(f1_score([str(t) for t in truth], [str(p) for p in predicted], average="macro")),
            "ece": None if confidences is None else calibration_error(confidences, correct),
            # how much the confidences spread: what the sudden-failure check's risk adjustment
            # works with (bench/bench_sudden_failure.py --spreads)
            "confidence_sd": None if confidences is None else float(np.std(confidences)),
            "fit_s": fit_s, "predict_ms_per_1k": 1e6 * predict_s / len(truth), "raw_kb": artifact_sizes(model)[0] / 1024}


def agent_figures(agent, train: tuple[list, list], held_out: tuple[list, list]) -> dict:
    started = time.perf_counter()
    model = agent.build_estimator().fit(*train)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    predictions = agent.predict(model, held_out[0])
    predict_s = time.perf_counter() - started
    return figures(held_out[1], [p.label for p in predictions], [p.confidence for p in predictions], fit_s, predict_s,
                   model)


def baseline_figures(make, train: tuple[list, list], held_out: tuple[list, list]) -> dict:
    started = time.perf_counter()
    model = make().fit([document(row) for row in train[0]], [str(label) for label in train[1]])
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    predicted = model.predict([document(row) for row in held_out[0]])
    predict_s = time.perf_counter() - started
    return figures([str(label) for label in held_out[1]], list(predicted), None, fit_s, predict_s, model)


def compare(agent, train: tuple[list, list], held_out: tuple[list, list], baselines: list[str]) -> dict[str, dict]:
    """The agent and each named baseline, fitted on ``train`` and scored on ``held_out``."""
    results = {f"agent ({agent.name})": agent_figures(agent, train, held_out)}
    for name in baselines:
        results[name] = baseline_figures(BASELINES[name], train, held_out)
    return results


def split(inputs: list, labels: list) -> tuple[tuple[list, list], tuple[list, list]]:
    train_x, val_x, train_y, val_y = train_test_split(inputs, labels, test_size=0.2, stratify=labels,
                                                      random_state=SEED)
    return (train_x, train_y), (val_x, val_y)


def mean_figures(runs: list[dict[str, dict]]) -> dict[str, dict]:
    return {model: {key: None if runs[0][model][key] is None else float(np.mean([run[model][key] for run in runs]))
                    for key in runs[0][model]} for model in runs[0]}


HEADER = (f"{'data':<30} {'model':<24} {'train':>7} {'held':>6} {'fit s':>7} {'accuracy':>8} {'macro-F1':>8}"
          f" {'ECE':>6} {'conf sd':>7} {'ms/1k':>7} {'KB':>7}")


def print_rows(data: str, train_rows: int, held_rows: int, results: dict[str, dict]) -> None:
    for model, f in results.items():
        ece = "-" if f["ece"] is None else f"{f['ece']:.3f}"
        spread = "-" if f["confidence_sd"] is None else f"{f['confidence_sd']:.3f}"
        print(f"{data:<30} {model:<24} {train_rows:>7,} {held_rows:>6,} {f['fit_s']:>7.2f} {f['accuracy']:>8.3f}"
              f" {f['macro_f1']:>8.3f} {ece:>6} {spread:>7} {f['predict_ms_per_1k']:>7.1f} {f['raw_kb']:>7.0f}", flush=True)


def statement_lines(tenants: int) -> None:
    """Small tenants: 360 statement lines each to learn from, scored on 2,000 later ones; the mean
    over ``tenants`` tenants."""
    agent, runs = get_agent("classification"), []
    for seed in range(tenants):
        training, later = corpus(seed)
        runs.append(compare(agent, ([agent.validate_input(row) for row, _ in training], [label for _, label in training]),
                            ([agent.validate_input(row) for row, _ in later], [label for _, label in later]),
                            ["char tfidf+LR", "tfidf+LR", "word+char tfidf+SVM"]))
    print_rows(f"statement lines ({tenants} tenants)", 360, 2_000, mean_figures(runs))


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
    parser.add_argument("--rows", type=int, default=5_000, help="synthetic rows per agent")
    parser.add_argument("--agents", nargs="*", default=list(AGENT_TYPES), help="synthetic agents to run")
    parser.add_argument("--statement-tenants", type=int, default=STATEMENT_TENANTS,
                        help="small tenants' statement lines to average over (0 skips them)")
    parser.add_argument("--scales", type=int, nargs="*", default=[],
                        help="row counts for the classification scale runs (none by default)")
    parser.add_argument("--banking77", type=Path, help="BANKING77's train.csv (text,category); skipped when absent")
    parser.add_argument("--repeats", type=int, default=1, help="fits per timing in the scale runs")
    parser.add_argument("--scale-run", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.scale_run:
        print(json.dumps(scale_run(options.scale_run, options.repeats)))
        return

    print(HEADER)
    real = banking77(options.banking77)
    if real is None:
        print("chat (BANKING77): no --banking77 file given or found, skipped")
    else:
        agent = get_agent("chat")
        train, held_out = split([agent.validate_input(row) for row in real[0]], real[1])
        print_rows("BANKING77 (80/20 of train.csv)", len(train[1]), len(held_out[1]),
                   compare(agent, train, held_out, ["tfidf+LR", "word+char tfidf+SVM"]))
    if options.statement_tenants:
        statement_lines(options.statement_tenants)
    for name in options.agents:
        agent = get_agent(name)
        rows = generate(name, options.rows, seed=SEED, tenant_seed=TENANT)
        train, held_out = split([agent.validate_input(d) for d, _ in rows], [agent.label(e) for _, e in rows])
        baselines = ["tfidf+LR", "word+char tfidf+SVM"] if name in TEXT_AGENTS else ["tfidf+LR"]
        print_rows(f"{name} (synthetic)", len(train[1]), len(held_out[1]), compare(agent, train, held_out, baselines))

    if not options.scales:
        return
    print("\nclassification at scale: fitted on all rows, scored on 20,000 fresh rows; one process per size")
    print(f"{'rows':>10} {'fit s':>8} {'runs':>5} {'accuracy':>8} {'majority':>8} {'ECE':>6} {'data MB':>8} {'peak MB':>8} {'KB raw':>8}")
    for n in options.scales:
        done = subprocess.run([sys.executable, __file__, "--scale-run", str(n), "--repeats", str(options.repeats)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{n:>10,} failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
            continue
        f = json.loads(done.stdout)
        print(f"{n:>10,} {f['fit_s']:>8.1f} {f['runs']:>5} {f['accuracy']:>8.3f} {f['baseline']:>8.3f} {f['ece']:>6.3f}"
              f" {f['data_mb']:>8.0f} {f['peak_mb']:>8.0f} {f['raw_kb']:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
