"""/metrics: the system's figures in Prometheus's text format, read from the database and the
broker at scrape time (no state is kept here, so any number of dashboard processes give the same
answer, and a restart loses nothing).

Counters are totals of rows that only ever grow (predictions folded into ai.model_metrics, feedback
rows, rollback events, alerts raised); gauges are states (training runs by status, queue lengths,
open alerts, model versions by status). `modelops_up` says which source answered: a scrape while
the database or the broker is down still succeeds, without that source's families.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from modelops import db
from modelops.config import settings
from modelops.dashboard import queues as broker_queues
from modelops.dashboard import read_model
from modelops.registry import store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

FEEDBACK = text("SELECT agent_type::text AS agent_type, source, count(*) AS n FROM ai.training_data GROUP BY 1, 2")
REJECTED = text("SELECT task_name, count(*) AS n FROM ai.rejected_events GROUP BY 1")
TRAINING_RUNS = text("SELECT agent_type, status, count(*) AS n FROM ai.training_runs GROUP BY 1, 2")
ROLLBACKS = text("SELECT agent_type, outcome, count(*) AS n FROM ai.rollback_events GROUP BY 1, 2")
ALERTS = text("SELECT severity, status, count(*) AS n FROM ai.alerts GROUP BY 1, 2")
AB_TESTS = text("SELECT agent_type, count(*) AS n FROM ai.ab_tests WHERE status = 'running' GROUP BY 1")


class SystemCollector:
    """A prometheus_client collector that reads everything anew on each scrape."""

    def __init__(self, queues: tuple[str, ...]):
        self.queues = queues

    def collect(self):
        up = GaugeMetricFamily("modelops_up", "Whether a source answered this scrape (1) or not (0)", labels=["source"])
        try:
            families = self._database_families()
            up.add_metric(["database"], 1)
        except DBAPIError:
            families = []
            up.add_metric(["database"], 0)
        try:
            families.append(self._queue_family())
            up.add_metric(["broker"], 1)
        except broker_queues.BrokerUnavailable:
            up.add_metric(["broker"], 0)
        yield up
        yield from families

    def _database_families(self) -> list:
        with db.dashboard_scope() as connection:
            rows = {name: connection.execute(query).all() for name, query in (
                ("predictions", read_model.PREDICTIONS_BY_AGENT), ("feedback", FEEDBACK), ("rejected", REJECTED),
                ("runs", TRAINING_RUNS), ("rollbacks", ROLLBACKS), ("alerts", ALERTS),
                ("ab_tests", AB_TESTS))}
            rows["versions"] = store.count_by_status(connection)
        predictions = CounterMetricFamily("modelops_predictions", "Predictions served, as folded into ai.model_metrics", labels=["agent_type"])
        labelled = CounterMetricFamily("modelops_predictions_labelled", "Predictions whose outcome feedback told", labels=["agent_type"])
        correct = CounterMetricFamily("modelops_predictions_correct", "Predictions feedback confirmed correct", labels=["agent_type"])
        overrides = CounterMetricFamily("modelops_user_overrides", "Predictions users overrode", labels=["agent_type"])
        for row in rows["predictions"]:
            predictions.add_metric([row.agent_type], row.predictions)
            labelled.add_metric([row.agent_type], row.labelled)
            correct.add_metric([row.agent_type], row.correct)
            overrides.add_metric([row.agent_type], row.overrides)
        feedback = CounterMetricFamily("modelops_feedback", "Feedback events stored as training data", labels=["agent_type", "source"])
        for row in rows["feedback"]:
            feedback.add_metric([row.agent_type, row.source], row.n)
        rejected = CounterMetricFamily("modelops_feedback_rejected", "Events refused at intake", labels=["task"])
        for row in rows["rejected"]:
            rejected.add_metric([row.task_name], row.n)
        runs = GaugeMetricFamily("modelops_training_jobs", "Training runs by status", labels=["agent_type", "status"])
        for row in rows["runs"]:
            runs.add_metric([row.agent_type, row.status], row.n)
        rollbacks = CounterMetricFamily("modelops_rollbacks", "Rollback events by outcome", labels=["agent_type", "outcome"])
        for row in rows["rollbacks"]:
            rollbacks.add_metric([row.agent_type, row.outcome], row.n)
        raised = CounterMetricFamily("modelops_alerts_raised", "Alerts raised", labels=["severity"])
        alerts = GaugeMetricFamily("modelops_alerts", "Alerts by severity and status", labels=["severity", "status"])
        raised_by_severity: dict[str, int] = {}
        for row in rows["alerts"]:
            alerts.add_metric([row.severity, row.status], row.n)
            raised_by_severity[row.severity] = raised_by_severity.get(row.severity, 0) + row.n
        for severity, n in sorted(raised_by_severity.items()):
            raised.add_metric([severity], n)
        versions = GaugeMetricFamily("modelops_model_versions", "Model versions by status", labels=["agent_type", "status"])
        for agent_type, status, n in rows["versions"]:
            versions.add_metric([agent_type, status], n)
        tests = GaugeMetricFamily("modelops_ab_tests_running", "A/B tests running", labels=["agent_type"])
        for row in rows["ab_tests"]:
            tests.add_metric([row.agent_type], row.n)
        return [predictions, labelled, correct, overrides, feedback, rejected, runs, rollbacks, raised, alerts, versions, tests]

    def _queue_family(self) -> GaugeMetricFamily:
        lengths = broker_queues.waiting(settings().broker_url, self.queues)
        family = GaugeMetricFamily("modelops_queue_length", "Messages waiting in a queue", labels=["queue"])
        for queue, length in lengths.items():
            family.add_metric([queue], length)
        return family


def registry(queues: tuple[str, ...]) -> CollectorRegistry:
    exposed = CollectorRegistry(auto_describe=False)
    exposed.register(SystemCollector(queues))
    return exposed


def scrape(exposed: CollectorRegistry) -> bytes:
    return generate_latest(exposed)
