"""The check histories' retention through a real maintenance worker: retrain and drift checks older
than MODELOPS_CHECK_RETENTION_DAYS (400 by default) are deleted, younger ones kept."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from modelops import tenants
from tests.fixtures import running_pool
from tests.integration.serving_models import record_model
from workers.app import app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def maintenance_worker(database, broker, tmp_path_factory):
    with running_pool(tmp_path_factory.mktemp("maintenance-worker"), "maintenance") as group:
        yield group


def retrain_check(owner, tenant, at: dt.datetime) -> uuid.UUID:
    with owner.begin() as connection:
        return connection.execute(text("""
            INSERT INTO ai.retrain_checks (agent_type, tenant_id, scope_key, checked_at, new_samples, decision, reason)
            VALUES ('insight', :tenant, 'tenant:' || :tenant, :at, 0, 'wait', 'nothing new') RETURNING id"""),
            {"tenant": tenant, "at": at}).scalar_one()


def drift_check(owner, tenant, version, at: dt.datetime) -> uuid.UUID:
    with owner.begin() as connection:
        return connection.execute(text("""
            INSERT INTO ai.drift_checks (model_version_id, tenant_id, agent_type, checked_at, window_start, sample_size,
                                         drifted, features, reason)
            VALUES (:version, :tenant, 'insight', :at, :at, 0, false, '{}', 'too few predictions') RETURNING id"""),
            {"version": version, "tenant": tenant, "at": at}).scalar_one()


def remaining(owner, table: str, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    with owner.connect() as connection:
        return set(connection.execute(text(f"SELECT id FROM {table} WHERE id = ANY(:ids)"), {"ids": ids}).scalars())


def test_checks_older_than_the_retention_period_are_deleted_and_younger_ones_kept(maintenance_worker, owner):
    tenant = tenants.create_tenant("check-pruning")
    version = record_model("insight", tenant, tenant_seed=5)["id"]
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    old, young = now - dt.timedelta(days=401), now - dt.timedelta(days=399)
    retrain = {"old": retrain_check(owner, tenant, old), "young": retrain_check(owner, tenant, young)}
    drift = {"old": drift_check(owner, tenant, version, old), "young": drift_check(owner, tenant, version, young)}

    result = app.send_task("modelops.maintenance.prune_checks").get(timeout=60)

    assert remaining(owner, "ai.retrain_checks", list(retrain.values())) == {retrain["young"]}
    assert remaining(owner, "ai.drift_checks", list(drift.values())) == {drift["young"]}
    assert result["deleted"]["ai.retrain_checks"] >= 1 and result["deleted"]["ai.drift_checks"] >= 1
