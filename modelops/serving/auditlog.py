"""Writing a batch's predictions to the audit log (``ai.prediction_log``) in one transaction.

Row-level security applies to the log, and Postgres refuses COPY into a table with row-level
security, so the rows go in as one multi-row INSERT (``unnest`` of column arrays) per tenant, each
after switching the transaction to that tenant: every row is checked against its tenant's policy,
and the batch still commits once. A reader of the result therefore always finds its row.

``input_data`` is stored as the agent validated it (declared fields only, in JSON types), not
scrubbed: it is the tenant's own record, readable by that tenant alone, and reproduction must feed
the model exactly what it saw. Scrubbing would replace names and card numbers the text features
read, and the reproduced answer could differ.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, text

from modelops import db, retention

CONFIDENCE_STEP = Decimal("0.01")  # the spec's DECIMAL(3,2)


@dataclass(frozen=True)
class LogRow:
    id: uuid.UUID
    model_version_id: uuid.UUID
    agent_type: str
    tenant_id: uuid.UUID
    input_data: dict[str, Any]
    predicted_output: dict[str, Any]
    confidence: float
    prediction_timestamp: dt.datetime
    duration_ms: float
    reproducibility_note: str | None
    ab_test_id: uuid.UUID | None
    ab_group: str | None
    request_key: str | None


def logged_confidence(confidence: float) -> Decimal:
    """The confidence as the log keeps it; reproduction rounds its own the same way to compare."""
    return Decimal(repr(confidence)).quantize(CONFIDENCE_STEP, rounding=ROUND_HALF_UP)


INSERT_ROWS = text("""
    INSERT INTO ai.prediction_log (
        id, model_version_id, agent_type, tenant_id, input_data, predicted_output, confidence_score,
        prediction_timestamp, prediction_duration_ms, is_reproducible, reproducibility_note,
        ab_test_id, ab_group, request_key)
    SELECT * FROM unnest(
        CAST(:id AS uuid[]), CAST(:model_version_id AS uuid[]), CAST(:agent_type AS text[]),
        CAST(:tenant_id AS uuid[]), CAST(:input_data AS jsonb[]), CAST(:predicted_output AS jsonb[]),
        CAST(:confidence_score AS numeric[]), CAST(:prediction_timestamp AS timestamp[]),
        CAST(:prediction_duration_ms AS numeric[]), CAST(:is_reproducible AS boolean[]),
        CAST(:reproducibility_note AS text[]), CAST(:ab_test_id AS uuid[]), CAST(:ab_group AS text[]),
        CAST(:request_key AS text[]))
""")

# Months this process has made sure have a partition; the maintenance task makes them ahead of
# time, this covers a clock that has run past them (a simulated week, a late maintenance run).
_months_with_partition: set[dt.date] = set()


def write(rows: list[LogRow]) -> None:
    """All rows in one transaction, each tenant's under its own row-level security check."""
    if not rows:
        return
    ordered = sorted(rows, key=lambda row: row.tenant_id)
    months = {row.prediction_timestamp.date().replace(day=1) for row in rows} - _months_with_partition
    with db.unscoped() as connection:
        for month in sorted(months):
            retention.ensure_partitions(connection, month, months_ahead=0)
        for tenant_id, tenant_rows in groupby(ordered, key=lambda row: row.tenant_id):
            _switch_tenant(connection, tenant_id)
            connection.execute(INSERT_ROWS, _columns(list(tenant_rows)))
    _months_with_partition.update(months)  # only once committed: a rolled-back partition is not there


def _switch_tenant(connection: Connection, tenant_id: uuid.UUID) -> None:
    # what db.tenant_scope does at the start of its transaction, repeated for each tenant of this one
    connection.execute(text("SELECT set_config('app.tenant_id', :tenant, true)"), {"tenant": str(tenant_id)})


def _columns(rows: list[LogRow]) -> dict[str, list]:
    return {
        "id": [row.id for row in rows],
        "model_version_id": [row.model_version_id for row in rows],
        "agent_type": [row.agent_type for row in rows],
        "tenant_id": [row.tenant_id for row in rows],
        "input_data": [json.dumps(row.input_data) for row in rows],
        "predicted_output": [json.dumps(row.predicted_output) for row in rows],
        "confidence_score": [logged_confidence(row.confidence) for row in rows],
        "prediction_timestamp": [row.prediction_timestamp for row in rows],
        "prediction_duration_ms": [round(row.duration_ms, 2) for row in rows],
        "is_reproducible": [row.reproducibility_note is None for row in rows],
        "reproducibility_note": [row.reproducibility_note for row in rows],
        "ab_test_id": [row.ab_test_id for row in rows],
        "ab_group": [row.ab_group for row in rows],
        "request_key": [row.request_key for row in rows],
    }
