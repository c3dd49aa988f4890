"""The registry's ModelVersion against the table's Core metadata (schemas/tables.py): a column added,
dropped, renamed, retyped or made nullable there fails here until the dataclass says the same."""
import dataclasses
import types
import typing

import pytest

from modelops.registry.store import ModelVersion
from schemas.tables import model_versions

FIELDS = {field.name: field for field in dataclasses.fields(ModelVersion)}
HINTS = typing.get_type_hints(ModelVersion)


def test_a_field_per_column_in_the_tables_order():
    assert list(FIELDS) == [column.name for column in model_versions.columns]


@pytest.mark.parametrize("column", list(model_versions.columns), ids=lambda column: column.name)
def test_each_field_has_its_columns_type_and_nullability(column):
    hint = HINTS[column.name]
    members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    allowed = [typing.get_origin(member) or member for member in members]
    # JSON columns say no Python type of their own (object); the table's JSON columns all hold objects
    expected = dict if column.type.python_type is object else column.type.python_type
    assert [kind for kind in allowed if kind is not type(None)] == [expected]
    assert (type(None) in allowed) == column.nullable
