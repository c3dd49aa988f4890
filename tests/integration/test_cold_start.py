"""Cold start and the isolation policy through a real worker: the global model (synthetic data),
the regional model (the opted-in tenants' aggregate), and which model serves which tenant."""
from __future__ import annotations

import uuid

import pytest

from modelops import AGENT_TYPES, clock, db, tenants
from modelops.privacy import aggregates
from modelops.registry.resolution import serving_model
from modelops.training import cold_start, sources
from tests.integration.training_support import run_row, seed, synthetic_rows, train, versions_of
from workers.app import app

pytestmark = pytest.mark.integration

AGENT = "insight"  # quick to train: the cold-start rules are the same for every agent


def train_global(agent_type: str = AGENT) -> dict:
    return app.send_task("modelops.training.train_global", args=[agent_type]).get(timeout=300)


def train_regional(region: str) -> dict:
    return app.send_task("modelops.training.train_regional", args=[AGENT, region]).get(timeout=300)


def served(agent_type: str, tenant):
    with db.tenant_scope(tenant) as connection:  # as serving will ask: in the tenant's own scope
        return serving_model(connection, agent_type, tenant)


def new_tenant(prefix: str, region: str = "EU", opt_in: bool = False) -> uuid.UUID:
    return tenants.create_tenant(f"{prefix}-{uuid.uuid4().hex[:6]}", country="DE", region=region, opt_in=opt_in)


@pytest.fixture(scope="module")
def global_model(worker) -> dict:
    result = train_global()
    assert result["status"] == "succeeded", result
    return result


@pytest.fixture(scope="module")
def region(global_model) -> dict:
    """A region of three opted-in tenants (and one that keeps its data to itself), its aggregate, its model."""
    name = f"test-{uuid.uuid4().hex[:6]}"
    contributors = [new_tenant("contributor", name, opt_in=True) for _ in range(3)]
    outsider = new_tenant("outsider", name)
    for number, tenant in enumerate([*contributors, outsider]):
        seed(tenant, AGENT, synthetic_rows(AGENT, 150, tenant_seed=300 + number))
    built = aggregates.build("region", name, AGENT, clock.now(), minimum=3)
    assert built["built"] and built["rows"] == 450
    return {"name": name, "contributors": contributors, "outsider": outsider, "result": train_regional(name)}


def test_the_global_model_learns_from_synthetic_tenants_and_is_promoted_when_it_beats_the_baseline(global_model):
    (version,) = versions_of(AGENT, None)
    assert str(version["id"]) == global_model["model_version_id"] and version["version"] == "v1.0"
    assert (version["tenant_id"], version["scope"], version["region"], version["scope_key"]) == (None, "global", None, "global")
    assert version["status"] == "production" and version["is_production"]
    assert float(version["accuracy_score"]) > version["metrics_detail"]["majority_baseline_accuracy"]
    source = version["training_config"]["data"]["source"]
    assert source["kind"] == "synthetic" and source["tenant_seeds"] == list(sources.SYNTHETIC_TENANT_SEEDS)
    rows = len(sources.SYNTHETIC_TENANT_SEEDS) * sources.SYNTHETIC_ROWS_PER_TENANT
    assert version["training_samples"] + version["validation_samples"] == rows
    assert run_row(global_model["run_id"])["trigger"] == "cold_start"


def test_the_global_model_is_not_trained_again_from_the_same_data_config_and_libraries(global_model):
    again = train_global()
    assert again["status"] == "skipped"
    assert again["reason"] == "source, config and libraries are those of v1.0: training again would make the same model"
    assert len(versions_of(AGENT, None)) == 1


def test_the_regional_model_learns_from_the_opted_in_tenants_aggregate_only(region):
    result = region["result"]
    assert result["status"] == "succeeded", result
    (version,) = versions_of(AGENT, None, region["name"])
    assert (version["tenant_id"], version["scope"], version["region"]) == (None, "regional", region["name"])
    assert version["status"] == "production" and result["decision"]["outcome"] == "production"
    # 150 rows from each of the three that opted in; none of the outsider's 150
    assert version["training_samples"] + version["validation_samples"] == 450
    source = version["training_config"]["data"]["source"]
    assert (source["kind"], source["area"], source["tenants"], source["rows"]) == ("aggregate", region["name"], 3, 450)
    # the weekly refresh covers it, beside a global model for every agent
    scopes = cold_start.shared_scopes()
    assert (AGENT, region["name"]) in scopes and {(agent, None) for agent in AGENT_TYPES} <= set(scopes)


def test_a_region_without_an_aggregate_makes_no_model_and_says_why(worker):
    result = train_regional("nowhere")
    assert result["status"] == "skipped"
    assert result["reason"].startswith(f"region nowhere has no {AGENT} aggregate")
    assert versions_of(AGENT, None, "nowhere") == []


def test_each_tenant_is_served_by_its_own_model_else_its_regions_if_it_opted_in_else_the_global_one(region, global_model):
    contributor, other_contributor = region["contributors"][:2]
    regional = served(AGENT, contributor)
    assert (regional.source, regional.version.region) == ("regional", region["name"])
    assert "opted in" in regional.reason

    outsider = served(AGENT, region["outsider"])
    assert outsider.source == "global" and str(outsider.version.id) == global_model["model_version_id"]
    assert "not opted in to aggregate learning" in outsider.reason

    elsewhere = served(AGENT, new_tenant("elsewhere", region="nowhere", opt_in=True))
    assert elsewhere.source == "global" and f"region nowhere has no {AGENT} production model" in elsewhere.reason

    assert train(AGENT, other_contributor)["decision"]["outcome"] == "production"
    own = served(AGENT, other_contributor)
    assert own.source == "tenant" and own.version.tenant_id == other_contributor

    nothing = served("journal", contributor)  # journal accounts are the tenant's own: no shared model serves them
    assert nothing.version is None and nothing.source is None
    assert "labels are the tenant's own" in nothing.reason


def test_a_tenant_cannot_ask_which_model_serves_another_tenant(region):
    asking, other = region["contributors"][0], region["outsider"]
    with pytest.raises(LookupError, match="does not exist"), db.tenant_scope(asking) as connection:
        serving_model(connection, AGENT, other)
