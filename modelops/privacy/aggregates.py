"""Opt-in aggregate learning: pooled training rows per country or region.

Only tenants that opted in contribute, only their (already scrubbed) rows, and the pooled rows
keep no tenant. An area needs at least ``min_tenants`` contributors, or its pool would be one
tenant's data under another name. Each build replaces the area's previous snapshot, so a tenant
that opts out is gone from the next one.
"""
from __future__ import annotations

import datetime as dt
import os

from sqlalchemy import Connection, text

from modelops import AGENT_TYPES, db

LEVELS = {"country": "country", "region": "region"}  # level -> the tenants column that names the area


def min_tenants() -> int:
    return int(os.environ.get("MODELOPS_AGGREGATE_MIN_TENANTS", 3))


def build(level: str, area: str, agent_type: str, now: dt.datetime, minimum: int | None = None) -> dict:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if agent_type not in AGENT_TYPES:
        raise ValueError(f"unknown agent type {agent_type!r}; known: {', '.join(AGENT_TYPES)}")
    minimum = min_tenants() if minimum is None else minimum
    with db.operator_scope() as connection:
        return _rebuild(connection, level, area, agent_type, now, minimum)


def _rebuild(connection: Connection, level: str, area: str, agent_type: str, now: dt.datetime, minimum: int) -> dict:
    column = LEVELS[level]
    contributors = connection.execute(
        text(f"SELECT id FROM ai.tenants WHERE aggregate_opt_in AND {column} = :area FOR SHARE"), {"area": area}
    ).scalars().all()
    connection.execute(
        text("DELETE FROM ai.aggregate_snapshots WHERE level = :level AND area = :area AND agent_type = CAST(:agent AS ai.agent_type)"),
        {"level": level, "area": area, "agent": agent_type},
    )
    summary = {"level": level, "area": area, "agent_type": agent_type, "tenants": len(contributors)}
    if len(contributors) < minimum:
        return summary | {"built": False, "rows": 0,
                          "reason": f"{len(contributors)} opted-in tenants, fewer than the {minimum} an aggregate needs"}
    snapshot = connection.execute(
        text("""INSERT INTO ai.aggregate_snapshots (level, area, agent_type, built_at, tenant_count, row_count)
                VALUES (:level, :area, CAST(:agent AS ai.agent_type), :now, :tenants, 0) RETURNING id"""),
        {"level": level, "area": area, "agent": agent_type, "now": now, "tenants": len(contributors)},
    ).scalar_one()
    rows = connection.execute(
        text("""INSERT INTO ai.aggregate_training_data (snapshot_id, agent_type, source, input_data, expected_output, was_correct)
                SELECT :snapshot, agent_type, source, input_data, expected_output, was_correct
                FROM ai.training_data
                WHERE tenant_id = ANY(:tenants) AND agent_type = CAST(:agent AS ai.agent_type)
                  AND expected_output IS NOT NULL"""),
        {"snapshot": snapshot, "tenants": list(contributors), "agent": agent_type},
    ).rowcount
    connection.execute(text("UPDATE ai.aggregate_snapshots SET row_count = :rows WHERE id = :id"), {"rows": rows, "id": snapshot})
    return summary | {"built": True, "rows": rows, "snapshot_id": str(snapshot)}


def build_all(now: dt.datetime) -> list[dict]:
    """Every area that has an opted-in tenant or an earlier snapshot, for every agent."""
    with db.operator_scope() as connection:
        areas = connection.execute(text("""
            SELECT 'country', country FROM ai.tenants WHERE aggregate_opt_in AND country IS NOT NULL
            UNION SELECT 'region', region FROM ai.tenants WHERE aggregate_opt_in AND region IS NOT NULL
            UNION SELECT level, area FROM ai.aggregate_snapshots
        """)).all()
    return [build(level, area, agent, now) for level, area in sorted(areas) for agent in AGENT_TYPES]
