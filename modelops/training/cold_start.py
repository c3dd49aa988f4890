"""Runs for the shared models that serve tenants without a model of their own (cold start): one
global model per agent, trained on synthetic data, and one per region for the tenants that opted
in to aggregate learning, trained on the region's pooled rows (see ``registry.resolution``)."""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text

from modelops import AGENT_TYPES, db
from modelops.registry.versions import scope_key
from modelops.training import runs
from modelops.training.sources import AGGREGATE_LEVEL

REQUESTER = "cold-start"


def request_global(agent_type: str, now: dt.datetime, request_key: str) -> uuid.UUID:
    return _request(agent_type, None, now, request_key)


def request_regional(agent_type: str, region: str, now: dt.datetime, request_key: str) -> uuid.UUID:
    if not isinstance(region, str) or not region.strip():
        raise ValueError(f"region must be a region's name, such as EU, got {region!r}")
    return _request(agent_type, region.strip(), now, request_key)


def _request(agent_type: str, region: str | None, now: dt.datetime, request_key: str) -> uuid.UUID:
    """The run for this request: a new one, the one a redelivery of the request made, or the one
    already in flight for the scope (at most one per agent and scope)."""
    scope = scope_key(None, region)
    run_key = f"{agent_type}:{scope}:{request_key}"
    with db.operator_scope() as connection:
        created = runs.create(connection, agent_type=agent_type, tenant_id=None, scope_key=scope, trigger="cold_start",
                              reason="shared model for tenants without their own", requested_by=REQUESTER,
                              run_key=run_key, now=now)
        return created or runs.by_key(connection, run_key) or runs.in_flight(connection, agent_type, scope)


def shared_scopes() -> list[tuple[str, str | None]]:
    """(agent_type, region or None for global) for every shared model there is data for."""
    with db.operator_scope() as connection:
        regional = connection.execute(
            text("SELECT agent_type::text, area FROM ai.aggregate_snapshots WHERE level = :level ORDER BY agent_type, area"),
            {"level": AGGREGATE_LEVEL},
        ).all()
    return [(agent_type, None) for agent_type in AGENT_TYPES] + [(agent_type, area) for agent_type, area in regional]
