"""The JSON text serving writes in bulk: what orjson writes must read back as json's would."""
from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from hypothesis import given, strategies as st

from modelops import jsontext

plain = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**63, max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@given(plain)
def test_a_plain_value_reads_back_as_the_standard_librarys_text_of_it(value):
    assert json.loads(jsontext.dumps(value)) == json.loads(json.dumps(value))


def test_what_orjson_would_write_its_own_way_is_written_by_the_fallback():
    marked = []

    def fallback(value):
        marked.append(value)
        return json.dumps(value, default=lambda item: {"__type__": type(item).__name__, "value": str(item)})

    for value in ({"at": dt.datetime(2026, 12, 7, 5, 0)}, [2**70], {1: "a key that is no string"}):
        written = json.loads(jsontext.dumps(value, fallback))
        assert marked[-1] is value
        assert written == json.loads(fallback(value))
    with pytest.raises(TypeError):  # json's own refusal, where no fallback marks the type
        jsontext.dumps({"at": dt.date(2026, 12, 7)})


def test_a_number_json_cannot_carry_is_written_as_null():
    assert json.loads(jsontext.dumps({"confidence": math.nan, "score": math.inf})) == {"confidence": None, "score": None}
