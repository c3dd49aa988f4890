"""The runtime roles, tried as an attacker who holds one of their logins would: a database session
as ``modelops_app`` (every pool that takes other services' messages) or ``modelops_dashboard``
cannot become the operator, read another tenant's rows or the dashboard's token hashes, and the
definer functions give each of them what they are for and nothing more. The owner's URL is absent
from a started worker's environment, and the front-facing paths (serving, intake, scrubbing) run
with that role's URL alone."""
from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import text
from sqlalchemy.engine import make_url

from modelops import db, intake
from modelops.agents.synthetic import generate
from modelops.config import APP_ROLE, DASHBOARD_ROLE, OPERATOR_ROLE, ROLE_URL_VARIABLES, SYSTEM_ROLE, settings
from modelops.dashboard import access
from modelops.dashboard.panels import training as training_panel
from modelops.supervisor import ProcessGroup
from tests.integration.serving_models import record_model
from tests.security.support import MODELOPS, event, rows_of, tenant_with_member


pytestmark = pytest.mark.integration

FRONT_FACING = (APP_ROLE, DASHBOARD_ROLE)
FRONT_FUNCTIONS = ("route_signatures", "running_tests", "tenant_countries", "record_rejected_events")
DASHBOARD_FUNCTIONS = ("dashboard_token_principal", "dashboard_session_principal", "open_dashboard_session",
                       "close_dashboard_session")


@contextmanager
def session_as(role: str):
    """A plain psycopg session logged in as ``role``, as a stolen login would give one."""
    url = make_url(settings().role_urls[role]).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as connection:
        yield connection


def refused(connection, sql: str, params=()) -> bool:
    try:
        connection.execute(sql, params).fetchall()
    except errors.InsufficientPrivilege:
        return True
    return False


@pytest.fixture(scope="module")
def two_tenants(database):
    (a, _), (b, _) = tenant_with_member("lp-a"), tenant_with_member("lp-b")
    return a, b


@pytest.fixture(scope="module")
def operator_token(database):
    with db.operator_scope() as connection:
        return access.create_token(connection, role="operator", tenant_id=None, principal="lp-operator",
                                   created_by="test", ttl=dt.timedelta(hours=1), now=access.wall_now())


@pytest.mark.parametrize("role", FRONT_FACING)
def test_a_runtime_role_cannot_become_the_operator(database, role):
    with session_as(role) as connection:
        assert refused(connection, f"SET ROLE {OPERATOR_ROLE}")
        assert refused(connection, f"SET ROLE {SYSTEM_ROLE}")
        powers = connection.execute(
            "SELECT rolsuper, rolbypassrls, pg_has_role(session_user, %s, 'MEMBER') FROM pg_roles WHERE rolname = session_user",
            (OPERATOR_ROLE,)).fetchone()
        assert powers == (False, False, False)


def test_the_system_role_becomes_the_operator_and_nothing_more(database):
    with session_as(SYSTEM_ROLE) as connection:
        connection.execute(f"SET ROLE {OPERATOR_ROLE}")
        assert connection.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = %s",
                                  (OPERATOR_ROLE,)).fetchone() == (False,)


def test_the_front_facing_role_reads_and_writes_no_other_tenants_rows(database, owner, two_tenants):
    a, b = two_tenants
    with owner.begin() as connection:
        connection.execute(text("""INSERT INTO ai.training_data (tenant_id, agent_type, input_data, source, idempotency_key)
                                   VALUES (:b, 'classification', '{}', 'classification_correction', 'lp-secret-of-b')"""), {"b": b})
    with session_as(APP_ROLE) as connection:
        assert connection.execute("SELECT count(*) FROM ai.training_data").fetchone() == (0,)  # no tenant set: nothing
        connection.execute("BEGIN")
        connection.execute("SELECT set_config('app.tenant_id', %s, true)", (str(a),))
        assert connection.execute("SELECT count(*) FROM ai.training_data WHERE tenant_id = %s", (b,)).fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM ai.tenants").fetchone() == (1,)
        with pytest.raises(errors.InsufficientPrivilege):  # row-level security's WITH CHECK
            connection.execute("""INSERT INTO ai.training_data (tenant_id, agent_type, input_data, source, idempotency_key)
                                  VALUES (%s, 'classification', '{}', 'classification_correction', 'lp-into-b')""", (b,))
        connection.execute("ROLLBACK")


