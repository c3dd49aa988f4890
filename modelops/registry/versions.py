"""Versions: scope keys, numbering, and what a new version records (the rows are the store's)."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from modelops.registry import store

VERSION_PATTERN = re.compile(r"^v(\d+)\.(\d+)$")


def scope_key(tenant_id: uuid.UUID | str | None, region: str | None = None) -> str:
    """The production pointer's key: a tenant, a region's aggregate, or the global model."""
    if tenant_id:
        return f"tenant:{tenant_id}"
    return f"region:{region}" if region else "global"


def scope_parts(key: str) -> tuple[uuid.UUID | None, str | None]:
    """(tenant_id, region) of a scope key: the inverse of ``scope_key``."""
    kind, _, rest = key.partition(":")
    if kind == "tenant":
        return uuid.UUID(rest), None
    if kind == "region" and rest:
        return None, rest
    if key == "global":
        return None, None
    raise ValueError(f"a scope key is tenant:<uuid>, region:<name> or global, got {key!r}")


def next_version(connection: Connection, agent_type: str, scope: str) -> str:
    """v1.0 for the first model of an agent and scope, then v1.1, v1.2, ..."""
    existing = store.version_labels(connection, agent_type, scope)
    parsed = [tuple(map(int, match.groups())) for match in map(VERSION_PATTERN.match, existing) if match]
    if not parsed:
        return "v1.0"
    major, minor = max(parsed)
    return f"v{major}.{minor + 1}"


@dataclass
class NewVersion:
    agent_type: str
    tenant_id: uuid.UUID | None
    region: str | None
    trained_on: dt.datetime
    training_samples: int
    validation_samples: int
    metrics: dict[str, float]  # accuracy, precision, recall, f1
    metrics_detail: dict[str, Any]
    training_duration: dt.timedelta
    artifact_path: str
    artifact_sha256: str
    artifact_size_bytes: int
    training_config: dict[str, Any]
    created_by: uuid.UUID
    training_run_id: uuid.UUID | None = None
    status: str = "candidate"
    status_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> str:
        return "tenant" if self.tenant_id else ("regional" if self.region else "global")


def record(connection: Connection, new: NewVersion, now: dt.datetime) -> tuple[uuid.UUID, str]:
    """Insert the version row with every column filled; returns (id, version)."""
    version = next_version(connection, new.agent_type, scope_key(new.tenant_id, new.region))
    row = store.insert_version(connection, {
        "agent_type": new.agent_type, "version": version, "trained_on": new.trained_on,
        "training_samples": new.training_samples, "validation_samples": new.validation_samples,
        "accuracy_score": _round(new.metrics["accuracy"]), "precision_score": _round(new.metrics["precision"]),
        "recall_score": _round(new.metrics["recall"]), "f1_score": _round(new.metrics["f1"]),
        "training_duration": new.training_duration, "is_active": False, "is_production": False,
        "model_artifact_path": new.artifact_path, "training_config": new.training_config, "created_by": new.created_by,
        "created_at": now, "updated_at": now, "tenant_id": new.tenant_id, "scope": new.scope, "region": new.region,
        "status": new.status, "status_reason": new.status_reason, "artifact_sha256": new.artifact_sha256,
        "artifact_size_bytes": new.artifact_size_bytes, "metrics_detail": new.metrics_detail,
        "training_run_id": new.training_run_id,
    })
    return row.id, row.version


def _round(value: float) -> float:
    return round(float(value), 4)
