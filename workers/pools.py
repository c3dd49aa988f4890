"""Worker pools: which queues each consumes, and how it runs.

A pool is only `celery worker -Q <its queues>`: a deployment scales a pool by starting the same
command on more hosts. Short, latency-sensitive queues prefetch a few messages; long ones one.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Pool:
    queues: tuple[str, ...]
    concurrency: int
    prefetch: int
    purpose: str


POOLS: dict[str, Pool] = {
    # Single predictions wait in the worker's buffer (celery-batches) until a batch of them leaves.
    # The predict queue is consumed without acknowledgement (celeryconfig), so no prefetch limit
    # applies to it; the multiplier matters only where this pool is given acknowledged queues.
    "serving": Pool(("predict",), concurrency=2, prefetch=1000, purpose="predictions for other services"),
    "ingest": Pool(("ingest",), concurrency=2, prefetch=4, purpose="feedback intake"),
    "privacy": Pool(("scrub",), concurrency=2, prefetch=4, purpose="PII scrubbing"),
    "training": Pool(("train",), concurrency=2, prefetch=1, purpose="model training"),
    "experiments": Pool(("evaluate",), concurrency=1, prefetch=1, purpose="A/B evaluation"),
    "monitoring": Pool(("metrics", "rollback"), concurrency=2, prefetch=1, purpose="metric folds and rollbacks"),
    "maintenance": Pool(("maintenance", "celery"), concurrency=1, prefetch=1,
                        purpose="partitions and housekeeping; messages sent without a queue"),
}

# A single process consuming everything: for a laptop, a small deployment, and the tests.
ALL = "all"


def queues_of(pool: str) -> tuple[str, ...]:
    if pool == ALL:
        return tuple(dict.fromkeys(queue for p in POOLS.values() for queue in p.queues))
    if pool not in POOLS:
        raise ValueError(f"unknown pool {pool!r}; known pools: {', '.join([*POOLS, ALL])}")
    return POOLS[pool].queues


def worker_command(pool: str, concurrency: int | None = None, loglevel: str = "INFO") -> list[str]:
    """The command line that starts one worker process of ``pool`` on this host."""
    queues = queues_of(pool)
    spec = POOLS.get(pool, Pool(queues, concurrency=2, prefetch=1, purpose="everything"))
    return [
        sys.executable, "-m", "celery", "-A", "workers.app", "worker",
        "--queues", ",".join(queues),
        "--hostname", f"{pool}@%h",
        "--concurrency", str(concurrency or spec.concurrency),
        "--prefetch-multiplier", str(spec.prefetch),
        "--loglevel", loglevel,
        "--task-events",
    ]


def beat_command(schedule_file: str, loglevel: str = "INFO") -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "workers.app", "beat", "--schedule", schedule_file, "--loglevel", loglevel]
