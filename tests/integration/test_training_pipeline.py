"""The training pipeline through a real worker: version rows, the promotion gate, artifacts,
determinism, redelivery after a worker dies, isolation and bad input."""
from __future__ import annotations

import hashlib
import os
import signal
import threading
import uuid

import numpy as np
import pytest
import sklearn
from sqlalchemy import text

from modelops import AGENT_TYPES, clock, db, tenants
from modelops.config import settings
from modelops.registry import promotion
from modelops.registry.loading import load_estimator
from modelops.registry.resolution import serving_model
from modelops import workflows
from modelops.training import pipeline, runs
from modelops.registry.artifacts import ArtifactIntegrityError
from tests.integration.training_support import (
    CHECK_TRIGGERS, TRAIN_MODEL, other_workers, pid_of, queue_run, registered, run_row, seed, start_worker, synthetic_rows, train,
    versions_of, wait_until, worker_group, workers_paused,
)
from workers.app import app
from workers.roundtrip import round_trip

pytestmark = pytest.mark.integration

KNOWN_AGENTS = "known agents: " + ", ".join(AGENT_TYPES)


def new_tenant(prefix: str) -> uuid.UUID:
    return tenants.create_tenant(f"{prefix}-{uuid.uuid4().hex[:6]}", country="DE", region="EU")


def history_of(version_id) -> list[dict]:
    with db.operator_scope() as connection:
        rows = connection.execute(text("SELECT * FROM ai.production_history WHERE model_version_id = :v ORDER BY started_at"),
                                  {"v": version_id}).mappings().all()
    return [dict(row) for row in rows]


def production_versions(agent_type: str, tenant) -> list[str]:
    return [v["version"] for v in versions_of(agent_type, tenant) if v["is_production"]]


def test_a_trained_version_fills_every_column_and_versions_count_per_agent_and_tenant(worker):
    tenant, other = new_tenant("columns"), new_tenant("columns-other")
    seed(tenant, "classification", synthetic_rows("classification", 600, tenant_seed=11))
    result = train("classification", tenant)
    assert result["status"] == "succeeded" and result["version"] == "v1.0"

    (version,) = versions_of("classification", tenant)
    # every column has a value, but the ones a first, per-tenant model has none of
    assert [column for column, value in version.items() if value is None] == ["rollback_version", "region"]
    assert version["id"] == uuid.UUID(result["model_version_id"]) and version["tenant_id"] == tenant
    assert version["training_samples"] + version["validation_samples"] == 600
    assert 0 < version["validation_samples"] < version["training_samples"]
    detail = version["metrics_detail"]
    assert detail["averaging"] == "macro"
    for name, column in (("accuracy", "accuracy_score"), ("precision", "precision_score"), ("recall", "recall_score"), ("f1", "f1_score")):
        assert float(version[column]) == round(detail["summary"][name], 4)
    assert sum(figures["support"] for figures in detail["per_class"].values()) == version["validation_samples"]
    assert version["training_duration"].total_seconds() > 0
    config = version["training_config"]
    assert config["agent"]["max_word_features"] == 5000 and config["agent"]["word_ngrams"] == [1, 2]
    assert config["environment"]["scikit-learn"] == sklearn.__version__ and config["environment"]["numpy"] == np.__version__
    assert config["schedule"]["validation_split"] == 0.2 and config["data"]["usable"] == 600
    assert version["created_by"] == pipeline.principal_id("operator")
    artifact = settings().artifact_dir / version["model_artifact_path"]
    data = artifact.read_bytes()
    assert hashlib.sha256(data).hexdigest() == version["artifact_sha256"] and len(data) == version["artifact_size_bytes"]
    # the first model beat the majority class, so it serves, and its move is on record
    assert version["status"] == "production" and version["is_production"] and version["is_active"]
    assert float(version["accuracy_score"]) > detail["majority_baseline_accuracy"]
    (moved,) = history_of(version["id"])
    assert (moved["event"], moved["actor"], moved["ended_at"]) == ("first_model", "training", None)
    assert "beats the majority-class baseline" in moved["reason"] and moved["started_at"] is not None

    seed(tenant, "classification", synthetic_rows("classification", 100, tenant_seed=11, seed=1))
    assert train("classification", tenant)["version"] == "v1.1"
    seed(other, "classification", synthetic_rows("classification", 100, tenant_seed=12))
    seed(tenant, "chat", synthetic_rows("chat", 100, tenant_seed=11))
    assert train("classification", other)["version"] == "v1.0"
    assert train("chat", tenant)["version"] == "v1.0"
    assert [v["version"] for v in versions_of("classification", tenant)] == ["v1.0", "v1.1"]


