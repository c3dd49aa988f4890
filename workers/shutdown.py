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
"""
from __future__ import annotations

import inspect
import logging
from queue import Empty

from celery.worker import state as worker_state
from celery.worker.consumer import Consumer
from celery_batches import Batches

log = logging.getLogger(__name__)

# A pool job that carries several requests (a celery-batches flush) names them under this attribute.
JOB_REQUESTS = "modelops_requests"


def unacknowledged_queues(app) -> set[str]:
    return {queue.routing_key for queue in app.conf.task_queues or () if queue.no_ack}


def stopping() -> bool:
    # a warm stop sets should_stop to the exit code, 0 included
    return any(flag is not None and flag is not False for flag in (worker_state.should_stop, worker_state.should_terminate))


def _gathered(tasks) -> list:
    """The requests batches tasks hold and have not handed to the pool, taken out of their buffers."""
    taken = []
    for task in tasks:
        if isinstance(task, Batches):
            for waiting in (task._buffer, task._pending):
                while True:
                    try:
                        taken.append(waiting.get_nowait())
                    except Empty:
                        break
    return taken


def _unwritten(job) -> bool:
    """Whether no pool process has begun to read this job (billiard's ApplyResult)."""
    return not job._accepted and job._write_to is None


def ours_to_give_back(groups, queues: set[str]) -> list:
    """The requests of the groups read wholly from ``queues`` (those consumed without
    acknowledgement). A group with a message of an acknowledged queue is the broker's to deliver
    again, and a group is answered whole, so it is given back whole or not at all."""

    def unacknowledged(request) -> bool:
        return request is not None and request.delivery_info.get("routing_key") in queues

    return [request for group in groups if all(map(unacknowledged, group)) for request in group]


def _pool_jobs(pool) -> list:
    processes = getattr(pool, "_pool", None)  # billiard's pool, under the prefork TaskPool
    return list(processes._cache.values()) if processes is not None else []


def _not_begun(pool) -> list[list]:
    """The requests the pool has not begun, in the groups each would be given back in: a task
    request waiting for a free process or in an unwritten job, and each unwritten batches job."""
    groups = []
    for request in list(worker_state.reserved_requests):
        job = request._apply_result and request._apply_result()  # a weak reference, once handed to the pool
        if job is None or _unwritten(job):
            groups.append([request])
    groups += [getattr(job, JOB_REQUESTS) for job in _pool_jobs(pool) if hasattr(job, JOB_REQUESTS) and _unwritten(job)]
    return groups


def _finish_begun_writes(pool) -> None:
    """Write to its process the rest of each job whose writing has begun.

    A job larger than a pipe's buffer is written in pieces, as its process reads; the event loop
    that drives the writing has stopped, and Celery's flush finishes only the writes it still
    counts as active, so a job can be left half written: its process never runs it and the pool
    waits for its answer forever. Begun, it cannot be given back, so it is finished."""
    processes = getattr(pool, "_pool", None)
    for job in _pool_jobs(pool):
        writer = job._writer() if getattr(job, "_writer", None) else None
        if writer is not None and job._write_to is not None and inspect.getgeneratorstate(writer) == inspect.GEN_SUSPENDED:
            processes._flush_writer(job._write_to, writer)


def _hold_written(pool) -> None:
    """Count the jobs being written to a process, or written whole, as taken by it.

    Celery's flush drops from the pool's cache every job no process has acknowledged yet, these
    included, though the process will run them. With its cache empty the stopping pool no longer
    reads the processes' replies, and a process that finishes such a job waits 30 s for its reply
    to be read before it exits. Kept in the cache, they are waited for as any begun job is."""
    for job in _pool_jobs(pool):
        if not job._accepted and job._write_to is not None:
            job._accepted = True


def _take_reply_in_flight(consumer) -> None:
    """Take in the messages of a read the broker may be answering at this moment.

    A BRPOP sent before the stop is still waiting on the queues: it would take a message we put
    back and leave it unread in the closing connection. Its reply (a message, or nothing after the
    poll timeout) is delivered as any other, so what it brings is given back with the rest."""
    channel = getattr(consumer.task_consumer, "channel", None)
    connection = getattr(channel, "_in_poll", None)
    if not connection:  # no read in flight (or not Redis)
        return
    try:
        # A reply later than the poll timeout means a broker out of reach: do not wait on it.
        if connection.can_read(timeout=channel.brpop_timeout + 1):
            channel._brpop_read()
    except (Empty, *channel.connection_errors):  # nothing came; or the broker is gone, and with it the reply
        pass


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
        if stopping():
            _take_reply_in_flight(self)
            self.give_back_unstarted()
            _finish_begun_writes(self.pool)
            _hold_written(self.pool)
        super().on_close()

    def give_back_unstarted(self) -> None:
        groups = [[request] for request in _gathered(self.app.tasks.values())] + _not_begun(self.pool)
        requests = ours_to_give_back(groups, unacknowledged_queues(self.app))
        if not requests:
            return
        with self.app.producer_or_acquire() as producer:
            for request in requests:
                _publish_again(producer, request.message, self.app.conf.task_publish_retry_policy)
        log.warning("stopping: %d requests taken and not begun put back on their queue", len(requests))
