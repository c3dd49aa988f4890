"""Predictions for other services, by task name, and the reproduction of a logged prediction.

A Celery task costs about a millisecond of broker and worker overhead before any work, and a
predict call a few milliseconds whatever its size, so single requests are not run one by one:
``predict`` is a celery-batches task. The worker buffers its messages and hands them to a pool
process as one list when FLUSH_EVERY have arrived or every FLUSH_INTERVAL seconds, whichever comes
first; each caller's answer is stored under its own task id, so ``.get()`` works as for any task.

Predictions are acknowledged when a pool process takes them (not after): a prediction is not
idempotent (each makes an audit row), so a worker lost mid-batch loses those requests (their
callers time out and may ask again) rather than answering and logging them twice.
"""
from celery_batches import Batches

from modelops import audit, serving
from workers.app import app

FLUSH_EVERY = 500
FLUSH_INTERVAL = 0.02


@app.task(name="modelops.serving.predict", base=Batches, flush_every=FLUSH_EVERY, flush_interval=FLUSH_INTERVAL, acks_late=False)
def predict(requests) -> None:
    """Each request's kwargs: tenant_id, agent_type, input_data, optional request_key."""
    try:
        answers = serving.predict_many([request.kwargs for request in requests])
    except Exception as error:
        for request in requests:  # every caller learns of the failure now, instead of waiting out its time-out
            app.backend.mark_as_failure(request.id, error, call_errbacks=False)
        raise
    for request, answer in zip(requests, answers):
        app.backend.mark_as_done(request.id, answer, request=request)


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
