"""What the fault scenarios share: feedback to send, answers collected in bulk, rows counted, and
the figures each scenario reports."""
from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from typing import Callable

import redis
from celery import Celery, states
from sqlalchemy import Engine, text

RECORD, RECORD_BATCH = "modelops.feedback.record", "modelops.feedback.record_batch"
CALLER = "faults-ledger"


def feedback_events(tenant: uuid.UUID, n: int, prefix: str, prediction_ids: list | None = None) -> list[dict]:
    """``n`` valid events of one tenant, each with its own idempotency key: a user classified a
    transaction by hand (and, with ``prediction_ids``, answered that prediction)."""
    events = []
    for i in range(n):
        event = {
            "tenant_id": str(tenant), "agent_type": "classification", "source": "classification_correction",
            "input_data": {"description": f"CARD PAYMENT {i} OFFICE DEPOT", "merchant": "Office Depot", "amount": 10 + i % 500,
                           "currency": "USD", "direction": "debit", "date": "2031-06-01"},
            "expected_output": {"category": "Office Supplies"}, "actual_output": {"category": "Travel" if i % 3 else "Office Supplies"},
            "idempotency_key": f"{prefix}-{i}",
        }
        if prediction_ids:
            event["prediction_id"] = str(prediction_ids[i])
        events.append(event)
    return events


def chunks(items: list, size: int) -> list[list]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def send(client: Celery, name: str, args=None, kwargs=None, **options) -> str:
    """Send a task and keep only its id: a result object left for the collector would unsubscribe
    from the backend when collected, perhaps after a scenario's broker is gone."""
    return client.send_task(name, args=args, kwargs=kwargs, **options).id


def collect(client: Celery, task_ids: list[str], timeout: float) -> list[dict | None]:
    """Every task's final state ({status, result}) read from the result backend in bulk (one MGET a
    round), riding out a backend that is briefly unreachable; None for a task not finished in time."""
    backend = client.backend
    keys = [backend.get_key_for_task(task_id) for task_id in task_ids]
    final: list[dict | None] = [None] * len(task_ids)
    pending = list(range(len(task_ids)))
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        try:
            values = backend.client.mget([keys[i] for i in pending])
        except redis.RedisError:
            time.sleep(0.2)
            continue
        still = []
        for i, value in zip(pending, values):
            meta = backend.decode_result(value) if value else None
            if meta and meta["status"] in states.READY_STATES:
                final[i] = meta
            else:
                still.append(i)
        pending = still
        if pending:
            time.sleep(0.1)
    return final


def broker_backlog(url: str, queues=("ingest", "scrub")) -> dict:
    """Messages queued, and delivered but not yet acknowledged, per queue of a scenario's broker."""
    client = redis.Redis.from_url(url)
    try:
        unacked = Counter(json.loads(raw)[2] for raw in client.hvals("unacked"))
        return {queue: {"queued": client.llen(queue), "unacked": unacked[queue]} for queue in queues}
    finally:
        client.close()


def idle(url: str, queues=("ingest", "scrub")) -> bool:
    """Nothing queued and nothing in a worker's hands (every task finished and acknowledged)."""
    return not any(queue["queued"] or queue["unacked"] for queue in broker_backlog(url, queues).values())


def stored(engine: Engine, tenant: uuid.UUID) -> tuple[int, int]:
    """(rows, distinct idempotency keys) of the tenant's training data, read as the owner."""
    with engine.connect() as connection:
        return tuple(connection.execute(
            text("SELECT count(*), count(DISTINCT idempotency_key) FROM ai.training_data WHERE tenant_id = :t"),
            {"t": tenant}).one())


def poll(condition: Callable[[], object], timeout: float, interval: float = 0.1):
    """``condition()``'s first truthy value, or None after ``timeout`` (errors count as falsy)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(interval)
    return None


class Figures:
    """A scenario's figures: printed (visible under ``pytest -s``), kept as test properties (the
    JUnit report), and repeated in the run's closing summary."""

    def __init__(self, scenario: str, record_property, summary: list[str]):
        self.scenario = scenario
        self.record_property = record_property
        self.summary = summary
        self.values: dict[str, object] = {}

    def report(self, **values) -> str:
        self.values.update(values)
        for name, value in values.items():
            self.record_property(name, value)
        return self.line()

    def line(self) -> str:
        return f"{self.scenario}: " + ", ".join(f"{name} {_shown(value)}" for name, value in self.values.items())

    def publish(self) -> None:
        if self.values:
            print(self.line())
            self.summary.append(self.line())


def _shown(value) -> str:
    return f"{value:.2f}s" if isinstance(value, float) else str(value)


def logged_predictions(owner: Engine, tenant: uuid.UUID, n: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A classification model version of the tenant and ``n`` predictions it logged, answered as
    ``feedback_events`` says the AI answered them; inserted as the owner."""
    version = uuid.uuid4()
    predictions = [uuid.uuid4() for _ in range(n)]
    with owner.begin() as connection:
        connection.execute(text("""INSERT INTO ai.model_versions (id, agent_type, version, trained_on, tenant_id)
                                   VALUES (:v, 'classification', 'v1.0', now(), :t)"""), {"v": version, "t": tenant})
        connection.execute(text("""
            INSERT INTO ai.prediction_log (id, model_version_id, agent_type, tenant_id, input_data, predicted_output, confidence_score)
            SELECT p.id, :v, 'classification', :t, '{}'::jsonb,
                   jsonb_build_object('category', CASE WHEN (p.i - 1) % 3 = 0 THEN 'Office Supplies' ELSE 'Travel' END), 0.9
            FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS p(id, i)"""),
            {"v": version, "t": tenant, "ids": [str(p) for p in predictions]})
    return version, predictions


def expected_counts(n: int) -> dict:
    """What ``n`` feedback events of ``feedback_events`` must add to their version's metrics."""
    correct = sum(1 for i in range(n) if i % 3 == 0)
    return {"labelled_predictions": n, "correct_predictions": correct, "user_overrides": n - correct}


def metric_counts(owner: Engine, version: uuid.UUID) -> dict:
    """The version's counts in ai.model_metrics, summed over its days."""
    with owner.connect() as connection:
        row = connection.execute(text("""
            SELECT coalesce(sum(labelled_predictions), 0), coalesce(sum(correct_predictions), 0), coalesce(sum(user_overrides), 0)
            FROM ai.model_metrics WHERE model_version_id = :v"""), {"v": version}).one()
    return dict(zip(("labelled_predictions", "correct_predictions", "user_overrides"), (int(value) for value in row)))
