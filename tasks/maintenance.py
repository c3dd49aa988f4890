"""Housekeeping tasks: health probes through any queue, audit-log partitions, old check rows, stale
training claims, the archive of old training data."""
import os

from modelops import clock, db, health, retention
from modelops.archive import mover
from modelops.training import runs
from schemas.tasks import TaskName
from workers.app import app, task


@task(TaskName.MAINTENANCE_PING)
def ping(queue: str) -> dict:
    """Sent to each queue in turn by `modelops ping` and the main job's round trip."""
    return health.probe(queue)


@task(TaskName.MAINTENANCE_MAINTAIN_PARTITIONS)
def maintain_partitions() -> dict:
    today = clock.today()
    with db.operator_scope() as connection:
        made = retention.ensure_partitions(connection, today)
        dropped = retention.drop_expired_partitions(connection, today)
    return {"ensured": made, "dropped": dropped}


@task(TaskName.MAINTENANCE_PRUNE_CHECKS)
def prune_checks() -> dict:
    with db.operator_scope() as connection:
        return {"deleted": retention.prune_checks(connection, clock.now())}


@task(TaskName.MAINTENANCE_FREE_STALE_CLAIMS)
def free_stale_claims() -> dict:
    """Send the training runs whose worker died (or whose message was lost) to a worker again."""
    with db.operator_scope() as connection:
        resent = runs.free_stale(connection, clock.now())
    for run_id in resent:  # after the commit, so the job finds its run queued
        app.send_task(TaskName.TRAINING_TRAIN_MODEL, args=[str(run_id)])
    return {"resent": [str(run_id) for run_id in resent]}


@task(TaskName.MAINTENANCE_ARCHIVE_TRAINING_DATA, bind=True, outage_retries=5)
def archive_training_data(self) -> dict:
    """Move whole months of feedback past MODELOPS_ARCHIVE_AFTER_MONTHS to the archive, then delete
    archived files past MODELOPS_ARCHIVE_RETENTION_MONTHS. Safe to run again at any point: a run
    killed mid-way is delivered again and finishes what it started."""
    now = clock.now()
    moved = mover.archive_old_rows(now, worker=f"{self.request.hostname or 'inline'}/{os.getpid()}")
    return {**moved, "expired": mover.expire_archived(now)}
