"""Writing a batch's predictions to the audit log (``ai.prediction_log``) in one transaction.

Row-level security applies to the log, and Postgres refuses COPY into a table with row-level
security. So the rows go first by binary COPY into a temporary table of this connection (no
policy, index or foreign key there; the fastest way into Postgres, with no text to format or
parse), then into the log by one ``INSERT ... SELECT`` per tenant, each after switching the
transaction to that tenant: every row is checked against its tenant's policy, and the batch still
commits once. A reader of the result therefore always finds its row. Those statements run inside
Postgres, in one call of ``ai.log_staged_predictions()`` (migration 0014), as this connection's
role: sent one by one, they cost the client about 100 µs per tenant, and a batch of single
requests holds many tenants. Against the rows sent as one JSON document (``jsonb_to_recordset``),
the COPY costs a quarter less CPU on each side for 1,000 rows: 13 -> 11 ms in this process,
20 -> 15 ms in the Postgres backend (docs/benchmarks.md, Serving).

``input_data`` is stored as the agent validated it (declared fields only, in JSON types), not
scrubbed: it is the tenant's own record, readable by that tenant alone, and reproduction must feed
the model exactly what it saw. Scrubbing would replace names and card numbers the text features
read, and the reproduced answer could differ.
"""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from psycopg.types.json import Jsonb

from modelops import db, jsontext, retention

CONFIDENCE_STEP = Decimal("0.01")  # the spec's DECIMAL(3,2)


class LogRow(NamedTuple):  # a tuple: a batch makes one per request, and a dataclass costs four times as much
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


COLUMNS = ("id", "model_version_id", "agent_type", "tenant_id", "input_data", "predicted_output",
           "confidence_score", "prediction_timestamp", "prediction_duration_ms", "reproducibility_note",
           "ab_test_id", "ab_group", "request_key")
TYPES = ("uuid", "uuid", "text", "uuid", "jsonb", "jsonb", "numeric", "timestamp", "float8", "text", "uuid", "text", "text")
# Temporary: private to the database connection, kept for its life, emptied at each commit (its
# rows are gone with a rollback too). Made if missing in every transaction rather than once per
# pooled connection: behind a transaction pooler (PgBouncer) a transaction may land on any server
# connection. When it exists this is a catalog look-up and a notice, which nobody reads.
CREATE_STAGING = ("CREATE TEMPORARY TABLE IF NOT EXISTS prediction_log_staging ("
                  + ", ".join(f"{column} {kind}" for column, kind in zip(COLUMNS, TYPES)) + ") ON COMMIT DELETE ROWS")
COPY_STAGING = f"COPY pg_temp.prediction_log_staging ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
# switches the transaction to each tenant of the staged rows in turn and inserts that tenant's rows
LOG_STAGED = "SELECT ai.log_staged_predictions()"

# Months this process has made sure have a partition; the maintenance task makes them ahead of
# time, this covers a clock that has run past them (a simulated week, a late maintenance run).
_months_with_partition: set[dt.date] = set()


def write(rows: list[LogRow]) -> None:
    """All rows in one transaction, each tenant's under its own row-level security check."""
    if not rows:
        return
    months = {row.prediction_timestamp.date().replace(day=1) for row in rows} - _months_with_partition
    with db.unscoped() as connection:
        for month in sorted(months):
            retention.ensure_partitions(connection, month, months_ahead=0)
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor:
            cursor.execute(CREATE_STAGING)
            with cursor.copy(COPY_STAGING) as copy:
                copy.set_types(TYPES)
                for row in rows:
                    copy.write_row(_copied(row))
            written = cursor.execute(LOG_STAGED).fetchone()[0]
            if written != len(rows):  # (each refusal raises; this would be rows lost without one)
                raise RuntimeError(f"{len(rows)} audit rows staged but {written} logged")
    _months_with_partition.update(months)  # only once committed: a rolled-back partition is not there


def _copied(row: LogRow) -> tuple:
    return (row.id, row.model_version_id, row.agent_type, row.tenant_id, Jsonb(row.input_data, jsontext.dumps),
            Jsonb(row.predicted_output, jsontext.dumps), logged_confidence(row.confidence), row.prediction_timestamp,
            row.duration_ms, row.reproducibility_note, row.ab_test_id, row.ab_group, row.request_key)
