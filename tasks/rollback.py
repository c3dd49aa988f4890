"""Rollback checks and rollbacks, drift checks, and the delivery of alerts (the rollback queue, which
never waits behind long work).

``check_models`` is sent after every metrics fold with the versions it touched, so a breach is
judged within a second or two of reaching ``ai.model_metrics``; ``check_all_models`` is beat's
safety net over every production version. Alerts raised by a task are notified by it once its
transaction committed; ``deliver_alerts`` (beat) retries those a channel refused and sends those
raised elsewhere. Every task here is idempotent: a check recomputes from the table, a rollback
happens only while its version is still production, and a drift retrain has one run per version.
"""
from modelops import clock, db
from modelops.alerting import alerts
from modelops.monitoring import against_previous, drift, rollback, shared_fit
from schemas.tasks import TaskName
from workers.app import app, task

OUTAGE_RETRIES = 5
# outcomes after which the task may have raised a new alert, to be notified now
RAISING = {"rolled_back", "no_previous_version"}


def _notify_if_raised(outcomes: list[str]) -> dict | None:
    return alerts.deliver_pending(clock.now()) if RAISING.intersection(outcomes) else None


def _send_queued_runs(results: list[dict]) -> None:
    # after the rollback's commit, so the job finds its run queued
    for run_id in {r["training_run_id"] for r in results if r.get("training_run_id")}:
        app.send_task(TaskName.TRAINING_TRAIN_MODEL, args=[run_id])


@task(TaskName.ROLLBACK_CHECK_MODELS, outage_retries=OUTAGE_RETRIES)
def check_models(model_version_ids: list[str]) -> dict:
    """{results: one per version (healthy, rolled_back, no_previous_version, no_op, not_production)}."""
    try:
        results = rollback.check_models(model_version_ids, clock.now())
    except rollback.RollbackRefused as refusal:
        return refusal.as_result()
    _send_queued_runs(results)
    return {"results": results, "notified": _notify_if_raised([r["outcome"] for r in results])}


@task(TaskName.ROLLBACK_CHECK_ALL_MODELS, outage_retries=OUTAGE_RETRIES)
def check_all_models() -> dict:
    results = rollback.check_all(clock.now())
    _send_queued_runs(results)
    return {"checked": len(results), "results": [r for r in results if r["outcome"] != "healthy"],
            "notified": _notify_if_raised([r["outcome"] for r in results])}


@task(TaskName.ROLLBACK_CHECK_AGAINST_PREVIOUS, outage_retries=OUTAGE_RETRIES)
def check_against_previous(model_version_ids: list[str] | None = None) -> dict:
    """Every production version (or those named) replayed beside the version it replaced on its
    latest labelled predictions; one clearly worse is rolled back."""
    try:
        results = against_previous.check(clock.now(), model_version_ids)
    except rollback.RollbackRefused as refusal:
        return refusal.as_result()
    _send_queued_runs(results)
    return {"results": [r for r in results if r["outcome"] != "no_previous_version"],
            "notified": _notify_if_raised([r["outcome"] for r in results])}


@task(TaskName.ROLLBACK_CHECK_SHARED_MODELS_PER_TENANT, outage_retries=OUTAGE_RETRIES)
def check_shared_models_per_tenant() -> dict:
    """Each shared production version's accuracy per tenant it serves; a warning per tenant it fits poorly."""
    found = shared_fit.check(clock.now())
    return {"poor_fit": found, "notified": alerts.deliver_pending(clock.now()) if found else None}


@task(TaskName.ROLLBACK_TRIGGER_ROLLBACK, outage_retries=OUTAGE_RETRIES)
def trigger_rollback(agent_type: str, tenant_id: str | None, reason: str, actor: str, region: str | None = None) -> dict:
    """A rollback asked for by a person or another service: the scope's production model goes back
    to its previous stable version. A refused request is answered at once, never retried."""
    try:
        with db.operator_scope() as connection:
            result = rollback.trigger_rollback(connection, agent_type, tenant_id, region=region, actor=actor, reason=reason,
                                               triggers={"manual": {"requested_by": actor, "reason": reason}},
                                               now=clock.now())
    except ValueError as refusal:  # RollbackRefused, or an unknown agent
        return {"outcome": "refused", "reason": str(refusal)}
    _send_queued_runs([result])
    return {**result, "notified": _notify_if_raised([result["outcome"]])}


@task(TaskName.ROLLBACK_CHECK_DRIFT, outage_retries=OUTAGE_RETRIES)
def check_drift(model_version_ids: list[str] | None = None) -> dict:
    """Every production version's recent inputs against its training profile (or those named)."""
    try:
        results, queued = drift.check_drift(clock.now(), model_version_ids)
    except ValueError as refusal:
        return {"outcome": "refused", "reason": str(refusal)}
    for run_id in queued:  # after the check's commit, so the job finds its run queued
        app.send_task(TaskName.TRAINING_TRAIN_MODEL, args=[str(run_id)])
    drifted = any(r["outcome"] == "drifted" for r in results)
    return {"results": results, "notified": alerts.deliver_pending(clock.now()) if drifted else None}


@task(TaskName.ROLLBACK_DELIVER_ALERTS, outage_retries=OUTAGE_RETRIES)
def deliver_alerts() -> dict:
    return alerts.deliver_pending(clock.now())
