"""Postgres crashes and restarts while the intake stores 10,000 feedback events: every event is
stored exactly once.

The scenario runs its own Postgres cluster (the machine's shared server is never restarted) and
its own broker, with the ingest and privacy pools as a deployment runs them. Postgres is stopped
the hard way (an immediate shutdown: every connection cut mid-transaction, no checkpoint) once a
quarter of the events are stored, kept down for a moment, and started again; the tasks that meet
the outage retry, and the idempotency keys absorb whatever is stored twice.
"""
from __future__ import annotations

import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, pool

from modelops import db, migrations, tenants
from tests.faults.servers import private_postgres, private_redis, stack
from tests.faults.support import CALLER, RECORD_BATCH, chunks, collect, feedback_events, poll, send, stored
from tests.callers import signed

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = 10_000
BATCH = 50
DOWN_FOR = 2.0  # seconds Postgres stays down: long enough that every worker process meets the outage


def test_postgres_restarted_during_an_intake_of_10000_events_stores_each_exactly_once(tmp_path, monkeypatch, figures):
    with private_postgres() as postgres, private_redis() as broker:
        url = postgres.url()
        migrations.ensure_database(url)
        migrations.upgrade(database_url=url)
        monkeypatch.setenv("DATABASE_URL", url)  # this process's own calls (the tenant) go to the private cluster too
        owner = create_engine(url, poolclass=pool.NullPool)
        try:
            tenant = tenants.create_tenant("faults-postgres-restart")
            tenants.add_member(tenant, CALLER)
            with stack(tmp_path / "workers", broker.url(), DATABASE_URL=url) as workers:
                workers.start("ingest")
                workers.start("privacy")
                events = feedback_events(tenant, EVENTS, "pg-restart")
                sent = [send(workers.client, RECORD_BATCH, kwargs=signed(RECORD_BATCH, CALLER, events=batch))
                        for batch in chunks(events, BATCH)]

                assert poll(lambda: stored(owner, tenant)[1] >= EVENTS // 4, timeout=120), "the intake did not get going"
                at_crash = stored(owner, tenant)[1]
                crashed = time.monotonic()
                postgres.crash()
                time.sleep(DOWN_FOR)
                postgres.start()
                back = time.monotonic()
                resumed = poll(lambda: stored(owner, tenant)[1] > at_crash, timeout=120, interval=0.02)
                recovered = time.monotonic() - back
                poll(lambda: stored(owner, tenant)[1] >= EVENTS, timeout=180)
                drained = time.monotonic() - back
                answers = collect(workers.client, sent, timeout=60)
                rows, keys = stored(owner, tenant)
        finally:
            owner.dispose()
            db.dispose_engines()

    verdicts = Counter(result["status"] for answer in answers if answer and answer["status"] == "SUCCESS"
                       for result in answer["result"]["results"])
    figures.report(sent=EVENTS, stored=keys, duplicates=rows - keys, lost=EVENTS - keys, stored_at_crash=at_crash,
                   outage=back - crashed, time_to_recover=recovered, time_to_drain=drained,
                   batches_answered=sum(1 for answer in answers if answer and answer["status"] == "SUCCESS"),
                   verdicts=dict(verdicts))
    assert resumed, f"nothing was stored after Postgres came back: {figures.line()}"
    assert (rows, keys) == (EVENTS, EVENTS), figures.line()
    failed = [answer for answer in answers if not answer or answer["status"] != "SUCCESS"]
    assert not failed, f"{len(failed)} batches did not succeed, e.g. {failed[:1]}: {figures.line()}"
    # a batch retried after Postgres came back may find its events stored already by its first try
    assert verdicts["accepted"] + verdicts["duplicate"] == EVENTS and set(verdicts) <= {"accepted", "duplicate"}, figures.line()
