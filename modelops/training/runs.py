"""Training runs: the durable record of a training job, from queued to finished.

A run is created (queued) in the transaction that decides to train, and the job is enqueued only
after that commits. A partial unique index keeps at most one run in flight per agent and scope.

Who trains a run is decided by a Postgres advisory lock, not by its status: the worker holds the
run's lock on a connection of its own (no transaction open) for as long as it trains, and claims
the run only while holding it. A worker that dies loses its connection and with it the lock, so a
run that says ``running`` while its lock is free was left by a dead worker: the redelivered job
(or the maintenance sweep's requeue) takes it over, and a second live worker never can. The
server is told to probe the lock connection's peer (TCP keepalives), so a host that vanishes
without closing its sockets releases its runs within about two minutes.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from modelops import db
from modelops.agents import check_agent

# The advisory-lock namespace (first key) of training runs; the second key is a hash of the run id.
RUN_LOCK_NAMESPACE = 0x74726E  # "trn"
# How long a job waits for a run's lock: long enough for Postgres to notice that the process that
# held it died (its socket closes at once, the server sees it within milliseconds), short enough
# that a duplicate of a run that a live worker is training returns soon.
LOCK_WAIT = "5s"
# A run claimed this many times without finishing is given up (a job that kills its worker, say by
# running out of memory, would otherwise be redelivered forever); transient database errors that
# the task retries count too, hence a few more than the deaths one would tolerate.
MAX_ATTEMPTS = 5
# A queued run nobody picked up in this long lost its message (the broker keeps nothing on disk).
QUEUED_GRACE = dt.timedelta(hours=1)

LOCK_KEY = "hashtext(CAST(:id AS text))"
LOCK_NOT_AVAILABLE = "55P03"


def create(connection: Connection, *, agent_type: str, tenant_id, scope_key: str, trigger: str, reason: str,
           requested_by: str, run_key: str, now: dt.datetime) -> uuid.UUID | None:
    """A queued run, or None when one is already in flight for the scope (or the key was used)."""
    check_agent(agent_type)
    return connection.execute(
        text("""INSERT INTO ai.training_runs (agent_type, tenant_id, scope_key, run_key, status, trigger, trigger_reason,
                                              requested_by, created_at)
                VALUES (:agent, :tenant, :scope, :key, 'queued', :trigger, :reason, :by, :now)
                ON CONFLICT DO NOTHING RETURNING id"""),
        {"agent": agent_type, "tenant": tenant_id, "scope": scope_key, "key": run_key, "trigger": trigger,
         "reason": reason, "by": requested_by, "now": now},
    ).scalar()


def by_key(connection: Connection, run_key: str) -> uuid.UUID | None:
    return connection.execute(text("SELECT id FROM ai.training_runs WHERE run_key = :key"), {"key": run_key}).scalar()


def in_flight(connection: Connection, agent_type: str, scope_key: str) -> uuid.UUID | None:
    """The run queued or running for the agent and scope, if any."""
    return connection.execute(
        text("SELECT id FROM ai.training_runs WHERE agent_type = :agent AND scope_key = :scope AND status IN ('queued', 'running')"),
        {"agent": agent_type, "scope": scope_key},
    ).scalar()


@contextmanager
def exclusive(run_id) -> Iterator[bool]:
    """Hold the run's lock on a connection of its own while the block runs; yields False when a
    live worker holds it (after waiting ``LOCK_WAIT`` for a dead one's to be released)."""
    key = {"id": str(uuid.UUID(str(run_id)))}  # the canonical text, as ``id::text`` prints it
    with db.engine().connect() as connection:
        try:
            with connection.begin():
                connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
                connection.execute(text(f"SELECT pg_advisory_lock({RUN_LOCK_NAMESPACE}, {LOCK_KEY})"), key)
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            held = False
        else:
            held = True
        if not held:
            yield False
            return
        try:
            # session settings, on purpose: they must outlast the transaction that took the lock
            connection.execute(text("SELECT set_config('tcp_keepalives_idle', '60', false),"
                                    " set_config('tcp_keepalives_interval', '10', false),"
                                    " set_config('tcp_keepalives_count', '6', false)"))
            connection.commit()
            yield True
        finally:
            _unlock(connection, key)


def _unlock(connection: Connection, key: dict) -> None:
    try:
        connection.execute(text(f"SELECT pg_advisory_unlock({RUN_LOCK_NAMESPACE}, {LOCK_KEY})"), key)
        connection.commit()
    except OperationalError:
        pass  # the connection is gone, and the lock went with it


def claim(connection: Connection, run_id, worker: str, now: dt.datetime) -> dict | None:
    """Take the run for ``worker``; call only inside ``exclusive(run_id)``. A ``running`` run is
    taken over (its previous worker died: it would hold the lock otherwise). None when finished."""
    row = connection.execute(
        text("""UPDATE ai.training_runs
                SET status = 'running', claimed_by = :worker, claimed_at = :now, heartbeat_at = :now,
                    details = details || jsonb_build_object(
                        'attempts', coalesce((details ->> 'attempts')::int, 0) + 1, 'phase', 'claimed',
                        'previous_worker', claimed_by)
                WHERE id = :id AND status IN ('queued', 'running')
                RETURNING id, agent_type, tenant_id, scope_key, trigger, requested_by, details"""),
        {"id": run_id, "worker": worker, "now": now},
    ).mappings().first()
    return dict(row) if row else None


def note_phase(connection: Connection, run_id, worker: str, phase: str, now: dt.datetime) -> None:
    """Where the job is (collected, fitting, recording): a heartbeat an operator can read."""
    connection.execute(
        text("""UPDATE ai.training_runs SET heartbeat_at = :now, details = details || jsonb_build_object('phase', CAST(:phase AS text))
                WHERE id = :id AND claimed_by = :worker"""),
        {"id": run_id, "worker": worker, "phase": phase, "now": now},
    )


def finish(connection: Connection, run_id, *, status: str, now: dt.datetime, model_version_id=None,
           details: dict | None = None, error: str | None = None, worker: str | None = None) -> None:
    """Record the outcome; with ``worker``, only if the run is still that worker's claim."""
    connection.execute(
        text("""UPDATE ai.training_runs
                SET status = :status, finished_at = :now, model_version_id = :version,
                    details = details || CAST(:details AS jsonb) || '{"phase": "finished"}', error = :error
                WHERE id = :id AND (CAST(:worker AS text) IS NULL OR (claimed_by = :worker AND status = 'running'))"""),
        {"id": run_id, "status": status, "now": now, "version": model_version_id,
         "details": json.dumps(details or {}), "error": error, "worker": worker},
    )


def get(connection: Connection, run_id) -> dict | None:
    row = connection.execute(text("SELECT * FROM ai.training_runs WHERE id = :id"), {"id": run_id}).mappings().first()
    return dict(row) if row else None


# The running runs are listed first (a materialised CTE), so that locks are tried on them only.
FREE_DEAD_CLAIMS = text(f"""
    WITH running AS MATERIALIZED (SELECT id FROM ai.training_runs WHERE status = 'running'),
         orphaned AS (SELECT id FROM running WHERE pg_try_advisory_xact_lock({RUN_LOCK_NAMESPACE}, hashtext(id::text)))
    UPDATE ai.training_runs AS r
    SET status = 'queued', claimed_by = NULL, heartbeat_at = :now,
        details = r.details || jsonb_build_object('freed_claim', jsonb_build_object('worker', r.claimed_by, 'at', CAST(:now AS text)))
    FROM orphaned WHERE r.id = orphaned.id AND r.status = 'running'
    RETURNING r.id
""")

RESEND_LOST_QUEUED = text("""
    UPDATE ai.training_runs SET heartbeat_at = :now
    WHERE status = 'queued' AND coalesce(heartbeat_at, created_at) < :before
    RETURNING id
""")


def free_stale(connection: Connection, now: dt.datetime) -> list[uuid.UUID]:
    """Runs to send to a training worker again: those whose worker died mid-way (running, lock
    free; taking the lock here for the transaction proves nobody holds it) and those queued so long
    that their message must be lost. A duplicate of a message still on its way is harmless: the
    job finds its run taken or finished."""
    freed = connection.execute(FREE_DEAD_CLAIMS, {"now": now}).scalars().all()
    lost = connection.execute(RESEND_LOST_QUEUED, {"now": now, "before": now - QUEUED_GRACE}).scalars().all()
    return [*freed, *lost]
