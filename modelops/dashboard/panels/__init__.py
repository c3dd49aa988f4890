"""One module per panel: each reads its figures in the caller's scope (the operator's, or a tenant's
under row-level security) and returns plain JSON values. No panel selects the input data of a
prediction or of a feedback row: what users typed stays in the tables."""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any, Callable

from sqlalchemy import Connection

from modelops.dashboard.filters import Query

# SQL conditions every panel filters by (NULL = every agent, every tenant).
AGENT_IS = "(CAST(:agent AS text) IS NULL OR {column} = CAST(:agent AS text))"
TENANT_IS = "(CAST(:tenant AS uuid) IS NULL OR {column} = CAST(:tenant AS uuid))"


def agent_is(column: str) -> str:
    return AGENT_IS.format(column=column)


def tenant_is(column: str) -> str:
    return TENANT_IS.format(column=column)


def plain(value: Any) -> Any:
    """A database value as JSON: numbers as floats, times as ISO text, ids as text."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value


def records(result) -> list[dict]:
    return [{key: plain(value) for key, value in row.items()} for row in result.mappings()]


def reader(name: str) -> Callable[[Connection, Query], dict]:
    """The read function of the panel called ``name``."""
    from modelops.dashboard.panels import alerts, models, training, trends, versions

    return {"models": models.read, "trends": trends.read, "alerts": alerts.read,
            "training": training.read, "versions": versions.read}[name]
