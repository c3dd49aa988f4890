"""Serving through a real serving-pool worker: batches and single messages, the audit log, A/B
groups, promotions picked up while running, tenants without a model."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import text

from modelops import AGENT_TYPES, clock, db, serving, tenants
from modelops.agents import get_agent
from modelops.agents.synthetic import generate
from modelops.config import settings
from modelops.experiments.assignment import assign
from modelops.registry import promotion
from modelops.registry.resolution import serving_model
from modelops.serving.auditlog import logged_confidence
from tests.callers import signed, signed_batch, signed_prediction
from tests.fixtures import running_pool
from tests.integration.serving_models import record_model
from workers.app import app

pytestmark = pytest.mark.integration

PREDICT, PREDICT_BATCH = "modelops.serving.predict", "modelops.serving.predict_batch"
MODELOPS = str(Path(sys.executable).parent / "modelops")


@pytest.fixture(scope="module")
def serving_worker(database, broker, tmp_path_factory):
    """One worker of the serving pool, as `modelops worker --pool serving` starts it."""
    with running_pool(tmp_path_factory.mktemp("serving-worker"), "serving") as group:
        yield group


@pytest.fixture(scope="module")
def shop(serving_worker):
    """Two tenants with classification models of their own, the first also a chat model."""
    a, b = tenants.create_tenant("serving-a"), tenants.create_tenant("serving-b")
    return {"a": a, "b": b, "a_classification": record_model("classification", a, tenant_seed=1),
            "b_classification": record_model("classification", b, tenant_seed=2),
            "a_chat": record_model("chat", a, tenant_seed=1)}


def requests_for(tenant, agent_type="classification", n=1, seed=7, **extra) -> list[dict]:
    return [{"tenant_id": str(tenant), "agent_type": agent_type, "input_data": input_data, **extra}
            for input_data, _ in generate(agent_type, n, seed=seed)]


def predict(request: dict):
    """One ``predict`` call, signed by a member of the request's tenant."""
    return app.send_task(PREDICT, kwargs=signed_prediction(PREDICT, **request))


def logged(owner, prediction_ids: list[str]) -> dict[str, dict]:
    """The audit rows of these predictions, read past row-level security."""
    with owner.connect() as connection:
        rows = connection.execute(text("SELECT * FROM ai.prediction_log WHERE id = ANY(CAST(:ids AS uuid[]))"),
                                  {"ids": prediction_ids}).mappings().all()
    return {str(row["id"]): dict(row) for row in rows}


@pytest.mark.both_brokers
def test_a_batch_with_bad_items_answers_every_other_item_and_logs_each_answer(shop, owner):
    batch = (requests_for(shop["a"], n=10) + requests_for(shop["b"], n=10, seed=8) + requests_for(shop["a"], "chat", n=10))
    batch[4]["input_data"]["amount"] = "a lot"
    batch[12] = "not a request"
    batch[25]["agent_type"] = "forecasting"
    answers = app.send_task(PREDICT_BATCH, kwargs=signed_batch(PREDICT_BATCH, batch)).get(timeout=60)

    bad = {4: "input_data.amount:", 12: "request:", 25: "agent_type:"}
    assert len(answers) == len(batch)
    for position, answer in enumerate(answers):
        if position in bad:
            assert answer["status"] == "rejected" and answer["reason"].startswith(bad[position]), answer
        else:
            assert answer["status"] == "predicted", answer
    predicted = [(item, answer) for item, answer in zip(batch, answers) if answer["status"] == "predicted"]
    expected_versions = [shop["a_classification"]] * 9 + [shop["b_classification"]] * 9 + [shop["a_chat"]] * 9
    assert [answer["model_version"]["id"] for _, answer in predicted] == [str(v["id"]) for v in expected_versions]
    assert [answer["model_version"]["version"] for _, answer in predicted] == ["v1.0"] * 27

    rows = logged(owner, [answer["prediction_id"] for _, answer in predicted])
    assert len(rows) == 27
    for item, answer in predicted:
        row = rows[answer["prediction_id"]]
        agent = get_agent(item["agent_type"])
        assert str(row["model_version_id"]) == answer["model_version"]["id"]
        assert str(row["tenant_id"]) == item["tenant_id"] and row["agent_type"] == item["agent_type"]
        assert row["input_data"] == agent.validate_input(item["input_data"])
        assert row["predicted_output"] == answer["output"]
        assert row["confidence_score"] == logged_confidence(answer["confidence"])
        assert row["is_reproducible"] is True and row["reproducibility_note"] is None
        assert row["ab_group"] is None and row["ab_test_id"] is None
        assert row["prediction_duration_ms"] > 0 and row["prediction_timestamp"] is not None