@pytest.mark.parametrize("role", FRONT_FACING)
def test_no_runtime_role_reads_the_dashboards_token_or_session_hashes(database, operator_token, role):
    with session_as(role) as connection:
        assert refused(connection, "SELECT token_sha256 FROM ai.dashboard_tokens")
        assert refused(connection, "SELECT session_sha256 FROM ai.dashboard_sessions")


def test_the_dashboards_role_reads_across_tenants_but_writes_nothing_of_theirs(database, two_tenants):
    a, b = two_tenants
    with session_as(DASHBOARD_ROLE) as connection:
        assert connection.execute("SELECT count(*) FROM ai.tenants WHERE id IN (%s, %s)", (a, b)).fetchone() == (2,)
        assert refused(connection, """INSERT INTO ai.training_data (tenant_id, agent_type, input_data, source, idempotency_key)
                                      VALUES (%s, 'classification', '{}', 'classification_correction', 'lp-dash')""", (a,))
        assert refused(connection, "UPDATE ai.tenants SET aggregate_opt_in = true WHERE id = %s", (a,))
        assert refused(connection, "UPDATE ai.alerts SET severity = 'info'")  # only an alert's resolution columns


def test_each_definer_function_is_executable_by_its_role_alone_with_a_pinned_search_path(database):
    expected = {**{name: {APP_ROLE} for name in FRONT_FUNCTIONS}, **{name: {DASHBOARD_ROLE} for name in DASHBOARD_FUNCTIONS}}
    with session_as(APP_ROLE) as connection:
        rows = connection.execute("""
            SELECT p.proname, p.prosecdef, p.proconfig,
                   array(SELECT r FROM unnest(%s::text[]) AS r WHERE has_function_privilege(r, p.oid, 'EXECUTE'))
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'ai' AND p.proname = ANY(%s)""", (list(ROLE_URL_VARIABLES), list(expected))).fetchall()
    assert sorted(row[0] for row in rows) == sorted(expected)
    for name, definer, config, executors in rows:
        assert definer and "search_path=pg_catalog, pg_temp" in config, name
        assert set(executors) == expected[name], name


@pytest.mark.parametrize("role", [DASHBOARD_ROLE, SYSTEM_ROLE])
def test_only_the_roles_that_write_the_audit_log_may_call_its_batch_insert(database, role):
    with session_as(role) as connection:
        assert refused(connection, "SELECT ai.log_staged_predictions()")


def test_the_membership_lookup_gives_the_roles_a_principal_holds_and_nothing_of_other_tenants(database):
    (mine, member), (other, _) = tenant_with_member("lp-ma"), tenant_with_member("lp-mb")
    with session_as(APP_ROLE) as connection:
        found = connection.execute("SELECT * FROM ai.member_roles(%s, %s)", (member, [other, mine, uuid.uuid4()]))
        assert [column.name for column in found.description] == ["tenant", "member_role"]
        assert found.fetchall() == [(mine, "service")]
        assert connection.execute("SELECT * FROM ai.member_roles(%s, %s)", ("nobody", [mine, other])).fetchall() == []


@pytest.mark.parametrize("role", [DASHBOARD_ROLE, SYSTEM_ROLE])
def test_only_the_front_facing_role_may_call_the_membership_lookup(database, role):
    with session_as(role) as connection:
        assert refused(connection, "SELECT * FROM ai.member_roles('x', ARRAY[]::uuid[])")


