"""Which broker the settings name, and how the queues are declared on each (celeryconfig)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelops.config import Settings
from modelops.devstack import ServiceError, check_broker, check_redis

PROJECT = Path(__file__).resolve().parents[2]
AMQP = "amqp://guest:guest@rabbit.example:5672/prod"
REDIS = "redis://redis.example:6379/0"

# celeryconfig is read at import: each broker's declarations are read in a fresh interpreter
DECLARATIONS = """
import json, celeryconfig
print(json.dumps({"broker": celeryconfig.broker_url, "results": celeryconfig.result_backend,
    "transport": getattr(celeryconfig, "broker_transport", None),
    "options": celeryconfig.broker_transport_options,
    "queues": {q.name: {"no_ack": q.no_ack, "arguments": q.queue_arguments, "exchange": q.exchange.name,
                        "type": q.exchange.type, "durable": q.durable} for q in celeryconfig.task_queues}}))
"""


def declarations(**env: str) -> dict:
    done = subprocess.run([sys.executable, "-c", DECLARATIONS], cwd=PROJECT, env={"PATH": "/usr/bin:/bin", **env},
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_the_broker_is_redis_unless_broker_url_names_another_and_results_stay_in_redis():
    assert Settings.from_env({"REDIS_URL": REDIS}).broker_url == REDIS
    chosen = Settings.from_env({"REDIS_URL": REDIS, "BROKER_URL": AMQP})
    assert (chosen.broker_url, chosen.redis_url, chosen.result_backend_url) == (AMQP, REDIS, REDIS)


def test_on_rabbitmq_the_queues_only_we_send_to_are_quorum_queues_and_every_queue_is_acknowledged():
    found = declarations(REDIS_URL=REDIS, BROKER_URL=AMQP)
    assert (found["broker"], found["results"], found["transport"]) == (AMQP, REDIS, None)
    assert found["options"] == {"confirm_publish": True}
    queues = found["queues"]
    assert not [name for name, queue in queues.items() if queue["no_ack"]]
    assert all(queue["durable"] for queue in queues.values())
    internal = {"scrub", "train", "evaluate", "metrics", "rollback", "maintenance"}
    for name in internal:
        assert queues[name]["arguments"] == {"x-queue-type": "quorum"}
        assert (queues[name]["exchange"], queues[name]["type"]) == (name, "topic")
    # what a plain Celery client declares for the queue it names: classic, a direct exchange of its name
    for name in set(queues) - internal:
        assert not queues[name]["arguments"] and (queues[name]["exchange"], queues[name]["type"]) == (name, "direct")
    assert set(queues) - internal == {"predict", "ingest", "celery"}


def test_on_redis_the_predict_queue_alone_is_read_without_acknowledgement_by_our_transport():
    found = declarations(REDIS_URL=REDIS)
    assert (found["broker"], found["results"], found["transport"]) == (REDIS, REDIS, "workers.broker:Transport")
    assert [name for name, queue in found["queues"].items() if queue["no_ack"]] == ["predict"]
    assert not [name for name, queue in found["queues"].items() if queue["arguments"]]


def test_a_rabbitmq_url_given_as_redis_url_is_refused_with_where_it_goes():
    with pytest.raises(ServiceError, match=r"not a Redis URL: amqp://guest:\*\*\*@rabbit.example:5672/prod .*BROKER_URL"):
        check_redis(AMQP)


def test_a_rabbitmq_that_does_not_answer_is_named_with_the_reason_and_no_password():
    with pytest.raises(ServiceError, match=r"^RabbitMQ at amqp://guest:\*\*\*@127\.0\.0\.1:1//: connection refused$"):
        check_broker("amqp://guest:secret@127.0.0.1:1//")
