"""The run's broker: Redis (the default), or RabbitMQ with ``pytest --broker amqp``.

A RabbitMQ run uses the server ``MODELOPS_TEST_AMQP_URL`` names (default guest on 127.0.0.1:5672,
vhost ``/``) as its broker, and Redis as every run does, for results, counters and caches. Where
no RabbitMQ answers (CI's namespace, a laptop without one), every test of the run is skipped with
the reason, and no server is found or started. The queues are purged when the run's broker is
first used (tests/fixtures.py), so a run starts from empty queues; a second run beside names
another vhost.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from modelops import devstack
from modelops.config import redact

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
STASH = pytest.StashKey["RabbitMQ"]()


@dataclass(frozen=True)
class RabbitMQ:
    url: str
    skipped: str | None  # why the run's tests cannot run, when they cannot

    def describe(self) -> str:
        return f"RabbitMQ at {redact(self.url)}" + (f" (every test skipped: {self.skipped})" if self.skipped else "")


def rabbitmq() -> RabbitMQ:
    url = os.environ.get("MODELOPS_TEST_AMQP_URL") or DEFAULT_AMQP_URL
    try:
        devstack.check_broker(url)
    except devstack.ServiceError as error:
        return RabbitMQ(url, f"no RabbitMQ to run on: {error}")
    return RabbitMQ(url, None)


def on_rabbitmq(config) -> bool:
    return config.getoption("broker") == "amqp"


def skip_what_cannot_run(config, items) -> None:
    """Every test, when the run's RabbitMQ does not answer; the tests that watch Redis as the
    broker, on RabbitMQ."""
    rabbitmq_found = config.stash.get(STASH, None)
    if rabbitmq_found is not None and rabbitmq_found.skipped:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=rabbitmq_found.skipped))
    elif on_rabbitmq(config):
        for item in items:
            if item.get_closest_marker("redis_broker"):
                item.add_marker(pytest.mark.skip(reason="watches Redis as the broker; this run's broker is RabbitMQ"))


def purge(url: str, queues) -> None:
    """Empty ``queues`` on the RabbitMQ ``url`` names (those not declared yet are empty already)."""
    from kombu import Connection
    import amqp.exceptions

    with Connection(url) as connection:
        for queue in queues:
            channel = connection.channel()
            try:
                channel.queue_purge(queue)
            except amqp.exceptions.NotFound:
                pass
            finally:
                channel.close()
