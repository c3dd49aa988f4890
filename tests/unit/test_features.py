"""The agents' shared feature functions: what a fitted pipeline reads must not change with their speed."""
from __future__ import annotations

from hypothesis import example, given, strategies as st

from modelops.agents.features import field_text, normalise

# letters of several scripts and cases (a Greek capital sigma lowercases by its context), digits of
# several scripts, spaces of several kinds, apostrophes and combining marks (which a sigma's context skips)
pieces = st.text(alphabet=st.sampled_from("aZ ΣσΑ9٣0\t\u00a0\u2003\n'\u0301-/İ"), max_size=12)
values = st.one_of(pieces, st.none(), st.integers(), st.floats(allow_nan=False))


@given(st.lists(st.fixed_dictionaries({"a": values, "b": values, "c": values}), max_size=5))
@example([{"a": "ΟΔΟΣ", "b": "Σ12", "c": None}, {"a": "AΣ'", "b": " \u00a0", "c": "12 "}])
def test_field_text_is_the_fields_joined_then_normalised(rows):
    for fields in (["a", "b"], ["b", "a", "c"], ["c"]):
        assert field_text(rows, fields) == [normalise(" ".join(str(row.get(name) or "") for name in fields)) for row in rows]