@pytest.mark.both_brokers
def test_a_payload_that_is_not_a_list_is_refused_and_the_worker_keeps_serving(shop):
    answers = app.send_task(PREDICT_BATCH, kwargs=signed_batch(PREDICT_BATCH, {"tenant_id": str(shop["a"])})).get(timeout=30)
    assert answers == [{"status": "rejected", "reason": "items: expected a list of prediction requests, got dict"}]
    assert predict(requests_for(shop["a"])[0]).get(timeout=30)["status"] == "predicted"


@pytest.mark.redis_broker
def test_predictions_are_never_recorded_as_unacknowledged_in_the_broker(shop, broker):
    # The predict queue is consumed without acknowledgement: an acknowledged message would be
    # written to the broker's "unacked" hash when taken (and cleared later), two round trips a
    # message, and redelivered an hour later if its worker died. Watch every command the broker
    # runs while predictions go through.
    database = broker.connection_pool.connection_kwargs.get("db", 0)
    seen: list[str] = []
    watching = threading.Event()

    def watch() -> None:
        with broker.monitor() as monitor:
            watching.set()
            for command in monitor.listen():
                if command["db"] == database:
                    seen.append(command["command"])
                if command["command"].startswith("SET stop-watching"):
                    return

    watcher = threading.Thread(target=watch)
    watcher.start()
    watching.wait(5)
    calls = [signed_prediction(PREDICT, **item) for item in requests_for(shop["a"], n=40, seed=31)]
    results = [app.send_task(PREDICT, kwargs=call) for call in calls]
    assert all(result.get(timeout=60)["status"] == "predicted" for result in results)
    broker.set("stop-watching", 1)
    watcher.join(10)

    taken = [command for command in seen if command.startswith("BRPOP") and "predict" in command]
    recorded = [command for command in seen if command.startswith("HSET unacked ")]
    assert taken  # the watch saw the worker take messages
    assert not [command for command in recorded if any(result.id in command for result in results)]


@pytest.mark.both_brokers
def test_single_messages_from_a_plain_celery_client_each_get_their_own_answer(shop, owner):
    # another service's client: no import of ours, no routes, so it names the queue (and signs its
    # calls as any language can, docs/contracts.md)
    client = Celery(broker=settings().broker_url, backend=settings().redis_url)
    sent = requests_for(shop["a"], n=150, seed=21) + requests_for(shop["b"], n=150, seed=22)
    sent = [item for pair in zip(sent[:150], sent[150:]) for item in pair]  # the tenants interleaved
    sent[33]["input_data"]["date"] = "not a date"
    calls = [signed_prediction(PREDICT, **item) for item in sent]
    results = [client.send_task(PREDICT, kwargs=call, queue="predict") for call in calls]
    answers = [result.get(timeout=60) for result in results]

    assert answers[33]["status"] == "rejected" and answers[33]["reason"].startswith("input_data.date:")
    others = [(item, answer) for position, (item, answer) in enumerate(zip(sent, answers)) if position != 33]
    assert all(answer["status"] == "predicted" for _, answer in others)
    rows = logged(owner, [answer["prediction_id"] for _, answer in others])
    agent = get_agent("classification")
    for item, answer in others:  # each answer is the one made for its own request
        row = rows[answer["prediction_id"]]
        assert row["input_data"] == agent.validate_input(item["input_data"]) and str(row["tenant_id"]) == item["tenant_id"]
        assert answer["tenant_id"] == item["tenant_id"] and row["predicted_output"] == answer["output"]


