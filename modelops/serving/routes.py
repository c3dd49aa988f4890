"""Where a request for (agent, tenant) goes: the version serving it, and the A/B test it takes part in.

A tenant's requests take part in a running test when the test's control is the version serving
the tenant (its own model's test, or the global model's for a tenant the global model serves). A
test whose control is no longer in production (a rollback moved the pointer) no longer describes
the traffic: the tenant is then served by production alone until the test is ended.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from modelops.experiments.assignment import assign
from modelops.registry.store import ModelVersion
from modelops.serving.reproducibility import environment_note


@dataclass(frozen=True)
class ServedModel:
    id: uuid.UUID
    agent_type: str
    version: str
    scope: str
    artifact_path: str
    artifact_sha256: str
    artifact_size_bytes: int
    reproducibility_note: str | None  # None: this process runs the environment the model was trained in

    @classmethod
    def from_version(cls, version: ModelVersion) -> "ServedModel":
        config = version.training_config or {}
        return cls(
            id=version.id, agent_type=version.agent_type, version=version.version, scope=version.scope,
            artifact_path=version.model_artifact_path, artifact_sha256=version.artifact_sha256,
            artifact_size_bytes=int(version.artifact_size_bytes or 0),
            reproducibility_note=environment_note(config.get("environment")),
        )

    def describe(self) -> dict[str, str]:
        return {"id": str(self.id), "version": self.version, "scope": self.scope}


@dataclass(frozen=True)
class RunningTest:
    id: uuid.UUID
    allocation: float
    treatment: ServedModel


@dataclass(frozen=True)
class Route:
    model: ServedModel | None  # None: nothing serves this agent for this tenant
    reason: str
    test: RunningTest | None = None

    def choose(self, key: str) -> tuple[ServedModel, str | None]:
        """The model for a request with sticky ``key``, and its A/B group (None outside any test)."""
        if self.test is None:
            return self.model, None
        group = assign(self.test.id, key, self.test.allocation)
        return (self.test.treatment if group == "treatment" else self.model), group
