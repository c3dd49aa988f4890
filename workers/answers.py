"""Where serving's answers are stored: the app's Redis result backend, writing them with orjson.

A batch's answer is a list of 1,000 plain JSON values, and the backend's encoder (kombu's json)
took 3.6 ms of a pool process's CPU to write it, orjson 0.5 (bench/bench_serving.py --steps
profile): the encoding was the largest stage of a batch after the features and the audit write.
Only a success is written so, and only when the backend writes JSON: a failure's meta (an
exception's type, arguments and module) is written by the backend's own encoder, which marks
types orjson would write as plain text (modelops.jsontext says which).

The backend is one of the app's own class and URL, made in each process that asks (a pool process
after its fork), so that Celery's own store, its check of a stored success and its notice to a
waiting caller stay as they are.
"""
from __future__ import annotations

import os
from functools import cache
from typing import Any

from celery import states
from celery.app.backends import by_url
from celery.backends.base import Backend
from celery.backends.redis import RedisBackend

from modelops import jsontext
from workers.authentication import PublicTask


class AnswerEncoding:
    """A result backend whose successes are written by orjson (with the backend's own encoder for
    any value orjson would write otherwise)."""

    def encode(self, data: Any):
        if isinstance(data, dict) and data.get("status") == states.SUCCESS and self.serializer == "json":
            return jsontext.dumps(data, super().encode)
        return super().encode(data)


@cache
def _answering(backend_class: type) -> type:
    return type(f"Answering{backend_class.__name__}", (AnswerEncoding, backend_class), {})


_backends: dict[int, Backend | None] = {}  # by process; None: the app's own backend


def answers_backend(app) -> Backend:
    """This process's backend for answers: the app's own where it is not Redis."""
    if os.getpid() not in _backends:  # a pool process makes its own after the fork
        _backends.clear()
        # (by_url reads the installed packages' entry points: once per process, never per answer)
        backend_class, url = by_url(app.conf.result_backend, app.loader)
        _backends[os.getpid()] = _answering(backend_class)(app=app, url=url) if issubclass(backend_class, RedisBackend) else None
    return _backends[os.getpid()] or app.backend


class AnsweringTask(PublicTask):
    """A public task whose results are stored by ``answers_backend``."""

    @property
    def backend(self) -> Backend:
        return answers_backend(self.app)
