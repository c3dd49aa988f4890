"""Metrics: the counters folded into ai.model_metrics (every second, by beat) and the daily
performance rows built from them."""
from modelops import clock, db
from modelops.monitoring import counters, daily, fold
from schemas.tasks import TaskName
from workers.app import app, task


@task(TaskName.METRICS_FOLD_COUNTERS)
def fold_counters() -> dict:
    """Not retried: a run that fails leaves its counters in Redis, and beat starts the next within a second."""
    report = fold.fold_counters(counters.client(), clock.now())
    if report.touched:  # after the commit, so the check reads the metrics just added
        app.send_task(TaskName.ROLLBACK_CHECK_MODELS, kwargs={"model_version_ids": sorted(str(v) for v in report.touched)})
    return report.as_dict()


@task(TaskName.METRICS_BUILD_DAILY_PERFORMANCE, outage_retries=5)
def build_daily_performance(date: str | None = None) -> dict:
    """``date`` (YYYY-MM-DD), or else yesterday (its late feedback) and today (so far)."""
    try:
        dates = daily.dates_to_build(date, clock.today())
    except ValueError as error:
        return {"status": "refused", "reason": str(error)}
    with db.operator_scope() as connection:
        rows = {day.isoformat(): daily.build(connection, day, clock.now()) for day in dates}
    return {"status": "built", "rows": rows}
