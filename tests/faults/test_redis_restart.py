"""The broker crashes and restarts while the intake stores 10,000 feedback events: nothing is lost.

The scenario runs its own Redis (the machine's shared one is never restarted), configured as a
deployment that must not lose messages would configure it: an append-only file written and synced
before each write is acknowledged. It is killed (SIGKILL, no shutdown save) once a quarter of the
events are stored, and started again on the same files; the workers reconnect by themselves.

What survives on its own: every message still queued, and every message a worker held
unacknowledged (it returns after the broker's visibility timeout). What may not: a message a worker
had just popped from its queue but not yet recorded as unacknowledged when the connection broke
(Redis's transport pops and records in two commands), and the answers of tasks that finished while
the broker was down. So the sender does what the contract asks of a caller that must not lose an
event (docs/faults.md): once the intake is quiet, it sends every event again under the same
idempotency key until each answers ``duplicate`` (stored). The figures say how many events that
confirmation had to carry again; the assertions, that in the end every event is stored once.
"""
from __future__ import annotations

import time
import uuid

import pytest

from modelops import tenants
from tests.faults.servers import private_redis, stack
from tests.faults.support import (
    CALLER, RECORD_BATCH, broker_backlog, chunks, collect, feedback_events, poll, send, stored,
)
from tests.callers import signed

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = 10_000
BATCH = 50
DOWN_FOR = 2.0
QUIET_FOR = 3.0  # seconds without a new row and with empty queues: the intake has done what it can
CONFIRMATION_ROUNDS = 3


def wait_until_quiet(owner, tenant, broker_url: str, timeout: float = 120) -> int:
    """The stored count once it has not moved for QUIET_FOR seconds with nothing left queued."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = stored(owner, tenant)[1]
        queued = sum(queue["queued"] for queue in broker_backlog(broker_url).values())
        if count != last or queued:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= QUIET_FOR:
            break
        time.sleep(0.2)
    return last


def confirm(client, events: list[dict], owner, tenant) -> list[int]:
    """Send every event again until all answer duplicate; the number each round carried again."""
    carried = []
    for _ in range(CONFIRMATION_ROUNDS):
        sent = [send(client, RECORD_BATCH, kwargs=signed(RECORD_BATCH, CALLER, events=batch)) for batch in chunks(events, 500)]
        answers = collect(client, sent, timeout=120)
        assert all(answer and answer["status"] == "SUCCESS" for answer in answers), "a confirmation batch failed"
        again = sum(answer["result"]["counts"].get("accepted", 0) for answer in answers)
        carried.append(again)
        if not again:
            break
        poll(lambda: stored(owner, tenant)[1] >= len(events), timeout=60)
    return carried


def test_redis_restarted_during_an_intake_loses_nothing(database, owner, tmp_path, figures):
    tenant = tenants.create_tenant(f"faults-redis-restart-{uuid.uuid4().hex[:6]}")
    tenants.add_member(tenant, CALLER)
    with private_redis(durable=True) as broker, stack(tmp_path / "workers", broker.url()) as workers:
        workers.start("ingest")
        workers.start("privacy")
        events = feedback_events(tenant, EVENTS, f"redis-restart-{tenant}")
        sent = [send(workers.client, RECORD_BATCH, kwargs=signed(RECORD_BATCH, CALLER, events=batch)) for batch in chunks(events, BATCH)]

        assert poll(lambda: stored(owner, tenant)[1] >= EVENTS // 4, timeout=120), "the intake did not get going"
        at_crash = stored(owner, tenant)[1]
        crashed = time.monotonic()
        broker.crash()
        time.sleep(DOWN_FOR)
        broker.start()
        back = time.monotonic()
        resumed = poll(lambda: stored(owner, tenant)[1] > at_crash, timeout=120, interval=0.02)
        recovered = time.monotonic() - back
        before_confirmation = wait_until_quiet(owner, tenant, broker.url())
        answers = collect(workers.client, sent, timeout=5)
        held = broker_backlog(broker.url())
        carried = confirm(workers.client, events, owner, tenant)
        drained = time.monotonic() - back
        rows, keys = stored(owner, tenant)
        exited = workers.group.exited()

    figures.report(sent=EVENTS, stored=keys, duplicates=rows - keys, lost=EVENTS - keys, stored_at_crash=at_crash,
                   outage=back - crashed, time_to_recover=recovered, time_to_drain=drained,
                   stored_before_confirmation=before_confirmation, carried_again_by_confirmation=carried,
                   unanswered_batches=sum(1 for answer in answers if not answer),
                   held_unacknowledged=sum(queue["unacked"] for queue in held.values()))
    assert resumed, f"nothing was stored after Redis came back: {figures.line()}"
    assert (rows, keys) == (EVENTS, EVENTS), figures.line()
    assert carried[-1] == 0, f"the last confirmation round still carried events: {figures.line()}"
    assert not exited, f"workers exited: {exited}"
