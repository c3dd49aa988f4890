"""Data-quality figures of the intake, per agent and tenant: what arrived (by kind of feedback),
what was refused and why, and what the scrubber replaced. Read in whatever scope the caller
opened: a tenant scope sees its own figures, the operator scope everyone's."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Connection, text

PER_SOURCE = text("""
    SELECT tenant_id, agent_type::text AS agent_type, source, count(*) AS n,
           count(*) FILTER (WHERE expected_output IS NOT NULL) AS labelled
    FROM ai.training_data WHERE created_at >= :since
    GROUP BY 1, 2, 3
""")
SCRUB_HITS = text("""
    SELECT t.tenant_id, t.agent_type::text AS agent_type, h.key AS placeholder, sum(h.value::int) AS n
    FROM ai.training_data AS t CROSS JOIN LATERAL jsonb_each_text(t.scrub_hits) AS h
    WHERE t.created_at >= :since
    GROUP BY 1, 2, 3
""")
# the reason's first clause names the field or rule that failed, which is what an operator groups by
REJECTED = text("""
    SELECT tenant_id, split_part(reason, ':', 1) AS cause, count(*) AS n
    FROM ai.rejected_events WHERE created_at >= :since
    GROUP BY 1, 2
""")


def figures(connection: Connection, since: dt.datetime) -> dict:
    by_agent: dict = defaultdict(lambda: {"total": 0, "labelled": 0, "by_source": {}, "scrub_hits": {}})
    for row in connection.execute(PER_SOURCE, {"since": since}):
        entry = by_agent[(str(row.tenant_id), row.agent_type)]
        entry["total"] += row.n
        entry["labelled"] += row.labelled
        entry["by_source"][row.source] = row.n
    for row in connection.execute(SCRUB_HITS, {"since": since}):
        by_agent[(str(row.tenant_id), row.agent_type)]["scrub_hits"][row.placeholder] = int(row.n)
    rejected: dict = defaultdict(dict)
    for row in connection.execute(REJECTED, {"since": since}):
        rejected[str(row.tenant_id) if row.tenant_id else None][row.cause] = row.n
    return {
        "since": since.isoformat(),
        "agents": [{"tenant_id": tenant, "agent_type": agent, **entry} for (tenant, agent), entry in sorted(by_agent.items())],
        "rejected": [{"tenant_id": tenant, "by_cause": causes, "total": sum(causes.values())}
                     for tenant, causes in rejected.items()],
    }
