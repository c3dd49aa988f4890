"""Predictions for other services, by task name, and the reproduction of a logged prediction.

A Celery task costs about a millisecond of broker and worker overhead before any work, and a
predict call a few milliseconds whatever its size, so single requests are not run one by one:
``predict`` is a celery-batches task. The worker buffers its messages and hands them to a pool
process as one list; each caller's answer is stored under its own task id, so ``.get()`` works as
for any task.

The predict queue is consumed without acknowledgement (celeryconfig.UNACKNOWLEDGED_QUEUES): a
prediction is not idempotent (each makes an audit row), so a worker lost with requests in hand
loses them (their callers time out and may ask again) rather than answering and logging them twice.
A worker that is stopped (SIGTERM, a deploy) finishes the batches its pool holds and puts the
requests it gathered but had not yet handed over back on their queue, for the next worker.
"""
import logging
from queue import Empty

from celery import bootsteps, states
from celery.backends.redis import RedisBackend
from celery.worker import state as worker_state
from celery_batches import Batches
from kombu.common import ignore_errors

from modelops import audit, serving
from workers.app import app

log = logging.getLogger(__name__)

# A batch leaves when this many requests wait, or at the next tick once a pool process is free.
FLUSH_EVERY = 500
FLUSH_INTERVAL = 0.02


class GatheredRequests(Batches):
    """celery-batches whose buffer keeps gathering while every pool process is busy.

    Plain celery-batches hands its buffer to the pool at every tick however busy the pool is, so
    under load the pool's queue fills with many small batches, each paying the models' fixed
    predict cost and its own database round trip. Waiting for a free process lets a batch take all
    that arrived meanwhile: three times the throughput at half the CPU (2,000 requests over ten
    tenants, measured in bench/bench_serving.py's conditions).
    """

    def _do_flush(self) -> None:
        if self._buffer.qsize() < self.flush_every and self._pool_is_busy():
            return
        super()._do_flush()

    def flush(self, requests):
        # A request read from a queue consumed without acknowledgement has nothing to acknowledge:
        # acknowledging it anyway is a broker round trip per request, for nothing.
        unacknowledged = {queue.routing_key for queue in self.app.conf.task_queues or () if queue.no_ack}
        for request in requests:
            if request.delivery_info.get("routing_key") in unacknowledged:
                request.acknowledged = True
        return super().flush(requests)

    def _pool_is_busy(self) -> bool:
        processes = getattr(self._pool, "_pool", None)  # billiard's pool, under the prefork TaskPool
        return processes is not None and len(processes._cache) >= self._pool.num_processes

    def requeue_waiting(self, producer) -> int:
        """Publish the requests not yet handed to the pool again, as they came; how many."""
        requeued = 0
        for waiting in (self._buffer, self._pending):
            while True:
                try:
                    message = waiting.get_nowait().message
                except Empty:
                    break
                producer.publish(
                    message.body, exchange=message.delivery_info.get("exchange", ""),
                    routing_key=message.delivery_info["routing_key"], headers=message.headers,
                    content_type=message.content_type, content_encoding=message.content_encoding,
                    priority=message.properties.get("priority"), correlation_id=message.properties.get("correlation_id"),
                    reply_to=message.properties.get("reply_to"),
                    # a few tries, then give up: a worker must still stop when the broker is gone
                    retry=True, retry_policy=self.app.conf.task_publish_retry_policy)
                requeued += 1
        return requeued


class RequeueGatheredOnStop(bootsteps.StartStopStep):
    """When the worker stops, stop taking messages, then give back the gathered requests.

    Celery stops a worker's pool after its consumer, so the batches already in the pool are
    answered; what is still in a gathered buffer would be dropped with the process, and the
    predict queue keeps no unacknowledged copy to redeliver."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def stop(self, c) -> None:
        # The consumer is also stopped to reconnect after a broker failure; its buffers are kept
        # then, and handed to the pool once it is back.
        if not any(flag is not None and flag is not False for flag in (worker_state.should_stop, worker_state.should_terminate)):
            return
        gathering = [task for task in c.app.tasks.values() if isinstance(task, GatheredRequests)]
        if c.task_consumer is not None:  # nothing more arrives while the buffers are emptied
            ignore_errors(c, c.task_consumer.cancel)
        with c.app.producer_or_acquire() as producer:
            requeued = sum(task.requeue_waiting(producer) for task in gathering)
        if requeued:
            log.warning("stopping: %d gathered prediction requests put back on their queue", requeued)

    shutdown = stop  # idempotent: the buffers are empty the second time


app.steps["consumer"].add(RequeueGatheredOnStop)


def store_answers(requests, answers) -> None:
    """Every caller's answer in one round trip to Redis. ``mark_as_done`` makes two per request
    (it reads the stored state first), which cost as much as the predictions in a small batch."""
    backend = app.backend
    if not isinstance(backend, RedisBackend):
        for request, answer in zip(requests, answers):
            backend.mark_as_done(request.id, answer, request=request)
        return
    with backend.client.pipeline(transaction=False) as pipe:
        for request, answer in zip(requests, answers):
            meta = {**backend._get_result_meta(answer, states.SUCCESS, None, request), "task_id": request.id}
            key, value = backend.get_key_for_task(request.id), backend.encode(meta)
            pipe.set(key, value, ex=backend.expires)
            pipe.publish(key, value)  # what wakes a caller blocked in .get()
        pipe.execute()


@app.task(name="modelops.serving.predict", base=GatheredRequests, flush_every=FLUSH_EVERY,
          flush_interval=FLUSH_INTERVAL, acks_late=False)
def predict(requests) -> None:
    """Each request's kwargs: tenant_id, agent_type, input_data, optional request_key."""
    try:
        answers = serving.predict_many([request.kwargs for request in requests])
    except Exception as error:
        for request in requests:  # every caller learns of the failure now, instead of waiting out its time-out
            app.backend.mark_as_failure(request.id, error, call_errbacks=False)
        raise
    store_answers(requests, answers)


@app.task(name="modelops.serving.predict_batch", acks_late=False)
def predict_batch(items) -> list[dict]:
    """A list of requests as ``predict`` takes them -> one answer each, in order."""
    problem = serving.batch_problem(items)
    return [serving.refused(problem)] if problem else serving.predict_many(items)


@app.task(name="modelops.audit.reproduce_prediction")
def reproduce_prediction(prediction_id: str) -> dict:
    try:
        return audit.reproduce_prediction(prediction_id)
    except audit.ReproductionError as error:
        return error.as_result()
