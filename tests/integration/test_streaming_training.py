"""Streaming training (modelops/training/streaming.py) against the real Postgres: a tenant at or
above the threshold trains by streaming, below it in memory; the streamed version is recorded,
judged, loadable and reproducible like any other."""
from __future__ import annotations

import uuid

import pytest

from modelops import tenants, workflows
from modelops.agents import get_agent
from modelops.registry.loading import load_estimator
from tests.integration.training_support import queue_run, registered, seed, synthetic_rows, versions_of

pytestmark = pytest.mark.integration

ROWS = 3_000


@pytest.fixture
def tenant(database):
    tenant_id = tenants.create_tenant(f"streaming-{uuid.uuid4().hex[:6]}")
    seed(tenant_id, "classification", synthetic_rows("classification", ROWS, tenant_seed=23))
    return tenant_id


def trained(tenant) -> dict:
    """The version a run made, with the gate's decision beside it."""
    outcome = workflows.train(queue_run("classification", tenant), worker="test")
    assert outcome["status"] == "succeeded", outcome
    version = next(v for v in versions_of("classification", tenant) if str(v["id"]) == outcome["model_version_id"])
    return {**version, "decision": outcome["decision"]}


def test_a_tenant_at_the_threshold_streams_and_its_version_is_recorded_judged_and_served(tenant, monkeypatch):
    monkeypatch.setenv("MODELOPS_STREAMING_ROWS", str(ROWS))
    version = trained(tenant)
    config = version["training_config"]
    assert config["data"]["streamed"] is True and config["agent"]["streaming"]["epochs"] >= 1
    assert version["training_samples"] + version["validation_samples"] == config["data"]["usable"] == ROWS
    assert config["served_model_rows"] == ROWS
    assert 0.17 * ROWS < version["validation_samples"] < 0.23 * ROWS  # the schedule's 0.2, by the rows' hashes
    detail = version["metrics_detail"]
    assert detail["summary"]["accuracy"] > detail["majority_baseline_accuracy"] + 0.2
    assert version["is_production"] and version["status_reason"].startswith("first model")
    # the served artifact is a model like any other: checked, loaded, answering with the tenant's labels
    model = load_estimator(registered(version["id"]))
    rows = synthetic_rows("classification", 50, tenant_seed=23, seed=9)
    agent = get_agent("classification")
    predictions = agent.predict(model, [agent.validate_input(data) for data, _ in rows])
    assert sum(p.label == agent.label(expected) for p, (_, expected) in zip(predictions, rows)) >= 35
    assert all(0 < p.confidence <= 1 for p in predictions)


def test_the_same_rows_stream_into_the_same_model_and_the_gate_compares_on_its_validation_rows(tenant, monkeypatch):
    monkeypatch.setenv("MODELOPS_STREAMING_ROWS", "1")
    first, second = trained(tenant), trained(tenant)
    assert second["artifact_sha256"] == first["artifact_sha256"]
    assert second["metrics_detail"] == first["metrics_detail"]
    # the second was judged against the first on the same validation rows, by the first's validation model
    decision = second["decision"]
    assert decision["outcome"] == "candidate", decision
    assert f"on the same {second['validation_samples']} validation rows" in decision["reason"]
    assert decision["production_accuracy"] == pytest.approx(first["metrics_detail"]["summary"]["accuracy"])


def test_a_tenant_below_the_threshold_keeps_the_in_memory_model(tenant, monkeypatch):
    monkeypatch.setenv("MODELOPS_STREAMING_ROWS", str(ROWS + 1))
    config = trained(tenant)["training_config"]
    assert "streamed" not in config["data"] and "streaming" not in config["agent"]


def test_a_threshold_that_is_not_a_whole_number_of_rows_fails_the_run_with_its_name(tenant, monkeypatch):
    monkeypatch.setenv("MODELOPS_STREAMING_ROWS", "many")
    with pytest.raises(ValueError, match="MODELOPS_STREAMING_ROWS must be a whole number of rows"):
        workflows.train(queue_run("classification", tenant), worker="test")
