"""Month partitions of the high-volume tables: made ahead of time, dropped after retention.

The audit log must be kept five years (the spec's compliance requirement) and stay fast to
query on recent data; monthly range partitions give both, and retention becomes dropping a
whole partition instead of deleting billions of rows.
"""
from __future__ import annotations

import datetime as dt
import os

from sqlalchemy import Connection, text

PARTITIONED_TABLES = ("ai.prediction_log",)
MONTHS_AHEAD = 3


def retention_months() -> int:
    return int(os.environ.get("MODELOPS_RETENTION_MONTHS", 60))


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def ensure_partitions(connection: Connection, today: dt.date, months_ahead: int = MONTHS_AHEAD) -> list[str]:
    """Make sure this month's partition and the next ``months_ahead`` exist."""
    made = []
    for table in PARTITIONED_TABLES:
        for offset in range(months_ahead + 1):
            made.append(connection.execute(
                text("SELECT ai.ensure_month_partition(CAST(:table AS regclass), :month)"),
                {"table": table, "month": add_months(today, offset)},
            ).scalar_one())
    return made


def drop_expired_partitions(connection: Connection, today: dt.date, months: int | None = None) -> list[str]:
    """Drop partitions whose every row is older than the retention period."""
    cutoff = add_months(today, -(months if months is not None else retention_months()))
    dropped = []
    for table in PARTITIONED_TABLES:
        dropped += connection.execute(
            text("SELECT ai.drop_month_partitions_before(CAST(:table AS regclass), :cutoff)"),
            {"table": table, "cutoff": cutoff},
        ).scalars().all()
    return dropped
