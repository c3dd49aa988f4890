"""A serving worker stopped with requests in hand (SIGTERM, as a deploy stops it): the requests it
had gathered but not yet handed to its pool go back on the predict queue, and the next worker
answers each of them once."""
from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import text

from modelops import tenants
from modelops.agents.synthetic import generate
from modelops.serving import MAX_BATCH_ITEMS
from tests.fixtures import running_pool
from tests.integration.serving_models import record_model
from workers.app import app

pytestmark = pytest.mark.integration

PREDICT, PREDICT_BATCH = "modelops.serving.predict", "modelops.serving.predict_batch"


def requests_for(tenant, n: int, seed: int) -> list[dict]:
    return [{"tenant_id": str(tenant), "agent_type": "classification", "input_data": input_data}
            for input_data, _ in generate("classification", n, seed=seed)]


def test_requests_gathered_by_a_stopping_worker_are_answered_once_by_the_next(database, broker, owner, tmp_path):
    tenant = tenants.create_tenant("serving-restart")
    record_model("classification", tenant, tenant_seed=11)
    singles = [{**item, "request_key": f"restart-{uuid.uuid4()}"} for item in requests_for(tenant, 200, seed=12)]

    with running_pool(tmp_path / "first", "serving") as first:
        # one large batch for each of the two pool processes: both busy for a second or two, so the
        # singles wait in the gathered buffer
        for seed in (13, 14):
            app.send_task(PREDICT_BATCH, args=[requests_for(tenant, MAX_BATCH_ITEMS, seed=seed)])
        time.sleep(0.5)
        results = [app.send_task(PREDICT, kwargs=item) for item in singles]
        deadline = time.monotonic() + 10
        while broker.llen("predict") and time.monotonic() < deadline:  # until the worker has taken them all
            time.sleep(0.01)
        assert broker.llen("predict") == 0
        assert not any(result.ready() for result in results), "the pool was not busy: nothing was left gathered"
        first.stop()  # SIGTERM, then waits for the worker to finish

    unanswered = [result for result in results if not result.ready()]
    assert unanswered and broker.llen("predict") == len(unanswered)

    with running_pool(tmp_path / "second", "serving"):
        answers = [result.get(timeout=60) for result in results]
    assert all(answer["status"] == "predicted" for answer in answers)
    with owner.connect() as connection:
        logged = connection.execute(text("SELECT request_key, count(*) FROM ai.prediction_log WHERE request_key = ANY(:keys) "
                                         "GROUP BY request_key"), {"keys": [item["request_key"] for item in singles]}).all()
    assert len(logged) == 200 and {count for _, count in logged} == {1}  # each answered and logged exactly once