def test_a_first_model_that_does_not_beat_the_majority_class_is_rejected_with_its_reason(worker):
    tenant = new_tenant("baseline")
    # labels that have nothing to do with the inputs, 85% one class
    labels = np.where(np.random.default_rng(0).random(300) < 0.85, "Suspense", "Sundry")
    rows = [(input_data, {"category": str(label)}) for (input_data, _), label in
            zip(synthetic_rows("classification", 300, tenant_seed=31), labels)]
    seed(tenant, "classification", rows)
    result = train("classification", tenant)
    assert result["status"] == "succeeded"
    (version,) = versions_of("classification", tenant)
    assert version["status"] == "rejected" and not version["is_production"]
    assert "does not beat the majority-class baseline" in version["status_reason"]
    assert result["decision"]["outcome"] == "rejected" and history_of(version["id"]) == []


def test_a_candidate_below_098_of_production_on_the_same_rows_is_rejected(worker, owner):
    tenant = new_tenant("worse")
    seed(tenant, "classification", synthetic_rows("classification", 1500, tenant_seed=41))
    first = train("classification", tenant)
    assert first["decision"]["outcome"] == "production"
    # an erasure request leaves 10 of the tenant's rows; the candidate learns from those and 20 new ones,
    # too few to know most of the tenant's categories (a learner that generalises from a handful of
    # rows per category would pass at 60). The rows kept are chosen by content, not by their random
    # ids, so every run trains the same candidate.
    with owner.begin() as connection:
        connection.execute(text("""DELETE FROM ai.training_data WHERE tenant_id = :t AND id NOT IN
                                   (SELECT id FROM ai.training_data WHERE tenant_id = :t
                                    ORDER BY md5(input_data::text) LIMIT 10)"""), {"t": tenant})
    seed(tenant, "classification", synthetic_rows("classification", 20, tenant_seed=41, seed=1))
    second = train("classification", tenant)

    production, candidate = versions_of("classification", tenant)
    decision = second["decision"]
    assert decision["outcome"] == "rejected" and decision["production_version_id"] == str(production["id"])
    assert float(candidate["accuracy_score"]) < 0.98 * decision["production_accuracy"]
    assert candidate["status"] == "rejected" and not candidate["is_production"] and not candidate["is_active"]
    assert "< 0.98 x production" in candidate["status_reason"] and "v1.0" in candidate["status_reason"]
    assert f"same {candidate['validation_samples']} validation rows" in candidate["status_reason"]
    assert production_versions("classification", tenant) == ["v1.0"]


def test_a_promotion_leaves_one_production_model_the_previous_inactive_and_its_history(worker):
    tenant = new_tenant("promote")
    seed(tenant, "classification", synthetic_rows("classification", 800, tenant_seed=51))
    first = train("classification", tenant)
    seed(tenant, "classification", synthetic_rows("classification", 400, tenant_seed=51, seed=1))
    second = train("classification", tenant)
    # trained on more of the same tenant's rows, it passes the gate and goes to an A/B test
    assert second["decision"]["outcome"] == "candidate"
    assert float(second["metrics"]["accuracy"]) >= 0.98 * second["decision"]["production_accuracy"]
    v10, v11 = versions_of("classification", tenant)
    test = second["decision"]["ab_test"]
    assert (test["status"], test["candidate_version_id"], test["control_version_id"]) == ("started", str(v11["id"]), str(v10["id"]))
    assert v11["status"] == "testing" and not v11["is_production"]

    moved_at = clock.now()
    with db.tenant_scope(tenant) as connection:
        outcome = promotion.promote(connection, v11["id"], actor="ab-test", reason="won its A/B test", event="promotion", now=moved_at)
    assert outcome == {"promoted": str(v11["id"]), "replaced": first["model_version_id"], "changed": True}
    v10, v11 = versions_of("classification", tenant)
    assert production_versions("classification", tenant) == ["v1.1"]
    assert (v10["is_production"], v10["is_active"], v10["status"]) == (False, False, "retired")
    assert v11["is_active"] and v11["rollback_version"] == v10["id"]
    (old,) = history_of(v10["id"])
    assert old["ended_at"] == moved_at and "won its A/B test" in old["ended_reason"]
    (new,) = history_of(v11["id"])
    assert (new["event"], new["actor"], new["reason"], new["started_at"], new["ended_at"]) == (
        "promotion", "ab-test", "won its A/B test", moved_at, None)


