"""Worker pools: which queues each consumes, and how it runs.

A pool is only `celery worker -Q <its queues>`: a deployment scales a pool by starting the same
command on more hosts. Short, latency-sensitive queues prefetch a few messages; long ones one.

Each pool logs in to the database as the roles its work needs and is given their URLs alone, never
the owner's (``environment``): the pools that take messages other services can send (predict,
ingest, scrub) have only the front-facing role, which cannot become the operator; the pools that
work across tenants by design also have the system role.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Mapping

from modelops.config import APP_ROLE, SYSTEM_ROLE, runtime_environment


@dataclass(frozen=True)
class Pool:
    queues: tuple[str, ...]
    concurrency: int
    prefetch: int
    purpose: str
    database_roles: tuple[str, ...]


# Tenant scopes run as the front-facing role everywhere; cross-tenant work as the system role.
FRONT_FACING = (APP_ROLE,)
ACROSS_TENANTS = (APP_ROLE, SYSTEM_ROLE)

POOLS: dict[str, Pool] = {
    # Single predictions wait in the worker's buffer (celery-batches) until a batch of them leaves.
    # The predict queue is consumed without acknowledgement (celeryconfig), so no prefetch limit
    # applies to it; the multiplier matters only where this pool is given acknowledged queues.
    "serving": Pool(("predict",), concurrency=2, prefetch=1000, purpose="predictions for other services",
                    database_roles=FRONT_FACING),
    "ingest": Pool(("ingest",), concurrency=2, prefetch=4, purpose="feedback intake", database_roles=FRONT_FACING),
    "privacy": Pool(("scrub",), concurrency=2, prefetch=4, purpose="PII scrubbing", database_roles=FRONT_FACING),
    "training": Pool(("train",), concurrency=2, prefetch=1, purpose="model training", database_roles=ACROSS_TENANTS),
    "experiments": Pool(("evaluate",), concurrency=1, prefetch=1, purpose="A/B evaluation", database_roles=ACROSS_TENANTS),
    "monitoring": Pool(("metrics", "rollback"), concurrency=2, prefetch=1, purpose="metric folds and rollbacks",
                       database_roles=ACROSS_TENANTS),
    "maintenance": Pool(("maintenance", "celery"), concurrency=1, prefetch=1,
                        purpose="partitions and housekeeping; messages sent without a queue",
                        database_roles=ACROSS_TENANTS),
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
    spec = POOLS.get(pool, Pool(queues, concurrency=2, prefetch=1, purpose="everything", database_roles=ACROSS_TENANTS))
    return [
        sys.executable, "-m", "celery", "-A", "workers.app", "worker",
        "--queues", ",".join(queues),
        "--hostname", f"{pool}@%h",
        "--concurrency", str(concurrency or spec.concurrency),
        "--prefetch-multiplier", str(spec.prefetch),
        "--loglevel", loglevel,
        "--task-events",
    ]


def environment(pool: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a worker of ``pool`` runs with: ``env`` (by default this process's) with the
    URLs of the pool's database roles and without the owner's URL or any role's password."""
    queues_of(pool)  # refuses an unknown pool
    roles = POOLS[pool].database_roles if pool in POOLS else ACROSS_TENANTS
    return runtime_environment(os.environ if env is None else env, roles)


def beat_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Beat only sends messages on a schedule: no database URL at all."""
    return runtime_environment(os.environ if env is None else env, ())


def beat_command(schedule_file: str, loglevel: str = "INFO") -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "workers.app", "beat", "--schedule", schedule_file, "--loglevel", loglevel]
