"""A tenant's labelled rows for one agent, from the archive and Postgres as one stream.

Read as the tenant (row-level security), in one REPEATABLE READ transaction: the archived parts
that transaction sees (ai.training_archive) and the rows still in Postgres come from one
snapshot, and the archiver deletes a month's rows in the transaction that records its file, so
every row is read exactly once, whenever the archiver runs. Archived months come first, oldest
first, then Postgres's rows by creation time: the order of the rows when all were in Postgres.
Rows come as their JSON text, a batch at a time from a server-side cursor.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import text

from modelops import db
from modelops.archive import manifest, reader
from modelops.registry import store as registry_store

BATCH_ROWS = 50_000

COLLECT_ROWS = text("""
    SELECT input_data::text, expected_output::text FROM ai.training_data
    WHERE agent_type = CAST(:agent AS ai.agent_type) AND expected_output IS NOT NULL AND created_at <= :now
    ORDER BY created_at, id""")
COUNT_ROWS = text("""
    SELECT count(*) AS labelled, count(*) FILTER (WHERE created_at > coalesce(CAST(:last AS timestamp), '-infinity')) AS new
    FROM ai.training_data
    WHERE agent_type = CAST(:agent AS ai.agent_type) AND expected_output IS NOT NULL AND created_at <= :now""")


@dataclass
class TenantRows:
    rows: int  # labelled rows up to now (archived parts count all their rows: they are months old)
    new: int  # of which arrived since the tenant's last version of the agent
    archived_parts: int
    batches: Iterator[list[tuple[str, str]]]  # (input_data, expected_output) JSON text


@contextmanager
def tenant_rows(agent_type: str, tenant_id, now: dt.datetime, batch_rows: int = BATCH_ROWS) -> Iterator[TenantRows]:
    """The stream, valid inside the block (its transaction stays open while it is read)."""
    with db.tenant_scope(tenant_id, isolation="REPEATABLE READ") as connection:
        last = registry_store.last_trained_on(connection, agent_type, tenant_id)
        parts = manifest.archived(connection, agent_type)
        counts = connection.execute(COUNT_ROWS, {"agent": agent_type, "now": now, "last": last}).one()
        archived_new = sum(part.row_count for part in parts if last is None or part.first_created_at > last)

        def batches() -> Iterator[list[tuple[str, str]]]:
            yield from reader.batches(parts, tenant_id, agent_type, now, batch_rows)
            # a server-side cursor, fetched batch_rows at a time (``yield_per`` alone leaves
            # ``partitions()`` one partition of every row)
            result = connection.execution_options(stream_results=True).execute(
                COLLECT_ROWS, {"agent": agent_type, "now": now})
            for part in result.partitions(batch_rows):
                yield [tuple(row) for row in part]

        yield TenantRows(counts.labelled + sum(part.row_count for part in parts), counts.new + archived_new,
                         len(parts), batches())
