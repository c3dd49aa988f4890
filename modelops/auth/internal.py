"""The system's own task messages carry a signature of the task, its id and its arguments.

Made with a key derived from the deployment's secret key, which only the system's processes
(workers, beat, the operator's command line) hold. The arguments are signed as Celery's JSON
serializer writes them, sorted: the worker, which reads them back through the same serializer,
writes the same text, so the signature covers exactly what runs.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from kombu.utils.json import dumps

from modelops import keys

HEADER = "modelops_signature"
PURPOSE = "internal-tasks"


def _text(task_name: str, task_id: str, args: Any, kwargs: Any) -> bytes:
    return dumps([task_name, task_id, list(args or ()), dict(kwargs or {})], sort_keys=True).encode("utf-8")


def sign(task_name: str, task_id: str, args: Any, kwargs: Any) -> str:
    return hmac.new(keys.derived_key(PURPOSE), _text(task_name, task_id, args, kwargs), hashlib.sha256).hexdigest()


def problem(signed: Any, task_name: str, task_id: str, args: Any, kwargs: Any) -> str | None:
    """Why the message is not the system's own, or None when its signature holds."""
    if not signed:
        return f"{task_name} is internal: it runs only for messages the system itself signed, and this one is unsigned"
    if not isinstance(signed, str):
        return f"{task_name} is internal, and this message's signature is malformed"
    try:
        expected = sign(task_name, task_id, args, kwargs)
    except (TypeError, ValueError):
        return f"{task_name} is internal, and this message's arguments cannot be checked"
    if not hmac.compare_digest(expected, signed):
        return f"{task_name} is internal, and this message's signature does not verify"
    return None
