"""The registry's store against the real database: what its unique constraints refuse comes back as
the registry's own error, naming the constraint, and nothing of the refused write is kept."""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest

from modelops import clock, db
from modelops.registry import promotion, store, versions

pytestmark = pytest.mark.integration


def new_version(tenant_id: uuid.UUID) -> versions.NewVersion:
    return versions.NewVersion(
        agent_type="classification", tenant_id=tenant_id, region=None, trained_on=clock.now(), training_samples=80,
        validation_samples=20, metrics={"accuracy": 0.9, "precision": 0.8, "recall": 0.7, "f1": 0.75},
        metrics_detail={"averaging": "macro"}, training_duration=dt.timedelta(seconds=1), artifact_path="store-test",
        artifact_sha256="0" * 64, artifact_size_bytes=1024, training_config={}, created_by=uuid.uuid4())


def test_a_version_number_taken_twice_is_a_registry_conflict(database, make_tenant):
    tenant = make_tenant()
    scope = versions.scope_key(tenant)
    with db.tenant_scope(tenant) as connection:
        first_id, number = versions.record(connection, new_version(tenant), clock.now())
        taken = {column: value for column, value in dataclasses.asdict(store.get(connection, first_id)).items()
                 if column not in ("id", "scope_key", "training_run_id")}
    with pytest.raises(store.RegistryConflict, match="uq_model_versions_version"):
        with db.tenant_scope(tenant) as connection:
            store.insert_version(connection, taken)
    with db.tenant_scope(tenant) as connection:
        assert [version.id for version in store.listing(connection, "classification", scope)] == [first_id]
    assert number == "v1.0"


def test_a_second_production_model_of_a_scope_is_a_registry_conflict(database, make_tenant):
    """The partial unique index behind promotion's lock: pointing production at a version while
    another still holds the scope is refused, and the first stays production."""
    tenant = make_tenant()
    scope = versions.scope_key(tenant)
    now = clock.now()
    with db.tenant_scope(tenant) as connection:
        first_id, _ = versions.record(connection, new_version(tenant), now)
        second_id, _ = versions.record(connection, new_version(tenant), now)
        promotion.promote(connection, first_id, actor="tests", reason="first", event="first_model", now=now)
    with pytest.raises(store.RegistryConflict, match="uq_model_versions_one_production"):
        with db.tenant_scope(tenant) as connection:
            store.point_production_at(connection, second_id, replaced=None, agent_type="classification",
                                      tenant_id=tenant, scope=scope, event="manual", reason="not retiring the first",
                                      actor="tests", now=now)
    with db.tenant_scope(tenant) as connection:
        assert store.production(connection, "classification", scope).id == first_id
        assert store.get(connection, second_id).status == "candidate"
