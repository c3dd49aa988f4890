"""Alerts & Events: open alerts (critical first) and those resolved in the last week, with who
resolved them (the spec's alerts widget), and the latest production moves (first models,
promotions, rollbacks, manual moves) as the events beside them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from modelops.dashboard.filters import Query
from modelops.dashboard import read_model
from modelops.dashboard.panels import agent_is, records, tenant_is

RESOLVED_WINDOW = dt.timedelta(days=7)

OPEN_COUNTS = text(f"""
    SELECT severity, count(*) AS n FROM ai.alerts a
    WHERE a.status <> 'resolved' AND {agent_is('a.agent_type')} AND {tenant_is('a.tenant_id')}
    GROUP BY severity
""")


def read(connection: Connection, query: Query) -> dict:
    alerts = records(connection.execute(read_model.ALERTS, query.params(resolved_since=query.now - RESOLVED_WINDOW)))
    counts = {row.severity: row.n for row in connection.execute(OPEN_COUNTS, query.params())}
    return {
        "open": {severity: counts.get(severity, 0) for severity in ("critical", "warning", "info")},
        "alerts": alerts,
        "events": records(connection.execute(read_model.PRODUCTION_EVENTS, query.params())),
        # resolving is an operator's act; a tenant's user reads
        "can_resolve": query.is_operator,
    }
