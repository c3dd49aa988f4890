"""A registry version for tests that need one without a database: every column filled, as the
registry's store reads a row, with the columns a test cares about given by name."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from modelops.registry.store import ModelVersion

RECORDED = dt.datetime(2026, 1, 5, 9, 0)


def model_version(**columns: Any) -> ModelVersion:
    """A tenant's production classification model v1.0, but for ``columns``."""
    tenant_id = columns.get("tenant_id", uuid.uuid4())
    return ModelVersion(**{
        "id": uuid.uuid4(), "agent_type": "classification", "version": "v1.0", "trained_on": RECORDED,
        "training_samples": 800, "validation_samples": 200, "accuracy_score": Decimal("0.9000"),
        "precision_score": Decimal("0.9000"), "recall_score": Decimal("0.9000"), "f1_score": Decimal("0.9000"),
        "training_duration": dt.timedelta(seconds=1), "is_active": True, "is_production": True, "rollback_version": None,
        "model_artifact_path": None, "training_config": {}, "created_by": uuid.uuid4(), "created_at": RECORDED,
        "updated_at": RECORDED, "tenant_id": tenant_id, "scope": "tenant", "region": None, "scope_key": f"tenant:{tenant_id}",
        "status": "production", "status_reason": "first model", "artifact_sha256": None, "artifact_size_bytes": None,
        "metrics_detail": {}, "training_run_id": None, **columns,
    })