def test_an_ab_test_splits_requests_by_sticky_key_and_logs_group_and_version(shop, owner):
    tenant = tenants.create_tenant("serving-ab")
    control = record_model("classification", tenant, tenant_seed=3)
    treatment = record_model("classification", tenant, tenant_seed=4, promote=False)
    before = predict(requests_for(tenant)[0]).get(timeout=30)  # its route is now cached
    assert before["ab_group"] is None and before["model_version"]["id"] == str(control["id"])
    with owner.begin() as connection:
        test_id = connection.execute(text("""
            INSERT INTO ai.ab_tests (agent_type, tenant_id, scope_key, control_version_id, treatment_version_id,
                                     allocation, config, created_by)
            VALUES ('classification', :tenant, :scope, :control, :treatment, 0.3,
                    '{"planned_sample_size": null}', 'tests') RETURNING id"""),
            {"tenant": tenant, "scope": f"tenant:{tenant}", "control": control["id"], "treatment": treatment["id"]}).scalar_one()
    try:
        time.sleep(1.0)  # a serving process re-reads the routes it serves at most every half second
        batch = [{**item, "request_key": f"customer-{i}"} for i, item in enumerate(requests_for(tenant, n=400, seed=31))]
        answers = app.send_task(PREDICT_BATCH, kwargs=signed_batch(PREDICT_BATCH, batch)).get(timeout=60)
        singles = [predict(item) for item in batch[:40]]
        single_answers = [result.get(timeout=60) for result in singles]
    finally:
        with owner.begin() as connection:
            connection.execute(text("UPDATE ai.ab_tests SET status = 'stopped', ended_at = now() WHERE id = :id"), {"id": test_id})
    time.sleep(1.0)
    after = app.send_task(PREDICT_BATCH, kwargs=signed_batch(PREDICT_BATCH, batch[:40])).get(timeout=60)  # the stopped test no longer splits
    assert {answer["ab_group"] for answer in after} == {None}
    assert {answer["model_version"]["id"] for answer in after} == {str(control["id"])}

    versions = {"control": str(control["id"]), "treatment": str(treatment["id"])}
    groups = [answer["ab_group"] for answer in answers]
    assert groups == [assign(str(test_id), item["request_key"], 0.3) for item in batch]
    assert 60 <= groups.count("treatment") <= 180  # 30% of 400, well within sampling error
    assert [answer["model_version"]["id"] for answer in answers] == [versions[group] for group in groups]
    assert [answer["ab_group"] for answer in single_answers] == groups[:40]  # sticky across both paths
    rows = logged(owner, [answer["prediction_id"] for answer in answers + single_answers])
    for item, answer in zip(batch + batch[:40], answers + single_answers):
        row = rows[answer["prediction_id"]]
        assert row["ab_test_id"] == test_id and row["ab_group"] == answer["ab_group"]
        assert row["request_key"] == item["request_key"] and str(row["model_version_id"]) == versions[answer["ab_group"]]


def served_version(tenant) -> str:
    return predict(requests_for(tenant, seed=int(time.monotonic() * 1000) % 10_000)[0]).get(timeout=30)["model_version"]["version"]


def move_pointer(tenant, version_id, event: str) -> float:
    """Make ``version_id`` production and return the monotonic time its transaction committed."""
    with db.tenant_scope(tenant) as connection:
        promotion.promote(connection, version_id, actor="tests", reason=f"test {event}", event=event, now=clock.now())
    return time.monotonic()


def seconds_until_served(tenant, version: str, since: float) -> float:
    """How long after ``since`` the first answer came from ``version`` (measured, not asserted)."""
    deadline = since + 30  # only so that a worker that never notices fails the test instead of hanging it
    while served_version(tenant) != version:
        assert time.monotonic() < deadline, f"{version} still not served 30 s after its commit"
    return time.monotonic() - since


