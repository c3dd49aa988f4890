"""`modelops status`, `modelops promote` and `modelops token` as an operator runs them: real
processes over the real database, with models fitted and recorded as the registry records them."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from modelops import clock, db
from modelops.dashboard import access
from modelops.experiments import lifecycle
from modelops.alerting.alerts import raise_alert
from modelops.registry import promotion
from tests.integration.serving_models import record_model
from tests.cli import run

pytestmark = pytest.mark.integration


@pytest.fixture
def scope_in_test(make_tenant):
    """A tenant whose classification v1.0 serves while v1.1 is in an A/B test, with an open alert."""
    tenant = make_tenant()
    production = record_model("classification", tenant, tenant_seed=1)
    candidate = record_model("classification", tenant, tenant_seed=2, promote=False)
    with db.operator_scope() as connection:
        test = lifecycle.start_test(connection, candidate["id"], actor="tests", now=clock.now())
        alert = raise_alert(connection, alert_type="accuracy_drop", severity="warning", tenant_id=tenant,
                            agent_type="classification", message=f"accuracy fell {uuid.uuid4().hex[:6]}", now=clock.now())
    return {"tenant": tenant, "production": production, "candidate": candidate, "test_id": test["test_id"], "alert": alert}


def as_json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def one_error(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def ab_test(test_id) -> dict:
    with db.operator_scope() as connection:
        return dict(connection.execute(text("SELECT status, end_reason FROM ai.ab_tests WHERE id = :id"), {"id": test_id}).mappings().one())


def version_row(version_id) -> dict:
    with db.operator_scope() as connection:
        return dict(connection.execute(text("SELECT version, status, is_production FROM ai.model_versions WHERE id = :id"),
                                       {"id": version_id}).mappings().one())


def test_status_shows_the_production_model_its_running_test_and_the_open_alerts(scope_in_test):
    tenant = str(scope_in_test["tenant"])
    status = as_json(run("status", "--tenant", tenant, "--json"))

    assert [(m["agent_type"], m["version"], m["id"]) for m in status["models"]] == [
        ("classification", "v1.0", str(scope_in_test["production"]["id"]))]
    test = status["models"][0]["ab_test"]
    assert (test["id"], test["control_version"], test["treatment_version"]) == (scope_in_test["test_id"], "v1.0", "v1.1")
    assert [alert["id"] for alert in status["open_alerts"]] == [scope_in_test["alert"]["id"]]

    shown = run("status", "--tenant", tenant)
    assert shown.returncode == 0, shown.stderr
    assert "A/B v1.0 vs v1.1 at 10%, no look yet" in shown.stdout and scope_in_test["alert"]["message"] in shown.stdout
    other_agent = as_json(run("status", "--tenant", tenant, "--agent", "chat", "--json"))
    assert other_agent["models"] == [] and other_agent["open_alerts"] == []


@pytest.mark.parametrize("args, message", [
    (("--agent", "forecasting"), "unknown agent 'forecasting'"),
    (("--tenant", "acme"), "tenant 'acme' is not a tenant id"),
    (("--tenant", "00000000-0000-4000-8000-000000000000"), "unknown tenant 00000000-0000-4000-8000-000000000000"),
])
def test_status_with_an_unknown_filter_says_so_and_fails(database, args, message):
    assert message in one_error(run("status", *args))


def test_promoting_the_candidate_by_hand_ends_its_test_as_promoted(scope_in_test):
    candidate, production = scope_in_test["candidate"], scope_in_test["production"]
    moved = as_json(run("promote", str(candidate["id"]), "--reason", "the finance team asked for it", "--json"))

    assert moved["changed"] is True and moved["promoted"] == {"id": str(candidate["id"]), "version": "v1.1"}
    assert moved["replaced"] == {"id": str(production["id"]), "version": "v1.0"}
    assert moved["ended_ab_test"] == {"id": scope_in_test["test_id"], "status": "promoted"}
    assert version_row(candidate["id"]) == {"version": "v1.1", "status": "production", "is_production": True}
    assert version_row(production["id"])["status"] == "retired"
    assert ab_test(scope_in_test["test_id"])["status"] == "promoted"
    with db.operator_scope() as connection:
        history = connection.execute(text("""SELECT event, reason, actor FROM ai.production_history
                                             WHERE model_version_id = :id AND ended_at IS NULL"""), {"id": candidate["id"]}).one()
    assert tuple(history) == ("manual", "the finance team asked for it", "operator")
    status = as_json(run("status", "--tenant", str(scope_in_test["tenant"]), "--json"))
    assert [(m["version"], m["ab_test"]) for m in status["models"]] == [("v1.1", None)]
    again = as_json(run("promote", str(candidate["id"]), "--reason", "again", "--json"))
    assert again["changed"] is False and again["ended_ab_test"] is None


def test_promoting_another_version_cancels_the_running_test(scope_in_test):
    third = record_model("classification", scope_in_test["tenant"], tenant_seed=3, promote=False)
    shown = run("promote", str(third["id"]), "--reason", "hotfix")

    assert shown.returncode == 0, shown.stderr
    assert f"is production for tenant:{scope_in_test['tenant']}, replacing v1.0" in shown.stdout
    assert f"A/B test {scope_in_test['test_id']} ended: cancelled" in shown.stdout
    assert ab_test(scope_in_test["test_id"])["status"] == "cancelled"
    assert version_row(scope_in_test["candidate"]["id"])["status"] == "candidate"  # it waits for a test against v1.2


def test_promote_refuses_what_cannot_be_promoted(scope_in_test):
    rejected = record_model("classification", scope_in_test["tenant"], tenant_seed=4, promote=False)
    with db.operator_scope() as connection:
        promotion.retire(connection, rejected["id"], status="rejected", reason="failed the gate", now=clock.now())
    missing = uuid.uuid4()

    assert "'v1.1' is not a model version id" in one_error(run("promote", "v1.1", "--reason", "r"))
    assert f"model version {missing} does not exist" in one_error(run("promote", str(missing), "--reason", "r"))
    assert "was rejected and cannot be promoted" in one_error(run("promote", str(rejected["id"]), "--reason", "r"))
    assert "say why" in one_error(run("promote", str(scope_in_test["candidate"]["id"]), "--reason", " "))
    assert version_row(scope_in_test["production"]["id"])["is_production"] is True


def test_a_tenant_token_makes_its_holder_a_viewer_and_works_until_revoked(make_tenant):
    tenant = make_tenant()
    first = as_json(run("token", "create", "--role", "tenant", "--tenant", str(tenant), "--holder", "bob@t", "--ttl", "2h", "--json"))
    second = as_json(run("token", "create", "--role", "tenant", "--tenant", str(tenant), "--holder", "bob@t", "--json"))

    assert first["member_added"] is True and second["member_added"] is False
    assert first["token"].startswith("mdo_") and first["tenant_id"] == str(tenant)
    with db.operator_scope() as connection:
        role = connection.execute(text("SELECT role FROM ai.tenant_members WHERE tenant_id = :t AND principal = 'bob@t'"),
                                  {"t": tenant}).scalar_one()
    with db.dashboard_scope() as connection:  # tokens are looked up as the dashboard does
        principal = access.principal_for_token(connection, first["token"], access.wall_now())
    assert role == "viewer" and (principal.role, principal.tenant_id, principal.name) == ("tenant", tenant, "bob@t")

    printed = run("token", "create", "--role", "operator")
    assert printed.returncode == 0 and printed.stdout.strip().startswith("mdo_") and len(printed.stdout.splitlines()) == 1

    revoked = run("token", "revoke", first["id"])
    assert revoked.returncode == 0, revoked.stderr
    with db.dashboard_scope() as connection:
        assert access.principal_for_token(connection, first["token"], access.wall_now()) is None
        assert access.principal_for_token(connection, second["token"], access.wall_now()) is not None
    assert f"no live token {first['id']}" in one_error(run("token", "revoke", first["id"]))


@pytest.mark.parametrize("args, message", [
    (("--role", "tenant"), "a tenant's token needs --tenant ID"),
    (("--role", "operator", "--tenant", "00000000-0000-4000-8000-000000000000"), "drop --tenant"),
    (("--role", "tenant", "--tenant", "00000000-0000-4000-8000-000000000000"), "unknown tenant"),
    (("--role", "operator", "--ttl", "0h"), "a token lifetime is a positive number"),
    (("--role", "operator", "--ttl", "2 weeks"), "a token lifetime is a positive number"),
])
def test_token_create_refuses_bad_arguments_in_one_line(database, args, message):
    assert message in one_error(run("token", "create", *args))


def test_removing_a_member_ends_its_tokens(make_tenant):
    tenant = make_tenant()
    created = as_json(run("token", "create", "--role", "tenant", "--tenant", str(tenant), "--holder", "carol@t", "--json"))
    with db.dashboard_scope() as connection:
        assert access.principal_for_token(connection, created["token"], access.wall_now()) is not None
    with db.operator_scope() as connection:
        connection.execute(text("DELETE FROM ai.tenant_members WHERE tenant_id = :t AND principal = 'carol@t'"), {"t": tenant})
    with db.dashboard_scope() as connection:
        assert access.principal_for_token(connection, created["token"], access.wall_now()) is None
