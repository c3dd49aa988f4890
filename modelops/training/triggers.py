"""The scheduled retrain check: one query per agent across every tenant, a decision per tenant,
each decision recorded with its reason, and a queued run for each tenant that should train.

Only labelled rows count as new samples (a rating or an implicit signal teaches no model). The
last training is the newest of the tenant's versions, or a run that made none because the data
could not (too few usable rows, one class): such a tenant is tried again once min_samples more
rows arrived or max_age_days passed, not at every check.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import text

from modelops import db
from modelops.agents import check_agent
from modelops.registry import store
from modelops.registry.versions import scope_key
from modelops.training import runs
from modelops.training.schedule import Decision, decide

# Per tenant: when its last model for this agent was trained (its data cutoff), how many labelled
# rows arrived since, and whether a job is already in flight. The (tenant_id, agent_type,
# created_at) index answers each count.
SCOPE_STATE = text("""
    SELECT t.id AS tenant_id, last.trained AS last_trained_at,
           (SELECT count(*) FROM ai.training_data d
             WHERE d.tenant_id = t.id AND d.agent_type = CAST(:agent AS ai.agent_type)
               AND d.created_at > coalesce(last.trained, '-infinity') AND d.created_at <= :now
               AND d.expected_output IS NOT NULL) AS new_samples,
           EXISTS (SELECT 1 FROM ai.training_runs r
                    WHERE r.agent_type = :agent AND r.scope_key = 'tenant:' || t.id
                      AND r.status IN ('queued', 'running')) AS in_flight
    FROM ai.tenants t
    LEFT JOIN jsonb_to_recordset(CAST(:trained AS jsonb)) AS own(tenant_id uuid, trained_on timestamp) ON own.tenant_id = t.id
    LEFT JOIN LATERAL (
        SELECT greatest(
            own.trained_on,
            (SELECT max(claimed_at) FROM ai.training_runs r
              WHERE r.agent_type = :agent AND r.scope_key = 'tenant:' || t.id AND r.status = 'skipped')) AS trained
    ) AS last ON true
""")

RECORD_CHECK = text("""
    INSERT INTO ai.retrain_checks (agent_type, tenant_id, scope_key, checked_at, new_samples, last_trained_at,
                                   decision, reason, training_run_id)
    VALUES (:agent, :tenant, :scope, :now, :new, :last, :decision, :reason, :run)
""")

SCHEDULER = "scheduler"


def check(agent_type: str, now: dt.datetime) -> list[uuid.UUID]:
    """Decide for every tenant; returns the runs queued (to enqueue once this has committed)."""
    check_agent(agent_type)
    queued = []
    with db.operator_scope() as connection:
        # when each tenant's own newest model was trained, from the registry
        trained = [{"tenant_id": str(tenant), "trained_on": at.isoformat()}
                   for tenant, at in store.last_trained_per_tenant(connection, agent_type).items()]
        for state in connection.execute(SCOPE_STATE, {"agent": agent_type, "now": now, "trained": json.dumps(trained)}).mappings().all():
            scope = scope_key(state["tenant_id"])
            verdict = decide(agent_type, state["new_samples"], state["last_trained_at"], now, state["in_flight"])
            run_id = None
            if verdict.decision == "train":
                run_id = runs.create(
                    connection, agent_type=agent_type, tenant_id=state["tenant_id"], scope_key=scope,
                    trigger=verdict.trigger, reason=verdict.reason, requested_by=SCHEDULER,
                    run_key=f"{agent_type}:{scope}:{now.isoformat()}", now=now,
                )
                if run_id:
                    queued.append(run_id)
                else:  # a run was queued (by hand, or by a concurrent check) since the state was read
                    verdict = Decision("in_flight", None, "a training job for this scope was queued while this check ran")
            connection.execute(RECORD_CHECK, {
                "agent": agent_type, "tenant": state["tenant_id"], "scope": scope, "now": now,
                "new": state["new_samples"], "last": state["last_trained_at"],
                "decision": verdict.decision, "reason": verdict.reason, "run": run_id,
            })
    return queued
