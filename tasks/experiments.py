"""A/B tests: start one for a candidate, evaluate one or every running test (daily, by beat), and
replay a candidate in shadow. A refused request (unknown id, a version that cannot be tested)
comes back as {"status": "refused", "reason"} at once and is never retried."""
from modelops import clock, db
from modelops.experiments import evaluation, lifecycle, shadow
from schemas.tasks import TaskName
from workers.app import task

# Retried only when the database may come back; each task is idempotent (a test per candidate, a
# look per day), so a redelivery redoes nothing that was done.
OUTAGE_RETRIES = 5


def _refusal_as_result(action, *args, **kwargs) -> dict:
    try:
        return action(*args, **kwargs)
    except lifecycle.ExperimentRefused as refusal:
        return refusal.as_result()


def _start(version_id: str, actor: str) -> dict:
    with db.operator_scope() as connection:
        return lifecycle.start_test(connection, version_id, actor=actor, now=clock.now())


@task(TaskName.EXPERIMENTS_START_TEST, outage_retries=OUTAGE_RETRIES)
def start_test(version_id: str, actor: str = lifecycle.ACTOR) -> dict:
    """{status: started | running | queued, test_id, ...} for a candidate version."""
    return _refusal_as_result(_start, version_id, actor)


@task(TaskName.EXPERIMENTS_EVALUATE_TEST, outage_retries=OUTAGE_RETRIES)
def evaluate_test(test_id: str) -> dict:
    return _refusal_as_result(evaluation.evaluate_test, test_id, clock.now())


@task(TaskName.EXPERIMENTS_EVALUATE_RUNNING_TESTS, outage_retries=OUTAGE_RETRIES)
def evaluate_running_tests() -> dict:
    return evaluation.evaluate_all_running(clock.now())


@task(TaskName.EXPERIMENTS_SHADOW_EVALUATE, outage_retries=OUTAGE_RETRIES)
def shadow_evaluate(version_id: str) -> dict:
    return _refusal_as_result(shadow.shadow_evaluate, version_id, clock.now())
