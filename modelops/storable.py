"""Whether a JSON value that arrived in a message can be handled at all, and stored.

Python's json module reads and writes NaN and Infinity, and JSON escapes carry NUL characters and
lone surrogates; Postgres refuses every one of them, in ``jsonb`` and ``text`` columns alike. A
payload holding one must be refused where it arrives, naming where it is, rather than fail the
transaction that later writes it (and every other row of that transaction with it).

A payload can also be hostile by its shape: nested hundreds of levels deep, it makes every
recursive reader (pydantic's serialiser at about 255 levels, json and repr at about 1,000) raise
instead of answering; huge, it costs its whole size in every later step. With ``Limits`` the same
walk refuses such a payload before anything serialises, validates or scrubs it. The walk keeps its
own stack, so no depth of nesting can exhaust the interpreter's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """How large a payload may be. ``depth`` counts nested containers, the outermost as 1;
    ``size`` is in bytes of its JSON text, measured from below without writing it (a payload
    refused for its size is surely larger). Integers wider than ``integer_bits`` are no quantity or
    identifier, and Python prints them in quadratic time (it refuses past 4,300 digits)."""

    depth: int
    size: int
    integer_bits: int = 256


_NO_LIMITS = Limits(depth=math.inf, size=math.inf, integer_bits=math.inf)
_SCALARS = (int, float, bool, type(None))  # each takes at least 1 byte of JSON text
LEFT_OUT = "[left out]"  # in a shortened copy, a container that found no room left


def problem(value: Any, limits: Limits | None = None) -> str | None:
    """What in ``value`` Postgres cannot store, or (with ``limits``) what makes it too deep, large or
    not JSON at all, as 'path: why'; None when it is fine."""
    bounded = limits is not None
    limits = limits or _NO_LIMITS
    # containers still to look into: (container, its path node, its depth); a path node is
    # (parent node, key or index), turned into text only for the one problem reported
    pending: list[tuple[Any, tuple | None, int]] = []
    found, size = _item_problem(value, None, 0, pending, limits, bounded, 0)
    while pending and not found and size <= limits.size:
        container, where, depth = pending.pop()
        size += 2
        # plain text, most of any payload, is checked here rather than by a call per value
        if isinstance(container, dict):
            for key, item in container.items():
                if isinstance(key, str):
                    size += len(key) + 3
                    if _suspect(key):
                        found = _text_problem(key, (where, key))
                elif bounded:
                    found = f"{_path(where)}: has the key {_short(repr(key))}, and JSON keys are text"
                if found:
                    break
                if type(item) is str:
                    size += len(item) + 2
                    if _suspect(item):
                        found = _text_problem(item, (where, key))
                else:
                    found, size = _item_problem(item, (where, str(key)), depth, pending, limits, bounded, size)
                if found:
                    break
        else:
            for index, item in enumerate(container):
                if type(item) is str:
                    size += len(item) + 2
                    if _suspect(item):
                        found = _text_problem(item, (where, index))
                else:
                    found, size = _item_problem(item, (where, index), depth, pending, limits, bounded, size)
                if found:
                    break
    if not found and size > limits.size:
        found = f"the payload is more than {limits.size} bytes as JSON"
    return found


def _item_problem(item: Any, where: tuple | None, depth: int, pending: list, limits: Limits, bounded: bool,
                  size: int) -> tuple[str | None, int]:
    """One value at ``depth`` (that of its container): checked if a scalar, queued if a container.
    Returns the problem, if any, and the size counted so far."""
    kind = type(item)
    if kind is str:
        return _text_problem(item, where), size + len(item) + 2
    if kind is dict or kind is list or isinstance(item, (dict, list, tuple)):
        if depth >= limits.depth:
            return f"{_path(where)}: nested more than {limits.depth} levels deep", size
        pending.append((item, where, depth + 1))
        return None, size
    if isinstance(item, str):
        return _text_problem(item, where), size + len(item) + 2
    if isinstance(item, float):
        return (None if math.isfinite(item) else f"{_path(where)}: {item} is not a number JSON can carry"), size + 1
    if kind is not bool and isinstance(item, int) and item.bit_length() > limits.integer_bits:
        return f"{_path(where)}: an integer of {item.bit_length()} bits, more than the {limits.integer_bits} allowed", size
    if bounded and not isinstance(item, _SCALARS):
        return f"{_path(where)}: a {kind.__name__} is not a JSON value", size
    return None, size + 1


def text_form(text: str) -> str:
    """``text`` as Postgres can store it: NUL and lone surrogates written as escapes, the rest kept."""
    if not _suspect(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _suspect(text: str) -> bool:
    """Whether ``text`` may hold what Postgres refuses: ASCII without NUL never does."""
    return not text.isascii() or "\x00" in text


def _text_problem(text: str, where: tuple | None) -> str | None:
    if "\x00" in text:
        return f"{_path(where)}: contains a NUL character (\\u0000), which cannot be stored"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return f"{_path(where)}: is not valid UTF-8 (it holds a lone surrogate)"
    return None


def _path(where: tuple | None) -> str:
    """The path to a value ('input_data.lines[1]'), fit to be stored itself: a key may hold the
    very character that is refused, and a deep or long path is cut short."""
    steps = []
    while where is not None:
        where, step = where
        steps.append(step)
    parts = []
    for step in reversed(steps):
        if isinstance(step, int):
            parts.append(f"[{step}]")
        else:
            parts.append(("." if parts else "") + _short(str(step)))
    return _short("".join(parts).encode("unicode_escape").decode("ascii"), 300) if parts else "value"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def shortened(value: Any, limits: Limits) -> Any:
    """A copy of ``value`` that JSON can carry, within ``limits``: what is nested deeper becomes a
    note, text is cut, items beyond the size are left out with a note of how many, keys become
    text, and what is no JSON value becomes its type's name. For keeping a refused payload where
    an operator can read what was sent; its work is bounded by the limits, not by the payload."""
    if not isinstance(value, (dict, list, tuple)):
        return _scalar_copy(value, limits, limits.size)[0]
    room = limits.size  # what is left of the size, counted as json.dumps writes (", " and ": " included)
    top: list[Any] = [None]
    pending: list[tuple[Any, Any, Any, int]] = [(top, 0, value, 1)]  # (copy, where in it, container, its depth)
    while pending:
        target, slot, container, depth = pending.pop()
        if room <= 0:  # it was queued while there was room; its place is kept
            target[slot] = LEFT_OUT
            continue
        is_dict = isinstance(container, dict)
        copy: Any = {} if is_dict else []
        target[slot] = copy
        queued = []
        for count, (key, member) in enumerate(container.items() if is_dict else enumerate(container)):
            if room <= 0:
                note = f"[{len(container) - count} more items left out]"
                if is_dict:
                    copy["..."] = note
                else:
                    copy.append(note)
                break
            if is_dict:
                key = _short(_key_text(key))
                room -= len(key) + 6
            else:
                key = len(copy)
                room -= 2
                copy.append(None)
            if not isinstance(member, (dict, list, tuple)):
                copy[key], cost = _scalar_copy(member, limits, room)
            elif depth >= limits.depth:
                copy[key] = f"[nested deeper than {limits.depth} levels]"
                cost = len(copy[key]) + 2
            else:
                copy[key] = None
                queued.append((copy, key, member, depth + 1))
                cost = len(LEFT_OUT) + 2  # at least its brackets, at most this mark
            room -= cost
        pending.extend(reversed(queued))  # in order: what comes first keeps the room
    return top[0]


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    return repr(key) if isinstance(key, _SCALARS) else f"[a {type(key).__name__}]"


def _scalar_copy(item: Any, limits: Limits, room: int) -> tuple[Any, int]:
    """A JSON scalar as it may be kept (text cut to the room left), and the room it takes."""
    if isinstance(item, str):
        kept = item if len(item) <= room else item[:max(room, 0)] + "..."
        return kept, len(kept) + 2
    if isinstance(item, bool) or item is None:
        return item, 5
    if isinstance(item, float):
        return item, len(repr(item))
    if isinstance(item, int):
        if item.bit_length() > limits.integer_bits:
            return f"[an integer of {item.bit_length()} bits]", 40
        return item, len(repr(item))
    kept = f"[a {type(item).__name__}]"
    return kept, len(kept) + 2
