"""Secrets never reach a log or a task result: the database owner's and the application role's
passwords, the broker's password and an alert webhook's token.

Everything runs against a Postgres cluster and a Redis of the test's own that demand passwords, with
a worker of every queue logging at INFO (which logs every task's result too). The tasks are driven
through their answers, their refusals and their failures: a webhook that refuses the alert, and
Postgres stopped under a task, so that connection errors and retries are logged as well.
"""
from __future__ import annotations

import json
import secrets
import time
import uuid

import pytest
from sqlalchemy import create_engine, pool, text

import celeryconfig
from modelops import db, migrations, tenants
from tests.faults.servers import free_port, ping, private_postgres, private_redis, stack
from tests.faults.support import collect, send
from tests.security.support import event, run
from tests.callers import signed

pytestmark = pytest.mark.integration


def test_no_password_or_token_appears_in_worker_logs_task_results_or_command_output(tmp_path, monkeypatch):
    owner_password, app_password = f"owner-{secrets.token_hex(8)}", f"app-{secrets.token_hex(8)}"
    system_password, dashboard_password = f"system-{secrets.token_hex(8)}", f"dashboard-{secrets.token_hex(8)}"
    broker_password, token = f"broker-{secrets.token_hex(8)}", f"tok-{secrets.token_hex(12)}"
    hidden = {"owner password": owner_password, "application password": app_password,
              "system role's password": system_password, "dashboard role's password": dashboard_password,
              "broker password": broker_password, "webhook token": token}
    role_passwords = {"MODELOPS_APP_DB_PASSWORD": app_password, "MODELOPS_SYSTEM_DB_PASSWORD": system_password,
                      "MODELOPS_DASHBOARD_DB_PASSWORD": dashboard_password}
    with private_postgres(password=owner_password) as postgres, private_redis(password=broker_password) as broker:
        url = postgres.url()
        monkeypatch.setenv("DATABASE_URL", url)
        for variable, password in role_passwords.items():
            monkeypatch.setenv(variable, password)
        migrations.ensure_database(url)
        migrations.upgrade(database_url=url)
        owner = create_engine(url, poolclass=pool.NullPool)
        try:
            tenant = tenants.create_tenant("secrets")
            tenants.add_member(tenant, "svc-secrets")
            with owner.begin() as connection:  # an alert waiting to be sent to a webhook that is not there
                connection.execute(text("""INSERT INTO ai.alerts (alert_type, severity, message, dedup_key, tenant_id)
                                           VALUES ('accuracy_drop', 'critical', 'test alert', :key, :t)"""),
                                   {"key": f"secrets:{uuid.uuid4()}", "t": tenant})
            webhook = f"http://127.0.0.1:{free_port()}/hooks/{token}"
            with stack(tmp_path / "workers", broker.url(), DATABASE_URL=url, MODELOPS_ALERT_WEBHOOK_URL=webhook,
                       **role_passwords) as workers:
                workers.start("all", loglevel="INFO")
                client = workers.client
                answers = ping(client, tuple(celeryconfig.QUEUES))
                calls = [
                    ("modelops.feedback.record", [event(tenant, "secret-1")], {"caller": "svc-secrets"}),
                    ("modelops.feedback.record", [{"tenant_id": "nobody"}], {"caller": "svc-secrets"}),
                    ("modelops.feedback.record", [event(tenant, "secret-2")], {"caller": "a-stranger"}),
                    ("modelops.serving.predict_batch", [[{"tenant_id": str(tenant), "agent_type": "classification",
                                                          "input_data": {"description": "x", "amount": 1.0, "currency": "USD",
                                                                         "direction": "debit", "date": "2031-06-01"}},
                                                         {"tenant_id": "bad"}]], {}),
                    ("modelops.audit.reproduce_prediction", [str(uuid.uuid4())], {}),
                    ("modelops.audit.reproduce_prediction", ["not-an-id"], {}),
                    ("modelops.rollback.trigger_rollback", ["classification", str(tenant), "test", "tester"], {}),
                    ("modelops.rollback.deliver_alerts", [], {}),
                    ("modelops.metrics.fold_counters", [], {}),
                    ("modelops.metrics.build_daily_performance", [], {}),
                    ("modelops.maintenance.free_stale_claims", [], {}),
                    ("modelops.training.check_triggers", ["classification"], {}),
                    ("modelops.training.train_model", [str(uuid.uuid4())], {}),
                ]
                answers += collect(client, [send(client, name, args=args, kwargs=kwargs) for name, args, kwargs in calls],
                                   timeout=120)
                # Postgres goes away under a task: its connection errors and retries are logged
                # from a service the workers have not looked up yet: its credential is read during the outage
                envelope = signed("modelops.feedback.record", "svc-secrets-late", [tenant], event=event(tenant, "secret-3"))
                postgres.stop()
                during_outage = send(client, "modelops.feedback.record", kwargs=envelope)
                time.sleep(3)
                postgres.start()
                (outage_answer,) = collect(client, [during_outage], timeout=120)
                answers.append(outage_answer)
                logs = workers.logs()
            outputs = [run("db", "current", env={"DATABASE_URL": url}), run("ping", env={"REDIS_URL": broker.url()}),
                       run("db", "current", env={"DATABASE_URL": url.replace(str(postgres.port), str(free_port()))})]
        finally:
            owner.dispose()
            db.dispose_engines()

    results = json.dumps(answers, default=repr)
    commands = "".join(output.stdout + output.stderr for output in outputs)
    assert all(answers), "a task did not answer"
    assert outage_answer["result"]["status"] == "accepted", outage_answer  # retried through the outage, not lost
    assert "Retry in" in logs or "retry" in logs.lower(), "the outage was not met by any task"
    assert "did not take alert" in logs, "the webhook delivery was not attempted"
    for what, secret in hidden.items():
        assert secret not in logs, f"the {what} is in a worker log"
        assert secret not in results, f"the {what} is in a task result"
        assert secret not in commands, f"the {what} is in the command line's output"
