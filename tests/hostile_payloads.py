"""Hypothesis strategies for hostile payloads: what a misbehaving caller can put in a message.

Deep (nested far beyond any limit, as dicts, lists or both), wide (long lists and objects), huge
(long text), and odd (NaN and Infinity, integers of thousands of digits, lone surrogates, NUL,
text that looks like bytes, and, from callers in process, keys that are not text, tuples, bytes).
``depth_of`` and ``text_length_of`` measure a value without recursion, so that a test can say
what a check should have found.
"""
from __future__ import annotations

import math

from hypothesis import strategies as st

ODD_TEXT = st.sampled_from([
    "\x00", "a\x00b", "\ud800", "x\udfffy", "\udcff\udcfe",  # NUL; lone surrogates (as surrogateescape leaves bytes)
    "b'\\x00\\xff'", "\\u0000", "\\ud800", "\ufeff", "\u202e", "é" * 3, "💳 4111 1111 1111 1111",
])
ODD_SCALARS = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324, True, False, None, 0, -1, 2**63, -(2**64)]),
    st.integers(256, 20_000).map(lambda bits: 2**bits - 1),  # thousands of digits
    ODD_TEXT,
    st.text(max_size=20),
)
ODD_IN_PROCESS = st.one_of(st.binary(max_size=8), st.tuples(st.integers(), st.text(max_size=3)), st.just(object()))
ODD_KEYS = st.one_of(st.integers(), st.none(), st.booleans(), st.floats(allow_nan=False), st.tuples(st.integers()))


def nest(depth: int, kinds: list[str], leaf):
    """``leaf`` inside ``depth`` containers, each a dict or a list as ``kinds`` cycles."""
    value = leaf
    for level in range(depth):
        value = {"k": value} if kinds[level % len(kinds)] == "dict" else [value]
    return value


def deep(min_depth: int = 33, max_depth: int = 5_000, leaves=ODD_SCALARS):
    return st.builds(nest, st.integers(min_depth, max_depth), st.lists(st.sampled_from(["dict", "list"]), min_size=1, max_size=3),
                     leaves)


WIDE = st.one_of(
    st.builds(lambda n, item: [item] * n, st.integers(10_000, 200_000), st.sampled_from([0, "x", None, [], {}])),
    st.integers(10_000, 100_000).map(lambda n: {f"k{i}": i for i in range(n)}),
)
HUGE = st.integers(70_000, 2_000_000).map(lambda n: "x" * n)
ODD = st.recursive(
    ODD_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.one_of(ODD_TEXT, st.text(max_size=8)), inner, max_size=4)),
    max_leaves=12,
)
ODD_OBJECTS = st.dictionaries(ODD_KEYS, ODD_SCALARS, min_size=1, max_size=3)  # non-text keys, from callers in process
HOSTILE = st.one_of(deep(), WIDE, HUGE, ODD, ODD_OBJECTS, ODD_IN_PROCESS)


def depth_of(value) -> int:
    """How many containers deep ``value`` goes (a scalar: 0)."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list, tuple)):
            deepest = max(deepest, depth + 1)
            pending.extend((member, depth + 1) for member in (item.values() if isinstance(item, dict) else item))
    return deepest


def text_length_of(value) -> int:
    """Characters of text in ``value``, keys included: a floor for the bytes of its JSON."""
    total, pending = 0, [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            total += sum(len(key) for key in item if isinstance(key, str))
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return total
