"""A probe through every queue: proves each pool is consuming and can reach the database."""
from __future__ import annotations

import time

import celeryconfig
from schemas.tasks import TaskName
from workers.app import app


def round_trip(queues: tuple[str, ...] = tuple(celeryconfig.QUEUES), timeout: float = 60.0) -> list[dict]:
    """Send one ping to each queue at once and wait for every answer (raises on time-out)."""
    sent = time.monotonic()
    pending = [app.send_task(TaskName.MAINTENANCE_PING, kwargs={"queue": queue}, queue=queue) for queue in queues]
    answers = []
    for result in pending:
        answer = result.get(timeout=max(0.1, timeout - (time.monotonic() - sent)))
        answer["seconds"] = round(time.monotonic() - sent, 3)
        answer["task_id"] = result.id
        answers.append(answer)
    return answers