def test_the_front_facing_role_cannot_call_the_dashboards_functions_nor_the_reverse(database, operator_token):
    digest = access.digest(operator_token["token"])
    with session_as(APP_ROLE) as connection:
        assert refused(connection, "SELECT * FROM ai.dashboard_token_principal(%s, now()::timestamp)", (digest,))
        assert refused(connection, "SELECT ai.open_dashboard_session('x', %s, now()::timestamp, now()::timestamp)",
                       (operator_token["id"],))
    with session_as(DASHBOARD_ROLE) as connection:
        assert refused(connection, "SELECT * FROM ai.tenant_countries(ARRAY[]::uuid[])")
        assert refused(connection, "SELECT ai.record_rejected_events('[]')")


def test_the_token_lookup_tells_who_holds_a_live_token_and_never_its_hash(database, operator_token):
    digest = access.digest(operator_token["token"])
    with session_as(DASHBOARD_ROLE) as connection:
        found = connection.execute("SELECT * FROM ai.dashboard_token_principal(%s, now()::timestamp)", (digest,))
        assert [column.name for column in found.description] == ["id", "role", "principal", "tenant_id"]
        assert found.fetchall() == [(uuid.UUID(operator_token["id"]), "operator", "lp-operator", None)]
        assert connection.execute("SELECT * FROM ai.dashboard_token_principal(%s, now()::timestamp)",
                                  ("0" * 64,)).fetchall() == []


def test_the_serving_functions_give_signatures_and_tests_not_rows(database, two_tenants):
    a, b = two_tenants
    with session_as(APP_ROLE) as connection:
        signatures = connection.execute("SELECT * FROM ai.route_signatures(%s, %s)", (["classification"] * 2, [a, b]))
        assert [column.name for column in signatures.description] == ["agent_type", "tenant_id", "signature"]
        assert {row[1] for row in signatures.fetchall()} == {a, b}
        countries = connection.execute("SELECT * FROM ai.tenant_countries(%s)", ([a, b, uuid.uuid4()],))
        assert [column.name for column in countries.description] == ["tenant_id", "country"]
        assert {row[0] for row in countries.fetchall()} == {a, b}  # an unknown tenant is not there


def test_a_rejected_event_naming_a_tenant_that_does_not_exist_is_kept_without_one(database, owner, two_tenants):
    a, _ = two_tenants
    ghost, marker = uuid.uuid4(), f"lp-{uuid.uuid4().hex[:8]}"
    events = [{"tenant": str(tenant), "task": "lp-test", "reason": marker, "payload": {"n": 1}, "key": None}
              for tenant in (a, ghost)]
    with session_as(APP_ROLE) as connection:
        assert connection.execute("SELECT ai.record_rejected_events(%s)", (json.dumps(events),)).fetchone() == (2,)
        assert connection.execute("SELECT count(*) FROM ai.rejected_events WHERE reason = %s", (marker,)).fetchone() == (0,)
    with owner.connect() as connection:
        kept = connection.execute(text("SELECT tenant_id FROM ai.rejected_events WHERE reason = :m"), {"m": marker}).scalars()
        assert sorted(kept, key=str) == sorted([a, None], key=str)


@contextmanager
def front_facing_only(monkeypatch):
    """This process as a front-facing pool runs it: the front-facing role's URL and nothing else."""
    front = settings().role_urls[APP_ROLE]
    with monkeypatch.context() as patched:
        for name in ("DATABASE_URL", *ROLE_URL_VARIABLES.values()):
            patched.delenv(name, raising=False)
        patched.setenv(ROLE_URL_VARIABLES[APP_ROLE], front)
        yield
    db.dispose_engines()


