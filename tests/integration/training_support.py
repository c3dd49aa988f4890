"""What the training integration tests share: feedback stored through the intake, training runs
queued as the command line queues them and trained by a real worker, the rows they leave, and
workers of a test's own (a simulated clock, or a worker the test kills)."""
from __future__ import annotations

import os
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import text

import celeryconfig
from modelops import clock, db, intake
from modelops.agents.synthetic import generate
from modelops.registry import store
from modelops.registry.versions import scope_key
from modelops.supervisor import ProcessGroup
from modelops.training import runs
from workers import pools
from workers.app import app
from workers.roundtrip import round_trip

TRAIN_MODEL = "modelops.training.train_model"
CHECK_TRIGGERS = "modelops.training.check_triggers"


def synthetic_rows(agent_type: str, n: int, tenant_seed: int, seed: int = 0) -> list[tuple[dict, dict]]:
    return generate(agent_type, n, seed=seed, tenant_seed=tenant_seed)


def events(tenant: uuid.UUID, agent_type: str, rows: list[tuple[dict, dict]]) -> list[dict]:
    """Feedback events in which a user classified each input by hand (the label is expected_output)."""
    return [{"tenant_id": str(tenant), "agent_type": agent_type, "source": "manual_match", "input_data": input_data,
             "expected_output": expected, "actual_output": expected, "idempotency_key": f"test-{uuid.uuid4()}"}
            for input_data, expected in rows]


def seed(tenant: uuid.UUID, agent_type: str, rows: list[tuple[dict, dict]]) -> int:
    """Store rows the way the intake stores accepted feedback: scrubbed, then written as the tenant."""
    return intake.scrub_and_store(events(tenant, agent_type, rows))["stored"]


def queue_run(agent_type: str, tenant: uuid.UUID, requested_by: str = "operator") -> uuid.UUID:
    """A queued manual run, made as `modelops train` makes it (in the tenant's scope), not yet sent."""
    with db.tenant_scope(tenant) as connection:
        run_id = runs.create(connection, agent_type=agent_type, tenant_id=tenant, scope_key=scope_key(tenant),
                             trigger="manual", reason="test", requested_by=requested_by,
                             run_key=f"test:{uuid.uuid4()}", now=clock.now())
    assert run_id is not None, f"a {agent_type} run is already in flight for {tenant}"
    return run_id


def train(agent_type: str, tenant: uuid.UUID, timeout: float = 300) -> dict:
    """Queue a run and have a worker train it; the task's result."""
    return app.send_task(TRAIN_MODEL, args=[str(queue_run(agent_type, tenant))]).get(timeout=timeout)


def run_row(run_id) -> dict:
    with db.operator_scope() as connection:
        return runs.get(connection, run_id)


def versions_of(agent_type: str, tenant: uuid.UUID | None, region: str | None = None) -> list[dict]:
    """Every version of the agent and scope, oldest first, as the operator sees them."""
    with db.operator_scope() as connection:
        rows = connection.execute(
            text("""SELECT * FROM ai.model_versions WHERE agent_type = :agent AND scope_key = :scope
                    ORDER BY CAST(string_to_array(substr(version, 2), '.') AS int[])"""),
            {"agent": agent_type, "scope": scope_key(tenant, region)},
        ).mappings().all()
    return [dict(row) for row in rows]


def registered(version_id: uuid.UUID) -> store.ModelVersion:
    """The version as the registry reads it (what loading and serving are given)."""
    with db.operator_scope() as connection:
        return store.get(connection, version_id)


def wait_until(condition: Callable[[], object], timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} did not hold within {timeout}s")


def other_workers() -> list[str]:
    return [name for reply in app.control.ping(timeout=1.0) for name in reply]


@contextmanager
def workers_paused(names: list[str]) -> Iterator[None]:
    """Other workers (the session's shared one) stop consuming while a test's own worker runs, so
    that every task the test sends reaches the worker with the environment the test chose."""
    for queue in celeryconfig.QUEUES:
        if names:
            app.control.cancel_consumer(queue, destination=names, reply=True)
    try:
        yield
    finally:
        for queue in celeryconfig.QUEUES:
            if names:
                app.control.add_consumer(queue, destination=names, reply=True)


def start_worker(group: ProcessGroup, name: str, concurrency: int = 2) -> int:
    """A worker process of every queue, named ``name@host``; returns its pid once it answers."""
    argv = pools.worker_command(pools.ALL, concurrency=concurrency, loglevel="WARNING")
    argv[argv.index("--hostname") + 1] = f"{name}@%h"
    process = group.start(name, argv)
    round_trip(timeout=90)
    return process.pid


def worker_group(log_dir: Path, **env: str) -> ProcessGroup:
    return ProcessGroup(log_dir, {**os.environ, **env})


def pid_of(claim: str) -> int:
    """The pool process of a run's claim ("node@host/pid")."""
    return int(claim.rsplit("/", 1)[1])
