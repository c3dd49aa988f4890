"""`modelops train` and `modelops versions` as an operator runs them: real processes, the real
database and broker, and a real worker for the queued path."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import text

from modelops import clock, db, intake, tenants
from modelops.agents.synthetic import generate
from modelops.registry import store, versions
from modelops.registry.versions import scope_key
from modelops.training import runs
from tests.cli import run

pytestmark = pytest.mark.integration
SERVICE = "ledger-svc"


def seed_feedback(tenant_id: uuid.UUID, agent_type: str, rows: list[tuple[dict, dict]]) -> None:
    """Store rows as confirmed suggestions, through the intake's own admit / scrub-and-store."""
    events = [{"tenant_id": str(tenant_id), "agent_type": agent_type, "source": "suggestion_approved",
               "input_data": input_data, "actual_output": expected, "idempotency_key": f"seed-{number}"}
              for number, (input_data, expected) in enumerate(rows)]
    verdicts, accepted = intake.admit(events, SERVICE, "test seed")
    assert [verdict.status for verdict in verdicts] == ["accepted"] * len(rows)
    assert intake.scrub_and_store(accepted)["stored"] == len(rows)


@pytest.fixture
def tenant_with(make_tenant):
    """A tenant whose service member has sent ``n`` labelled classification rows."""

    def make(n: int, rows: list[tuple[dict, dict]] | None = None) -> uuid.UUID:
        tenant_id = make_tenant()
        tenants.add_member(tenant_id, SERVICE, "service")
        seed_feedback(tenant_id, "classification", rows or generate("classification", n, seed=7, tenant_seed=3))
        return tenant_id

    return make


def as_json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def one_error_line(result) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_inline_then_worker_training_gives_two_versions_and_one_production(worker, tenant_with):
    tenant = tenant_with(300)

    inline = as_json(run("train", "--agent", "classification", "--tenant", str(tenant), "--inline", "--json"))
    assert inline["status"] == "succeeded" and inline["version"] == "v1.0"
    assert inline["decision"]["outcome"] == "production"
    assert inline["training_samples"] + inline["validation_samples"] == 300
    assert inline["metrics"]["averaging"] == "macro"
    assert set(inline["metrics"]) == {"accuracy", "precision", "recall", "f1", "averaging"}
    assert 0.5 < inline["metrics"]["accuracy"] <= 1

    queued = as_json(run("train", "--agent", "classification", "--tenant", str(tenant), "--wait", "--json"))
    assert queued["status"] == "succeeded" and queued["version"] == "v1.1"
    assert queued["model_version_id"] != inline["model_version_id"]
    with db.operator_scope() as connection:
        claimed_by = dict(connection.execute(
            text("SELECT id::text, claimed_by FROM ai.training_runs WHERE tenant_id = :t"), {"t": tenant}).all())
    assert claimed_by[inline["run_id"]].startswith("cli@")
    assert claimed_by[queued["run_id"]].startswith("all@")  # the worker fixture's hostname

    listed = as_json(run("versions", "--agent", "classification", "--tenant", str(tenant), "--json"))
    assert listed["scope"] == f"tenant:{tenant}"
    assert [(v["version"], v["id"]) for v in listed["versions"]] == [
        ("v1.0", inline["model_version_id"]), ("v1.1", queued["model_version_id"])]
    assert [v["is_production"] for v in listed["versions"]] == [True, False]
    first = listed["versions"][0]
    assert first["metrics"] == inline["metrics"]
    assert (first["training_samples"], first["validation_samples"]) == (inline["training_samples"], inline["validation_samples"])
    assert first["artifact_size_bytes"] == inline["artifact_size_bytes"] > 0

    table = run("versions", "--agent", "classification", "--tenant", str(tenant)).stdout.splitlines()
    production_lines = [line for line in table if line.startswith("* ")]
    assert len(production_lines) == 1 and production_lines[0].split()[1] == "v1.0"


def test_train_without_wait_prints_the_run_and_task_and_the_worker_trains_it(worker, tenant_with):
    from workers.app import app

    tenant = tenant_with(200)
    queued = as_json(run("train", "--agent", "classification", "--tenant", str(tenant), "--json"))
    assert queued["status"] == "queued"
    outcome = app.AsyncResult(queued["task_id"]).get(timeout=120)
    assert outcome["run_id"] == queued["run_id"] and outcome["status"] == "succeeded"
    with db.tenant_scope(tenant) as connection:
        recorded = runs.get(connection, queued["run_id"])
    assert recorded["status"] == "succeeded" and str(recorded["model_version_id"]) == outcome["model_version_id"]


