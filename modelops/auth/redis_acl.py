"""Redis ACL rules for a calling service: defence in depth behind the signed envelopes.

With a Redis user of its own, a service can only put calls on the two public queues and read its
own results: it cannot push onto the internal queues (scrub, train, rollback...), take other
services' requests off ``predict``, or read their answers, whatever credential it holds. Its
task ids must begin with its name (``task_id=f"{name}-{uuid4()}"``), which is how its results are
told from others'.
"""
from __future__ import annotations

PUBLIC_QUEUES = ("ingest", "predict")


def rules(service: str) -> list[str]:
    """The ``ACL SETUSER`` rules of the service's Redis user (its password is added by the caller)."""
    results = f"celery-task-meta-{service}-*"
    return [
        "on", "resetkeys", "resetchannels", "-@all",
        # connecting: the handshake and database selection that redis-py and kombu send
        "+hello", "+auth", "+ping", "+select",
        # calling: kombu looks the queue's binding up (and declares it), then pushes the message
        "+multi", "+exec", "+discard", "+smembers", "+sadd", "~_kombu.binding*",
        # (kombu also sizes each queue's priority lists, named after the queue)
        "+lpush", "+llen", *(f"~{queue}*" for queue in PUBLIC_QUEUES),
        # answers: each result is stored under its task id and announced on a channel of that name
        "+get", "+mget", f"~{results}", "+subscribe", "+unsubscribe", f"&{results}",
    ]


def setuser_command(service: str, password: str) -> list[str]:
    """``ACL SETUSER <service> <rules> ><password>`` as arguments, for a Redis client or redis-cli."""
    return ["ACL", "SETUSER", service, *rules(service), f">{password}"]
