"""Each envelope is used once: its nonce is remembered (in Redis) for longer than it stays fresh.

A nonce seen again under the same task id is the same message delivered again (a retry, or a
redelivery after a lost worker), which the tasks handle as such (feedback is idempotent); under
another task id it is a replay, refused.
"""
from __future__ import annotations

from typing import Iterable

import redis

from modelops.auth.envelope import FRESHNESS_SECONDS

# Long enough that an envelope is stale (refused on its time) before its nonce is forgotten.
REMEMBER_SECONDS = 2 * FRESHNESS_SECONDS + 60
PREFIX = "modelops:nonce:"


def first_uses(client: redis.Redis, uses: Iterable[tuple[str, str, str]]) -> list[bool]:
    """For each (service, nonce, task id): whether the nonce is new, or was seen with this task id."""
    uses = list(uses)
    keys = [f"{PREFIX}{service}:{nonce}" for service, nonce, _ in uses]
    with client.pipeline(transaction=False) as pipe:
        for key, (_, _, task_id) in zip(keys, uses):
            pipe.set(key, task_id, nx=True, ex=REMEMBER_SECONDS)
        claimed = pipe.execute()
    seen = [index for index, fresh in enumerate(claimed) if not fresh]
    if seen:
        with client.pipeline(transaction=False) as pipe:
            for index in seen:
                pipe.get(keys[index])
            for index, holder in zip(seen, pipe.execute()):
                claimed[index] = holder is not None and holder.decode() == uses[index][2]
    return [bool(fresh) for fresh in claimed]