def test_the_text_report_names_version_metrics_averaging_and_decision(database, tenant_with):
    tenant = tenant_with(200)
    result = run("train", "--agent", "classification", "--tenant", str(tenant), "--inline")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines["version"].startswith("v1.0 ")
    assert "accuracy" in lines["metrics"] and "f1" in lines["metrics"] and "macro-averaged" in lines["metrics"]
    assert lines["decision"].startswith("production: first model")


def test_versions_without_a_tenant_lists_the_global_models(database):
    now = clock.now()
    with db.operator_scope() as connection:
        before = len(store.listing(connection, "chat", "global"))
        version_id, number = versions.record(connection, versions.NewVersion(
            agent_type="chat", tenant_id=None, region=None, trained_on=now, training_samples=80, validation_samples=20,
            metrics={"accuracy": 0.9, "precision": 0.8, "recall": 0.7, "f1": 0.75},
            metrics_detail={"averaging": "macro"}, training_duration=dt.timedelta(seconds=1),
            artifact_path="global-chat", artifact_sha256="0" * 64, artifact_size_bytes=1024,
            training_config={}, created_by=uuid.uuid4()), now)
    listed = as_json(run("versions", "--agent", "chat", "--json"))
    assert listed["scope"] == "global" and len(listed["versions"]) == before + 1
    assert (listed["versions"][-1]["id"], listed["versions"][-1]["version"]) == (str(version_id), number)
    assert listed["versions"][-1]["metrics"]["recall"] == 0.7
    assert as_json(run("versions", "--agent", "chat", "--tenant", "global", "--json")) == listed


@pytest.mark.parametrize("command", ["train", "versions"])
def test_an_unknown_agent_is_refused_with_the_known_ones(database, make_tenant, command):
    line = one_error_line(run(command, "--agent", "bookkeeper", "--tenant", str(make_tenant())))
    assert "unknown agent 'bookkeeper'" in line
    assert "classification, reconciliation, journal, compliance, insight, chat" in line


@pytest.mark.parametrize("command", ["train", "versions"])
def test_an_unknown_tenant_is_refused_by_name(database, command):
    missing = uuid.uuid4()
    line = one_error_line(run(command, "--agent", "chat", "--tenant", str(missing)))
    assert line == f"error: unknown tenant {missing}"
    assert "is not a tenant id" in one_error_line(run(command, "--agent", "chat", "--tenant", "acme"))


@pytest.mark.parametrize("rows, reason", [
    (generate("classification", 12, seed=1, tenant_seed=3), "12 usable rows (of 12 collected), fewer than the 20"),
    ([(input_data, {"category": "Software"}) for input_data, _ in generate("classification", 30, seed=2, tenant_seed=3)],
     "every usable row has the same label 'Software'"),
])
def test_a_refused_run_prints_its_recorded_reason_and_writes_no_version(database, tenant_with, rows, reason):
    tenant = tenant_with(len(rows), rows)
    result = run("train", "--agent", "classification", "--tenant", str(tenant), "--inline", "--json")
    line = one_error_line(result)
    assert reason in line
    printed = json.loads(result.stdout)
    assert printed["status"] == "skipped" and reason in printed["reason"]
    with db.tenant_scope(tenant) as connection:
        recorded = runs.get(connection, printed["run_id"])
        made = connection.execute(text("SELECT count(*) FROM ai.model_versions WHERE tenant_id = :t"), {"t": tenant}).scalar()
    assert recorded["status"] == "skipped" and reason in recorded["error"] and made == 0


def test_a_second_run_while_one_is_in_flight_is_refused(database, tenant_with):
    tenant = tenant_with(50)
    with db.tenant_scope(tenant) as connection:
        in_flight = runs.create(connection, agent_type="classification", tenant_id=tenant, scope_key=scope_key(tenant),
                                trigger="manual", reason="test", requested_by="test", run_key=str(uuid.uuid4()),
                                now=clock.now())
    line = one_error_line(run("train", "--agent", "classification", "--tenant", str(tenant), "--inline"))
    assert f"run {in_flight} is queued or running" in line
    with db.tenant_scope(tenant) as connection:
        total = connection.execute(text("SELECT count(*) FROM ai.training_runs WHERE tenant_id = :t"), {"t": tenant}).scalar()
    assert total == 1
