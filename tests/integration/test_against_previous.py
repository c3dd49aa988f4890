"""Slow decay through a real worker: a production model that its predecessor beats on the same
recent labelled traffic is rolled back to it, with the figures; one that holds its own stays.

The audit rows are written directly (as the owner) with the labels each case needs: the check
replays both versions on whatever the table holds. The labels are what one of the two models
answers, so that which of them is right on each row is known before the check runs.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import text

from modelops import tenants
from modelops.agents import get_agent
from modelops.agents.synthetic import generate
from modelops.config import settings
from modelops.registry.artifacts import ArtifactStore
from schemas.tasks import TaskName
from tests.integration.serving_models import record_model
from tests.fixtures import audit_log_at
from workers.app import app

pytestmark = pytest.mark.integration

NOW = dt.datetime(2031, 8, 20, 12, 0)
AGENT = "classification"
INSERT = text("""
    INSERT INTO ai.prediction_log (model_version_id, agent_type, tenant_id, input_data, predicted_output,
                                   actual_output, was_correct, prediction_timestamp)
    VALUES (:version, 'classification', :tenant, CAST(:input AS jsonb), '{}'::jsonb, CAST(:actual AS jsonb), true, :at)
""")


@pytest.fixture(scope="module")
def fixed_worker(worker, owner):
    with audit_log_at(owner, NOW):
        yield


def answers(owner, version_id, inputs) -> list:
    with owner.connect() as connection:
        version = connection.execute(text("SELECT * FROM ai.model_versions WHERE id = :id"), {"id": version_id}).mappings().one()
    model = ArtifactStore(settings().artifact_dir).load(version["model_artifact_path"], version["artifact_sha256"])
    return [p.label for p in get_agent(AGENT).predict(model, inputs)]


def two_versions(owner, seed: int, labelled_by: str) -> tuple[uuid.UUID, uuid.UUID, int, int]:
    """A tenant whose production (the second version) replaced a first; 600 of the current version's
    predictions of the last days are labelled with the answers of ``labelled_by`` ('previous' or
    'current'). Returns the two ids and how many rows each of them gets right."""
    tenant = tenants.create_tenant(f"decay-{seed}-{uuid.uuid4().hex[:6]}")
    previous = record_model(AGENT, tenant, tenant_seed=seed, rows=300)["id"]
    current = record_model(AGENT, tenant, tenant_seed=seed + 1, rows=300)["id"]  # replaces it in production
    agent = get_agent(AGENT)
    inputs = [agent.validate_input(i) for i, _ in generate(AGENT, 600, seed=seed + 2, tenant_seed=seed)]
    by = {"previous": answers(owner, previous, inputs), "current": answers(owner, current, inputs)}
    labels = by[labelled_by]
    with owner.begin() as connection:
        connection.execute(INSERT, [{"version": current, "tenant": tenant, "input": json.dumps(i),
                                     "actual": json.dumps(agent.output(label, 1.0)),
                                     "at": NOW - dt.timedelta(minutes=1 + n)} for n, (i, label) in enumerate(zip(inputs, labels))])
    right = {name: sum(a == b for a, b in zip(given, labels)) for name, given in by.items()}
    return previous, current, right["previous"], right["current"]


def production_of(owner, version_id) -> bool:
    with owner.connect() as connection:
        return connection.execute(text("SELECT is_production FROM ai.model_versions WHERE id = :id"), {"id": version_id}).scalar_one()


def test_a_model_its_predecessor_beats_on_the_same_traffic_is_rolled_back_to_it(fixed_worker, owner):
    previous, current, previous_right, current_right = two_versions(owner, 301, labelled_by="previous")
    assert previous_right - current_right >= 0.03 * 600, "the two test models should disagree on some rows"

    result = app.send_task(TaskName.ROLLBACK_CHECK_AGAINST_PREVIOUS, args=[[str(current)]]).get(timeout=180)

    (outcome,) = result["results"]
    assert outcome["outcome"] == "rolled_back" and outcome["to_version_id"] == str(previous), outcome
    assert outcome["triggers"] == ["worse_than_previous"]
    assert production_of(owner, previous) and not production_of(owner, current)
    with owner.connect() as connection:
        event = connection.execute(text("SELECT triggers, actor, reason FROM ai.rollback_events WHERE from_version_id = :id"),
                                   {"id": current}).mappings().one()
    figures = event["triggers"]["worse_than_previous"]
    assert event["actor"] == "decay-monitor"
    assert figures["rows"] == 600 and figures["breached"]
    assert figures["previous_accuracy"] == pytest.approx(previous_right / 600)
    assert figures["current_accuracy"] == pytest.approx(current_right / 600)
    assert "previous version" in event["reason"]


def test_a_model_that_does_as_well_as_its_predecessor_stays(fixed_worker, owner):
    previous, current, previous_right, current_right = two_versions(owner, 311, labelled_by="current")
    assert current_right == 600 and previous_right < 600

    result = app.send_task(TaskName.ROLLBACK_CHECK_AGAINST_PREVIOUS, args=[[str(current)]]).get(timeout=180)

    (outcome,) = result["results"]
    assert outcome["outcome"] == "healthy" and not outcome["condition"]["breached"]
    assert outcome["condition"]["only_current_right"] == 600 - previous_right
    assert production_of(owner, current) and not production_of(owner, previous)


def test_a_request_naming_no_list_is_refused_with_the_reason(fixed_worker):
    result = app.send_task(TaskName.ROLLBACK_CHECK_AGAINST_PREVIOUS, args=["not-a-list"]).get(timeout=60)
    assert result["outcome"] == "refused" and "must be a list of model version ids" in result["reason"]
