"""A version's fitted model, from the shared artifact store, only if the store vouches for it."""
from __future__ import annotations

from typing import Any

from modelops.config import settings
from modelops.registry.artifacts import ArtifactIntegrityError, ArtifactStore
from modelops.registry.store import ModelVersion


def load_estimator(version: ModelVersion) -> Any:
    """The version's estimator; ArtifactIntegrityError when its path leads out of the store, its
    signature does not verify, or its file is missing, changed or swapped (all checked before
    anything is unpickled: ``ArtifactStore.load``)."""
    if not version.model_artifact_path or not version.artifact_sha256:
        raise ArtifactIntegrityError(f"model version {version.id} records no artifact")
    return ArtifactStore(settings().artifact_dir).load(version.model_artifact_path, version.artifact_sha256)
