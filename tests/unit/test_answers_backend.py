"""Serving's answers are stored by a backend of the app's own kind that writes successes by orjson."""
from __future__ import annotations

import json
import uuid

from celery import states

from workers.answers import answers_backend
from workers.app import app


def test_a_success_is_written_by_orjson_and_read_back_by_the_apps_own_backend():
    backend = answers_backend(app)
    assert isinstance(backend, type(app.backend)) and backend is not app.backend
    meta = {"status": states.SUCCESS, "result": [{"status": "predicted", "confidence": 0.87, "output": {"label": "é"}}],
            "traceback": None, "children": [], "date_done": "2026-12-07T05:00:00", "task_id": "t"}
    written = backend.encode(meta)
    assert written == json.dumps(meta, separators=(",", ":"), ensure_ascii=False).encode()  # orjson's text
    assert app.backend.decode(written) == meta


def test_a_failure_is_written_by_the_backends_own_encoder():
    backend = answers_backend(app)
    meta = {"status": states.FAILURE, "result": {"exc_type": "ValueError", "exc_message": [uuid.UUID(int=7)],
                                                 "exc_module": "builtins"}, "traceback": None, "task_id": "t"}
    assert backend.encode(meta) == app.backend.encode(meta)
    assert app.backend.decode(backend.encode(meta))["result"]["exc_message"] == [uuid.UUID(int=7)]  # kombu marks its types