def test_the_intake_and_serving_paths_run_as_the_front_facing_role_alone(database, owner, monkeypatch):
    from modelops import serving

    tenant, member = tenant_with_member("lp-front")
    record_model("classification", tenant, tenant_seed=5)
    items = [{"tenant_id": str(tenant), "agent_type": "classification", "input_data": input_data}
             for input_data, _ in generate("classification", 3, seed=5)]
    with front_facing_only(monkeypatch):
        with pytest.raises(db.RoleUnavailable, match=SYSTEM_ROLE):
            with db.operator_scope():
                pass
        verdicts, accepted = intake.admit([event(tenant, "lp-front-1"), {"tenant_id": str(uuid.uuid4())}], member,
                                          "modelops.feedback.record_batch")
        assert [verdict.status for verdict in verdicts] == ["accepted", "rejected"]
        assert intake.scrub_and_store(accepted)["stored"] == 1
        assert [answer["status"] for answer in serving.predict_many(items)] == ["predicted"] * 3
    assert [row["idempotency_key"] for row in rows_of(owner, "training_data", tenant)] == ["lp-front-1"]
    assert len(rows_of(owner, "prediction_log", tenant)) == 3


def test_a_started_worker_has_its_roles_urls_and_never_the_owners(database, tmp_path):
    """`modelops worker --pool serving`, started with the owner's URL in its environment, as an
    operator's shell has it: the worker it becomes holds the front-facing role's URL alone."""
    group = ProcessGroup(tmp_path, dict(os.environ, MODELOPS_SYSTEM_DB_PASSWORD="system-secret"))
    process = group.start("serving", [MODELOPS, "worker", "--pool", "serving", "--concurrency", "1"])
    try:
        environ = _environ_once_a_worker(process.pid)
    finally:
        group.stop()
    assert "DATABASE_URL" not in environ and "SYSTEM_DATABASE_URL" not in environ
    assert make_url(environ["APP_DATABASE_URL"]).username == APP_ROLE
    assert not any(name.endswith("_DB_PASSWORD") for name in environ)
    assert settings().database_url not in "\0".join(environ.values())


def _environ_once_a_worker(pid: int, timeout: float = 30) -> dict[str, str]:
    """The environment of ``pid`` once it has become the Celery worker (the command replaces itself)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            if b"celery" in cmdline.read():
                with open(f"/proc/{pid}/environ", "rb") as environ:
                    pairs = [entry.partition(b"=") for entry in environ.read().split(b"\0") if entry]
                return {name.decode(): value.decode() for name, _, value in pairs}
        time.sleep(0.1)
    raise AssertionError(f"process {pid} did not become a worker within {timeout}s")


def test_the_isolation_panel_reports_each_runtime_roles_real_powers(database, monkeypatch):
    with db.dashboard_scope() as connection:
        isolation = training_panel._isolation(connection, _operator_query())
    assert isolation["ok"] and isolation["broken_roles"] == []
    powers = {role["role"]: (role["can_become_operator"], role["bypasses"]) for role in isolation["roles"]}
    assert powers == {APP_ROLE: (False, False), DASHBOARD_ROLE: (False, False), SYSTEM_ROLE: (True, False)}

    # a front-facing role that can become the operator, as modelops_app could before: the panel says so
    member = f"lp_member_{uuid.uuid4().hex[:8]}"
    with db.owner_engine().begin() as connection:
        connection.execute(text(f"CREATE ROLE {member} NOLOGIN; GRANT {OPERATOR_ROLE} TO {member}"))
    try:
        monkeypatch.setitem(training_panel.RUNTIME_ROLES, member, "a role facing other services")
        with db.dashboard_scope() as connection:
            isolation = training_panel._isolation(connection, _operator_query())
        assert not isolation["ok"] and isolation["broken_roles"] == [member]
    finally:
        with db.owner_engine().begin() as connection:
            connection.execute(text(f"DROP ROLE {member}"))


def _operator_query():
    from modelops import clock
    from modelops.dashboard import filters
    from modelops.dashboard.access import Principal

    operator = Principal(token_id=uuid.uuid4(), role="operator", name="lp-operator", tenant_id=None)
    return filters.build_query(operator, None, None, clock.now())
