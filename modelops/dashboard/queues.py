"""How many messages wait in each queue, read from the broker (Redis) directly."""
from __future__ import annotations

import redis

# Kombu keeps a Redis queue as one list per priority step: the bare name for the default
# priority, "<name>\x06\x16<step>" for the others.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)


def broker(url: str) -> redis.Redis:
    """A client that fails fast: a dashboard must not hang on a broker that is down."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def lengths(client: redis.Redis, queues: tuple[str, ...]) -> dict[str, int]:
    """{queue: ready messages}; raises redis.RedisError when the broker does not answer."""
    pipeline = client.pipeline(transaction=False)
    for queue in queues:
        for key in (queue, *(f"{queue}{PRIORITY_SEPARATOR}{step}" for step in PRIORITY_STEPS)):
            pipeline.llen(key)
    counts = pipeline.execute()
    per_queue = 1 + len(PRIORITY_STEPS)
    return {queue: sum(counts[i * per_queue:(i + 1) * per_queue]) for i, queue in enumerate(queues)}
