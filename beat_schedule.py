"""The beat schedule: which periodic task fires when, and why. Keys are kebab-case."""
from datetime import timedelta

from modelops import clock
from modelops.training.schedule import CHECK_INTERVAL, RETRAINING_SCHEDULE
from schemas.tasks import TaskName

# The shortest real interval a simulated cadence may shrink to: an hourly task on a clock running
# a day in 20 s would otherwise fire several times a second.
FLOOR = timedelta(seconds=10)
# The least time a tick has to be picked up before it expires.
MIN_EXPIRY = timedelta(seconds=5)


def simulated(interval: timedelta) -> timedelta:
    """A cadence of simulated time (daily checks, weekly rebuilds) in the real time beat waits. On a
    scaled clock (the main job's simulated platform) a simulated day passes in 86400/speed real
    seconds; cadences about real processes (metric folds, dead workers) stay in real time."""
    return max(interval / clock.speed(), min(interval, FLOOR))


def every(interval: timedelta, task: str, **fields) -> dict:
    """An entry that fires every ``interval`` and whose tick expires when the next one is due: while
    its pool is down, ticks do not pile up (a check a minute would be 1,440 a day, each then run
    against every production model); the first tick after the pool is back does the work."""
    expires = max(interval, MIN_EXPIRY).total_seconds()
    return {"task": task, "schedule": interval, "options": {"expires": expires}, **fields}


beat_schedule = {
    # Daily: month partitions of the audit log must exist before the first prediction of a month
    # lands, and those past the retention period are dropped.
    "maintain-prediction-log-partitions": every(simulated(timedelta(hours=24)), TaskName.MAINTENANCE_MAINTAIN_PARTITIONS),
    # Daily: the retrain and drift check histories older than MODELOPS_CHECK_RETENTION_DAYS go.
    "prune-check-histories": every(simulated(timedelta(hours=24)), TaskName.MAINTENANCE_PRUNE_CHECKS),
    # Daily: months of feedback past MODELOPS_ARCHIVE_AFTER_MONTHS leave Postgres for the archive a day
    # or so after they pass it, and archived files past MODELOPS_ARCHIVE_RETENTION_MONTHS go.
    "archive-training-data": every(simulated(timedelta(hours=24)), TaskName.MAINTENANCE_ARCHIVE_TRAINING_DATA),
    # Weekly: the opt-in country and region aggregates follow consent changes within a week, and a
    # tenant that opted out leaves the next build.
    "build-aggregate-datasets": every(simulated(timedelta(days=7)), TaskName.PRIVACY_BUILD_AGGREGATES),
    # Every 5 minutes: a training job whose worker died is sent to another worker within minutes
    # instead of after the broker's visibility timeout (an hour), and a queued run whose message was
    # lost (the broker keeps nothing on disk) is sent again rather than blocking its tenant's training.
    "free-stale-training-claims": every(timedelta(minutes=5), TaskName.MAINTENANCE_FREE_STALE_CLAIMS),
    # Weekly, like the aggregates it reads: the regional models follow the rebuilt aggregates, and the
    # global models are retrained only when their synthetic data, config or libraries changed
    # (otherwise the run is skipped with that reason), so a deployment's upgrade reaches them within a week.
    "refresh-shared-models": every(simulated(timedelta(days=7)), TaskName.TRAINING_REFRESH_SHARED_MODELS),
    # Retrain checks, one per agent at the cadence of its schedule (RETRAINING_SCHEDULE's frequency:
    # daily for the agents whose evidence arrives daily, weekly for those aggregated weekly): each is
    # one cheap query over every tenant, and queues training where min_samples new samples or
    # max_age_days have accumulated.
    **{f"retrain-check-{agent}": every(simulated(CHECK_INTERVAL[config["frequency"]]), TaskName.TRAINING_CHECK_TRIGGERS,
                                       kwargs={"agent_type": agent})
       for agent, config in RETRAINING_SCHEDULE.items()},
    # Daily: one look per running A/B test a day, the cadence its sample size and sequential
    # boundaries are planned for (28 looks over four weeks); looking more often would cost power.
    "evaluate-ab-tests": every(simulated(timedelta(days=1)), TaskName.EXPERIMENTS_EVALUATE_RUNNING_TESTS),
    # Every second: the Redis counters of predictions and feedback folded into ai.model_metrics, so
    # that a count is in the table within 2 s (the spec asks for 5). A tick not started within 5 s
    # (the monitoring pool down or busy) expires: the next one folds everything counted meanwhile.
    "fold-metric-counters": every(timedelta(seconds=1), TaskName.METRICS_FOLD_COUNTERS),
    # Hourly: yesterday's and today's ai.daily_performance rows. Yesterday's move while feedback on
    # its predictions still arrives, and today's is current within the hour for the dashboard.
    "build-daily-performance": every(simulated(timedelta(hours=1)), TaskName.METRICS_BUILD_DAILY_PERFORMANCE),
    # Every minute: every production model's rollback conditions, the safety net under the check
    # each metrics fold sends for the versions it touched (a lost message delays a rollback by a
    # minute at most, not until the model's next prediction).
    "check-production-models": every(timedelta(minutes=1), TaskName.ROLLBACK_CHECK_ALL_MODELS),
    # Hourly: input drift against each production model's training profile. Drift builds over
    # days; an hour's predictions are enough for a stable index and the check reads a sample only.
    "check-input-drift": every(simulated(timedelta(hours=1)), TaskName.ROLLBACK_CHECK_DRIFT),
    # Daily: each production model replayed beside the version it replaced on its latest labelled
    # predictions (slow decay that its own validation score cannot show). A day's labels are what
    # move the comparison; the replay costs seconds per model.
    "check-against-previous-versions": every(simulated(timedelta(days=1)), TaskName.ROLLBACK_CHECK_AGAINST_PREVIOUS),
    # Daily: each shared model's accuracy per tenant it serves, since its summed metrics hide a
    # tenant it fits poorly (a count over a day's partition of the audit log per shared model).
    "check-shared-models-per-tenant": every(simulated(timedelta(days=1)), TaskName.ROLLBACK_CHECK_SHARED_MODELS_PER_TENANT),
    # Every 10 seconds: alerts not notified yet (a channel refused them, or they were raised
    # outside the monitoring tasks, such as the A/B evaluation's) go to the notifiers.
    "deliver-alert-notifications": every(timedelta(seconds=10), TaskName.ROLLBACK_DELIVER_ALERTS),
}
