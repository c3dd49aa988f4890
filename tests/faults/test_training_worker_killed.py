"""A training worker killed (SIGKILL) mid-fit, five times: each job is delivered again and
finished, and each run leaves exactly one model version.

Five runs of one tenant are trained one after another by a training pool of the scenario's own
(its own broker, so the session's workers take none of its messages). Each is killed as soon as
its run says it is fitting. Three times the pool process that fits is killed: the worker hands the
message back to the queue (``reject_on_worker_lost``) and another process takes the run over.
Twice the whole worker is killed, as a host that vanishes, and nothing hands the message back: a
new worker starts, and the maintenance sweep (``modelops.maintenance.free_stale_claims``) finds
the run's lock free and sends it again.
"""
from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from modelops import tenants
from tests.faults.servers import private_redis, stack
from tests.faults.support import collect, send
from tests.integration.training_support import (
    TRAIN_MODEL, pid_of, queue_run, run_row, seed, synthetic_rows, versions_of, wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROWS = 8_000  # enough that a fit takes long enough to be caught in the act
KILLS = ("pool process", "whole worker", "pool process", "whole worker", "pool process")
SWEEP = "modelops.maintenance.free_stale_claims"


def test_a_training_worker_killed_mid_fit_five_times_finishes_every_job_once(database, tmp_path, figures):
    tenant = tenants.create_tenant(f"faults-killed-{uuid.uuid4().hex[:6]}")
    seed(tenant, "classification", synthetic_rows("classification", ROWS, tenant_seed=191))
    recoveries, finished, attempts = [], [], []
    with private_redis() as broker, stack(tmp_path / "workers", broker.url()) as workers:
        client = workers.client
        workers.start("maintenance")
        node = 0
        workers.start("training", name=f"training-{node}")
        for kill in KILLS:
            run_id = queue_run("classification", tenant, requested_by="faults")
            send(client, TRAIN_MODEL, args=[str(run_id)])
            fitting = wait_until(lambda: (row := run_row(run_id))["details"].get("phase") == "fitting" and row,
                                 timeout=180, interval=0.02, what=f"run {run_id} fitting")
            killed = time.monotonic()
            if kill == "pool process":
                os.kill(pid_of(fitting["claimed_by"]), signal.SIGKILL)
            else:
                workers.kill(f"training-{node}")
                node += 1
                workers.start("training", name=f"training-{node}")
                (swept,) = collect(client, [send(client, SWEEP)], timeout=60)
                assert str(run_id) in swept["result"]["resent"], swept
            wait_until(lambda: run_row(run_id)["claimed_by"] != fitting["claimed_by"], timeout=180,
                       interval=0.02, what=f"run {run_id} taken over")
            recoveries.append(round(time.monotonic() - killed, 2))
            done = wait_until(lambda: (row := run_row(run_id))["status"] not in ("queued", "running") and row,
                              timeout=300, what=f"run {run_id} finishing")
            finished.append(done)
            attempts.append(done["details"]["attempts"])

    versions = versions_of("classification", tenant)
    made = [str(run["model_version_id"]) for run in finished]
    figures.report(sent=len(KILLS), killed=len(KILLS), finished=sum(run["status"] == "succeeded" for run in finished),
                   versions=len(versions), duplicates=len(versions) - len(set(made)), lost=len(KILLS) - len(set(made)),
                   attempts=attempts, time_to_recover=recoveries)
    assert [run["status"] for run in finished] == ["succeeded"] * len(KILLS), figures.line()
    assert attempts == [2] * len(KILLS), figures.line()  # killed once, finished by the next claim
    assert sorted(str(version["id"]) for version in versions) == sorted(set(made)), figures.line()
    assert len(set(made)) == len(KILLS), figures.line()