def test_two_promotions_at_once_take_turns_and_leave_one_production_model(worker):
    tenant = new_tenant("race")
    seed(tenant, "classification", synthetic_rows("classification", 500, tenant_seed=52))
    train("classification", tenant)
    for more in (1, 2):
        seed(tenant, "classification", synthetic_rows("classification", 200, tenant_seed=52, seed=more))
        assert train("classification", tenant)["decision"]["outcome"] == "candidate"
    _, v11, v12 = versions_of("classification", tenant)
    start, outcomes = threading.Barrier(2), {}

    def promote(version):
        start.wait()
        with db.tenant_scope(tenant) as connection:
            outcomes[version["version"]] = promotion.promote(connection, version["id"], actor="ab-test", reason="race",
                                                             event="promotion", now=clock.now())

    threads = [threading.Thread(target=promote, args=(version,)) for version in (v11, v12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(outcome["changed"] for outcome in outcomes.values()) and len(outcomes) == 2
    last = [version for version, outcome in outcomes.items() if outcome["replaced"] in (str(v11["id"]), str(v12["id"]))]
    assert len(last) == 1  # the second move replaced the first one's model
    assert production_versions("classification", tenant) == last
    with db.operator_scope() as connection:
        open_rows = connection.execute(text("SELECT count(*) FROM ai.production_history WHERE scope_key = :s AND ended_at IS NULL"),
                                       {"s": f"tenant:{tenant}"}).scalar_one()
    assert open_rows == 1


def test_an_artifact_with_a_changed_byte_is_refused_where_models_are_loaded(worker):
    tenant = new_tenant("tamper")
    seed(tenant, "classification", synthetic_rows("classification", 400, tenant_seed=4242))
    train("classification", tenant)
    with db.tenant_scope(tenant) as connection:
        served = serving_model(connection, "classification", tenant)
    assert served.source == "tenant" and served.version.version == "v1.0"
    assert load_estimator(served.version).predict([synthetic_rows("classification", 1, tenant_seed=4242)[0][0]]).shape == (1,)

    artifact = settings().artifact_dir / served.version.model_artifact_path
    original = artifact.read_bytes()
    changed = bytearray(original)
    changed[len(changed) // 2] ^= 0x01
    artifact.write_bytes(bytes(changed))
    try:
        with pytest.raises(ArtifactIntegrityError, match="refusing to load"):
            load_estimator(served.version)
        # the training worker's gate loads production the same way, and holds the candidate
        seed(tenant, "classification", synthetic_rows("classification", 100, tenant_seed=4242, seed=1))
        result = train("classification", tenant)
    finally:
        artifact.write_bytes(original)
    assert result["decision"]["outcome"] == "held" and "refusing to load" in result["decision"]["reason"]
    production, candidate = versions_of("classification", tenant)
    assert candidate["status"] == "candidate" and "could not be loaded" in candidate["status_reason"]
    assert production["is_production"] and not candidate["is_production"]


def test_the_same_rows_and_config_train_a_byte_identical_artifact(worker):
    rows = synthetic_rows("chat", 400, tenant_seed=61)
    first, second = new_tenant("same-a"), new_tenant("same-b")
    seed(first, "chat", rows)
    seed(second, "chat", rows[::-1])  # stored in another order, with other ids
    train("chat", first)
    train("chat", first)  # nothing new: the same rows again
    # and once more in this process, whose string hashing is seeded differently from the worker's
    workflows.train(queue_run("chat", second), worker=f"test/{os.getpid()}")
    (v10, v11), (other,) = versions_of("chat", first), versions_of("chat", second)
    assert v10["artifact_sha256"] == v11["artifact_sha256"] == other["artifact_sha256"]
    assert v10["model_artifact_path"] == other["model_artifact_path"]
    assert v11["status"] == "testing"  # as good as production, on the same rows: it passes the gate to its A/B test


def test_a_tenants_model_learns_from_its_own_rows_only(worker):
    tenant, neighbour = new_tenant("own"), new_tenant("neighbour")
    seed(tenant, "classification", synthetic_rows("classification", 300, tenant_seed=71))
    neighbours = [(input_data, {"category": "Zebra Imports"}) for input_data, _ in synthetic_rows("classification", 300, tenant_seed=72)]
    seed(neighbour, "classification", neighbours)
    train("classification", tenant)
    (version,) = versions_of("classification", tenant)
    assert version["training_samples"] + version["validation_samples"] == 300
    assert "Zebra Imports" not in load_estimator(registered(version["id"])).classes_.tolist()


def test_a_second_delivery_of_a_finished_job_changes_nothing(worker):
    tenant = new_tenant("again")
    seed(tenant, "insight", synthetic_rows("insight", 300, tenant_seed=81))
    run_id = queue_run("insight", tenant)
    first = app.send_task(TRAIN_MODEL, args=[str(run_id)]).get(timeout=300)
    again = app.send_task(TRAIN_MODEL, args=[str(run_id)]).get(timeout=300)
    assert again["status"] == "succeeded" and again["model_version_id"] == first["model_version_id"]
    assert len(versions_of("insight", tenant)) == 1 and run_row(run_id)["details"]["attempts"] == 1


@pytest.fixture(scope="module")
def slow_tenant(worker) -> uuid.UUID:
    """A tenant with enough rows that fitting takes seconds: time to kill a worker mid-fit."""
    tenant = new_tenant("killed")
    seed(tenant, "classification", synthetic_rows("classification", 12_000, tenant_seed=91))
    return tenant


def wait_for_phase(run_id, phase: str) -> dict:
    return wait_until(lambda: (row := run_row(run_id))["details"].get("phase") == phase and row, timeout=120,
                      interval=0.02, what=f"run {run_id} reaching {phase}")


def wait_for_end(run_id) -> dict:
    return wait_until(lambda: (row := run_row(run_id))["status"] not in ("queued", "running") and row, timeout=300,
                      what=f"run {run_id} finishing")


def test_a_job_whose_pool_process_is_killed_mid_fit_is_redelivered_and_leaves_one_version(slow_tenant):
    before = len(versions_of("classification", slow_tenant))
    run_id = queue_run("classification", slow_tenant)
    result = app.send_task(TRAIN_MODEL, args=[str(run_id)])
    fitting = wait_for_phase(run_id, "fitting")
    os.kill(pid_of(fitting["claimed_by"]), signal.SIGKILL)

    # the worker hands the message back to the queue; a fresh pool process takes the run over
    assert result.get(timeout=300)["status"] == "succeeded"  # the same task, delivered again
    done = run_row(run_id)
    assert done["status"] == "succeeded" and done["details"]["attempts"] == 2
    assert done["details"]["previous_worker"] == fitting["claimed_by"] != done["claimed_by"]
    assert len(versions_of("classification", slow_tenant)) == before + 1
    assert result.get()["model_version_id"] == str(done["model_version_id"])


def test_a_job_whose_whole_worker_dies_is_freed_by_the_maintenance_sweep_and_leaves_one_version(slow_tenant, tmp_path):
    before = len(versions_of("classification", slow_tenant))
    run_id = queue_run("classification", slow_tenant)
    with workers_paused(other_workers()):
        doomed = worker_group(tmp_path / "doomed")
        pid = start_worker(doomed, "doomed", concurrency=1)
        app.send_task(TRAIN_MODEL, args=[str(run_id)])
        fitting = wait_for_phase(run_id, "fitting")
        os.killpg(pid, signal.SIGKILL)  # the host is gone: no process is left to hand the message back
        doomed.stop()
        rescue = worker_group(tmp_path / "rescue")
        try:
            start_worker(rescue, "rescue", concurrency=1)
            swept = app.send_task("modelops.maintenance.free_stale_claims").get(timeout=60)
            assert str(run_id) in swept["resent"]
            done = wait_for_end(run_id)
        finally:
            rescue.stop()
    assert done["status"] == "succeeded" and done["details"]["attempts"] == 2
    assert done["details"]["freed_claim"]["worker"] == fitting["claimed_by"]
    assert done["claimed_by"].startswith("rescue@")
    assert len(versions_of("classification", slow_tenant)) == before + 1


def test_the_sweep_leaves_a_run_that_a_live_worker_is_training_alone(slow_tenant):
    before = len(versions_of("classification", slow_tenant))
    run_id = queue_run("classification", slow_tenant)
    result = app.send_task(TRAIN_MODEL, args=[str(run_id)])
    fitting = wait_for_phase(run_id, "fitting")
    swept = app.send_task("modelops.maintenance.free_stale_claims").get(timeout=60)
    assert str(run_id) not in swept["resent"]
    # a duplicate of the message waits for the lock, then leaves the run to the worker that has it
    duplicate = app.send_task(TRAIN_MODEL, args=[str(run_id)]).get(timeout=300)
    assert duplicate["status"] in ("running", "succeeded")
    assert result.get(timeout=300)["status"] == "succeeded"
    done = run_row(run_id)
    assert done["details"]["attempts"] == 1 and done["claimed_by"] == fitting["claimed_by"]
    assert len(versions_of("classification", slow_tenant)) == before + 1


def test_rows_that_do_not_fit_the_payload_are_skipped_and_counted(worker):
    tenant = new_tenant("skipped")
    good = synthetic_rows("classification", 120, tenant_seed=101)
    template = good[0][0]
    bad = ([({**template, "amount": "lots"}, {"category": "Travel"})] * 3
           + [({k: v for k, v in template.items() if k != "description"}, {"category": "Travel"})] * 2
           + [({**template, "direction": "sideways"}, {"category": "Travel"})]
           + [(template, {"cat": "Travel"})] * 4)
    seed(tenant, "classification", good + bad)
    result = train("classification", tenant)
    skipped = {"input: amount": 3, "input: description": 2, "input: direction": 1, "label: unreadable expected_output": 4}
    assert result["status"] == "succeeded"
    run = run_row(result["run_id"])
    assert run["details"]["skipped"] == skipped and run["details"]["collected"] == 130 and run["details"]["usable"] == 120
    (version,) = versions_of("classification", tenant)
    assert version["training_config"]["data"]["skipped"] == skipped
    assert version["training_samples"] + version["validation_samples"] == 120


def test_too_few_rows_make_no_model_and_the_run_says_why(worker):
    tenant = new_tenant("few")
    seed(tenant, "classification", synthetic_rows("classification", 12, tenant_seed=102))
    result = train("classification", tenant)
    assert result["status"] == "skipped"
    run = run_row(result["run_id"])
    assert run["status"] == "skipped" and run["error"] == "12 usable rows (of 12 collected), fewer than the 20 a model needs"
    assert run["details"]["usable"] == 12 and run["model_version_id"] is None
    assert versions_of("classification", tenant) == []


def test_a_single_class_makes_no_model_and_the_run_says_why(worker):
    tenant = new_tenant("one-class")
    rows = [(input_data, {"category": "Software"}) for input_data, _ in synthetic_rows("classification", 40, tenant_seed=103)]
    seed(tenant, "classification", rows)
    result = train("classification", tenant)
    assert result["status"] == "skipped"
    assert run_row(result["run_id"])["error"].startswith("every usable row has the same label 'Software'")
    assert versions_of("classification", tenant) == []


def test_an_unknown_agent_is_refused_with_the_known_ones(worker):
    for task, args in ((CHECK_TRIGGERS, ["robot"]), ("modelops.training.train_global", ["robot"])):
        with pytest.raises(ValueError, match=KNOWN_AGENTS):
            app.send_task(task, args=args).get(timeout=60)
    tenant = new_tenant("robot")
    with pytest.raises(ValueError, match=KNOWN_AGENTS), db.tenant_scope(tenant) as connection:
        runs.create(connection, agent_type="robot", tenant_id=tenant, scope_key=f"tenant:{tenant}", trigger="manual",
                    reason="test", requested_by="operator", run_key=f"robot:{uuid.uuid4()}", now=clock.now())
    with pytest.raises(ValueError, match="does not exist"):
        app.send_task(TRAIN_MODEL, args=[str(uuid.uuid4())]).get(timeout=60)
    assert len(round_trip(("train",), timeout=30)) == 1  # the worker is still there
