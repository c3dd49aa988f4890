"""Feedback intake tasks other services call by name, in a signed envelope (see docs/contracts.md)."""
from collections import Counter

from modelops import intake
from schemas.tasks import TaskName
from tasks.privacy import scrub_and_store
from workers.app import task
from workers.authentication import PublicTask

# Accepted events travel to the scrub queue in chunks this size: one scrub batch, one insert each.
STORE_CHUNK = 1000
OUTAGE_RETRIES = 8
# Sending the accepted events on waits out a broker restart (up to about two minutes) instead of
# failing: a task that failed here would be acknowledged as done, and events it had already
# admitted would never be stored (tests/faults/test_redis_restart.py).
FORWARD_RETRY = {"max_retries": 60, "interval_start": 0.5, "interval_step": 0.5, "interval_max": 2.0}


def _admit_and_forward(events: list, caller: str | None, task_name: str) -> list[dict]:
    verdicts, accepted = intake.admit(events, caller, task_name)
    for start in range(0, len(accepted), STORE_CHUNK):
        scrub_and_store.apply_async(args=[accepted[start:start + STORE_CHUNK]], retry_policy=FORWARD_RETRY)
    return [verdict.as_dict() for verdict in verdicts]


def event_refusal(status: str, reason: str) -> dict:
    return {"status": status, "reason": reason}


def batch_refusal(status: str, reason: str) -> dict:
    return {"counts": {status: 1}, "results": [event_refusal(status, reason)]}


@task(TaskName.FEEDBACK_RECORD, base=PublicTask, arguments=("event",),
      answer_refusal=staticmethod(event_refusal), record_rejection=staticmethod(intake.record_rejection),
      outage_retries=OUTAGE_RETRIES)
def record(event, caller: str | None = None) -> dict:
    """One feedback event. Result: {status: accepted|duplicate|rejected|refused, idempotency_key, reason}."""
    return _admit_and_forward([event], caller, record.name)[0]


@task(TaskName.FEEDBACK_RECORD_BATCH, base=PublicTask, arguments=("events",),
      answer_refusal=staticmethod(batch_refusal), record_rejection=staticmethod(intake.record_rejection),
      outage_retries=OUTAGE_RETRIES)
def record_batch(events, caller: str | None = None) -> dict:
    """Many events in one message. Result: {counts: {status: n}, results: [per event, in order]}."""
    if problem := intake.batch_problem(events):
        intake.record_rejection(events, problem, record_batch.name)
        return batch_refusal("rejected", problem)
    results = _admit_and_forward(events, caller, record_batch.name)
    return {"counts": dict(Counter(result["status"] for result in results)), "results": results}
