"""How many messages wait in each queue, read from the broker (Redis or RabbitMQ) directly."""
from __future__ import annotations

import amqp.exceptions
import redis
from kombu import Connection
from kombu.exceptions import OperationalError as KombuOperationalError

from modelops.config import is_amqp

# A dashboard must not hang on a broker that is down.
TIMEOUT = 2

# Kombu keeps a Redis queue as one list per priority step: the bare name for the default
# priority, "<name>\x06\x16<step>" for the others.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)


class BrokerUnavailable(RuntimeError):
    """The broker did not answer; the message names the error's kind."""


def broker(url: str) -> redis.Redis:
    """A Redis client that fails fast."""
    return redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)


def waiting(url: str, queues: tuple[str, ...]) -> dict[str, int]:
    """{queue: ready messages} on the broker ``url`` names; raises BrokerUnavailable."""
    try:
        return _declared_lengths(url, queues) if is_amqp(url) else lengths(broker(url), queues)
    except (redis.RedisError, amqp.exceptions.AMQPError, KombuOperationalError, OSError) as error:
        raise BrokerUnavailable(type(error).__name__) from error


def _declared_lengths(url: str, queues: tuple[str, ...]) -> dict[str, int]:
    """RabbitMQ's count of each queue's ready messages, by a passive declaration (which changes
    nothing). A queue no worker has declared yet holds nothing: its refusal closes only the channel."""
    counts = {}
    with Connection(url, connect_timeout=TIMEOUT) as connection:
        connection.ensure_connection(max_retries=1, timeout=TIMEOUT)
        for queue in queues:
            channel = connection.channel()
            try:
                counts[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except amqp.exceptions.NotFound:
                counts[queue] = 0
            finally:
                channel.close()
    return counts


def lengths(client: redis.Redis, queues: tuple[str, ...]) -> dict[str, int]:
    """{queue: ready messages} in Redis; raises redis.RedisError when it does not answer."""
    pipeline = client.pipeline(transaction=False)
    for queue in queues:
        for key in (queue, *(f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS)):
            pipeline.llen(key)
    counts = pipeline.execute()
    per_queue = 1 + len(PRIORITY_STEPS)
    return {queue: sum(counts[i * per_queue:(i + 1) * per_queue]) for i, queue in enumerate(queues)}
