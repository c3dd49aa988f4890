"""Whether Postgres can store a JSON value that arrived in a message.

Python's json module reads and writes NaN and Infinity, and JSON escapes carry NUL characters and
lone surrogates; Postgres refuses every one of them, in ``jsonb`` and ``text`` columns alike. A
payload holding one must be refused where it arrives, naming where it is, rather than fail the
transaction that later writes it (and every other row of that transaction with it).
"""
from __future__ import annotations

import math
from typing import Any


def problem(value: Any, path: str = "") -> str | None:
    """What in ``value`` Postgres cannot store, as 'path: why'; None when it can store all of it."""
    if isinstance(value, str):
        return _text_problem(value, path)
    if isinstance(value, float) and not math.isfinite(value):
        return f"{_shown(path)}: {value} is not a number JSON can carry"
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found = (_text_problem(key, where) if isinstance(key, str) else None) or problem(item, where)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = problem(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _text_problem(text: str, path: str) -> str | None:
    if "\x00" in text:
        return f"{_shown(path)}: contains a NUL character (\\u0000), which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{_shown(path)}: is not valid UTF-8 (it holds a lone surrogate)"
    return None


def _shown(path: str) -> str:
    """The path fit to be stored itself: a key may hold the very character that is refused."""
    return path.encode("unicode_escape").decode("ascii") if path else "value"
