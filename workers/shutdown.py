"""A stopping worker gives back the work it took without acknowledgement and has not begun.

A queue consumed without acknowledgement (celeryconfig.UNACKNOWLEDGED_QUEUES) keeps no copy of a
message once a worker has read it. At a warm stop (SIGTERM, as a deploy stops a worker) Celery
answers what its pool processes have begun, but its consumer's ``on_close`` drops the work still
held in the main process, counting on the broker to deliver again whatever was not acknowledged:

- requests waiting for a free pool process (the worker's semaphore);
- jobs given to the prefork pool and not yet written to a process;
- and, never handed to Celery's pool at all, the requests a celery-batches task has gathered.

Here that work is published again, as it came, just before Celery drops it, for the next worker.
None of it has begun, so none is answered twice. Two of Celery's ways at a stop are corrected on
the way: a read the broker is still answering is taken in first (its message would be lost), and
jobs already written to a process stay counted, so that the stop waits for their answers. When
the consumer closes to reconnect after a broker failure, Celery's behaviour is kept: the broker is
gone, and there is nothing to publish to. On RabbitMQ every queue is acknowledged, so there is
nothing of ours to give back: the broker delivers again what the closing connection held unacknowledged.

What a worker holds is Celery's, billiard's and celery-batches' private state: it is reached
through workers/internals.py, where those parts are listed and checked.
"""
from __future__ import annotations

import logging

from celery.worker.consumer import Consumer
from celery_batches import Batches

from workers import internals

log = logging.getLogger(__name__)

# A pool job that carries several requests (a celery-batches flush) names them under this attribute.
JOB_REQUESTS = "modelops_requests"


def unacknowledged_queues(app) -> set[str]:
    return {queue.routing_key for queue in app.conf.task_queues or () if queue.no_ack}


def ours_to_give_back(groups, queues: set[str]) -> list:
    """The requests of the groups read wholly from ``queues`` (those consumed without
    acknowledgement). A group with a message of an acknowledged queue is the broker's to deliver
    again, and a group is answered whole, so it is given back whole or not at all."""

    def unacknowledged(request) -> bool:
        return request is not None and request.delivery_info.get("routing_key") in queues

    return [request for group in groups if all(map(unacknowledged, group)) for request in group]


def _gathered(tasks) -> list[list]:
    """The requests batches tasks have gathered and not handed to the pool, one group each."""
    return [[request] for task in tasks if isinstance(task, Batches) for request in internals.take_gathered(task)]


def _not_begun(pool) -> list[list]:
    """The requests the pool has not begun, in the groups each would be given back in: a task
    request waiting for a free process or in an unwritten job, and each unwritten batches job."""
    groups = []
    for request in internals.reserved_requests():
        job = internals.pool_job(request)
        if job is None or internals.unwritten(job):
            groups.append([request])
    groups += [getattr(job, JOB_REQUESTS) for job in internals.pool_jobs(pool)
               if hasattr(job, JOB_REQUESTS) and internals.unwritten(job)]
    return groups


def _publish_again(producer, message, retry_policy) -> None:
    producer.publish(
        message.body, exchange=message.delivery_info.get("exchange", ""),
        routing_key=message.delivery_info["routing_key"], headers=message.headers,
        content_type=message.content_type, content_encoding=message.content_encoding,
        priority=message.properties.get("priority"), correlation_id=message.properties.get("correlation_id"),
        reply_to=message.properties.get("reply_to"),
        # a few tries, then give up: a worker must still stop when the broker is gone
        retry=True, retry_policy=retry_policy)


class GivingBackConsumer(Consumer):
    """Celery's consumer, which gives back the unacknowledged work it holds when the worker stops."""

    def on_close(self) -> None:
        if internals.stopping():
            internals.take_reply_in_flight(getattr(self.task_consumer, "channel", None))
            self.give_back_unstarted()
            internals.finish_begun_writes(self.pool)
            internals.hold_written(self.pool)
        super().on_close()

    def give_back_unstarted(self) -> None:
        groups = _gathered(self.app.tasks.values()) + _not_begun(self.pool)
        requests = ours_to_give_back(groups, unacknowledged_queues(self.app))
        if not requests:
            return
        with self.app.producer_or_acquire() as producer:
            for request in requests:
                _publish_again(producer, request.message, self.app.conf.task_publish_retry_policy)
        log.warning("stopping: %d requests taken and not begun put back on their queue", len(requests))
