"""Every feedback event delivered twice: the effect is that of one delivery.

Each batch message is published twice, back to back, so that the two copies are often taken by
two worker processes at the same moment: whichever is admitted second either finds the events
stored (``duplicate``) or, when both pass admission together, is absorbed by the unique key when
it stores them. Each event answers a logged prediction, so its effect has
three parts, each checked: one training row, the prediction's verdict, and the model version's
metric counts (folded into ai.model_metrics by the metrics task).
"""
from __future__ import annotations

import uuid
from collections import Counter

import pytest
from sqlalchemy import text

from modelops import tenants
from tests.faults.servers import private_redis, stack
from tests.faults.support import (
    CALLER, RECORD_BATCH, chunks, collect, expected_counts, feedback_events, idle, logged_predictions, metric_counts,
    poll, send, stored,
)
from tests.callers import signed

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = 2_000
BATCH = 100
FOLD = "modelops.metrics.fold_counters"


def answered_predictions(owner, version) -> dict:
    with owner.connect() as connection:
        row = connection.execute(text("""
            SELECT count(*) FILTER (WHERE was_correct IS NOT NULL), count(*) FILTER (WHERE was_correct),
                   count(*) FILTER (WHERE user_override)
            FROM ai.prediction_log WHERE model_version_id = :v"""), {"v": version}).one()
    return dict(zip(("labelled_predictions", "correct_predictions", "user_overrides"), row))


def test_every_feedback_event_delivered_twice_has_the_effect_of_one(database, owner, tmp_path, figures):
    tenant = tenants.create_tenant(f"faults-twice-{uuid.uuid4().hex[:6]}")
    tenants.add_member(tenant, CALLER)
    version, predictions = logged_predictions(owner, tenant, EVENTS)
    events = feedback_events(tenant, EVENTS, f"twice-{tenant}", prediction_ids=predictions)
    with private_redis() as broker, stack(tmp_path / "workers", broker.url()) as workers:
        workers.start("ingest")
        workers.start("privacy")
        workers.start("monitoring")
        deliveries = [send(workers.client, RECORD_BATCH, kwargs=signed(RECORD_BATCH, CALLER, events=batch))
                      for batch in chunks(events, BATCH) for _ in range(2)]
        answers = collect(workers.client, deliveries, timeout=180)
        poll(lambda: stored(owner, tenant)[1] >= EVENTS, timeout=120)
        assert poll(lambda: idle(broker.url()), timeout=120), "the intake did not finish"
        (folded,) = collect(workers.client, [send(workers.client, FOLD)], timeout=60)
        rows, keys = stored(owner, tenant)
        counted = metric_counts(owner, version)

    verdicts = Counter()
    for answer in answers:
        verdicts.update(answer["result"]["counts"] if answer and answer["status"] == "SUCCESS" else {"unanswered": BATCH})
    expected = expected_counts(EVENTS)
    figures.report(sent=2 * EVENTS, events=EVENTS, stored=keys, duplicates=rows - keys, lost=EVENTS - keys,
                   verdicts=dict(verdicts), absorbed_by_the_store=verdicts["accepted"] - keys, metrics=counted, folded_labelled=folded["result"]["labelled"])
    assert (rows, keys) == (EVENTS, EVENTS), figures.line()
    assert verdicts["accepted"] + verdicts["duplicate"] == 2 * EVENTS, figures.line()
    assert answered_predictions(owner, version) == expected, figures.line()
    assert counted == expected, f"metric counts {counted} != {expected}: {figures.line()}"
