"""The beat schedule: which periodic task fires when, and why. Keys are kebab-case."""
from datetime import timedelta

beat_schedule = {
    # Daily: month partitions of the audit log must exist before the first prediction of a month
    # lands, and those past the retention period are dropped.
    "maintain-prediction-log-partitions": {
        "task": "modelops.maintenance.maintain_partitions",
        "schedule": timedelta(hours=24),
    },
    # Weekly: the opt-in country and region aggregates follow consent changes within a week, and a
    # tenant that opted out leaves the next build.
    "build-aggregate-datasets": {
        "task": "modelops.privacy.build_aggregates",
        "schedule": timedelta(days=7),
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
        "schedule": timedelta(days=7),
    },
    # Retrain checks, one per agent at the cadence of its schedule (RETRAINING_SCHEDULE's frequency):
    # each is one cheap query over every tenant, and queues training where min_samples new samples
    # or max_age_days have accumulated. Daily for the agents whose evidence arrives daily.
    "retrain-check-classification": {
        "task": "modelops.training.check_triggers", "schedule": timedelta(days=1), "kwargs": {"agent_type": "classification"},
    },
    "retrain-check-reconciliation": {
        "task": "modelops.training.check_triggers", "schedule": timedelta(days=1), "kwargs": {"agent_type": "reconciliation"},
    },
    "retrain-check-journal": {
        "task": "modelops.training.check_triggers", "schedule": timedelta(days=1), "kwargs": {"agent_type": "journal"},
    },
    # Weekly for the agents whose evidence is aggregated weekly.
    "retrain-check-insight": {
        "task": "modelops.training.check_triggers", "schedule": timedelta(days=7), "kwargs": {"agent_type": "insight"},
    },
    "retrain-check-chat": {
        "task": "modelops.training.check_triggers", "schedule": timedelta(days=7), "kwargs": {"agent_type": "chat"},
    },
    "retrain-check-compliance": {
        "task": "modelops.training.check_triggers", "schedule": timedelta(days=7), "kwargs": {"agent_type": "compliance"},
    },
    # Daily: one look per running A/B test a day, the cadence its sample size and sequential
    # boundaries are planned for (28 looks over four weeks); looking more often would cost power.
    "evaluate-ab-tests": {
        "task": "modelops.experiments.evaluate_running_tests",
        "schedule": timedelta(days=1),
    },
}
