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

import os

FLUSH_EVERY = int(os.environ.get("XP_FLUSH_EVERY", 500))
FLUSH_INTERVAL = float(os.environ.get("XP_FLUSH_INTERVAL", 0.02))


class GatheredBatches(Batches):
    def _do_flush(self):
        if os.environ.get("XP_GATHER") and self._buffer.qsize() < self.flush_every and self._busy():
            return
        super()._do_flush()

    def _busy(self) -> bool:
        pool = getattr(self._pool, "_pool", None)
        return pool is not None and len(pool._cache) >= self._pool.num_processes


@app.task(name="modelops.serving.predict", base=GatheredBatches, flush_every=FLUSH_EVERY, flush_interval=FLUSH_INTERVAL, acks_late=False)
def predict(requests) -> None:
    """Each request's kwargs: tenant_id, agent_type, input_data, optional request_key."""
    import time as _t, logging as _l
    _t0 = _t.perf_counter(); _c0 = _t.process_time()
    try:
        answers = serving.predict_many([request.kwargs for request in requests])
    except Exception as error:
        for request in requests:  # every caller learns of the failure now, instead of waiting out its time-out
            app.backend.mark_as_failure(request.id, error, call_errbacks=False)
        raise
    _t1 = _t.perf_counter(); _c1 = _t.process_time()
    for request, answer in zip(requests, answers):
        app.backend.mark_as_done(request.id, answer, request=request)
    if os.environ.get("XP_LOG"):
        _l.getLogger("xp").warning("XP batch %d predict %.1fms cpu %.1fms mark %.1fms cpu %.1fms", len(requests), (_t1-_t0)*1e3, (_c1-_c0)*1e3, (_t.perf_counter()-_t1)*1e3, (_t.process_time()-_c1)*1e3)


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
