"""Alerts in the real database, notified by a real worker to a webhook on loopback: one alert of a
kind while it is open, notified once; resolved by an operator on the command line; a refused
notification tried again; each tenant sees its own."""
from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import text

from modelops import clock, db, tenants
from modelops.alerting import alerts
from tests.cli import run
from tests.integration.training_support import other_workers, start_worker, worker_group, workers_paused
from workers.app import app

pytestmark = pytest.mark.integration

DELIVER = "modelops.rollback.deliver_alerts"


class Webhook:
    """A chat service's incoming webhook, on loopback: records what it is sent; refuses while told to."""

    def __init__(self):
        self.received: list[dict] = []
        self.refusing = False
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if hook.refusing:
                    self.send_response(503)
                else:
                    hook.received.append(body)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/incoming/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts_about(self, alert_id: str) -> list[dict]:
        return [body for body in self.received if body["alert"]["id"] == alert_id]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture(scope="module")
def notifying_worker(database, broker, webhook, tmp_path_factory):
    """A worker of every queue configured with the webhook; others pause meanwhile."""
    group = worker_group(tmp_path_factory.mktemp("alerts-worker"), MODELOPS_ALERT_WEBHOOK_URL=webhook.url,
                         MODELOPS_ALERT_WEBHOOK_TIMEOUT="5")
    try:
        with workers_paused(other_workers()):
            start_worker(group, "alerts-webhook")
            yield
    finally:
        group.stop()


def deliver() -> dict:
    return app.send_task(DELIVER).get(timeout=60)


def raise_drift(tenant, version=None, **overrides) -> dict:
    with db.operator_scope() as connection:
        return alerts.raise_alert(connection, **{
            "alert_type": "drift", "severity": "warning", "message": "Input drift on classification v1.0",
            "tenant_id": tenant, "agent_type": "classification", "model_version_id": version,
            "details": {"psi": {"amount": 0.4}}, "now": clock.now(), **overrides})


def stored(owner, alert_id) -> dict:
    with owner.begin() as connection:
        return dict(connection.execute(text("SELECT * FROM ai.alerts WHERE id = :id"), {"id": alert_id}).mappings().one())


def test_an_alert_is_one_row_while_open_notified_once_and_anew_after_it_is_resolved(notifying_worker, webhook, owner):
    tenant = tenants.create_tenant(f"alerts-{uuid.uuid4().hex[:6]}")
    first = raise_drift(tenant)
    again = raise_drift(tenant, details={"psi": {"amount": 0.6}})
    assert first["created"] and not again["created"] and again["id"] == first["id"]
    row = stored(owner, first["id"])
    assert row["occurrences"] == 2 and row["details"] == {"psi": {"amount": 0.6}} and row["notified_at"] is None

    assert first["id"] in deliver()["notified"]
    assert deliver()["notified"] == []  # nothing new
    raise_drift(tenant)  # a third occurrence of the open alert: counted, not notified
    assert deliver()["notified"] == []
    (sent,) = webhook.alerts_about(first["id"])
    assert sent["team"] == "ml" and sent["alert"]["alert_type"] == "drift" and sent["alert"]["tenant_id"] == str(tenant)
    assert stored(owner, first["id"])["notified_at"] is not None

    with db.operator_scope() as connection:
        resolved = alerts.resolve_alert(connection, first["id"], resolved_by="ops-anna", note="retrained", now=clock.now())
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "ops-anna" and resolved["resolution_note"] == "retrained"
    fresh = raise_drift(tenant)
    assert fresh["created"] and fresh["id"] != first["id"] and fresh["occurrences"] == 1
    assert fresh["id"] in deliver()["notified"] and len(webhook.alerts_about(fresh["id"])) == 1


def test_alerts_other_code_writes_into_the_table_are_notified_too(notifying_worker, webhook, owner):
    """As the A/B evaluation writes its sample-ratio alert: a plain INSERT, notified by the beat task."""
    key = f"ab-test-sample-ratio:{uuid.uuid4()}"
    with owner.begin() as connection:
        alert_id = connection.execute(text(
            "INSERT INTO ai.alerts (alert_type, severity, audience, message, dedup_key) "
            "VALUES ('ab_test_sample_ratio_mismatch', 'critical', 'operations', 'split broken', :key) RETURNING id"),
            {"key": key}).scalar_one()
    assert str(alert_id) in deliver()["notified"]
    (sent,) = webhook.alerts_about(str(alert_id))
    assert sent["team"] == "operations" and sent["alert"]["severity"] == "critical"


def test_a_refused_notification_is_tried_again_at_the_next_pass(notifying_worker, webhook, owner):
    deliver()  # whatever earlier tests left
    tenant = tenants.create_tenant(f"alerts-refused-{uuid.uuid4().hex[:6]}")
    alert = raise_drift(tenant)
    webhook.refusing = True
    try:
        outcome = deliver()
    finally:
        webhook.refusing = False
    assert outcome == {"notified": [], "failed": [alert["id"]]}
    assert stored(owner, alert["id"])["notified_at"] is None  # given back
    assert deliver()["notified"] == [alert["id"]]
    assert len(webhook.alerts_about(alert["id"])) == 1


