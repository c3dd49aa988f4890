"""Celery settings: where the broker and results live, the queues (declared once, here), routes,
serialisation and delivery guarantees. Imports nothing of ours but the beat schedule.

Every URL comes from the environment, so that a host joins a deployment by exporting them:
REDIS_URL (results, counters, caches; and the broker by default), BROKER_URL (another broker:
RabbitMQ, ``amqp://``), RESULT_BACKEND_URL (defaults to Redis). The database URL is read by the
domain package from DATABASE_URL; Celery itself never touches the database.
"""
import os
from urllib.parse import urlparse

from kombu import Exchange, Queue

from beat_schedule import beat_schedule  # noqa: F401  (Celery reads it from this module)

# (the defaults modelops.config.Settings gives the domain's processes)
_redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
broker_url = os.environ.get("BROKER_URL") or _redis_url
result_backend = os.environ.get("RESULT_BACKEND_URL") or _redis_url
ON_RABBITMQ = urlparse(broker_url).scheme in ("amqp", "amqps", "pyamqp")
# kombu's Redis transport, reading a queue consumed without acknowledgement many messages per round
# trip (workers/broker.py). Other schemes (sentinel://, redis+socket://) keep kombu's own.
if urlparse(broker_url).scheme in ("redis", "rediss"):
    broker_transport = "workers.broker:Transport"

# One queue per kind of work; a worker pool is a set of processes that consume some of them.
QUEUES = {
    "ingest": "feedback events from other services",
    "scrub": "PII scrubbing before anything is stored",
    "train": "model training jobs (long)",
    "evaluate": "A/B test evaluations and shadow replays",
    "metrics": "folding prediction and feedback counters into the metric tables",
    "rollback": "rollback checks and rollbacks (must never wait behind long work)",
    "predict": "predictions for other services (short, latency-sensitive)",
    "maintenance": "partitions, retention, stale claims, housekeeping",
    # A client without our routes sends to Celery's default queue unless it names one; such
    # messages are still carried out (by the maintenance pool), not left to sit unread.
    "celery": "messages from clients that named no queue",
}
# On Redis, predictions are consumed without acknowledgement. There an acknowledged message costs
# the consumer two MULTI/EXEC round trips (recording it as unacknowledged, then clearing it): 60% of
# a serving worker's main process, and half its single-message throughput. A prediction gains
# nothing from them: it is not idempotent (each makes an audit row), so it must not be redelivered,
# and one redelivered after the visibility timeout would answer a caller long gone. A worker that
# dies loses the requests it held; their callers' .get() times out and they may ask again.
# RabbitMQ acknowledges natively, on the connection the message came by: predictions are
# acknowledged there as the worker begins them (the tasks are not acks_late), so the broker gives
# back to the next worker what a stopped or dead one held and had not begun, and limits what one
# worker takes at once (its prefetch).
UNACKNOWLEDGED_QUEUES = set() if ON_RABBITMQ else {"predict"}
# On RabbitMQ the queues only our own processes send to are quorum queues: replicated over a
# cluster's nodes, written to disk, and delivered again when a worker fails, as Redis's visibility
# timeout does. Their exchanges are topics, so that a task retried with a countdown waits in
# RabbitMQ's delayed-delivery queues rather than in a worker's memory (a quorum queue has no global
# prefetch to grow for it). The queues other services send to stay classic, durable queues with
# direct exchanges, since every Celery client (of any language) declares the queue it names that
# way, and RabbitMQ refuses a declaration that differs from the queue's: a quorum `ingest` would
# refuse every plain client. Their messages are persistent and survive a broker restart; they are
# not replicated (docs/brokers.md). RabbitMQ 3.8 or later.
CLIENT_QUEUES = {"predict", "ingest", "celery"}


def _queue(name: str) -> Queue:
    if not ON_RABBITMQ:
        return Queue(name, routing_key=name, no_ack=name in UNACKNOWLEDGED_QUEUES)
    if name in CLIENT_QUEUES:  # the exchange a plain client declares for the queue it names
        return Queue(name, Exchange(name, type="direct"), routing_key=name)
    return Queue(name, Exchange(name, type="topic"), routing_key=name, queue_arguments={"x-queue-type": "quorum"})


task_queues = tuple(_queue(name) for name in QUEUES)
task_default_queue = "maintenance"
task_create_missing_queues = False

# Task names are modelops.<area>.<verb_noun>; the area decides the queue.
task_routes = {
    "modelops.feedback.*": {"queue": "ingest"},
    "modelops.privacy.*": {"queue": "scrub"},
    "modelops.training.*": {"queue": "train"},
    "modelops.experiments.*": {"queue": "evaluate"},
    "modelops.metrics.*": {"queue": "metrics"},
    "modelops.rollback.*": {"queue": "rollback"},
    "modelops.serving.*": {"queue": "predict"},
    # reproducing a logged prediction is a replay, like the shadow replays: off the latency-sensitive queue
    "modelops.audit.*": {"queue": "evaluate"},
    "modelops.maintenance.*": {"queue": "maintenance"},
    # Rebuilding the aggregates reads every opted-in tenant: it runs where the system role is, not on
    # the scrub queue, whose pool other services can reach and so runs as the front-facing role alone
    # (an exact name wins over the globs).
    "modelops.privacy.build_aggregates": {"queue": "maintenance"},
    # Judging production against the version before it replays both models on thousands of rows:
    # a replay, off the rollback queue, which never waits behind long work.
    "modelops.rollback.check_against_previous": {"queue": "evaluate"},
}

# JSON only: other services send plain JSON, and nothing received is ever unpickled.
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
result_accept_content = ["json"]
result_expires = int(os.environ.get("MODELOPS_RESULT_EXPIRES", 3600))

# Every task is idempotent by a natural key, so a message is acknowledged only after its task
# finished, and a worker that dies mid-task leaves it to be redelivered.
task_acks_late = True
task_reject_on_worker_lost = True
# Long queues take one message at a time; the short-task pools raise this on their command line.
worker_prefetch_multiplier = 1
# A stopping worker publishes again the unacknowledged messages it holds and has not begun
# (workers/shutdown.py); Celery's own consumer drops them.
worker_consumer = "workers.shutdown:GivingBackConsumer"
# With acks_late on Redis, an unacknowledged message returns to its queue after this many seconds;
# it must exceed the longest task (training). (RabbitMQ gives a message back when the connection
# that took it closes, and needs no such timeout.)
broker_transport_options = {"visibility_timeout": int(os.environ.get("MODELOPS_VISIBILITY_TIMEOUT", 3600))}
if ON_RABBITMQ:
    # A message is sent once RabbitMQ has taken it (publisher confirms): a call that returns has
    # its message on the queue, as a Redis LPUSH that returned does.
    broker_transport_options = {"confirm_publish": True}
broker_connection_retry_on_startup = True

# Task events on, so that Flower sees every task by name from sent to done.
worker_send_task_events = True
task_send_sent_event = True
task_track_started = True

enable_utc = True
timezone = "UTC"
