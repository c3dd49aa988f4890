"""The beat schedule: which periodic task fires when, and why. Keys are kebab-case."""
from datetime import timedelta

from modelops import clock

# The shortest real interval a simulated cadence may shrink to: an hourly task on a clock running
# a day in 20 s would otherwise fire several times a second.
FLOOR = timedelta(seconds=10)


def simulated(interval: timedelta) -> timedelta:
    """A cadence of simulated time (daily checks, weekly rebuilds) in the real time beat waits. On a
    scaled clock (the main job's simulated platform) a simulated day passes in 86400/speed real
    seconds; cadences about real processes (metric folds, dead workers) stay in real time."""
    return max(interval / clock.speed(), min(interval, FLOOR))

beat_schedule = {
    # Daily: month partitions of the audit log must exist before the first prediction of a month
    # lands, and those past the retention period are dropped.
    "maintain-prediction-log-partitions": {
        "task": "modelops.maintenance.maintain_partitions",
        "schedule": simulated(timedelta(hours=24)),
    },
    # Daily: the retrain and drift check histories older than MODELOPS_CHECK_RETENTION_DAYS go.
    "prune-check-histories": {
        "task": "modelops.maintenance.prune_checks",
        "schedule": simulated(timedelta(hours=24)),
    },
    # Weekly: the opt-in country and region aggregates follow consent changes within a week, and a
    # tenant that opted out leaves the next build.
    "build-aggregate-datasets": {
        "task": "modelops.privacy.build_aggregates",
        "schedule": simulated(timedelta(days=7)),
    },
    # Every 5 minutes: a training job whose worker died is sent to another worker within minutes
    # instead of after the broker's visibility timeout (an hour), and a queued run whose message was
    # lost (the broker keeps nothing on disk) is sent again rather than blocking its tenant's training.
    "free-stale-training-claims": {
        "task": "modelops.maintenance.free_stale_claims",
        "schedule": timedelta(minutes=5),
    },
    # Weekly, like the aggregates it reads: the regional models follow the rebuilt aggregates, and the
    # global models are retrained only when their synthetic data, config or libraries changed
    # (otherwise the run is skipped with that reason), so a deployment's upgrade reaches them within a week.
    "refresh-shared-models": {
        "task": "modelops.training.refresh_shared_models",
        "schedule": simulated(timedelta(days=7)),
    },
    # Retrain checks, one per agent at the cadence of its schedule (RETRAINING_SCHEDULE's frequency):
    # each is one cheap query over every tenant, and queues training where min_samples new samples
    # or max_age_days have accumulated. Daily for the agents whose evidence arrives daily.
    "retrain-check-classification": {
        "task": "modelops.training.check_triggers", "schedule": simulated(timedelta(days=1)), "kwargs": {"agent_type": "classification"},
    },
    "retrain-check-reconciliation": {
        "task": "modelops.training.check_triggers", "schedule": simulated(timedelta(days=1)), "kwargs": {"agent_type": "reconciliation"},
    },
    "retrain-check-journal": {
        "task": "modelops.training.check_triggers", "schedule": simulated(timedelta(days=1)), "kwargs": {"agent_type": "journal"},
    },
    # Weekly for the agents whose evidence is aggregated weekly.
    "retrain-check-insight": {
        "task": "modelops.training.check_triggers", "schedule": simulated(timedelta(days=7)), "kwargs": {"agent_type": "insight"},
    },
    "retrain-check-chat": {
        "task": "modelops.training.check_triggers", "schedule": simulated(timedelta(days=7)), "kwargs": {"agent_type": "chat"},
    },
    "retrain-check-compliance": {
        "task": "modelops.training.check_triggers", "schedule": simulated(timedelta(days=7)), "kwargs": {"agent_type": "compliance"},
    },
    # Daily: one look per running A/B test a day, the cadence its sample size and sequential
    # boundaries are planned for (28 looks over four weeks); looking more often would cost power.
    "evaluate-ab-tests": {
        "task": "modelops.experiments.evaluate_running_tests",
        "schedule": simulated(timedelta(days=1)),
    },
    # Every second: the Redis counters of predictions and feedback folded into ai.model_metrics, so
    # that a count is in the table within 2 s (the spec asks for 5). A tick not started within 5 s
    # (the monitoring pool down or busy) expires: the next one folds everything counted meanwhile.
    "fold-metric-counters": {
        "task": "modelops.metrics.fold_counters",
        "schedule": timedelta(seconds=1),
        "options": {"expires": 5},
    },
    # Hourly: yesterday's and today's ai.daily_performance rows. Yesterday's move while feedback on
    # its predictions still arrives, and today's is current within the hour for the dashboard.
    "build-daily-performance": {
        "task": "modelops.metrics.build_daily_performance",
        "schedule": simulated(timedelta(hours=1)),
    },
    # Every minute: every production model's rollback conditions, the safety net under the check
    # each metrics fold sends for the versions it touched (a lost message delays a rollback by a
    # minute at most, not until the model's next prediction).
    "check-production-models": {
        "task": "modelops.rollback.check_all_models",
        "schedule": timedelta(minutes=1),
    },
    # Hourly: input drift against each production model's training profile. Drift builds over
    # days; an hour's predictions are enough for a stable index and the check reads a sample only.
    "check-input-drift": {
        "task": "modelops.rollback.check_drift",
        "schedule": simulated(timedelta(hours=1)),
    },
    # Every 10 seconds: alerts not notified yet (a channel refused them, or they were raised
    # outside the monitoring tasks, such as the A/B evaluation's) go to the notifiers.
    "deliver-alert-notifications": {
        "task": "modelops.rollback.deliver_alerts",
        "schedule": timedelta(seconds=10),
    },
}
