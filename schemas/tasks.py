"""Every task's name, in one place: the workers register them, clients (ours and other services'
in Python) send by them, and the wiring test checks the two agree. Names are
``modelops.<area>.<verb_noun>``; the area decides the queue (celeryconfig.task_routes).
"""
from enum import StrEnum


class TaskName(StrEnum):
    AUDIT_REPRODUCE_PREDICTION = "modelops.audit.reproduce_prediction"
    EXPERIMENTS_EVALUATE_RUNNING_TESTS = "modelops.experiments.evaluate_running_tests"
    EXPERIMENTS_EVALUATE_TEST = "modelops.experiments.evaluate_test"
    EXPERIMENTS_SHADOW_EVALUATE = "modelops.experiments.shadow_evaluate"
    EXPERIMENTS_START_TEST = "modelops.experiments.start_test"
    FEEDBACK_RECORD = "modelops.feedback.record"
    FEEDBACK_RECORD_BATCH = "modelops.feedback.record_batch"
    MAINTENANCE_ARCHIVE_TRAINING_DATA = "modelops.maintenance.archive_training_data"
    MAINTENANCE_FREE_STALE_CLAIMS = "modelops.maintenance.free_stale_claims"
    MAINTENANCE_MAINTAIN_PARTITIONS = "modelops.maintenance.maintain_partitions"
    MAINTENANCE_PING = "modelops.maintenance.ping"
    MAINTENANCE_PRUNE_CHECKS = "modelops.maintenance.prune_checks"
    METRICS_BUILD_DAILY_PERFORMANCE = "modelops.metrics.build_daily_performance"
    METRICS_FOLD_COUNTERS = "modelops.metrics.fold_counters"
    PRIVACY_BUILD_AGGREGATES = "modelops.privacy.build_aggregates"
    PRIVACY_SCRUB_AND_STORE = "modelops.privacy.scrub_and_store"
    ROLLBACK_CHECK_AGAINST_PREVIOUS = "modelops.rollback.check_against_previous"
    ROLLBACK_CHECK_ALL_MODELS = "modelops.rollback.check_all_models"
    ROLLBACK_CHECK_DRIFT = "modelops.rollback.check_drift"
    ROLLBACK_CHECK_MODELS = "modelops.rollback.check_models"
    ROLLBACK_CHECK_SHARED_MODELS_PER_TENANT = "modelops.rollback.check_shared_models_per_tenant"
    ROLLBACK_DELIVER_ALERTS = "modelops.rollback.deliver_alerts"
    ROLLBACK_TRIGGER_ROLLBACK = "modelops.rollback.trigger_rollback"
    SERVING_PREDICT = "modelops.serving.predict"
    SERVING_PREDICT_BATCH = "modelops.serving.predict_batch"
    TRAINING_CHECK_TRIGGERS = "modelops.training.check_triggers"
    TRAINING_REFRESH_SHARED_MODELS = "modelops.training.refresh_shared_models"
    TRAINING_TRAIN_GLOBAL = "modelops.training.train_global"
    TRAINING_TRAIN_MODEL = "modelops.training.train_model"
    TRAINING_TRAIN_REGIONAL = "modelops.training.train_regional"


# What other services may call (in a signed envelope, docs/contracts.md); every other task is internal.
PUBLIC_TASKS = frozenset({TaskName.FEEDBACK_RECORD, TaskName.FEEDBACK_RECORD_BATCH,
                          TaskName.SERVING_PREDICT, TaskName.SERVING_PREDICT_BATCH})
