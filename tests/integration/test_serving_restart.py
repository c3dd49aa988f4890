"""A serving worker stopped with requests in hand (SIGTERM, as a deploy stops it): what it had taken
and not begun (gathered singles, batches its pool had not started) goes back on the predict queue,
what its pool processes had begun is answered, and the next worker answers the rest, each once.

The workers use a broker of the scenario's own: another worker of the test session consuming the
predict queue would take requests the stopping worker is meant to hold."""
from __future__ import annotations

import time
import uuid

import pytest
import redis
from sqlalchemy import text

from modelops import tenants
from modelops.agents.synthetic import generate
from modelops.serving import MAX_BATCH_ITEMS
from tests.callers import signed_batch, signed_prediction
from tests.faults.servers import private_redis, stack
from tests.faults.support import collect, send
from tests.integration.serving_models import record_model

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PREDICT, PREDICT_BATCH = "modelops.serving.predict", "modelops.serving.predict_batch"
STOP_WAIT = 300  # seconds a warm stop may take: only a bound on a hung stop, nothing measured


def requests_for(tenant, n: int, seed: int, key: str) -> list[dict]:
    return [{"tenant_id": str(tenant), "agent_type": "classification", "input_data": input_data,
             "request_key": f"{key}-{uuid.uuid4()}"} for input_data, _ in generate("classification", n, seed=seed)]


def test_work_taken_and_not_begun_by_a_stopping_worker_is_answered_once_by_the_next(database, owner, tmp_path):
    tenant = tenants.create_tenant("serving-restart")
    record_model("classification", tenant, tenant_seed=11)
    # Three large batches per pool process: two are begun, the others wait in the pool unwritten.
    # The singles sent after them wait in the gathered buffer, since every process is busy.
    batches = [requests_for(tenant, MAX_BATCH_ITEMS, seed=seed, key="batch") for seed in range(13, 19)]
    singles = requests_for(tenant, 200, seed=12, key="single")
    calls = ([(PREDICT_BATCH, signed_batch(PREDICT_BATCH, items)) for items in batches]
             + [(PREDICT, signed_prediction(PREDICT, **item)) for item in singles])

    with private_redis() as server:
        broker = redis.Redis.from_url(server.url())
        with stack(tmp_path / "first", server.url()) as first:
            first.start("serving")
            client = first.client
            sent = [send(client, name, kwargs=kwargs) for name, kwargs in calls]
            deadline = time.monotonic() + 10
            while broker.llen("predict") and time.monotonic() < deadline:  # until the worker has taken them all
                time.sleep(0.01)
            assert broker.llen("predict") == 0
            # SIGTERM, then wait for the worker to finish the batches it began, however busy the
            # machine: a supervisor that SIGKILLs it sooner loses them, as the contract says
            first.group.stop(timeout=STOP_WAIT)

            unanswered = [meta for meta in collect(client, sent, timeout=0.5) if meta is None]
            assert unanswered, "the first worker answered everything before it stopped: nothing was tested"
            assert broker.llen("predict") == len(unanswered)  # each one not answered is back on the queue

            with stack(tmp_path / "second", server.url()) as second:
                second.start("serving")
                final = collect(client, sent, timeout=120)
    assert all(final), f"{final.count(None)} requests unanswered"
    answers = [meta["result"] for meta in final]
    statuses = [answer["status"] for answer in answers[len(batches):]]
    statuses += [item["status"] for answer in answers[:len(batches)] for item in answer]
    assert statuses == ["predicted"] * (len(singles) + len(batches) * MAX_BATCH_ITEMS)
    keys = [item["request_key"] for items in batches + [singles] for item in items]
    with owner.connect() as connection:
        logged = connection.execute(text("SELECT request_key, count(*) FROM ai.prediction_log WHERE request_key = ANY(:keys) "
                                         "GROUP BY request_key"), {"keys": keys}).all()
    assert len(logged) == len(keys) and {count for _, count in logged} == {1}  # each answered and logged exactly once
