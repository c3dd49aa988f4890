"""The archive task killed (SIGKILL) mid-way, up to three times: its message is delivered again,
the run finishes, and every row is in Postgres or the archive exactly once.

Two tenants have six months of feedback past the archive threshold. A maintenance pool of the
scenario's own archives them; each time a month's part is being written (its claim says
``writing``), the pool process holding it is killed. The worker hands the message back
(``reject_on_worker_lost``), another process runs the task again and writes the claimed part
from the start. At the end no claim is left ``writing``, no staging file is left, Postgres holds
only the recent rows, and the ids in Postgres and in the archive files are each tenant's original
ids, none twice.
"""
from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from sqlalchemy import text

from modelops import clock, db, tenants
from modelops.retention import add_months
from tests.faults.servers import private_redis, stack
from tests.faults.support import collect, send
from tests.integration.archive_support import archive_rows, backdate, ids_in_archive, ids_in_postgres
from tests.integration.training_support import pid_of, seed, synthetic_rows, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ARCHIVE = "modelops.maintenance.archive_training_data"
ROWS = 7_000  # per tenant: six old months and a recent one, 1,000 rows each
MONTHS = [18, 17, 16, 15, 14, 13, 0]
KILLS = 3


def writing_claim(tenants_: list[uuid.UUID], killed: set[int]):
    with db.operator_scope() as connection:
        rows = connection.execute(text("""SELECT id, claimed_by FROM ai.training_archive
            WHERE status = 'writing' AND tenant_id = ANY(:t)"""), {"t": tenants_}).all()
    return next((row for row in rows if pid_of(row.claimed_by) not in killed), None)


def status_of(claim_id) -> str | None:
    with db.operator_scope() as connection:
        return connection.execute(text("SELECT status FROM ai.training_archive WHERE id = :id"), {"id": claim_id}).scalar()


def work_left(made: list[uuid.UUID]) -> bool:
    """Whether some old row is still in Postgres or some part is still being written."""
    with db.operator_scope() as connection:
        return connection.execute(text("""SELECT EXISTS (SELECT FROM ai.training_archive
                WHERE status = 'writing' AND tenant_id = ANY(:t))
            OR EXISTS (SELECT FROM ai.training_data WHERE tenant_id = ANY(:t) AND created_at < :cutoff)"""),
                                  {"t": made, "cutoff": add_months(clock.today(), -12)}).scalar()


def test_the_archive_task_killed_mid_way_loses_and_duplicates_nothing(database, owner, tmp_path, monkeypatch, figures):
    archive = tmp_path / "archive"
    monkeypatch.setenv("MODELOPS_ARCHIVE_URL", str(archive))  # the workers' store, and where this test reads it
    made = []
    for tenant_seed in (61, 62):
        tenant = tenants.create_tenant(f"faults-archive-{uuid.uuid4().hex[:6]}")
        seed(tenant, "classification", synthetic_rows("classification", ROWS, tenant_seed=tenant_seed))
        backdate(owner, tenant, MONTHS)
        made.append(tenant)
    original = {tenant: sorted(ids_in_postgres(owner, tenant)) for tenant in made}
    killed, mid_way = set(), 0
    with private_redis() as broker, stack(tmp_path / "workers", broker.url(), MODELOPS_ARCHIVE_AFTER_MONTHS="12") as workers:
        workers.start("maintenance", concurrency=1)
        task_id = send(workers.client, ARCHIVE)
        started = time.monotonic()
        while len(killed) < KILLS:
            claim = wait_until(lambda: writing_claim(made, killed) or not work_left(made), timeout=180, interval=0.01,
                               what="a part being written")
            if claim is True:
                break  # every month archived before another kill
            pid = pid_of(claim.claimed_by)
            os.kill(pid, signal.SIGKILL)
            killed.add(pid)
            mid_way += status_of(claim.id) == "writing"
        (result,) = collect(workers.client, [task_id], timeout=300)
        recovered = round(time.monotonic() - started, 1)
    found = {tenant: (ids_in_postgres(owner, tenant), ids_in_archive(tenant)) for tenant in made}
    parts = [part for tenant in made for part in archive_rows(tenant, ("writing", "archived", "expired"))]
    every = [i for in_postgres, in_archive in found.values() for i in in_postgres + in_archive]
    figures.report(rows=sum(map(len, original.values())), kills=len(killed), killed_mid_way=mid_way,
                   in_postgres=sum(len(p) for p, _ in found.values()), in_archive=sum(len(a) for _, a in found.values()),
                   duplicates=len(every) - len(set(every)),
                   lost=len({i for ids in original.values() for i in ids} - set(every)), seconds=recovered)
    assert result and result["status"] == "SUCCESS", (result, figures.line())
    assert mid_way >= 1, figures.line()  # at least one kill caught a part being written
    for tenant in made:
        in_postgres, in_archive = found[tenant]
        assert sorted(in_postgres + in_archive) == original[tenant], figures.line()
        assert len(in_postgres) == ROWS // len(MONTHS), figures.line()  # the recent month only
    assert sorted(part["status"] for part in parts) == ["archived"] * 12, figures.line()
    assert not list(archive.rglob(".staging-*")), figures.line()
