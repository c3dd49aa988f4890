"""What Postgres cannot store of a JSON value is found, with where it is."""
import math

import pytest

from modelops import storable


@pytest.mark.parametrize("value, found", [
    ({"user_feedback": "paper\x00"}, "user_feedback: contains a NUL character"),
    ({"input_data": {"memo": "a\ud800b"}}, "input_data.memo: is not valid UTF-8"),
    ({"input_data": {"lines": [1.0, math.nan]}}, "input_data.lines[1]: nan is not a number"),
    ({"actual_output": {"amount": -math.inf}}, "actual_output.amount: -inf is not a number"),
    ({"bad\x00key": 1}, "bad\\x00key: contains a NUL character"),
    ("\x00", "value: contains a NUL character"),
])
def test_what_postgres_refuses_is_named_with_its_path(value, found):
    assert storable.problem(value).startswith(found)


def test_ordinary_json_passes():
    assert storable.problem({"a": ["text", 1, 2.5, None, True, {"é": "ü"}], "b": "\\u0000 as typed"}) is None
