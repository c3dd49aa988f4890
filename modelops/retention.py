"""Month partitions of the high-volume tables: made ahead of time, dropped after retention.

The audit log must be kept five years (the spec's compliance requirement) and stay fast to
query on recent data; monthly range partitions give both: a query bounded in time reads only the
months it names, and retention becomes dropping a whole partition instead of deleting billions of
rows. The maintenance task (daily) makes the next ``MONTHS_AHEAD`` months' partitions, and drops
those whose every row is older than ``MODELOPS_RETENTION_MONTHS`` (default 60); a writer whose
clock has run past them (a late maintenance run, a simulated clock) makes its month's on the spot.

Only ``ai.prediction_log`` is partitioned: it is the one table written at the rate of predictions.
The others were weighed (docs/monitoring.md, "Retention"): ``ai.training_data`` must keep its
unique idempotency key, which a partitioned table can only hold with the partition key in it;
the metric, performance, decision and audit tables grow by a row per version, tenant or refusal a
day, not per prediction. The scheduler's check histories (a row per tenant and agent each day, a row
per production version each hour) explain recent decisions only, and are deleted after
``MODELOPS_CHECK_RETENTION_DAYS`` (default 400) by another daily task.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, text

from modelops import config

PARTITIONED_TABLES = ("ai.prediction_log",)
MONTHS_AHEAD = 3
DEFAULT_RETENTION_MONTHS = 60
# Why training did or did not run, and each hour's drift figures: a year and a month of them lets an
# operator compare with the same month last year.
CHECK_TABLES = ("ai.retrain_checks", "ai.drift_checks")
DEFAULT_CHECK_RETENTION_DAYS = 400
# Dropping a partition locks its parent exclusively; a drop that would wait behind a long query
# (and hold every writer behind itself meanwhile) gives up instead, and the next daily run retries.
DROP_LOCK_TIMEOUT = "5s"


def retention_months() -> int:
    return config.whole_number("MODELOPS_RETENTION_MONTHS", DEFAULT_RETENTION_MONTHS, "months")


def check_retention_days() -> int:
    return config.whole_number("MODELOPS_CHECK_RETENTION_DAYS", DEFAULT_CHECK_RETENTION_DAYS, "days")



def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def ensure_partitions(connection: Connection, today: dt.date, months_ahead: int = MONTHS_AHEAD) -> list[str]:
    """Make sure this month's partition and the next ``months_ahead`` exist."""
    # Two transactions making the same partition at once would have one fail (and with it, a
    # batch of audit rows); this lock, held to the end of the transaction, makes the second wait
    # and then find the partition made.
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('ai.ensure_month_partition'))"))
    made = []
    for table in PARTITIONED_TABLES:
        for offset in range(months_ahead + 1):
            made.append(connection.execute(
                text("SELECT ai.ensure_month_partition(CAST(:table AS regclass), :month)"),
                {"table": table, "month": add_months(today, offset)},
            ).scalar_one())
    return made


def drop_expired_partitions(connection: Connection, today: dt.date, months: int | None = None) -> list[str]:
    """Drop partitions whose every row is older than the retention period (a partition is dropped
    once its month ended ``months`` months before the first day of this month)."""
    cutoff = add_months(today, -(months if months is not None else retention_months()))
    connection.execute(text(f"SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'"))
    dropped = []
    for table in PARTITIONED_TABLES:
        dropped += connection.execute(
            text("SELECT ai.drop_month_partitions_before(CAST(:table AS regclass), :cutoff)"),
            {"table": table, "cutoff": cutoff},
        ).scalars().all()
    return dropped


def prune_checks(connection: Connection, now: dt.datetime, days: int | None = None) -> dict[str, int]:
    """Delete the check rows made more than ``days`` days before ``now``; how many, per table."""
    cutoff = now - dt.timedelta(days=days if days is not None else check_retention_days())
    return {table: connection.execute(text(f"DELETE FROM {table} WHERE checked_at < :cutoff"), {"cutoff": cutoff}).rowcount
            for table in CHECK_TABLES}
