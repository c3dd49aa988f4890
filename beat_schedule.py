"""The beat schedule: which periodic task fires when, and why. Keys are kebab-case."""
from datetime import timedelta

beat_schedule = {
    # Daily: month partitions of the audit log must exist before the first prediction of a month
    # lands, and those past the retention period are dropped.
    "maintain-prediction-log-partitions": {
        "task": "modelops.maintenance.maintain_partitions",
        "schedule": timedelta(hours=24),
    },
}