def test_raising_one_alert_from_two_processes_at_once_leaves_one_row(database):
    tenant = tenants.create_tenant(f"alerts-race-{uuid.uuid4().hex[:6]}")
    barrier = threading.Barrier(2)
    outcomes = []

    def raise_it():
        barrier.wait()
        outcomes.append(raise_drift(tenant))

    threads = [threading.Thread(target=raise_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(o["created"] for o in outcomes) == [False, True]
    assert len({o["id"] for o in outcomes}) == 1
    with db.operator_scope() as connection:
        (mine,) = [a for a in alerts.open_alerts(connection, tenant)]
    assert mine["occurrences"] == 2


def test_each_tenant_sees_its_own_alerts_and_operators_all(database):
    ours, theirs = (tenants.create_tenant(f"alerts-{name}-{uuid.uuid4().hex[:6]}") for name in ("ours", "theirs"))
    mine, other = raise_drift(ours), raise_drift(theirs)
    with db.tenant_scope(ours) as connection:
        assert {a["id"] for a in alerts.open_alerts(connection)} == {mine["id"]}
        with pytest.raises(alerts.AlertError, match="does not exist"):
            alerts.resolve_alert(connection, other["id"], resolved_by="ours-admin", note=None, now=clock.now())
    with db.operator_scope() as connection:
        every = {a["id"] for a in alerts.open_alerts(connection)}
        assert {mine["id"], other["id"]} <= every
        assert {a["id"] for a in alerts.open_alerts(connection, theirs)} == {other["id"]}


def test_bad_requests_are_refused_with_the_reason_and_write_nothing(database, owner):
    tenant = tenants.create_tenant(f"alerts-bad-{uuid.uuid4().hex[:6]}")
    for overrides, reason in (({"severity": "fatal"}, "severity must be one of info, warning, critical"),
                              ({"audience": "sales"}, "audience must be one of ml, operations"),
                              ({"message": "  "}, "needs a message"),
                              ({"model_version_id": "v1.0"}, "model_version_id must be a UUID")):
        with pytest.raises(alerts.AlertError, match=reason):
            raise_drift(tenant, **overrides)
    with owner.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM ai.alerts WHERE tenant_id = :t"), {"t": tenant}).scalar() == 0
    with db.operator_scope() as connection:
        for alert_id, by, reason in ((str(uuid.uuid4()), "ops", "does not exist"), ("42", "ops", "must be a UUID"),
                                     (str(uuid.uuid4()), " ", "say who resolves")):
            with pytest.raises(alerts.AlertError, match=reason):
                alerts.resolve_alert(connection, alert_id, resolved_by=by, note=None, now=clock.now())


def test_operators_list_and_resolve_alerts_on_the_command_line(database):
    tenant = tenants.create_tenant(f"alerts-cli-{uuid.uuid4().hex[:6]}")
    warning = raise_drift(tenant)
    with db.operator_scope() as connection:
        critical = alerts.raise_alert(connection, alert_type="rollback_impossible", severity="critical", audience="operations",
                                      message="No previous model available for rollback", tenant_id=tenant, now=clock.now())

    listed = run("alerts", "--tenant", str(tenant), "--json")
    assert listed.returncode == 0, listed.stderr
    assert [a["id"] for a in json.loads(listed.stdout)["alerts"]] == [critical["id"], warning["id"]]  # the most severe first
    text_view = run("alerts", "--tenant", str(tenant))
    assert "critical" in text_view.stdout and "No previous model available" in text_view.stdout

    done = run("alerts", "resolve", critical["id"], "--by", "ops-bo", "--note", "trained a first model by hand")
    assert done.returncode == 0 and f"resolved {critical['id']}" in done.stdout
    twice = run("alerts", "resolve", critical["id"], "--by", "ops-bo")
    assert twice.returncode == 2 and "already resolved by ops-bo" in twice.stderr and "Traceback" not in twice.stderr
    unknown = run("alerts", "resolve", "not-an-id", "--by", "ops-bo")
    assert unknown.returncode == 2 and "alert id must be a UUID" in unknown.stderr

    still_open = json.loads(run("alerts", "--tenant", str(tenant), "--json").stdout)["alerts"]
    assert [a["id"] for a in still_open] == [warning["id"]]
    everything = json.loads(run("alerts", "--tenant", str(tenant), "--all", "--json").stdout)["alerts"]
    assert [(a["id"], a["status"]) for a in everything] == [(warning["id"], "active"), (critical["id"], "resolved")]
    assert everything[1]["resolution_note"] == "trained a first model by hand"
