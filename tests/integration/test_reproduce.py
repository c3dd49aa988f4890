"""Reproducing logged predictions in another worker process than the one that made them."""
from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from celery import Celery

from modelops import AGENT_TYPES, tenants
from modelops.agents import get_agent
from modelops.agents.synthetic import generate, reconciliation_cases
from modelops.config import settings
from modelops.supervisor import ProcessGroup
from tests.callers import signed_batch
from tests.fixtures import running_pool
from tests.integration.serving_models import record_model
from workers import pools
from workers.app import app

pytestmark = pytest.mark.integration

REPRODUCE = "modelops.audit.reproduce_prediction"
PREDICT_BATCH = "modelops.serving.predict_batch"
MODELOPS = str(Path(sys.executable).parent / "modelops")
PER_AGENT = 200
SAMPLE = 1000


def inputs_of(agent_type: str) -> list[dict]:
    if agent_type == "reconciliation":  # pairs and rankings, the two shapes the agent answers
        return [i for i, _ in generate(agent_type, PER_AGENT // 2, seed=61)] + [i for i, _ in reconciliation_cases(PER_AGENT // 2, seed=62)]
    return [i for i, _ in generate(agent_type, PER_AGENT, seed=61)]


def start_maker(client: Celery, log_dir: Path) -> tuple[ProcessGroup, str]:
    """A serving worker that alone consumes a queue of its own, so that it alone makes these predictions."""
    queue, hostname = f"predict-maker-{uuid.uuid4().hex[:8]}", f"maker-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    argv = pools.worker_command("serving", loglevel="WARNING")
    argv[argv.index("--hostname") + 1] = hostname
    group = ProcessGroup(log_dir, dict(os.environ))
    group.start("maker", argv)
    deadline = time.monotonic() + 90
    while not client.control.add_consumer(queue, destination=[hostname], reply=True, timeout=1.0):
        assert time.monotonic() < deadline and not group.exited(), f"the maker worker did not start (logs in {log_dir})"
    return group, queue


@pytest.fixture(scope="module")
def logged_predictions(database, broker, tmp_path_factory) -> list[dict]:
    """Predictions by all six agents, made by a serving worker whose every process has exited
    before the test reproduces any of them."""
    tenant = tenants.create_tenant("reproduce")
    for seed, agent_type in enumerate(AGENT_TYPES, start=1):
        # a tenant's own recipe: the chat model reads its sentence vectors, which must come out the same
        # in the reproducing process
        record_model(agent_type, tenant, tenant_seed=seed, config=get_agent(agent_type).default_config())
    client = Celery(broker=settings().redis_url, backend=settings().redis_url)
    group, queue = start_maker(client, tmp_path_factory.mktemp("maker"))
    maker = group.processes["maker"].pid
    try:
        batches = [[{"tenant_id": str(tenant), "agent_type": agent_type, "input_data": i} for i in inputs_of(agent_type)]
                   for agent_type in AGENT_TYPES]
        pending = [client.send_task(PREDICT_BATCH, kwargs=signed_batch(PREDICT_BATCH, batch), queue=queue) for batch in batches]
        answers = [answer for result in pending for answer in result.get(timeout=120)]
    finally:
        group.stop()
    with pytest.raises(ProcessLookupError):
        os.killpg(maker, 0)  # no process of the maker's session is left
    assert [a["status"] for a in answers] == ["predicted"] * len(answers)
    return answers


@pytest.fixture(scope="module")
def reproducer(database, broker, tmp_path_factory):
    """A fresh worker of the experiments pool, whose queue carries reproductions."""
    with running_pool(tmp_path_factory.mktemp("reproducer"), "experiments") as group:
        yield group


def test_a_thousand_predictions_of_all_six_agents_reproduce_identically(logged_predictions, reproducer):
    sample = random.Random(5).sample(logged_predictions, SAMPLE)
    assert set(Counter(a["agent_type"] for a in sample)) == set(AGENT_TYPES)
    pending = [app.send_task(REPRODUCE, args=[answer["prediction_id"]]) for answer in sample]
    results = [result.get(timeout=300) for result in pending]

    assert [r["status"] for r in results] == ["reproduced"] * SAMPLE
    for answer, result in zip(sample, results):
        assert result["prediction_id"] == answer["prediction_id"]
        assert result["model_version"]["id"] == answer["model_version"]["id"]
        assert result["original"]["output"] == answer["output"]
        assert result["reproduced"] == result["original"] and result["is_identical"] is True
        assert result["is_reproducible"] is True and result["environment"]["note"] is None


def test_an_unknown_or_malformed_prediction_id_gets_a_clear_error(reproducer):
    unknown = str(uuid.uuid4())
    assert app.send_task(REPRODUCE, args=[unknown]).get(timeout=60) == {
        "status": "not_found", "reason": f"prediction {unknown} is not in the audit log"}
    assert app.send_task(REPRODUCE, args=["last-tuesday"]).get(timeout=60) == {
        "status": "rejected", "reason": "prediction_id: 'last-tuesday' is not a UUID"}


def test_the_command_line_reproduces_a_prediction_and_refuses_an_unknown_one(logged_predictions):
    answer = logged_predictions[0]
    done = subprocess.run([MODELOPS, "reproduce", answer["prediction_id"], "--json"], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["is_identical"] is True and result["reproduced"]["output"] == answer["output"]

    unknown = str(uuid.uuid4())
    done = subprocess.run([MODELOPS, "reproduce", unknown], capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 2 and f"prediction {unknown} is not in the audit log" in done.stderr
