"""ai.training_archive: the record of which months of which tenant's rows are archived, and where.

One row per file. ``writing``: claimed, its rows still in Postgres, its file (if any) not to be
read. ``archived``: its rows deleted from Postgres in the transaction that set the status. ``expired``:
past retention, its file being deleted. The operator writes; a tenant reads its own rows only.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from modelops.archive.files import Written


@dataclass(frozen=True)
class Part:
    id: uuid.UUID
    tenant_id: uuid.UUID
    agent_type: str
    month: dt.date
    part: int
    status: str
    path: str
    row_count: int | None
    rows_digest: str | None
    sha256: str | None
    signature: str | None
    first_created_at: dt.datetime | None


_COLUMNS = ("id, tenant_id, agent_type::text AS agent_type, month, part, status, path, row_count, rows_digest, sha256,"
            " signature, first_created_at")


def archived(connection: Connection, agent_type: str) -> list[Part]:
    """The archived parts the connection's scope may see (a tenant: its own), oldest month first."""
    rows = connection.execute(text(f"""SELECT {_COLUMNS} FROM ai.training_archive
        WHERE status = 'archived' AND agent_type = CAST(:agent AS ai.agent_type) ORDER BY month, part"""),
                              {"agent": agent_type}).mappings().all()
    return [Part(**row) for row in rows]


def claim(connection: Connection, tenant_id, agent_type: str, month: dt.date, path_of, worker: str,
          now: dt.datetime) -> Part:
    """The month's part being written: one left ``writing`` by an archiver that died (written again
    from the start), or a new one after the month's archived parts."""
    params = {"tenant": tenant_id, "agent": agent_type, "month": month}
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('ai.training_archive'), hashtext(:key))"),
                       {"key": f"{tenant_id}/{agent_type}/{month}"})
    left = connection.execute(text(f"""SELECT {_COLUMNS} FROM ai.training_archive WHERE tenant_id = :tenant
        AND agent_type = CAST(:agent AS ai.agent_type) AND month = :month AND status = 'writing'"""), params).mappings().first()
    if left is not None:
        connection.execute(text("UPDATE ai.training_archive SET claimed_by = :worker, claimed_at = :now WHERE id = :id"),
                           {"worker": worker, "now": now, "id": left["id"]})
        return Part(**left)
    part = connection.execute(text("""SELECT coalesce(max(part) + 1, 0) FROM ai.training_archive
        WHERE tenant_id = :tenant AND agent_type = CAST(:agent AS ai.agent_type) AND month = :month"""), params).scalar_one()
    row = connection.execute(text(f"""INSERT INTO ai.training_archive
        (tenant_id, agent_type, month, part, status, path, claimed_by, claimed_at)
        VALUES (:tenant, CAST(:agent AS ai.agent_type), :month, :part, 'writing', :path, :worker, :now)
        RETURNING {_COLUMNS}"""), {**params, "part": part, "path": path_of(part), "worker": worker, "now": now}).mappings().one()
    return Part(**row)


def still_claimed(connection: Connection, part: Part, worker: str) -> bool:
    """Lock the claim for the rest of the transaction; whether it is still this worker's and writing."""
    row = connection.execute(text("SELECT status, claimed_by FROM ai.training_archive WHERE id = :id FOR UPDATE"),
                             {"id": part.id}).first()
    return row is not None and row.status == "writing" and row.claimed_by == worker


def mark_archived(connection: Connection, part: Part, written: Written, signature: str, now: dt.datetime) -> None:
    connection.execute(text("""UPDATE ai.training_archive SET status = 'archived', row_count = :rows,
        rows_digest = :digest, sha256 = :sha256, signature = :signature, first_created_at = :first,
        last_created_at = :last, archived_at = :now WHERE id = :id"""),
                       {"rows": written.rows, "digest": written.rows_digest, "sha256": written.sha256,
                        "signature": signature, "first": written.first_created_at, "last": written.last_created_at,
                        "now": now, "id": part.id})


def forget(connection: Connection, part_id: uuid.UUID) -> None:
    connection.execute(text("DELETE FROM ai.training_archive WHERE id = :id"), {"id": part_id})


def expire_before(connection: Connection, month: dt.date) -> None:
    """Archived months older than ``month`` are past retention: no reader sees them from now on."""
    connection.execute(text("UPDATE ai.training_archive SET status = 'expired' WHERE status = 'archived' AND month < :month"),
                       {"month": month})


def expired(connection: Connection) -> list[Part]:
    rows = connection.execute(text(f"SELECT {_COLUMNS} FROM ai.training_archive WHERE status = 'expired'")).mappings().all()
    return [Part(**row) for row in rows]
