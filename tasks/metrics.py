"""Metrics: the counters folded into ai.model_metrics (every second, by beat) and the daily
performance rows built from them."""
from sqlalchemy.exc import OperationalError

from modelops import clock, db
from modelops.monitoring import counters, daily, fold
from workers.app import app

ROLLBACK_CHECK = "modelops.rollback.check_models"


@app.task(name="modelops.metrics.fold_counters")
def fold_counters() -> dict:
    """Not retried: a run that fails leaves its counters in Redis, and beat starts the next within a second."""
    report = fold.fold_counters(counters.client(), clock.now())
    if report.touched:  # after the commit, so the check reads the metrics just added
        app.send_task(ROLLBACK_CHECK, kwargs={"model_version_ids": sorted(str(v) for v in report.touched)})
    return report.as_dict()


@app.task(name="modelops.metrics.build_daily_performance", autoretry_for=(OperationalError,),
          retry_backoff=True, max_retries=5)
def build_daily_performance(date: str | None = None) -> dict:
    """``date`` (YYYY-MM-DD), or else yesterday (its late feedback) and today (so far)."""
    try:
        dates = daily.dates_to_build(date, clock.today())
    except ValueError as error:
        return {"status": "refused", "reason": str(error)}
    with db.operator_scope() as connection:
        rows = {day.isoformat(): daily.build(connection, day, clock.now()) for day in dates}
    return {"status": "built", "rows": rows}
