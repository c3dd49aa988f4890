"""Every benchmark in one run (`make bench`), summed up in one table written into docs/benchmarks.md.

Each figure stands beside its baseline measured in the same run and the spec's requirement; the
docs also get the machine the run was made on.

    .venv/bin/python bench/suite.py [--skip-million] [--quick] [--only serving,intake,...] [--docs PATH | --no-docs]

Runs the benchmark scripts of bench/ one after the other, each in a process of its own with
``--json`` (its figures) and its output in a log file, then prints:

  - the table: measure (with its sizes) | result | baseline measured in the same run | ratio |
    the requirement (the project's target and the spec's section 11 figure) | met?
  - serving's single messages by worker processes: one worker with 1, 2, 4 pool processes, and
    2 or 4 workers of one process each (as separate hosts would run them), each beside the Celery
    no-op worker of the same shape.

Every script uses its own database and Redis db (their defaults), except two whose default Redis
dbs belong to the test runs: intake uses db 6 and training db 5 here (training flushes its db).

Sizes: the run takes about 21 minutes on a 2-core machine (more when other work shares it), of
which training on 1,000,000 rows takes about 7. ``--skip-million`` leaves that out, and the table
then repeats the 1M row found in the docs, marked with the date it was measured. ``--quick`` runs
every benchmark at tiny sizes to check the runner (its figures mean nothing; the docs are not
touched). The first run on a fresh serving database also trains its 600 small models (about 5
minutes, once).

The generated part of the docs lies between the ``bench:begin`` and ``bench:end`` markers; it is
rewritten only after a complete run in which every benchmark succeeded.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DOCS = PROJECT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin", "<!-- bench:end -->"
INTAKE_REDIS = "redis://127.0.0.1:6379/6"
TRAINING_REDIS = "redis://127.0.0.1:6379/5"
MILLION = 1_000_000
MILLION_ROW = f"| training, classification, {MILLION:,} rows"  # how the 1M row starts, to find it again


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    arguments: tuple[str, ...]


def benchmarks(quick: bool, million: bool) -> list[Benchmark]:
    """The benchmarks of a run, at the sizes of the run."""
    training_sizes = ["2000"] if quick else ["10000", "100000"] + ([str(MILLION)] if million else [])
    if quick:
        serving = ("--tenants", "5", "--batch", "100", "--batches", "4", "--rounds", "1", "--singles", "300",
                   "--rate", "100", "--seconds", "2")
        return [
            Benchmark("serving", "bench_serving.py", ("--agents", "classification", "--steps", "throughput", *serving)),
            Benchmark("scaling", "bench_serving.py", ("--agents", "classification", "--steps", "scaling", "--tenants", "5",
                                                      "--shapes", "1x1,2x1", "--rounds", "1", "--singles", "300")),
            Benchmark("intake", "bench_intake.py", ("--worker", "--redis-url", INTAKE_REDIS, "--rounds", "2",
                                                    "--batch", "200", "--tenants", "2")),
            Benchmark("training", "bench_training.py", ("--parts", "million", "pool", "--million", *training_sizes,
                                                        "--rows", "2000", "--repeats", "1", "--redis-url", TRAINING_REDIS)),
            Benchmark("metrics", "bench_metrics.py", ("--steps", "delay", "--probes", "5", "--in-flight", "2", "--tenants", "3")),
            Benchmark("rollback", "bench_rollback.py", ("--runs", "2")),
        ]
    # latency at half of the capacity just measured, on RabbitMQ too where one answers (beside Redis, in one run)
    brokers = "redis,amqp" if rabbitmq_answers() else "redis"
    return [
        Benchmark("serving", "bench_serving.py", ("--agents", "classification", "--steps", "throughput",
                                                  "--load-share", "0.5", "--brokers", brokers)),
        Benchmark("scaling", "bench_serving.py", ("--agents", "classification", "--steps", "scaling",
                                                  "--shapes", "1x1,1x2,1x4,2x1,4x1", "--rounds", "3", "--singles", "2000")),
        Benchmark("intake", "bench_intake.py", ("--worker", "--redis-url", INTAKE_REDIS)),
        Benchmark("training", "bench_training.py", ("--parts", "million", "pool", "--million", *training_sizes,
                                                    "--pool-concurrency", "2", "10", "--redis-url", TRAINING_REDIS)),
        Benchmark("metrics", "bench_metrics.py", ("--steps", "delay", "--probes", "40", "--in-flight", "6")),
        Benchmark("rollback", "bench_rollback.py", ("--runs", "9")),
    ]


def rabbitmq_answers(host: str = "127.0.0.1", port: int = 5672) -> bool:
    """Whether a RabbitMQ listens where bench_serving.py looks for one by default."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


