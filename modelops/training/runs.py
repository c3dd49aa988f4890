"""Training runs: the durable record of a training job, from queued to finished.

A run is created (queued) in the transaction that decides to train, and the job is enqueued only
after that commits. The worker claims it in one short transaction, trains outside any
transaction, and records the outcome in another. A partial unique index keeps at most one run
in flight per agent and scope; a redelivered job finds its run and carries on.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import Connection, text


def create(connection: Connection, *, agent_type: str, tenant_id, scope_key: str, trigger: str, reason: str,
           requested_by: str, run_key: str, now: dt.datetime) -> uuid.UUID | None:
    """A queued run, or None when one is already in flight for the scope (or the key was used)."""
    return connection.execute(
        text("""INSERT INTO ai.training_runs (agent_type, tenant_id, scope_key, run_key, status, trigger, trigger_reason,
                                              requested_by, created_at)
                VALUES (:agent, :tenant, :scope, :key, 'queued', :trigger, :reason, :by, :now)
                ON CONFLICT DO NOTHING RETURNING id"""),
        {"agent": agent_type, "tenant": tenant_id, "scope": scope_key, "key": run_key, "trigger": trigger,
         "reason": reason, "by": requested_by, "now": now},
    ).scalar()


def claim(connection: Connection, run_id, worker: str, now: dt.datetime) -> dict | None:
    """Take the run for this worker; a redelivered job re-claims its own running run. None when finished."""
    row = connection.execute(
        text("""UPDATE ai.training_runs SET status = 'running', claimed_by = :worker, claimed_at = :now, heartbeat_at = :now
                WHERE id = :id AND status IN ('queued', 'running')
                RETURNING id, agent_type, tenant_id, scope_key, trigger, requested_by, details"""),
        {"id": run_id, "worker": worker, "now": now},
    ).mappings().first()
    return dict(row) if row else None


def finish(connection: Connection, run_id, *, status: str, now: dt.datetime, model_version_id=None,
           details: dict | None = None, error: str | None = None) -> None:
    connection.execute(
        text("""UPDATE ai.training_runs
                SET status = :status, finished_at = :now, model_version_id = :version,
                    details = details || CAST(:details AS jsonb), error = :error
                WHERE id = :id"""),
        {"id": run_id, "status": status, "now": now, "version": model_version_id,
         "details": json.dumps(details or {}), "error": error},
    )


def get(connection: Connection, run_id) -> dict | None:
    row = connection.execute(text("SELECT * FROM ai.training_runs WHERE id = :id"), {"id": run_id}).mappings().first()
    return dict(row) if row else None
