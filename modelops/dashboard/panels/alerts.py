"""Alerts & Events: open alerts (critical first) and those resolved in the last week, with who
resolved them (the spec's alerts widget), and the latest production moves (first models,
promotions, rollbacks, manual moves) as the events beside them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from modelops.dashboard.filters import Query
from modelops.dashboard.panels import agent_is, records, tenant_is

RESOLVED_WINDOW = dt.timedelta(days=7)
LIMIT = 100

ALERTS = text(f"""
    SELECT a.id, a.alert_type, a.severity, a.status, a.audience, a.tenant_id, tn.name AS tenant_name,
           a.agent_type, v.version, a.message, a.occurrences, a.created_at AS timestamp, a.last_seen_at,
           a.resolved_at, a.resolved_by, a.resolution_note
    FROM ai.alerts a
    LEFT JOIN ai.tenants tn ON tn.id = a.tenant_id
    LEFT JOIN ai.model_versions v ON v.id = a.model_version_id
    WHERE (a.status <> 'resolved' OR a.resolved_at >= :resolved_since)
      AND {agent_is('a.agent_type')} AND {tenant_is('a.tenant_id')}
    ORDER BY a.status = 'resolved', CASE a.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
             a.last_seen_at DESC
    LIMIT {LIMIT}
""")
OPEN_COUNTS = text(f"""
    SELECT severity, count(*) AS n FROM ai.alerts a
    WHERE a.status <> 'resolved' AND {agent_is('a.agent_type')} AND {tenant_is('a.tenant_id')}
    GROUP BY severity
""")
EVENTS = text(f"""
    SELECT h.event, h.agent_type, h.tenant_id, tn.name AS tenant_name, h.scope_key, v.version, h.reason,
           h.actor, h.started_at AS timestamp
    FROM ai.production_history h
    JOIN ai.model_versions v ON v.id = h.model_version_id
    LEFT JOIN ai.tenants tn ON tn.id = h.tenant_id
    WHERE {agent_is('h.agent_type')} AND {tenant_is('h.tenant_id')}
    ORDER BY h.started_at DESC
    LIMIT 20
""")


def read(connection: Connection, query: Query) -> dict:
    alerts = records(connection.execute(ALERTS, query.params(resolved_since=query.now - RESOLVED_WINDOW)))
    counts = {row.severity: row.n for row in connection.execute(OPEN_COUNTS, query.params())}
    return {
        "open": {severity: counts.get(severity, 0) for severity in ("critical", "warning", "info")},
        "alerts": alerts,
        "events": records(connection.execute(EVENTS, query.params())),
        # resolving is an operator's act; a tenant's user reads
        "can_resolve": query.is_operator,
    }
