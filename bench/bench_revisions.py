"""Two revisions of the project, each running its own serving and intake benchmarks, in turns.

    python bench/bench_revisions.py BEFORE AFTER --servers-before POSTGRES_URL REDIS_URL
                                    --servers-after POSTGRES_URL REDIS_URL [--rounds 3] [--tenants 20]
                                    [--work DIR] [--json PATH]

What a change costs is measured by running the code before it and the code after it on the same
machine, in the same run, in turns (before, after, after, before, ...: a drift of the machine's load
over the run weighs on both alike), each with its own benchmark scripts, so that each measures its
own contract (the revision after a change of message format sends the new format).

Each revision needs servers of its own: roles are the Postgres cluster's, not a database's, and two
revisions whose migrations define them differently cannot share a cluster. Start two Postgres
clusters and two Redis servers (``initdb`` + ``pg_ctl -o "-p PORT"``, ``redis-server --port PORT``)
and name them here (the benchmarks make their databases on each).

Each revision is checked out as a git worktree under ``--work`` with a virtual environment of its
own (made once, reused by later runs). Per turn: ``bench_serving.py --steps throughput`` (batched and
single messages, latency at a fixed offered rate, one round each) and ``bench_intake.py --worker``
(batched feedback through real ingest and privacy workers). The table gives the median of each
figure over the turns and the ratio after / before.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

PROJECT = Path(__file__).resolve().parent.parent

# (label, benchmark, path into its --json figures, higher is better)
FIGURES = [
    ("serving: batched predictions/s", "serving", ("throughput", "serving", "classification", "batched"), True),
    ("serving: single messages/s", "serving", ("throughput", "serving", "classification", "singles"), True),
    ("serving: latency p50 ms at the offered rate", "serving", ("throughput", "serving", "classification", "latency", "p50"), False),
    ("serving: latency p99 ms at the offered rate", "serving", ("throughput", "serving", "classification", "latency", "p99"), False),
    ("intake: events/s, one batch at a time", "intake", ("workers", "one_at_a_time"), True),
    ("intake: events/s, batches in flight", "intake", ("workers", "in_flight"), True),
    ("intake in process: events/s", "intake", ("in_process", "intake"), True),
]


def checkout(revision: str, work: Path) -> Path:
    """A worktree of ``revision`` with its own environment, made once."""
    commit = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "--short", revision],
                            check=True, capture_output=True, text=True).stdout.strip()
    tree = work / commit
    if not tree.exists():
        subprocess.run(["git", "-C", str(PROJECT), "worktree", "add", "--detach", str(tree), commit], check=True)
    python = tree / ".venv" / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(tree / ".venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", f"{tree}[test]"], check=True)
    return tree


def turn(tree: Path, servers: tuple[str, str], args, label: str, scratch: Path) -> dict:
    """One run of each benchmark of the revision checked out at ``tree``."""
    postgres_url, redis_url = servers
    python = str(tree / ".venv" / "bin" / "python")
    figures = {}
    for bench, extra in (("serving", ["--steps", "throughput", "--agents", "classification", "--rounds", "1",
                                      "--tenants", str(args.tenants)]),
                         ("intake", ["--worker", "--rounds", "3"])):
        out = scratch / f"{label}-{bench}.json"
        # each benchmark in the database it uses by default, on the revision's own server
        database_url = make_url(postgres_url).set(drivername="postgresql+psycopg", database=f"modelops_bench_{bench}")
        command = [python, str(tree / "bench" / f"bench_{bench}.py"),
                   "--database-url", database_url.render_as_string(hide_password=False),
                   "--redis-url", redis_url, "--json", str(out), *extra]
        print(f"-- {label}: {' '.join(command[1:2])} {' '.join(extra)}", flush=True)
        subprocess.run(command, check=True, cwd=tree)
        figures[bench] = json.loads(out.read_text())
    return figures


def figure(figures: dict, bench: str, path: tuple[str, ...]) -> float:
    """One figure of one turn; a list of rounds gives its median, a round being a number or, for
    the serving benchmark's rates, (answered per second, sent per second)."""
    value = figures[bench]
    for key in path:
        value = value[key]
    if isinstance(value, list):
        return statistics.median(run[0] if isinstance(run, list) else run for run in value)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--servers-before", nargs=2, required=True, metavar=("POSTGRES_URL", "REDIS_URL"))
    parser.add_argument("--servers-after", nargs=2, required=True, metavar=("POSTGRES_URL", "REDIS_URL"))
    parser.add_argument("--rounds", type=int, default=3, help="turns of each revision")
    parser.add_argument("--tenants", type=int, default=20, help="tenants with models for the serving benchmark")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "modelops-revisions")
    parser.add_argument("--json", help="also write every turn's figures to this file")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    revisions = {"before": (checkout(args.before, args.work), tuple(args.servers_before)),
                 "after": (checkout(args.after, args.work), tuple(args.servers_after))}
    turns = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as scratch:
        for n in range(args.rounds):
            order = ["before", "after"] if n % 2 == 0 else ["after", "before"]
            for name in order:
                tree, servers = revisions[name]
                turns[name].append(turn(tree, servers, args, f"{name}{n}", Path(scratch)))
    if args.json:  # first, so that the turns are kept whatever the table makes of them
        Path(args.json).write_text(json.dumps(turns, indent=1))
    print(f"\n== {args.before} (before) against {args.after} (after): medians of {args.rounds} turns each")
    print(f"  {'figure':46s} {'before':>10s} {'after':>10s}  after/before")
    for label, bench, path, higher_is_better in FIGURES:
        before = statistics.median(figure(t, bench, path) for t in turns["before"])
        after = statistics.median(figure(t, bench, path) for t in turns["after"])
        direction = "" if higher_is_better else "  (lower is better)"
        print(f"  {label:46s} {before:10.1f} {after:10.1f}  {after / before:5.2f}{direction}")


if __name__ == "__main__":
    main()
