"""3,000 randomly malformed messages to the public tasks, through a real broker to a real
worker: each is turned away with a reason, nothing is written but what the contract says a
refusal records, and the worker is still alive and answering on every queue afterwards.

The messages are drawn with Hypothesis strategies (tests/faults/malformed.py) from a seed printed
with the figures (set MODELOPS_TEST_FAULT_SEED to draw the same ones again), then sent all at once
and their answers collected from the result backend in bulk.
"""
from __future__ import annotations

import os
import random
import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import text

import celeryconfig
from modelops import tenants
from modelops.config import settings
from tests import callers
from tests.faults import malformed
from tests.faults.servers import ping, private_redis, stack
from tests.faults.support import CALLER, collect, idle, poll, send
from tests.integration.serving_models import record_model

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MESSAGES = 3_000  # every kind of message drawn 60 times at least (malformed.quotas)
FEEDBACK = {malformed.RECORD, malformed.RECORD_BATCH}
# not_found: a prediction id that happens to be a well-formed UUID (of no logged prediction)
TURNED_AWAY = {"rejected", "refused", "not_found"}


def row_counts(owner) -> dict[str, int]:
    with owner.connect() as connection:
        tables = connection.execute(text("""SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                            WHERE n.nspname = 'ai' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                                            ORDER BY 1""")).scalars().all()
        return {table: connection.execute(text(f"SELECT count(*) FROM ai.{table}")).scalar_one() for table in tables}


def verdicts(message: malformed.Message, answer: dict) -> list[dict] | None:
    """The per-item answers of a task's result, or None when the result is not shaped as promised."""
    result = answer["result"]
    if message.task == malformed.RECORD_BATCH:
        return result.get("results") if isinstance(result, dict) else None
    if message.task == malformed.PREDICT_BATCH:
        return result if isinstance(result, list) else None
    return [result] if isinstance(result, dict) else None


def judge(message: malformed.Message, answer: dict | None) -> tuple[str, Counter]:
    """What became of one message: 'answered' (every item turned away with a reason), 'failed'
    (the task refused its arguments with a TypeError naming them), or what went wrong; and the
    statuses of its items."""
    if answer is None:
        return "no answer", Counter()
    if answer["status"] != "SUCCESS":
        error = answer["result"]
        if message.expect in ("failed", "either") and isinstance(error, TypeError) and str(error):
            return "failed", Counter()
        return f"raised {type(error).__name__}: {str(error)[:160]}", Counter()
    if message.expect == "failed":
        return "answered instead of failing", Counter()
    items = verdicts(message, answer)
    if not items:
        return f"unexpected answer {str(answer['result'])[:160]}", Counter()
    statuses = Counter(item.get("status", item.get("outcome")) if isinstance(item, dict) else None for item in items)
    if not set(statuses) <= TURNED_AWAY or not all(isinstance(item.get("reason"), str) and item["reason"] for item in items):
        return f"not turned away with a reason: {str(items)[:200]}", statuses
    return "answered", statuses


def test_3000_malformed_messages_are_each_turned_away_with_a_reason_and_nothing_partial_is_written(
        database, owner, tmp_path, figures):
    seed = int(os.environ.get("MODELOPS_TEST_FAULT_SEED") or random.randrange(2**32))
    feedback_tenant = tenants.create_tenant(f"faults-malformed-{uuid.uuid4().hex[:6]}")
    model_tenant = tenants.create_tenant(f"faults-malformed-model-{uuid.uuid4().hex[:6]}")
    record_model("classification", model_tenant, tenant_seed=7)  # so that a request can get as far as a model
    callers.caller(CALLER, [feedback_tenant, model_tenant])  # the signing service, a member of both
    callers.caller(malformed.OUTSIDER)  # registered, a member of neither
    messages = []
    for offset, (strategy, count) in enumerate(malformed.quotas(feedback_tenant, model_tenant, CALLER, MESSAGES)):
        messages += malformed.draw(strategy, count, seed + offset)
    assert len(messages) == MESSAGES

    with private_redis() as broker, stack(tmp_path / "workers", broker.url()) as workers:
        workers.start("all", concurrency=2)
        node = next(iter(workers.client.control.ping(timeout=5)[0]))
        processes_before = workers.client.control.inspect([node]).stats()[node]["pool"]["processes"]
        # the session's own workers finish what earlier tests left them, so that no row moves under the counts
        poll(lambda: idle(settings().redis_url, tuple(celeryconfig.QUEUES)), timeout=30)
        before = row_counts(owner)
        calls = [malformed.sealed(message, lambda service: callers.caller(service).credential) for message in messages]
        started = time.monotonic()
        sent = [send(workers.client, message.task, args=args, kwargs=kwargs) for message, (args, kwargs) in zip(messages, calls)]
        answers = collect(workers.client, sent, timeout=600)
        elapsed = time.monotonic() - started
        assert poll(lambda: idle(broker.url(), tuple(celeryconfig.QUEUES)), timeout=60), "the worker did not finish"
        after = row_counts(owner)
        pings = ping(workers.client, tuple(celeryconfig.QUEUES), timeout=60)
        processes_after = workers.client.control.inspect([node]).stats()[node]["pool"]["processes"]
        exited = workers.group.exited()

    outcomes, items = Counter(), Counter()
    recorded = Counter()  # what the contracts say the refusals write
    examples: dict[str, tuple] = {}
    for message, answer in zip(messages, answers):
        outcome, statuses = judge(message, answer)
        outcomes[outcome if outcome in ("answered", "failed") else "wrong"] += 1
        items.update(statuses)
        if outcome not in ("answered", "failed"):
            examples.setdefault(f"{message.task}: {outcome[:50]}", (message, outcome))
        if message.task in FEEDBACK:
            recorded["rejected_events"] += statuses["rejected"]
        if message.task in malformed.PUBLIC:  # a call not authenticated, or of a non-member
            recorded["access_audit"] += statuses["refused"]
    written = {table: after[table] - before[table] for table in after if after[table] != before.get(table)}
    partial = {table: delta for table, delta in written.items() if table not in recorded}
    figures.report(seed=seed, sent=MESSAGES, turned_away_with_a_reason=outcomes["answered"],
                   refused_by_signature=outcomes["failed"], wrong=outcomes["wrong"],
                   items=dict(items), rows_written=written, partial_writes=partial, time=elapsed,
                   queues_answering=len(pings), pool_processes_replaced=len(set(processes_before) - set(processes_after)))
    assert not examples, (f"{outcomes['wrong']} messages were not turned away as promised; one of each kind:\n"
                          + "\n".join(f"{kind}\n    {message}\n    {outcome}" for kind, (message, outcome) in examples.items()))
    assert not partial, f"rows written outside the refusal records: {partial}"
    assert written.get("rejected_events", 0) == recorded["rejected_events"], figures.line()
    assert written.get("access_audit", 0) == recorded["access_audit"], figures.line()
    assert len(pings) == len(celeryconfig.QUEUES) and not exited, figures.line()
    assert set(processes_before) == set(processes_after), f"pool processes died: {figures.line()}"
