"""predict_many without a broker or a database: routing, grouping, isolation of failures, log rows.

The registry and the audit log are replaced by plain functions here (their SQL is exercised by the
integration tests through real workers); the models are real, trained on synthetic data.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

import pytest

from modelops.agents import get_agent
from modelops.agents.synthetic import generate
from modelops.serving.models import ModelCache
from modelops.serving.pointers import PointerCache
from modelops.serving.reproducibility import current_environment
from modelops.serving.routes import Route, RunningTest, ServedModel
from modelops.serving.service import Server, derived_key, new_ids
from tests.model_versions import model_version
from modelops.registry.artifacts import ArtifactStore

NOW = dt.datetime(2026, 11, 2, 9, 30)
TENANT_A, TENANT_B, TENANT_NONE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def train(store: ArtifactStore, agent_type: str, tenant_seed: int, version: str, environment=None) -> ServedModel:
    agent = get_agent(agent_type)
    rows = [(agent.validate_input(i), agent.label(o)) for i, o in generate(agent_type, 300, seed=1, tenant_seed=tenant_seed)]
    estimator = agent.build_estimator().fit([i for i, _ in rows], [label for _, label in rows])
    saved = store.save(estimator)
    return ServedModel.from_version(model_version(
        agent_type=agent_type, version=version, model_artifact_path=saved.path, artifact_sha256=saved.sha256,
        artifact_size_bytes=saved.size_bytes,
        training_config={"environment": environment if environment is not None else current_environment()},
    ))


class Counted:
    """An estimator that counts its predict_proba calls (and their sizes) per model."""

    def __init__(self, estimator, calls: list, model_id):
        self.estimator, self.calls, self.model_id = estimator, calls, model_id
        self.classes_ = estimator.classes_

    def predict_proba(self, inputs):
        self.calls.append((self.model_id, len(inputs)))
        return self.estimator.predict_proba(inputs)


class CountingModels(ModelCache):
    def __init__(self, store):
        super().__init__(store, budget=10**9)
        self.calls: list = []

    def get(self, model):
        return Counted(super().get(model), self.calls, model.id)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    store = ArtifactStore(tmp_path_factory.mktemp("artifacts"))
    return {
        "store": store,
        "a": train(store, "classification", 1, "v1.0"),
        "b": train(store, "classification", 2, "v1.3"),
        "a_treatment": train(store, "classification", 3, "v1.1"),
        "chat": train(store, "chat", 1, "v1.0"),
    }


def server_for(models, routes: dict, written: list) -> tuple[Server, CountingModels]:
    cache = CountingModels(models["store"])
    def refresh(keys, known):
        return {key: ("", routes.get(key, Route(None, f"no {key[0]} model for tenant {key[1]}"))) for key in keys}

    return Server(PointerCache(refresh), cache, write_log=written.extend, now=lambda: NOW), cache


def request(tenant, agent_type="classification", seed=5, n=1, **extra):
    return [{"tenant_id": str(tenant), "agent_type": agent_type, "input_data": input_data, **extra}
            for input_data, _ in generate(agent_type, n, seed=seed)]


def test_each_model_predicts_its_whole_group_in_one_call_and_every_answer_is_logged(models):
    written: list = []
    routes = {("classification", TENANT_A): Route(models["a"], "tenant"), ("classification", TENANT_B): Route(models["b"], "tenant"),
              ("chat", TENANT_A): Route(models["chat"], "tenant")}
    server, cache = server_for(models, routes, written)
    batch = request(TENANT_A, n=40) + request(TENANT_B, n=25) + request(TENANT_A, "chat", n=10) + request(TENANT_A, n=5, seed=6)
    answers = server.predict_many(batch)
    assert [a["status"] for a in answers] == ["predicted"] * 80
    assert Counter(cache.calls) == Counter({(models["a"].id, 45): 1, (models["b"].id, 25): 1, (models["chat"].id, 10): 1})
    versions = [a["model_version"]["version"] for a in answers]
    assert versions == ["v1.0"] * 40 + ["v1.3"] * 25 + ["v1.0"] * 15
    assert {a["model_version"]["id"] for a in answers[40:65]} == {str(models["b"].id)}
    assert sorted(str(row.id) for row in written) == sorted(a["prediction_id"] for a in answers)
    by_id = {str(row.id): row for row in written}
    for item, answer in zip(batch, answers):
        row = by_id[answer["prediction_id"]]
        assert str(row.tenant_id) == item["tenant_id"] and row.agent_type == item["agent_type"]
        assert row.predicted_output == answer["output"] and row.prediction_timestamp == NOW
        assert str(row.model_version_id) == answer["model_version"]["id"]
        assert row.ab_group is None and row.ab_test_id is None and row.reproducibility_note is None


def test_the_answer_is_the_models_own(models):
    written: list = []
    server, _ = server_for(models, {("classification", TENANT_A): Route(models["a"], "tenant")}, written)
    batch = request(TENANT_A, n=30)
    agent = get_agent("classification")
    expected = agent.predict(models["store"].load(models["a"].artifact_path, models["a"].artifact_sha256),
                             [agent.validate_input(item["input_data"]) for item in batch])
    answers = server.predict_many(batch)
    assert [a["output"] for a in answers] == [p.output for p in expected]
    assert [a["confidence"] for a in answers] == [p.confidence for p in expected]


def test_one_bad_item_fails_alone(models):
    written: list = []
    server, _ = server_for(models, {("classification", TENANT_A): Route(models["a"], "tenant")}, written)
    batch = request(TENANT_A, n=6)
    batch[2]["input_data"]["amount"] = "lots"
    batch[4] = "not a request"
    answers = server.predict_many(batch)
    assert [a["status"] for a in answers] == ["predicted", "predicted", "rejected", "predicted", "rejected", "predicted"]
    assert answers[2]["reason"].startswith("input_data.amount:")
    assert len(written) == 4


def test_a_tenant_without_a_model_is_told_so_and_the_others_are_answered(models):
    written: list = []
    server, _ = server_for(models, {("classification", TENANT_A): Route(models["a"], "tenant")}, written)
    answers = server.predict_many(request(TENANT_NONE, n=2) + request(TENANT_A, n=3))
    assert [a["status"] for a in answers] == ["unavailable"] * 2 + ["predicted"] * 3
    assert str(TENANT_NONE) in answers[0]["reason"]
    assert len(written) == 3


def test_a_model_whose_artifact_fails_its_hash_check_fails_only_its_requests(models, tmp_path):
    written: list = []
    broken = ServedModel(**{**models["b"].__dict__, "id": uuid.uuid4(), "artifact_sha256": "0" * 64})
    server, _ = server_for(models, {("classification", TENANT_A): Route(models["a"], "tenant"),
                                    ("classification", TENANT_B): Route(broken, "tenant")}, written)
    answers = server.predict_many(request(TENANT_B, n=2) + request(TENANT_A, n=2))
    assert [a["status"] for a in answers] == ["unavailable"] * 2 + ["predicted"] * 2
    assert "refusing to load" in answers[0]["reason"] and str(broken.id) in answers[0]["reason"]
    assert len(written) == 2


def test_an_ab_test_splits_by_sticky_key_and_logs_group_test_and_key(models):
    written: list = []
    test = RunningTest(id=uuid.uuid4(), allocation=0.5, treatment=models["a_treatment"])
    server, _ = server_for(models, {("classification", TENANT_A): Route(models["a"], "tenant", test)}, written)
    batch = [{**item, "request_key": f"customer-{i}"} for i, item in enumerate(request(TENANT_A, n=200))]
    answers = server.predict_many(batch)
    groups = Counter(a["ab_group"] for a in answers)
    assert set(groups) == {"control", "treatment"} and 60 < groups["treatment"] < 140
    for answer in answers:
        expected = models["a_treatment"] if answer["ab_group"] == "treatment" else models["a"]
        assert answer["model_version"]["id"] == str(expected.id) and answer["ab_test_id"] == str(test.id)
    rows = {str(row.id): row for row in written}
    assert all(rows[a["prediction_id"]].ab_group == a["ab_group"] and rows[a["prediction_id"]].ab_test_id == test.id
               and rows[a["prediction_id"]].request_key == item["request_key"] for item, a in zip(batch, answers))
    again = server.predict_many(batch)
    assert [a["ab_group"] for a in again] == [a["ab_group"] for a in answers]


def test_without_a_key_the_input_is_the_sticky_key(models):
    written: list = []
    test = RunningTest(id=uuid.uuid4(), allocation=0.5, treatment=models["a_treatment"])
    server, _ = server_for(models, {("classification", TENANT_A): Route(models["a"], "tenant", test)}, written)
    batch = request(TENANT_A, n=50)
    first = server.predict_many(batch)
    assert [a["ab_group"] for a in server.predict_many(batch)] == [a["ab_group"] for a in first]
    logged_keys = [row.request_key for row in written[:50]]
    assert all(key.startswith("input:") for key in logged_keys)
    assert derived_key({"b": 1, "a": 2}) == derived_key({"a": 2, "b": 1}) != derived_key({"a": 2, "b": 2})


def test_a_model_trained_in_another_environment_is_logged_as_not_reproducible(models):
    written: list = []
    a = models["a"]
    trained_elsewhere = ServedModel.from_version(model_version(
        id=a.id, agent_type="classification", version="v1.0", model_artifact_path=a.artifact_path,
        artifact_sha256=a.artifact_sha256, artifact_size_bytes=a.artifact_size_bytes,
        training_config={"environment": {**current_environment(), "numpy": "1.0.0"}},
    ))
    server, _ = server_for(models, {("classification", TENANT_A): Route(trained_elsewhere, "tenant")}, written)
    assert server.predict_many(request(TENANT_A))[0]["status"] == "predicted"
    assert "numpy" in written[0].reproducibility_note and "1.0.0" in written[0].reproducibility_note


def test_the_logged_confidence_keeps_two_decimals_rounding_half_up():
    from decimal import Decimal

    from modelops.serving.auditlog import logged_confidence

    assert [logged_confidence(value) for value in (0.845, 0.8449, 0.999, 1.0, 0.0)] == [
        Decimal("0.85"), Decimal("0.84"), Decimal("1.00"), Decimal("1.00"), Decimal("0.00")]


def test_a_batchs_prediction_ids_are_distinct_random_version_4_uuids():
    ids = new_ids(1000)
    assert len(set(ids)) == 1000 and len(set(new_ids(1000)) | set(ids)) == 2000
    assert {(i.version, i.variant) for i in ids} == {(4, uuid.RFC_4122)}
    assert len({i.bytes[0] for i in ids}) > 200  # the random bits are random, not one value repeated
