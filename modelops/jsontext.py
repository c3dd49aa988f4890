"""JSON text of the values serving writes in bulk, by orjson where it means what json would.

A batch of 1,000 predictions writes 2,000 JSON documents into the audit log and one list of 1,000
answers into the result backend. The standard library's encoder took a tenth of a serving
process's CPU for them; orjson writes the same documents in a tenth of its time
(docs/benchmarks.md, Serving).

orjson writes plain JSON values (strings, numbers, booleans, None, lists, dicts with string
keys) as json does, but for whitespace. It writes datetimes, dataclasses and subclasses of the
plain types in its own way, so those go to ``fallback`` (the options below make orjson refuse
them), as do integers wider than 64 bits and keys that are not strings, which it refuses. Two
things differ, none of which serving's values hold:
- a UUID or an enum member orjson writes as its text or value, where json refuses it (serving's
  answers carry ids as text already);
- a NaN or an infinity orjson writes as ``null``, where json writes a token no JSON reader
  (Postgres included) accepts. Requests holding one are refused before serving
  (``storable.problem``); a model answering NaN has its answer logged as null, rather than its
  whole batch refused by Postgres.
"""
from __future__ import annotations

import json
from typing import Any, Callable

import orjson

# what orjson would otherwise write in its own form is refused, and so goes to the fallback
_PLAIN_ONLY = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def dumps(value: Any, fallback: Callable[[Any], str | bytes] = json.dumps) -> bytes:
    """``value`` as UTF-8 JSON text: orjson's for plain JSON values, ``fallback``'s otherwise."""
    try:
        return orjson.dumps(value, option=_PLAIN_ONLY)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        text = fallback(value)
        return text.encode() if isinstance(text, str) else text
