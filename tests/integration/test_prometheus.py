"""/metrics as Prometheus scrapes it: parsed with prometheus_client's own parser, and each family
moved by exactly what the test did through the real pipeline (a model trained, predictions served,
feedback sent, a rollback, an alert, messages left waiting in a queue)."""
from __future__ import annotations

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from modelops import clock, db
from modelops.alerting.alerts import raise_alert
from modelops.monitoring.rollback import trigger_rollback
from tests.integration.dashboard_support import (AGENT, bearer, fold, make_token, new_tenant, run_pipeline, running_dashboard,
                                                 wait_for)
from tests.integration.training_support import other_workers, workers_paused
from workers.app import app

pytestmark = pytest.mark.integration
WAITING = 3


@pytest.fixture(scope="module")
def url(database, tmp_path_factory):
    with running_dashboard(tmp_path_factory.mktemp("metrics-dashboard")) as base:
        yield base


@pytest.fixture(scope="module")
def operator(database):
    return make_token("operator", holder="prometheus")


def scrape(url: str, token: dict) -> dict:
    """{family name: {"type": ..., "samples": {(sample name, sorted labels): value}}}"""
    response = requests.get(f"{url}/metrics", headers=bearer(token), timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {family.name: {"type": family.type,
                          "samples": {(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}}
            for family in text_string_to_metric_families(response.text)}


def value(scraped: dict, family: str, sample: str, **labels) -> float:
    return scraped[family]["samples"].get((sample, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_what_the_pipeline_did(worker, url, operator):
    fold()  # counts earlier tests left in the broker are in the figures before, not in what moved
    before = scrape(url, operator)
    tenant = new_tenant("metrics", "svc-metrics")
    run_pipeline(tenant, "svc-metrics", tenant_seed=31, predictions=30)
    with db.operator_scope() as connection:
        rolled = trigger_rollback(connection, AGENT, tenant, triggers={"accuracy_drop": {"accuracy": 0.4}}, actor="tests",
                                  reason="metrics test", now=clock.now())
        raise_alert(connection, alert_type="drift", severity="warning", tenant_id=tenant, agent_type=AGENT,
                    message="input drift in the metrics test", now=clock.now())
    assert rolled["outcome"] == "no_previous_version"
    after = scrape(url, operator)

    def moved(family: str, sample: str, **labels) -> float:
        return value(after, family, sample, **labels) - value(before, family, sample, **labels)

    assert after["modelops_up"]["samples"] == {("modelops_up", (("source", "database"),)): 1.0,
                                                ("modelops_up", (("source", "broker"),)): 1.0}
    assert after["modelops_predictions"]["type"] == "counter"
    assert moved("modelops_predictions", "modelops_predictions_total", agent_type=AGENT) == 30
    assert moved("modelops_predictions_labelled", "modelops_predictions_labelled_total", agent_type=AGENT) == 30
    # the intake stored 300 training rows by hand; of the 30 predictions' feedback, every third is a correction
    assert moved("modelops_feedback", "modelops_feedback_total", agent_type=AGENT, source="manual_match") == 300
    assert moved("modelops_feedback", "modelops_feedback_total", agent_type=AGENT, source="user_correction") == 10
    assert moved("modelops_feedback", "modelops_feedback_total", agent_type=AGENT, source="suggestion_approved") == 20
    assert moved("modelops_training_jobs", "modelops_training_jobs", agent_type=AGENT, status="succeeded") == 1
    assert moved("modelops_rollbacks", "modelops_rollbacks_total", agent_type=AGENT, outcome="no_previous_version") == 1
    assert moved("modelops_alerts_raised", "modelops_alerts_raised_total", severity="warning") == 1
    assert moved("modelops_alerts", "modelops_alerts", severity="warning", status="active") == 1
    assert moved("modelops_model_versions", "modelops_model_versions", agent_type=AGENT, status="production") == 1


def test_queue_lengths_are_the_messages_waiting(worker, url, operator):
    """With the maintenance queue's consumers paused, the messages sent to it wait there."""
    with workers_paused(other_workers()):
        sent = [app.send_task("modelops.maintenance.ping", kwargs={"queue": "maintenance"}, queue="maintenance")
                for _ in range(WAITING)]
        waiting = scrape(url, operator)
    assert waiting["modelops_queue_length"]["type"] == "gauge"
    assert value(waiting, "modelops_queue_length", "modelops_queue_length", queue="maintenance") == WAITING
    for result in sent:
        result.get(timeout=60)
    wait_for(lambda: value(scrape(url, operator), "modelops_queue_length", "modelops_queue_length", queue="maintenance") == 0,
             "the queue to drain")


def test_metrics_need_an_operators_token(url, database, make_tenant):
    assert requests.get(f"{url}/metrics", timeout=30).status_code == 401
    tenant_token = make_token("tenant", make_tenant(), holder="viewer@metrics")
    refused = requests.get(f"{url}/metrics", headers=bearer(tenant_token), timeout=30)
    assert refused.status_code == 403 and "operator" in refused.json()["error"]
