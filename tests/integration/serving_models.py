"""Small real models for the serving tests and benchmark: fitted on synthetic rows, stored in the
artifact store and recorded in the registry as the training pipeline records its own."""
from __future__ import annotations

import datetime as dt
import uuid

from modelops import clock, db
from modelops.agents import get_agent
from modelops.agents.synthetic import generate
from modelops.config import settings
from modelops.registry import promotion, store, versions
from modelops.registry.artifacts import ArtifactStore
from modelops.training.pipeline import environment

TEST_PRINCIPAL = uuid.uuid5(uuid.NAMESPACE_URL, "modelops:tests")


def record_model(agent_type: str, tenant_id: uuid.UUID, *, tenant_seed: int, rows: int = 400,
                 promote: bool = True, training_environment: dict | None = None, config: dict | None = None) -> dict:
    """Fit, store and record one version of ``agent_type`` for ``tenant_id`` (production when
    ``promote``); returns {id, version}. ``training_environment`` overrides the library versions
    recorded as the training environment (this process's by default). ``config`` is the agent's
    recipe for synthetic rows unless given."""
    agent = get_agent(agent_type)
    data = [(agent.validate_input(i), agent.label(o)) for i, o in generate(agent_type, rows, seed=tenant_seed, tenant_seed=tenant_seed)]
    data = [(i, label) for i, label in data if label is not None]
    held_out = max(1, len(data) // 5)
    train, validation = data[held_out:], data[:held_out]
    config = config or agent.synthetic_config()  # the recipe of a model learned from synthetic rows, as the global model's
    estimator = agent.build_estimator(config).fit([i for i, _ in train], [label for _, label in train])
    predicted = [p.label for p in agent.predict(estimator, [i for i, _ in validation])]
    accuracy = sum(p == label for p, (_, label) in zip(predicted, validation)) / len(validation)
    stored = ArtifactStore(settings().artifact_dir).save(estimator)
    now = clock.now()
    new = versions.NewVersion(
        agent_type=agent_type, tenant_id=tenant_id, region=None, trained_on=now,
        training_samples=len(train), validation_samples=len(validation),
        metrics={"accuracy": accuracy, "precision": accuracy, "recall": accuracy, "f1": accuracy},
        metrics_detail={"note": "test model: accuracy on its held-out synthetic rows"},
        training_duration=dt.timedelta(0), artifact_path=stored.path, artifact_sha256=stored.sha256,
        artifact_size_bytes=stored.size_bytes,
        training_config={"agent": config, "environment": training_environment or environment(), "data": {"synthetic_tenant_seed": tenant_seed}},
        created_by=TEST_PRINCIPAL,
    )
    with db.tenant_scope(tenant_id) as connection:
        version_id, version = versions.record(connection, new, now)
        if promote:
            first = store.production(connection, agent_type, versions.scope_key(tenant_id)) is None
            promotion.promote(connection, version_id, actor="tests", reason="test model",
                              event="first_model" if first else "promotion", now=now)
    return {"id": version_id, "version": version}
