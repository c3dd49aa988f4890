"""Performance Trends: accuracy, response time and confidence per agent and day, over the last
30 days of ai.model_metrics, summed across versions and tenants from the additive columns (so a
day's figure weighs every prediction alike)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from modelops.dashboard.filters import Query
from modelops.dashboard import read_model
from modelops.dashboard.panels import records

WINDOW_DAYS = 30

SERIES = ("accuracy", "response_time_ms", "confidence")


def read(connection: Connection, query: Query) -> dict:
    since = query.today - dt.timedelta(days=WINDOW_DAYS)
    rows = records(connection.execute(read_model.DAILY_TRENDS, query.params(since=since, today=query.today)))
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
