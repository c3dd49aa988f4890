"""Performance Trends: accuracy, response time and confidence per agent and day, over the last
30 days of ai.model_metrics, summed across versions and tenants from the additive columns (so a
day's figure weighs every prediction alike)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from modelops.dashboard.filters import Query
from modelops.dashboard.panels import agent_is, records, tenant_is

WINDOW_DAYS = 30

DAILY = text(f"""
    SELECT m.metric_date AS day, v.agent_type,
           sum(m.total_predictions) AS predictions,
           sum(m.correct_predictions)::float / nullif(sum(m.labelled_predictions), 0) AS accuracy,
           sum(m.response_time_sum_ms) / nullif(sum(m.total_predictions), 0) AS response_time_ms,
           sum(m.confidence_sum) / nullif(sum(m.total_predictions), 0) AS confidence
    FROM ai.model_metrics m JOIN ai.model_versions v ON v.id = m.model_version_id
    WHERE m.metric_date > :since AND m.metric_date <= :today
      AND {agent_is('v.agent_type')} AND {tenant_is('m.tenant_id')}
    GROUP BY 1, 2
    ORDER BY 2, 1
""")
SERIES = ("accuracy", "response_time_ms", "confidence")


def read(connection: Connection, query: Query) -> dict:
    since = query.today - dt.timedelta(days=WINDOW_DAYS)
    rows = records(connection.execute(DAILY, query.params(since=since, today=query.today)))
    charts = {name: {} for name in SERIES}
    for row in rows:
        for name in SERIES:
            if row[name] is not None:
                charts[name].setdefault(row["agent_type"], []).append([row["day"], row[name]])
    return {
        "from": (since + dt.timedelta(days=1)).isoformat(), "to": query.today.isoformat(),
        "predictions": sum(row["predictions"] for row in rows),
        "charts": {name: [{"name": agent, "points": points} for agent, points in sorted(series.items())]
                   for name, series in charts.items()},
    }
