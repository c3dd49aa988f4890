"""What task events, Flower and worker logs show of a task's arguments: a summary, never a value.

A task's arguments carry tenants' data before it is scrubbed (feedback events, prediction inputs).
Celery shows each message's ``argsrepr`` and ``kwargsrepr`` in its task events (so in Flower's task
list) and in its log lines, and they are whatever the sender wrote: by default the arguments' repr.
Here they are replaced, whoever sent the message:

- in the worker, as each message is received (the ``task_received`` signal comes before the
  ``task-received`` event Flower reads, and before the request reaches a pool process, whose
  failure lines print them), so that a plain Celery client or a Node one cannot put values there;
- in this application's own sends (``SummarisingAMQP``), so that their ``task-sent`` events and
  message headers carry the summary too.

A summary prints a string only when it is known to be safe: a UUID (tenant, version and run ids) or
a word of a closed set (agent types, feedback sources). Every other string is shown by its length,
whatever key it is under. Dicts show their ``tenant_id``, ``agent_type`` and ``source`` and how many
keys they have; lists how many items, with those three fields counted over their items. A signed
envelope's ``body`` (the JSON text of the call's arguments) is summarised like the arguments it holds.
"""
from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from typing import Any

import orjson
from celery.app.amqp import AMQP
from celery.signals import task_received

from modelops import AGENT_TYPES
from schemas.feedback import Source
from workers import internals

SUMMARISED_FIELDS = ("tenant_id", "agent_type", "source")
SAFE_WORDS = frozenset(AGENT_TYPES) | frozenset(source.value for source in Source)
# A keyword argument's name is printed when it looks like one; other keys are only counted.
ARGUMENT_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
# A longer envelope body is shown by its size alone: parsing it here would hold up the consumer.
MAX_PARSED_BODY = 1_000_000
# Distinct values of a field shown for a list's items; the rest are counted.
SHOWN_VALUES = 3
MAX_SUMMARY = 600


def summaries(args: Any, kwargs: Any) -> tuple[str, str]:
    """(argsrepr, kwargsrepr) for a message's positional and keyword arguments."""
    positional = ", ".join(_describe(arg) for arg in args) if isinstance(args, (list, tuple)) else _describe(args)
    return _capped(f"({positional})"), _capped(_named(kwargs) if isinstance(kwargs, dict) else _describe(kwargs))


def _named(arguments: dict) -> str:
    """Keyword arguments by name; a signed envelope by the arguments in its body."""
    parts, unnamed = [], 0
    for name, value in arguments.items():
        if not (isinstance(name, str) and ARGUMENT_NAME.match(name)):
            unnamed += 1
        elif isinstance(value, dict) and isinstance(value.get("body"), str):
            parts.append(f"{name}: {_envelope(value['body'])}")
        else:
            parts.append(f"{name}: {_describe(value)}")
    if unnamed:
        parts.append(_count(unnamed, "other key"))
    return "{" + ", ".join(parts) + "}"


def _envelope(body: str) -> str:
    size = f"body of {len(body)} chars"
    if len(body) > MAX_PARSED_BODY:
        return size
    try:
        # orjson reads a batch's body in a third of json's time; what it refuses and json reads
        # (NaN, lone surrogates) json reads. The summary shows no number, so that orjson reads an
        # integer beyond 64 bits as a float changes nothing in it.
        arguments = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            arguments = json.loads(body)
        except (ValueError, RecursionError):
            return size
    return f"{size} {_named(arguments) if isinstance(arguments, dict) else _describe(arguments)}"


def _describe(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return _safe(value) or f"str of {len(value)} chars"
    if isinstance(value, dict):
        shown = [f"{field}={_safe(value[field]) or '?'}" for field in SUMMARISED_FIELDS if field in value]
        return "{" + ", ".join([*shown, _count(len(value), "key")]) + "}"
    if isinstance(value, (list, tuple)):
        return f"[{_count(len(value), 'item')}{_fields_of(value)}]"
    return type(value).__name__


def _fields_of(items: list | tuple) -> str:
    """The summarised fields counted over the dict items of a list: ': tenant_id=A (2) B (1), ...'."""
    counted = {}
    for field in SUMMARISED_FIELDS:
        # the values counted as sent, then each distinct one made safe: a batch of 1,000 requests
        # holds a few tenants, and this runs in the consumer, ahead of every message behind it
        sent = Counter(value if type(value) is str else None
                       for value in (item.get(field, _ABSENT) for item in items if isinstance(item, dict)) if value is not _ABSENT)
        counts: Counter = Counter()
        for value, count in sent.items():
            counts[_safe(value) or "?"] += count
        counted[field] = counts
    parts = []
    for field, counts in counted.items():
        if counts:
            values = [f"{value} ({count})" for value, count in counts.most_common(SHOWN_VALUES)]
            if len(counts) > SHOWN_VALUES:
                values.append(f"+{len(counts) - SHOWN_VALUES} more")
            parts.append(f"{field}={' '.join(values)}")
    return ": " + ", ".join(parts) if parts else ""


_ABSENT = object()


def _safe(value: Any) -> str | None:
    """``value`` as printable text when it is a UUID or a word of a closed set, else None."""
    if not isinstance(value, str):
        return None
    if value in SAFE_WORDS:
        return value
    try:
        return str(uuid.UUID(value)) if len(value) == 36 else None
    except ValueError:
        return None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _capped(summary: str) -> str:
    return summary if len(summary) <= MAX_SUMMARY else summary[:MAX_SUMMARY - 1] + "…"


@task_received.connect
def _summarise_received(request, **_) -> None:
    """Whatever the sender put in the message's argsrepr and kwargsrepr, the worker's events and
    logs carry the summary (Celery's Request reads them from the headers and has no setter)."""
    argsrepr, kwargsrepr = summaries(request.args, request.kwargs)
    internals.set_summaries(request, argsrepr, kwargsrepr)
    request.request_dict.update(argsrepr=argsrepr, kwargsrepr=kwargsrepr)


class SummarisingAMQP(AMQP):
    """The app's message factory: every message this application sends carries summaries, whatever
    the calling code passed as argsrepr or kwargsrepr."""

    def as_task_v2(self, task_id, name, args=None, kwargs=None, *rest, **options):
        options["argsrepr"], options["kwargsrepr"] = summaries(args or (), kwargs or {})
        return super().as_task_v2(task_id, name, args, kwargs, *rest, **options)