# -- running ------------------------------------------------------------------------------------

def run(benchmark: Benchmark, log_dir: Path) -> dict | None:
    """The benchmark's figures, or None when it failed (its log says why)."""
    figures_path, log_path = log_dir / f"{benchmark.name}.json", log_dir / f"{benchmark.name}.log"
    argv = [sys.executable, str(PROJECT / "bench" / benchmark.script), *benchmark.arguments, "--json", str(figures_path)]
    print(f"\n[{benchmark.name}] {shlex.join(['bench/' + benchmark.script, *benchmark.arguments])}", flush=True)
    started = time.monotonic()
    with log_path.open("w") as log:
        # unbuffered: the log shows how far a long benchmark has come
        done = subprocess.run(argv, cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    seconds = time.monotonic() - started
    if done.returncode != 0 or not figures_path.exists():
        print(f"  FAILED (exit {done.returncode}) after {seconds:.0f} s; its output: {log_path}", flush=True)
        return None
    print(f"  done in {seconds:.0f} s, load average {os.getloadavg()[0]:.1f}; its output: {log_path}", flush=True)
    return json.loads(figures_path.read_text())


# -- figures into rows --------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    """As bench_metrics computes it: the value at the rounded rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def answered(runs: list[list[float]]) -> float:
    """Median requests answered per second over rounds of (answered/s, sent/s)."""
    return statistics.median(rate for rate, _ in runs)


def row(measure: str, result: str, baseline: str, ratio: str, requirement: str, met: str) -> list[str]:
    return [measure, result, baseline, ratio, requirement, met]


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def serving_rows(figures: dict) -> list[list[str]]:
    """The serving figures of each broker measured (Redis alone, or Redis and RabbitMQ in one run)."""
    by_broker = figures.get("brokers") or {"redis": figures["throughput"]}
    return [line for broker, measured in by_broker.items()
            for line in broker_rows(BROKER_NAMES[broker], measured, figures["agents"][0])]


BROKER_NAMES = {"redis": "Redis", "amqp": "RabbitMQ"}


def broker_rows(broker: str, t: dict, agent: str) -> list[list[str]]:
    noop, serving = t["noop"][agent], t["serving"][agent]
    shape = f"{broker}, {t['clients']} clients, 1 worker x {t['concurrency']} processes, median of {t['rounds']}"
    batched, batched_noop = answered(serving["batched"]), answered(noop["batched"])
    singles, singles_noop = answered(serving["singles"]), answered(noop["singles"])
    latency, latency_noop = serving["latency"], noop["latency"]
    asked = f"{t['load_share']:.0%} of the capacity above" if t.get("load_share") is not None else f"{t['rate']:,.0f}/s asked"
    return [
        row(f"predictions, batched: {t['batches']} messages of {t['batch']:,} {agent} requests in flight ({shape})",
            f"{batched:,.0f} predictions/s", f"no-op task, same messages: {batched_noop:,.0f} items/s",
            f"{batched / batched_noop:.2f}x", "target >= 20,000/s; spec 11C: 1,000+/s", verdict(batched >= 20_000)),
        row(f"predictions, single messages: {t['singles']:,} {agent} requests from {t['single_tenants']} tenants, "
            f"as fast as the clients send ({shape})",
            f"{singles:,.0f} predictions/s", f"no-op task, one message each: {singles_noop:,.0f}/s",
            f"{singles / singles_noop:.2f}x", "spec 11C: 1,000+/s", verdict(singles >= 1_000)),
        row(f"single messages at {latency['offered']:,.0f}/s offered ({broker}, {asked}): latency p50 / p99, "
            "send to result stored",
            f"{latency['p50']:,.0f} / {latency['p99']:,.0f} ms", f"no-op: {latency_noop['p50']:,.0f} / {latency_noop['p99']:,.0f} ms",
            f"{latency['p99'] / latency_noop['p99']:.2f}x (p99)",
            *((("target at 50% of capacity: p50 <= 50 ms, p99 <= 200 ms", verdict(latency["p50"] <= 50 and latency["p99"] <= 200)))
              if t.get("load_share") == 0.5 else ("reported (no figure in the spec)", "-"))),
    ]


def intake_rows(figures: dict) -> list[list[str]]:
    in_process, workers = figures["in_process"], figures["workers"]
    scrubber = in_process["scrubber"]
    sizes = f"batches of {figures['batch']:,} events"
    # events per CPU-second (of the processes and their Postgres backends) move much less with the
    # machine's other work than the wall-clock rates
    measured = [
        (f"feedback intake in process, one core: admit + scrub (names too) + Postgres write, {sizes}, "
         f"median of {figures['rounds']}", in_process["intake"], f" ({in_process['events_per_cpu_second']:,.0f} per CPU-s)"),
        (f"feedback intake through real workers (ingest and privacy pools), {sizes}, one at a time, median",
         workers["one_at_a_time"], ""),
        (f"feedback intake through real workers, {workers['batches_in_flight']} {sizes} sent at once", workers["in_flight"],
         f" ({workers['events_per_cpu_second']:,.0f} per CPU-s)"),
    ]
    return [row(label, f"{rate:,.0f} events/s{cpu}", f"raw scrubber on the same values: {scrubber:,.0f} events/s",
                f"{rate / scrubber:.2f}x", "target >= 2,000 events/s (the spec sets none)", verdict(rate >= 2_000))
            for label, rate, cpu in measured]


def training_rows(figures: dict, date: str, kept_million: list[str] | None) -> list[list[str]]:
    """The training sizes and pool runs; ``kept_million`` stands for the 1M size when it was not run."""
    rows = []
    for size in figures["million"]:
        bare, full = size["bare"], size["train_run"]
        seconds, peak = full["seconds"], full["peak_mb"]
        label = (f"training, classification, {size['rows']:,} rows: end to end, from Postgres to a recorded version "
                 "(collect, scrub, split, fit, score, artifact, gate), and peak memory")
        if size["rows"] >= MILLION:
            label += f" (measured {date})"
            requirement, met = "target <= 3 min and <= 4 GB; spec 11C: 1M+ samples per agent", verdict(seconds <= 180 and peak <= 4096)
        elif size["rows"] <= 10_000:
            requirement, met = "target <= 10 s; spec 11A: <= 4 hours for 10k", verdict(seconds <= 10)
        else:
            requirement, met = "none between 10k and 1M", "-"
        rows.append(row(label, f"{seconds:,.1f} s (CPU {full['cpu_s']:,.1f} s), peak {peak:,.0f} MB",
                        f"bare fit in memory: {bare['fit_s']:,.1f} s (CPU {bare['cpu_s']:,.1f} s), peak {bare['peak_mb']:,.0f} MB",
                        f"{seconds / bare['fit_s']:.2f}x time, {peak / bare['peak_mb']:.2f}x memory", requirement, met))
    if kept_million and all(size["rows"] < MILLION for size in figures["million"]):
        rows.append(kept_million)
    for pool in figures["pool"]:
        alone, wall, jobs = statistics.median(pool["alone_s"]), pool["wall_s"], pool["jobs"]
        in_flight = sum(pool["in_worker_s"]) / wall
        at_once = "all at once" if pool["concurrency"] >= jobs else f"{pool['concurrency']} at a time"
        rows.append(row(
            f"{jobs} training jobs for {jobs} tenants ({pool['rows']:,} rows each) enqueued at once, "
            f"`modelops worker --pool training --concurrency {pool['concurrency']}`",
            f"all {pool['succeeded']} done, one version each, in {wall:,.1f} s; {in_flight:.1f} running on average; "
            f"peak {pool['peak_mb']:,.0f} MB",
            f"one job alone: {alone:,.1f} s ({jobs} back to back: {jobs * alone:,.0f} s)",
            f"{wall / alone:.1f}x one job", "spec 11C: 10 simultaneous jobs",
            f"yes, {at_once}" if pool["succeeded"] == jobs else "**no**"))
    return rows


def million_placeholder(docs_text: str) -> list[str]:
    """The 1M row last written in the docs (with the date it was measured), or a row saying there is none."""
    for line in docs_text.splitlines():
        if line.startswith(MILLION_ROW):
            return [cell.strip() for cell in line.strip().strip("|").split("|")]
    return row("training, classification, 1,000,000 rows: not run (`--skip-million`) and none in the docs",
               "see Training below (the last recorded run)", "", "", "target <= 3 min and <= 4 GB; spec 11C: 1M+ samples", "-")


def metrics_rows(figures: dict) -> list[list[str]]:
    idle, load = figures["idle"]["from_answer"], figures["load"]["from_answer"]
    p50, p99, idle_p50, idle_p99 = (percentile(load, 0.5), percentile(load, 0.99),
                                    percentile(idle, 0.5), percentile(idle, 0.99))
    return [row(f"metric delay at load ({figures['load_predictions_per_s']:,.0f} predictions/s served, "
                f"{figures['in_flight']} batches of 1,000 in flight): answer -> counted in ai.model_metrics, "
                f"p50 / p99 of {figures['probes']} probes",
                f"{p50:.2f} / {p99:.2f} s", f"no load (the 1 s fold interval alone): {idle_p50:.2f} / {idle_p99:.2f} s",
                f"{p99 / idle_p99:.2f}x (p99)", "target p99 <= 2 s; spec 11B: < 5 s", verdict(p99 <= 2.0))]


def rollback_rows(runs: list[dict]) -> list[list[str]]:
    to_serving = [run["breach_to_serving"] for run in runs]
    pickup = statistics.median(run["pickup"] for run in runs)
    median = statistics.median(to_serving)
    return [row(f"breach shown in ai.model_metrics -> previous version serving (rollback, alert and ticket in one "
                f"transaction), median (max) of {len(runs)} runs",
                f"{median:.2f} s (max {max(to_serving):.2f} s)", f"a hand-made move's pickup alone: {pickup:.2f} s",
                f"{median / pickup:.2f}x", "target <= 10 s; spec 11B: alert within 1 min of a breach",
                verdict(max(to_serving) <= 10.0))]


def scaling_rows(figures: dict) -> list[list[str]]:
    shapes = figures["shapes"]
    first = answered(shapes[0]["serving"])
    rows = []
    for shape in shapes:
        serving, noop = answered(shape["serving"]), answered(shape["noop"])
        sent = statistics.median(sent for _, sent in shape["serving"])
        rows.append([f"{shape['workers']} x {shape['processes']}", f"{noop:,.0f}/s", f"{serving:,.0f}/s",
                     f"{sent:,.0f}/s", f"{serving / noop:.2f}x", f"{serving / first:.2f}x"])
    return rows


def scaling_note(figures: dict) -> str:
    return (f"Serving single messages by worker processes, same run: {figures['singles']:,} {figures['agent']} requests "
            f"a round from {figures['tenants']} tenants, {figures['clients']} client processes, median of "
            f"{figures['rounds']} rounds. One worker with more pool processes, or more workers of one process each "
            "(as more hosts would run them), each beside the Celery no-op worker of the same shape; the serving "
            "pool's default is 1 worker x 2 processes. \"clients sent\" near \"serving\" means the clients set "
            "the pace. See Scaling below.")


SCALING_HEADER = ["workers x pool processes", "no-op, same shape", "serving", "clients sent", "serving / no-op",
                  "serving / first shape"]
HEADER = ["measure (sizes)", "result", "baseline (same run)", "ratio", "requirement", "met?"]


# -- the machine --------------------------------------------------------------------------------

def machine() -> dict[str, str]:
    import psycopg
    import redis

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as connection:
        postgres = connection.execute("SHOW server_version").fetchone()[0]
    redis_version = redis.Redis.from_url("redis://127.0.0.1:6379/0").info("server")["redis_version"]
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": f"{memory_kb / 2**20:.1f} GiB",
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "postgres": postgres.split()[0], "redis": redis_version}


