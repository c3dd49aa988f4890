"""Predictions for other services, by task name, and the reproduction of a logged prediction.

A Celery task costs about a millisecond of broker and worker overhead before any work, and a
predict call a few milliseconds whatever its size, so single requests are not run one by one:
``predict`` is a celery-batches task. The worker buffers its messages and hands them to a pool
process as one list; each caller's answer is stored under its own task id, so ``.get()`` works as
for any task.

On Redis the predict queue is consumed without acknowledgement (celeryconfig.UNACKNOWLEDGED_QUEUES): a
prediction is not idempotent (each makes an audit row), so a worker lost with requests in hand
loses them (their callers time out and may ask again) rather than answering and logging them twice.
A worker that is stopped (SIGTERM, a deploy) answers what its pool processes have begun and puts
the requests it holds and has not begun back on their queue, for the next worker (workers/shutdown.py).
On RabbitMQ a request is acknowledged as it is begun, and the broker gives back the others.
"""
from celery.backends.redis import RedisBackend
from kombu.asynchronous import get_event_loop

from modelops import audit, serving
from modelops.serving import callers
from schemas.tasks import TaskName
from workers import internals, shutdown
from workers.answers import AnsweringTask, answers_backend
from workers.app import app, task
from workers.authentication import open_calls

# A batch leaves as soon as a pool process is free to take it (GatheredRequests); at most this many
# requests wait while every process is busy, and a busy pool is looked at again this often.
FLUSH_EVERY = 500
FLUSH_INTERVAL = 0.005


class GatheredRequests(internals.GatedBatches):
    """celery-batches whose buffer leaves at once for a free pool process, and gathers while every
    process is busy.

    Plain celery-batches hands its buffer to the pool at every tick however busy the pool is, so
    under load the pool's queue fills with many small batches, each paying the models' fixed
    predict cost and its own database round trip. Waiting for a free process lets a batch take all
    that arrived meanwhile: three times the throughput at half the CPU (2,000 requests over ten
    tenants, measured in bench/bench_serving.py's conditions).

    Nor does a request wait for a tick when a process is free: each arrival asks the worker's
    event loop to flush at its next turn, once the other messages of the same read from the broker
    have joined the buffer. So at low load a request leaves at once, alone or with the few that
    came with it, and under load batches grow as long as the pool stays busy. While it is, the
    timer looks again every FLUSH_INTERVAL; a tick costs the main process microseconds, and runs
    only while requests wait.
    """

    _flush_queued = False  # a flush is queued for the event loop's next turn

    def Strategy(self, task, app, consumer):
        receive = super().Strategy(task, app, consumer)

        def receive_and_flush(*args, **kwargs):
            receive(*args, **kwargs)
            self._flush_at_next_turn()

        return receive_and_flush

    def _flush_at_next_turn(self) -> None:
        if self._flush_queued:
            return
        loop = get_event_loop()
        if loop is None:  # a pool without the event loop (solo, threads): the timer flushes
            return
        self._flush_queued = True
        loop.call_soon(self._flush_queued_requests)

    def _flush_queued_requests(self) -> None:
        self._flush_queued = False
        if self.buffered() and not internals.stopping():  # a stopping worker gives them back instead
            self.flush_buffer()

    def ready_to_flush(self) -> bool:
        return self.buffered() >= self.flush_every or not self.pool_is_full()

    def flush(self, requests):
        # A request read from a queue consumed without acknowledgement has nothing to acknowledge:
        # acknowledging it anyway is a broker round trip per request, for nothing.
        unacknowledged = shutdown.unacknowledged_queues(self.app)
        for request in requests:
            if request.delivery_info.get("routing_key") in unacknowledged:
                request.acknowledged = True
        job = super().flush(requests)
        if job is not None:  # None once the pool has stopped
            setattr(job, shutdown.JOB_REQUESTS, requests)  # what a stopping worker gives back if the pool has not begun it
        return job


def store_answers(requests, answers) -> None:
    """Every caller's answer in one round trip to Redis. ``mark_as_done`` makes two per request
    (it reads the stored state first), which cost as much as the predictions in a small batch; and
    the answers are written by orjson (workers.answers)."""
    backend = answers_backend(app)
    if not isinstance(backend, RedisBackend):
        for request, answer in zip(requests, answers):
            backend.mark_as_done(request.id, answer, request=request)
        return
    with backend.client.pipeline(transaction=False) as pipe:
        for request, meta in zip(requests, internals.success_metas(backend, answers, requests)):
            meta["task_id"] = request.id
            key, value = backend.get_key_for_task(request.id), backend.encode(meta)
            pipe.set(key, value, ex=backend.expires)
            pipe.publish(key, value)  # what wakes a caller blocked in .get()
        pipe.execute()


# Neither records itself as started in the result backend (task_track_started, on for the other
# tasks): its answer follows within milliseconds, and the record was a read, a write and a notice
# to Redis for each batch. Flower still sees it start, from its task events.
@task(TaskName.SERVING_PREDICT, base=GatheredRequests, flush_every=FLUSH_EVERY,
      flush_interval=FLUSH_INTERVAL, acks_late=False, track_started=False)
def predict(requests) -> None:
    """Each request's signed envelope holds: tenant_id, agent_type, input_data, optional request_key."""
    try:
        answers = callers.predict_opened(open_calls(predict.name, [(request.id, request.args, request.kwargs)
                                                                   for request in requests]))
    except Exception as error:
        for request in requests:  # every caller learns of the failure now, instead of waiting out its time-out
            app.backend.mark_as_failure(request.id, error, call_errbacks=False)
        raise
    store_answers(requests, answers)


def batch_refusal(status: str, reason: str) -> list[dict]:
    return [{"status": status, "reason": reason}]


@task(TaskName.SERVING_PREDICT_BATCH, base=AnsweringTask, arguments=("items",),
      answer_refusal=staticmethod(batch_refusal), acks_late=False, track_started=False)
def predict_batch(items, caller: str | None = None) -> list[dict]:
    """A list of requests as ``predict`` takes them -> one answer each, in order. ``caller`` is the
    signing service (None only when this process's own code calls the task directly)."""
    problem = serving.batch_problem(items)
    if problem:
        return [serving.refused(problem)]
    return serving.predict_many(items) if caller is None else callers.predict_for([(caller, item) for item in items])


@task(TaskName.AUDIT_REPRODUCE_PREDICTION)
def reproduce_prediction(prediction_id: str) -> dict:
    try:
        return audit.reproduce_prediction(prediction_id)
    except audit.ReproductionError as error:
        return error.as_result()
