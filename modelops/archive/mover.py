"""Moving old months of feedback out of Postgres into the archive, and deleting expired files.

One tenant, agent and month at a time (``archive_month``):

1. **Claim** the month's part in ai.training_archive (status ``writing``), in a short transaction.
2. **Write** the month's rows, read in one snapshot a chunk at a time, to a staging file; then
   **publish** it under its final path (synced, then renamed: it appears whole or not at all).
3. **Verify** the published file, read back: its sha256, its row count and the digest of its ids.
4. **Delete and record** in one transaction: delete the month's rows from Postgres, check that
   exactly the file's rows were deleted (count and ids' digest; otherwise roll back), and mark the
   part ``archived`` with its sha256 and signature.

A reader sees a month in Postgres until step 4 commits and in the archive from then on: a process
killed at any point loses nothing and duplicates nothing. Killed before step 4 commits, the claim
stays ``writing`` and its file, if published, is read by no one; the next run writes that part
again from the start (or, when its rows have gone meanwhile, deletes the file and the claim).
The rows are already scrubbed (the intake stored them so), so nothing is scrubbed here.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import text

from modelops import db
from modelops.archive import files, manifest
from modelops.archive.store import open_store, part_path
from modelops.config import SYSTEM_ROLE, whole_number
from modelops.retention import add_months

DEFAULT_ARCHIVE_AFTER_MONTHS = 12
DEFAULT_ARCHIVE_RETENTION_MONTHS = 60
WRITE_ROWS = 50_000
# one archiver at a time; a second one (a beat entry fired twice, an operator's run) returns at once
ARCHIVER_LOCK = "hashtext('ai.archive_training_data')"


MONTH_ROWS = text(f"""SELECT {files.SELECTED} FROM ai.training_data
    WHERE tenant_id = :tenant AND agent_type = CAST(:agent AS ai.agent_type)
      AND created_at >= :month AND created_at < :until ORDER BY created_at, id""")
DELETE_MONTH = text("""DELETE FROM ai.training_data WHERE tenant_id = :tenant AND agent_type = CAST(:agent AS ai.agent_type)
      AND created_at >= :month AND created_at < :until RETURNING id::text""")


def archive_old_rows(now: dt.datetime, worker: str, months: int | None = None) -> dict:
    """Archive every whole month older than ``months`` (MODELOPS_ARCHIVE_AFTER_MONTHS, default 12)."""
    months = months or whole_number("MODELOPS_ARCHIVE_AFTER_MONTHS", DEFAULT_ARCHIVE_AFTER_MONTHS, "months")
    cutoff = add_months(now.date(), -months)
    with _alone() as alone:
        if not alone:
            return {"status": "skipped", "reason": "another archiver is running"}
        with db.operator_scope() as connection:
            # the months with rows to move, and any part left ``writing`` (its file is written again,
            # or deleted when its rows went meanwhile)
            groups = connection.execute(text("""SELECT tenant_id, agent_type::text AS agent_type,
                    date_trunc('month', created_at)::date AS month FROM ai.training_data WHERE created_at < :cutoff
                UNION SELECT tenant_id, agent_type::text, month FROM ai.training_archive WHERE status = 'writing'
                ORDER BY 3, 1, 2"""), {"cutoff": cutoff}).all()
        moved = [archive_month(group.tenant_id, group.agent_type, group.month, cutoff, worker, now) for group in groups]
    return {"status": "done", "before": cutoff.isoformat(), "parts": len([m for m in moved if m]),
            "rows": sum(m or 0 for m in moved)}


def archive_month(tenant_id, agent_type: str, month: dt.date, cutoff: dt.date, worker: str, now: dt.datetime) -> int:
    """Archive one tenant's rows of one agent and month (before ``cutoff``); how many moved."""
    store = open_store()
    bounds = {"tenant": tenant_id, "agent": agent_type, "month": month, "until": min(add_months(month, 1), cutoff)}
    with db.operator_scope() as connection:
        part = manifest.claim(connection, tenant_id, agent_type, month,
                              lambda number: part_path(tenant_id, agent_type, month, number), worker, now)
    with store.staged(part.path) as staged:
        with db.operator_scope() as connection:
            result = connection.execution_options(stream_results=True).execute(MONTH_ROWS, bounds)
            written = files.write(staged, (list(map(tuple, chunk)) for chunk in result.partitions(WRITE_ROWS)))
        if not written.rows:  # its rows went meanwhile (an earlier attempt archived them, or they were deleted)
            with db.operator_scope() as connection:
                if manifest.still_claimed(connection, part, worker):
                    manifest.forget(connection, part.id)
            store.delete(part.path)
            return 0
        store.publish(staged, part.path)
    with store.open(part.path) as handle:
        files.verify(handle, written)
    signature = files.signature(part.path, tenant_id, agent_type, written.rows, written.rows_digest, written.sha256)
    with db.operator_scope() as connection:
        if not manifest.still_claimed(connection, part, worker):
            raise files.ArchiveIntegrityError(f"{part.path}: the claim was taken over by another archiver")
        deleted = [row[0] for row in connection.execute(DELETE_MONTH, bounds)]
        if len(deleted) != written.rows or f"{files.id_digest(deleted):032x}" != written.rows_digest:
            # rows came or went since the file was written: roll back, the next run writes it again
            raise files.ArchiveIntegrityError(f"{part.path}: {len(deleted)} rows to delete, {written.rows} in the file")
        manifest.mark_archived(connection, part, written, signature, now)
    return written.rows


def expire_archived(now: dt.datetime, months: int | None = None) -> dict:
    """Delete archived files whose month is older than the retention period
    (MODELOPS_ARCHIVE_RETENTION_MONTHS, default 60): first from what readers see, then the file,
    then the record (a run killed between them deletes the file next time)."""
    months = months or whole_number("MODELOPS_ARCHIVE_RETENTION_MONTHS", DEFAULT_ARCHIVE_RETENTION_MONTHS, "months")
    before = add_months(now.date(), -months)
    store = open_store()
    with db.operator_scope() as connection:
        manifest.expire_before(connection, before)
        parts = manifest.expired(connection)
    for part in parts:
        store.delete(part.path)
        with db.operator_scope() as connection:
            manifest.forget(connection, part.id)
    return {"before": before.isoformat(), "deleted_files": len(parts)}


@contextmanager
def _alone() -> Iterator[bool]:
    with db.engine(db.role_url(SYSTEM_ROLE)).connect() as connection:
        held = connection.execute(text(f"SELECT pg_try_advisory_lock({ARCHIVER_LOCK})")).scalar_one()
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(text(f"SELECT pg_advisory_unlock({ARCHIVER_LOCK})"))
                connection.commit()
