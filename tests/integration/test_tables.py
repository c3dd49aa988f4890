"""The tables' Core metadata (schemas/tables.py) against the migrated database: a migration that
adds, drops, retypes or relaxes a column fails here until the metadata says the same."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql

from schemas.tables import metadata

pytestmark = pytest.mark.integration

DIALECT = postgresql.dialect()


def described(columns) -> dict[str, tuple[str, bool]]:
    """{name: (type as Postgres spells it, nullable)}."""
    return {column["name"]: (column["type"].compile(dialect=DIALECT), column["nullable"]) for column in columns}


@pytest.mark.parametrize("table", sorted(metadata.tables.values(), key=lambda table: table.name), ids=lambda table: table.name)
def test_the_metadata_describes_the_migrated_table(owner, table):
    with owner.connect() as connection:
        live = described(inspect(connection).get_columns(table.name, schema=table.schema))
    declared = described({"name": column.name, "type": column.type, "nullable": column.nullable} for column in table.columns)
    assert list(declared) == list(live), "the columns (and their order) differ"
    assert declared == live

