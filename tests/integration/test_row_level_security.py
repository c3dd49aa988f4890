"""Tenant isolation enforced by Postgres itself, as the application role the workers use."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from psycopg import errors
from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from modelops import db

pytestmark = pytest.mark.integration

TENANT_TABLES = (
    "consent_events", "tenant_members", "training_data", "training_runs", "retrain_checks",
    "production_history", "model_metrics", "daily_performance", "prediction_log", "ab_tests",
    "ab_test_decisions", "alerts", "rollback_events", "investigation_tickets", "rejected_events",
    "model_versions",
)


def tenant_rows(tenant: uuid.UUID) -> dict[str, dict]:
    """One valid row of every tenant table for ``tenant``, in an order that satisfies foreign keys."""
    now = dt.datetime(2026, 11, 2, 12, 0)
    version, run, test, rollback = (uuid.uuid4() for _ in range(4))
    common = {"tenant_id": tenant}
    return {
        "consent_events": {**common, "aggregate_opt_in": True, "actor": "owner@example.test"},
        "tenant_members": {**common, "principal": f"svc-{tenant.hex[:6]}", "principal_kind": "service", "role": "service"},
        "training_data": {**common, "agent_type": "chat", "input_data": json.dumps({"message": "hi"}),
                          "source": "explicit_rating", "idempotency_key": f"k-{tenant}"},
        "training_runs": {"id": run, **common, "agent_type": "chat", "scope_key": f"tenant:{tenant}",
                          "run_key": f"run-{tenant}", "trigger": "manual", "requested_by": "test"},
        "model_versions": {"id": version, **common, "agent_type": "chat", "version": "v1.0", "trained_on": now},
        "retrain_checks": {**common, "agent_type": "chat", "scope_key": f"tenant:{tenant}", "checked_at": now,
                           "new_samples": 3, "decision": "wait", "reason": "3 < 50"},
        "production_history": {**common, "agent_type": "chat", "scope_key": f"tenant:{tenant}",
                                "model_version_id": version, "event": "first_model", "reason": "first",
                                "actor": "test", "started_at": now},
        "model_metrics": {**common, "model_version_id": version, "metric_date": now.date()},
        "daily_performance": {**common, "agent_type": "chat", "model_version": "v1.0", "date": now.date(),
                              "model_version_id": version},
        "prediction_log": {**common, "model_version_id": version, "agent_type": "chat",
                           "input_data": json.dumps({"message": "hi"}), "prediction_timestamp": now},
        "ab_tests": {"id": test, **common, "agent_type": "chat", "scope_key": f"tenant:{tenant}",
                     "control_version_id": version, "treatment_version_id": version,
                     "config": json.dumps({}), "created_by": "test"},
        "ab_test_decisions": {**common, "ab_test_id": test, "evaluated_at": now, "look_number": 1,
                              "decision": "continue_testing", "reason": "too few", "control_samples": 0,
                              "control_correct": 0, "treatment_samples": 0, "treatment_correct": 0},
        "alerts": {**common, "alert_type": "accuracy_drop", "severity": "warning", "message": "m",
                   "dedup_key": f"accuracy_drop:{tenant}"},
        "rollback_events": {"id": rollback, **common, "agent_type": "chat", "scope_key": f"tenant:{tenant}",
                            "from_version_id": version, "outcome": "no_previous_version",
                            "triggers": json.dumps([]), "actor": "test"},
        "investigation_tickets": {**common, "model_version_id": version, "rollback_event_id": rollback, "title": "t"},
        "rejected_events": {**common, "task_name": "modelops.feedback.record", "reason": "bad"},
    }


def insert(connection, table: str, row: dict) -> None:
    columns = ", ".join(row)
    values = ", ".join(f":{key}" for key in row)
    connection.execute(text(f"INSERT INTO ai.{table} ({columns}) VALUES ({values})"), row)


@pytest.fixture(scope="module")
def two_tenants(owner):
    tenants = {}
    with owner.begin() as connection:
        for name in ("a", "b"):
            tenant = uuid.uuid4()
            insert(connection, "tenants", {"id": tenant, "name": f"rls-{name}"})
            rows = tenant_rows(tenant)
            for table in rows:
                insert(connection, table, rows[table])
            tenants[name] = tenant
    return tenants["a"], tenants["b"]


def count(connection, table: str, tenant: uuid.UUID) -> int:
    column = "id" if table == "tenants" else "tenant_id"
    return connection.execute(text(f"SELECT count(*) FROM ai.{table} WHERE {column} = :t"), {"t": tenant}).scalar_one()


def test_the_application_role_cannot_bypass_row_level_security(database):
    with db.unscoped() as connection:
        role = connection.execute(text(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )).one()
    assert role == ("modelops_app", False, False)


@pytest.mark.parametrize("table", TENANT_TABLES + ("tenants",))
def test_a_tenant_reads_none_of_another_tenants_rows(two_tenants, table):
    a, b = two_tenants
    with db.tenant_scope(a) as connection:
        assert count(connection, table, b) == 0
        assert count(connection, table, a) == 1  # its own rows are there, so the 0 above is isolation


@pytest.mark.parametrize("table", TENANT_TABLES + ("tenants",))
def test_a_session_without_tenant_sees_nothing(two_tenants, table):
    a, b = two_tenants
    with db.unscoped() as connection:
        assert count(connection, table, a) == count(connection, table, b) == 0


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_writing_a_row_for_another_tenant_is_refused(two_tenants, table):
    a, b = two_tenants
    row = tenant_rows(b)[table]
    row.update({"id": uuid.uuid4()} if table != "tenant_members" else {"principal": "intruder"})
    with pytest.raises(ProgrammingError, match="row-level security"):
        with db.tenant_scope(a) as connection:
            insert(connection, table, row)


def test_a_tenant_cannot_move_its_rows_to_another_tenant(two_tenants):
    a, b = two_tenants
    with pytest.raises(ProgrammingError, match="row-level security"):
        with db.tenant_scope(a) as connection:
            connection.execute(text("UPDATE ai.training_data SET tenant_id = :b WHERE tenant_id = :a"), {"a": a, "b": b})


def test_global_models_are_readable_by_every_tenant_but_writable_by_none(two_tenants, owner):
    a, _ = two_tenants
    with owner.begin() as connection:
        insert(connection, "model_versions", {"agent_type": "chat", "version": "v9.0", "trained_on": dt.datetime(2026, 1, 1),
                                              "scope": "global"})
    with db.tenant_scope(a) as connection:
        assert connection.execute(text("SELECT count(*) FROM ai.model_versions WHERE scope = 'global'")).scalar_one() >= 1
        updated = connection.execute(text("UPDATE ai.model_versions SET status = 'retired' WHERE scope = 'global'"))
        assert updated.rowcount == 0


def test_the_operator_scope_sees_every_tenant(two_tenants):
    a, b = two_tenants
    with db.operator_scope() as connection:
        for table in TENANT_TABLES:
            assert count(connection, table, a) == count(connection, table, b) == 1


def test_partitions_are_closed_to_the_application(two_tenants):
    with pytest.raises(DBAPIError, match="permission denied"):
        with db.operator_scope() as connection:
            partition = connection.execute(text(
                "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'ai.prediction_log'::regclass LIMIT 1"
            )).scalar_one()
            connection.execute(text(f"SELECT count(*) FROM {partition}"))


def test_the_application_cannot_delete_audit_rows(two_tenants):
    a, _ = two_tenants
    with pytest.raises(DBAPIError, match="permission denied"):
        with db.tenant_scope(a) as connection:
            connection.execute(text("DELETE FROM ai.prediction_log"))


@pytest.mark.parametrize("column, value", [("input_data", '{"message": "altered"}'), ("predicted_output", '{}'),
                                           ("model_version_id", None), ("prediction_timestamp", "2026-11-03")])
def test_no_runtime_role_can_rewrite_what_a_prediction_logged(two_tenants, column, value):
    a, _ = two_tenants
    for scope in (lambda: db.tenant_scope(a), db.operator_scope):
        with pytest.raises(DBAPIError, match="permission denied"):
            with scope() as connection:
                connection.execute(text(f"UPDATE ai.prediction_log SET {column} = coalesce(:value, {column}) WHERE tenant_id = :tenant"),
                                   {"value": value, "tenant": a})


def test_feedback_columns_of_a_logged_prediction_stay_writable(two_tenants):
    a, _ = two_tenants
    with db.tenant_scope(a) as connection:
        updated = connection.execute(text("UPDATE ai.prediction_log SET was_correct = true, feedback_at = now() "
                                          "WHERE tenant_id = :tenant RETURNING was_correct"), {"tenant": a}).scalars().all()
    assert updated == [True]


def test_a_logged_prediction_must_name_a_model_version_that_exists(two_tenants):
    a, _ = two_tenants
    unknown = uuid.uuid4()
    row = {"tenant_id": a, "model_version_id": unknown, "agent_type": "chat", "input_data": json.dumps({"message": "hi"}),
           "prediction_timestamp": dt.datetime(2026, 11, 2, 13, 0)}
    with pytest.raises(DBAPIError, match=f"names model version {unknown}, which is not in ai.model_versions") as refused:
        with db.tenant_scope(a) as connection:
            insert(connection, "prediction_log", row)
    assert refused.value.orig.sqlstate == "23503"  # foreign_key_violation, as the foreign key it replaces raised
    with db.operator_scope() as connection:  # nothing of the statement was kept
        assert connection.execute(text("SELECT count(*) FROM ai.prediction_log WHERE model_version_id = :v"),
                                  {"v": unknown}).scalar_one() == 0


def logged(tenant: uuid.UUID, version: uuid.UUID):
    from modelops.serving.auditlog import LogRow
    return LogRow(id=uuid.uuid4(), model_version_id=version, agent_type="chat", tenant_id=tenant, input_data={"message": "hi"},
                  predicted_output={"intent": "greeting"}, confidence=0.9, prediction_timestamp=dt.datetime(2026, 11, 2, 14, 0),
                  duration_ms=1.5, reproducibility_note=None, ab_test_id=None, ab_group=None, request_key=None)


def test_a_batch_of_many_tenants_is_logged_by_the_application_role_each_row_under_its_own_tenant(two_tenants):
    from modelops.serving import auditlog
    a, b = two_tenants
    with db.operator_scope() as connection:
        versions = dict(connection.execute(text("SELECT tenant_id, id FROM ai.model_versions WHERE tenant_id IN (:a, :b)"),
                                           {"a": a, "b": b}).all())
    rows = [logged(a, versions[a]), logged(b, versions[b]), logged(a, versions[a])]
    auditlog.write(rows)  # as the application role, the workers' (test_the_application_role_cannot_bypass...)
    for tenant, others in ((a, b), (b, a)):
        with db.tenant_scope(tenant) as connection:
            found = set(connection.execute(text("SELECT id FROM ai.prediction_log WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)), {"ids": [row.id for row in rows]}).scalars())
        assert found == {row.id for row in rows if row.tenant_id == tenant}


def test_a_batch_with_one_row_naming_an_unknown_version_is_refused_whole(two_tenants):
    from modelops.serving import auditlog
    a, b = two_tenants
    with db.operator_scope() as connection:
        version = connection.execute(text("SELECT id FROM ai.model_versions WHERE tenant_id = :a"), {"a": a}).scalar_one()
    rows = [logged(a, version), logged(b, uuid.uuid4())]
    with pytest.raises(errors.ForeignKeyViolation, match="which is not in ai.model_versions"):
        auditlog.write(rows)
    with db.operator_scope() as connection:  # not even the other tenant's valid row was kept
        assert connection.execute(text("SELECT count(*) FROM ai.prediction_log WHERE id = :id"), {"id": rows[0].id}).scalar_one() == 0


def test_a_model_version_that_logged_predictions_name_cannot_be_deleted(two_tenants, owner):
    a, _ = two_tenants
    with db.operator_scope() as connection:
        version = connection.execute(text("SELECT DISTINCT model_version_id FROM ai.prediction_log WHERE tenant_id = :tenant"),
                                     {"tenant": a}).scalar_one()
    # not even by the schema's owner, whom row-level security and grants do not hold
    with pytest.raises(DBAPIError, match=f"model version {version} is named by logged predictions") as refused:
        with owner.begin() as connection:
            connection.execute(text("DELETE FROM ai.model_versions WHERE id = :v"), {"v": version})
    assert refused.value.orig.sqlstate == "23503"
    with pytest.raises(DBAPIError, match="is named by logged predictions"):
        with owner.begin() as connection:
            connection.execute(text("UPDATE ai.model_versions SET id = :new WHERE id = :v"), {"new": uuid.uuid4(), "v": version})
