"""What the archive's tests share: a tenant's rows spread over past months, and what Postgres and
the archive hold of them."""
from __future__ import annotations

import uuid

import pyarrow.parquet as pq
from sqlalchemy import text

from modelops import clock, db
from modelops.archive.store import open_store


def backdate(owner, tenant: uuid.UUID, months: list[int]) -> None:
    """Spread the tenant's rows over ``months`` months ago (in turn, by id), a second apart."""
    with owner.begin() as connection:
        connection.execute(text("""
            WITH numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM ai.training_data WHERE tenant_id = :t)
            UPDATE ai.training_data d
            SET created_at = CAST(:now AS timestamp) - make_interval(months => (CAST(:months AS int[]))[1 + n % :count],
                                                                    secs => n::int)
            FROM numbered WHERE d.id = numbered.id"""),
                           {"t": tenant, "now": clock.now(), "months": months, "count": len(months)})


def ids_in_postgres(owner, tenant: uuid.UUID) -> list[str]:
    with owner.connect() as connection:
        return [row[0] for row in connection.execute(
            text("SELECT id::text FROM ai.training_data WHERE tenant_id = :t"), {"t": tenant})]


def archive_rows(tenant: uuid.UUID, statuses=("archived",)) -> list[dict]:
    with db.operator_scope() as connection:
        return [dict(row) for row in connection.execute(
            text("SELECT * FROM ai.training_archive WHERE tenant_id = :t AND status = ANY(:s) ORDER BY month, part"),
            {"t": tenant, "s": list(statuses)}).mappings()]


def ids_in_archive(tenant: uuid.UUID) -> list[str]:
    store = open_store()
    ids = []
    for part in archive_rows(tenant):
        with store.open(part["path"]) as handle:
            ids += pq.read_table(handle, columns=["id"]).column(0).to_pylist()
    return ids