@pytest.mark.both_brokers
def test_a_promotion_and_a_rollback_are_picked_up_by_the_running_worker_within_a_second(shop):
    tenant = tenants.create_tenant("serving-promotion")
    first = record_model("classification", tenant, tenant_seed=5)
    second = record_model("classification", tenant, tenant_seed=6, promote=False)
    assert served_version(tenant) == first["version"] == "v1.0"

    committed = move_pointer(tenant, second["id"], "promotion")
    print(f"\npromotion answered by {second['version']} {seconds_until_served(tenant, second['version'], committed):.3f} s after its commit")
    time.sleep(max(0.0, committed + 1.0 - time.monotonic()))
    later = [predict(item) for item in requests_for(tenant, n=20, seed=41)]
    assert {result.get(timeout=30)["model_version"]["version"] for result in later} == {"v1.1"}
    batch = app.send_task(PREDICT_BATCH, kwargs=signed_batch(PREDICT_BATCH, requests_for(tenant, n=20, seed=42))).get(timeout=30)
    assert {answer["model_version"]["id"] for answer in batch} == {str(second["id"])}

    committed = move_pointer(tenant, first["id"], "rollback")
    print(f"rollback answered by {first['version']} {seconds_until_served(tenant, first['version'], committed):.3f} s after its commit")
    time.sleep(max(0.0, committed + 1.0 - time.monotonic()))
    later = [predict(item) for item in requests_for(tenant, n=20, seed=43)]
    assert {result.get(timeout=30)["model_version"]["id"] for result in later} == {str(first["id"])}


def test_a_tenant_unknown_to_the_platform_gets_a_clear_error(shop):
    stranger = uuid.uuid4()  # no service can be a member of it: the caller is refused, as for any tenant not its own
    answer = app.send_task(PREDICT, kwargs=signed(PREDICT, **requests_for(stranger)[0])).get(timeout=30)
    assert answer["status"] == "refused"
    assert str(stranger) in answer["reason"] and "may not act for" in answer["reason"]
    # in process (the caller's membership is not checked there) the request gets as far as the tenant
    (answer,) = serving.predict_many(requests_for(stranger))
    assert answer["status"] == "unavailable"
    assert str(stranger) in answer["reason"] and "does not exist" in answer["reason"]


@pytest.mark.parametrize("agent_type", AGENT_TYPES)
def test_a_tenant_without_a_model_of_its_own_is_served_as_the_isolation_policy_says(shop, agent_type):
    newcomer = tenants.create_tenant("serving-newcomer")
    answer = predict(requests_for(newcomer, agent_type)[0]).get(timeout=30)
    with db.tenant_scope(newcomer) as connection:
        policy = serving_model(connection, agent_type, newcomer)
    if policy.version is None:
        assert answer == {"status": "unavailable", "reason": f"no {agent_type} model serves tenant {newcomer}: {policy.reason}"}
    else:
        assert answer["status"] == "predicted" and answer["model_version"]["id"] == str(policy.version.id)


def test_a_model_trained_under_other_library_versions_is_logged_as_not_reproducible(shop, owner):
    from modelops.training.pipeline import environment

    tenant = tenants.create_tenant("serving-old-environment")
    record_model("insight", tenant, tenant_seed=1, training_environment={**environment(), "scikit-learn": "1.0.2"})
    answer = predict(requests_for(tenant, "insight")[0]).get(timeout=30)
    row = logged(owner, [answer["prediction_id"]])[answer["prediction_id"]]
    assert row["is_reproducible"] is False
    assert "scikit-learn" in row["reproducibility_note"] and "1.0.2 at training" in row["reproducibility_note"]


def test_the_command_line_predicts_one_line_at_a_time_through_the_worker_or_in_process(shop):
    lines = [json.dumps(item["input_data"]) for item in requests_for(shop["b"], n=3, seed=51)] + ["{not json", '{"amount": 5}']
    done = subprocess.run([MODELOPS, "predict", "--agent", "classification", "--tenant", str(shop["b"])],
                          input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["status"] for a in answers] == ["predicted"] * 3 + ["rejected"] * 2
    assert all(a["model_version"]["id"] == str(shop["b_classification"]["id"]) for a in answers[:3])
    assert answers[3]["reason"].startswith("input_data: not JSON") and answers[4]["reason"].startswith("input_data.description:")
    inline = subprocess.run([MODELOPS, "predict", "--agent", "classification", "--tenant", str(shop["b"]), "--inline"],
                            input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert inline.returncode == 0, inline.stderr
    in_process = [json.loads(line) for line in inline.stdout.splitlines()]
    assert [a["status"] for a in in_process] == [a["status"] for a in answers]
    assert [a["output"] for a in in_process[:3]] == [a["output"] for a in answers[:3]]
    assert len({a["prediction_id"] for a in in_process[:3] + answers[:3]}) == 6  # each a prediction of its own