def command_line(arguments: list[str]) -> str:
    """How this run was started: through make (which sets MAKELEVEL) or directly."""
    if os.environ.get("MAKELEVEL"):
        return "make bench" + (f" ARGS={shlex.quote(' '.join(arguments))}" if arguments else "")
    return shlex.join([".venv/bin/python", "bench/suite.py", *arguments])


# -- output -------------------------------------------------------------------------------------

def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, its columns padded so that it also reads as plain text."""
    widths = [max(len(cells[i]) for cells in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + " |"

    return [line(header), "|" + "|".join("-" * (width + 2) for width in widths) + "|", *map(line, rows)]


def section(context: dict, rows: list[list[str]], scaling: dict) -> str:
    m = context["machine"]
    lines = [
        f"{BEGIN} (written by bench/suite.py; `make bench` replaces everything up to bench:end) -->",
        "## Summary: the latest `make bench`",
        "",
        f"`{context['command']}`, started {context['started']}, {context['minutes']:.0f} minutes. Machine: {m['cpu']}, "
        f"{m['cores']} cores, {m['memory']}, {m['system']}; Python {m['python']}, PostgreSQL {m['postgres']}, "
        f"Redis {m['redis']}. Load average {context['load_start']:.1f} at the start and {context['load_end']:.1f} "
        "at the end (the machine is shared: read the ratios to the same-run baselines first).",
        "",
        "Requirements: \"spec\" is the specification's section 11 (A training, B monitoring, C scalability); "
        "\"target\" is the project's stricter figure for the same thing. \"met?\" answers the stricter of the two.",
        "",
        *table(HEADER, rows),
        "",
        scaling_note(scaling),
        "",
        *table(SCALING_HEADER, scaling_rows(scaling)),
        "",
        "Each figure's script and its own section below say how it is measured; the sections below also keep "
        "earlier, more detailed runs.",
        END,
    ]
    return "\n".join(lines)


def write_docs(path: Path, generated: str) -> None:
    text = path.read_text()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{path}: no {BEGIN} ... {END} markers to write between")
    path.write_text(text[:start] + generated + text[end + len(END):])


# -- main ---------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-million", action="store_true",
                        help="leave out training on 1,000,000 rows (about 7 minutes); the docs' last 1M row is kept")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the runner; the docs are left alone")
    parser.add_argument("--only", help="run only these benchmarks (comma-separated); the docs are left alone")
    parser.add_argument("--docs", type=Path, default=DOCS, help="the file with the bench:begin/end markers")
    parser.add_argument("--no-docs", action="store_true", help="print the table only")
    arguments = sys.argv[1:]
    args = parser.parse_args()
    chosen = benchmarks(args.quick, million=not args.skip_million)
    if args.only:
        unknown = set(args.only.split(",")) - {b.name for b in chosen}
        if unknown:
            parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; known: {', '.join(b.name for b in chosen)}")
        chosen = [b for b in chosen if b.name in args.only.split(",")]

    log_dir = PROJECT / ".modelops-bench" / "logs" / time.strftime("suite-%Y%m%d-%H%M%S")
    log_dir.mkdir(parents=True)
    context = {"command": command_line(arguments), "started": time.strftime("%Y-%m-%d %H:%M %Z"),
               "load_start": os.getloadavg()[0], "machine": machine()}
    print(f"{context['command']}: {len(chosen)} benchmarks, logs in {log_dir}")
    print("machine: " + ", ".join(f"{key} {value}" for key, value in context["machine"].items()))
    started = time.monotonic()
    figures = {benchmark.name: run(benchmark, log_dir) for benchmark in chosen}
    context.update(minutes=(time.monotonic() - started) / 60, load_end=os.getloadavg()[0])

    date = time.strftime("%Y-%m-%d")
    previous = args.docs.read_text() if args.docs.exists() else ""
    kept_million = million_placeholder(previous) if args.skip_million and not args.quick else None
    builders = {"serving": serving_rows, "intake": intake_rows, "training": lambda f: training_rows(f, date, kept_million),
                "metrics": metrics_rows, "rollback": rollback_rows}
    rows: list[list[str]] = []
    for name, build in builders.items():
        if name in figures:
            rows += build(figures[name]) if figures[name] else [row(f"{name}: FAILED, see its log", "", "", "", "", "**no**")]
    scaling = figures["scaling"]["scaling"] if figures.get("scaling") else None
    print(f"\n== {context['command']}: {context['minutes']:.0f} minutes, load average {context['load_start']:.1f} "
          f"-> {context['load_end']:.1f}\n")
    print("\n".join(table(HEADER, rows)))
    if scaling:
        print(f"\n{scaling_note(scaling)}\n" + "\n".join(table(SCALING_HEADER, scaling_rows(scaling))))
    failed = [name for name, value in figures.items() if value is None]
    if failed:
        print(f"\nFAILED: {', '.join(failed)}; the docs are left alone")
        return 1
    if args.quick or args.only or args.no_docs:
        print("\n(docs left alone: " + ("--quick" if args.quick else "--only" if args.only else "--no-docs") + ")")
        return 0
    write_docs(args.docs, section(context, rows, scaling))
    print(f"\nwritten to {args.docs.relative_to(PROJECT) if args.docs.is_relative_to(PROJECT) else args.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
