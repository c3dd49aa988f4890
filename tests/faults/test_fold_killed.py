"""A metrics fold killed half-way, on either side of its commit: every count lands exactly once.

Feedback on logged predictions is counted in Redis by the intake; the public task
``modelops.metrics.fold_counters`` moves the counts aside and adds them to ``ai.model_metrics``.
The monitoring worker is held at a stage of its fold (``MODELOPS_TEST_FOLD_STALL``) and killed there
with SIGKILL, as a host that vanishes: first after the counts were moved aside and before they were
committed (nothing may be lost), then after the commit and before the moved counts were deleted
(nothing may be counted twice). A fresh worker's next fold must finish the job.
"""
from __future__ import annotations

import time
import uuid

import pytest
import redis
from sqlalchemy import text

from modelops import tenants
from tests.faults.servers import private_redis, stack
from tests.faults.support import (
    CALLER, RECORD_BATCH, chunks, collect, expected_counts, feedback_events, idle, logged_predictions, metric_counts,
    poll, send, stored,
)
from tests.callers import signed

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FOLD = "modelops.metrics.fold_counters"
PENDING = "modelops:metrics:pending"  # the folds moved aside and not yet finished (modelops.monitoring.counters)
ROUND = 300  # feedback events per round
STALL = "60"  # seconds a doomed fold is held at its stage; it is killed long before


def deliver(client, broker_url, owner, tenant, events) -> None:
    answers = collect(client, [send(client, RECORD_BATCH, kwargs=signed(RECORD_BATCH, CALLER, events=batch))
                               for batch in chunks(events, 100)], timeout=120)
    assert all(answer and answer["status"] == "SUCCESS" for answer in answers), answers
    assert poll(lambda: stored(owner, tenant)[1] >= int(events[-1]["idempotency_key"].rsplit("-", 1)[1]) + 1, timeout=120)
    assert poll(lambda: idle(broker_url), timeout=60), "the intake did not finish"


def pending_folds(broker_url) -> set[str]:
    client = redis.Redis.from_url(broker_url)
    try:
        return {member.decode() for member in client.smembers(PENDING)}
    finally:
        client.close()


def in_ledger(owner, fold_ids) -> bool:
    with owner.connect() as connection:
        return bool(connection.execute(text("SELECT count(*) FROM ai.metric_folds WHERE fold_id = ANY(:ids)"),
                                       {"ids": list(fold_ids)}).scalar())


def test_a_fold_killed_half_way_leaves_every_count_exact(database, owner, tmp_path, figures):
    tenant = tenants.create_tenant(f"faults-fold-{uuid.uuid4().hex[:6]}")
    tenants.add_member(tenant, CALLER)
    version, predictions = logged_predictions(owner, tenant, 2 * ROUND)
    events = feedback_events(tenant, 2 * ROUND, f"fold-{tenant}", prediction_ids=predictions)
    with private_redis() as broker, stack(tmp_path / "workers", broker.url()) as workers:
        url, client = broker.url(), workers.client
        workers.start("ingest")
        workers.start("privacy")

        # 1. killed with the first round's counts moved aside, before its commit
        deliver(client, url, owner, tenant, events[:ROUND])
        workers.start("monitoring", name="doomed-before-commit", MODELOPS_TEST_FOLD_STALL=f"moved:{STALL}")
        send(client, FOLD)
        moved = poll(lambda: pending_folds(url), timeout=60)
        workers.kill("doomed-before-commit")
        after_first_kill = metric_counts(owner, version)

        # 2. the second round counted meanwhile; the next fold commits the first round's pending
        # counts and is killed before it deletes them
        deliver(client, url, owner, tenant, events[ROUND:])
        workers.start("monitoring", name="doomed-after-commit", MODELOPS_TEST_FOLD_STALL=f"committed:{STALL}")
        send(client, FOLD)
        assert poll(lambda: in_ledger(owner, moved), timeout=60), "the pending fold was not committed"
        workers.kill("doomed-after-commit")
        after_second_kill = metric_counts(owner, version)
        still_pending = pending_folds(url)

        # 3. a healthy worker's fold finishes both
        recovering = time.monotonic()
        workers.start("monitoring", name="healthy")
        (folded,) = collect(client, [send(client, FOLD)], timeout=60)
        report = folded["result"]
        recovered = time.monotonic() - recovering
        counted = metric_counts(owner, version)
        left = pending_folds(url)

    expected = expected_counts(2 * ROUND)
    figures.report(sent=2 * ROUND, counted=counted["labelled_predictions"],
                   duplicates=max(0, counted["labelled_predictions"] - 2 * ROUND),
                   lost=max(0, 2 * ROUND - counted["labelled_predictions"]), kills=2,
                   counted_after_kill_before_commit=after_first_kill["labelled_predictions"],
                   counted_after_kill_after_commit=after_second_kill["labelled_predictions"],
                   time_to_recover=recovered, folds_finished_by_the_healthy_worker=len(report["already_folded"]),
                   folds_added_by_the_healthy_worker=len(report["folds"]))
    assert after_first_kill == expected_counts(0), f"a fold killed before its commit added counts: {figures.line()}"
    assert after_second_kill == expected_counts(ROUND), figures.line()
    assert still_pending == moved, "the fold killed after its commit should have left its counts pending"
    assert report["already_folded"] == sorted(moved), figures.line()
    assert counted == expected, f"metric counts {counted} != {expected}: {figures.line()}"
    assert not left, f"folds left pending: {left}"
