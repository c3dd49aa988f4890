"""The dashboard's pure logic: token lifetimes, filters, which processes are worker pools."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from modelops.dashboard.access import Principal, parse_ttl
from modelops.dashboard.filters import EmptyState, build_query
from modelops.dashboard.panels.resources import _broker_address, _pool_of
from modelops.dashboard.panels.versions import _trigger_names

NOW = dt.datetime(2026, 11, 30, 12, 0)
TENANT = uuid.uuid4()
OPERATOR = Principal(token_id=uuid.uuid4(), role="operator", name="ops", tenant_id=None)
VIEWER = Principal(token_id=uuid.uuid4(), role="tenant", name="alice", tenant_id=TENANT)


@pytest.mark.parametrize("text, expected", [
    ("90m", dt.timedelta(minutes=90)), ("12h", dt.timedelta(hours=12)), ("30d", dt.timedelta(days=30)),
    ("3600", dt.timedelta(hours=1)), (" 2h ", dt.timedelta(hours=2)),
])
def test_token_lifetimes(text, expected):
    assert parse_ttl(text) == expected


@pytest.mark.parametrize("text", ["0h", "2 weeks", "h", "-1d", "1.5h"])
def test_bad_token_lifetimes_are_refused_by_name(text):
    with pytest.raises(ValueError, match="a token lifetime is a positive number"):
        parse_ttl(text)


def test_an_operator_filters_by_agent_and_any_tenant():
    query = build_query(OPERATOR, "chat", str(TENANT), NOW)
    assert (query.agent_type, query.tenant_id, query.is_operator) == ("chat", TENANT, True)
    everything = build_query(OPERATOR, "", None, NOW)
    assert (everything.agent_type, everything.tenant_id) == (None, None)
    assert everything.start_of_today == dt.datetime(2026, 11, 30)


def test_a_tenants_user_always_reads_its_own_tenant():
    assert build_query(VIEWER, None, None, NOW).tenant_id == TENANT
    assert build_query(VIEWER, None, str(TENANT), NOW).tenant_id == TENANT
    with pytest.raises(EmptyState, match="is not yours"):
        build_query(VIEWER, None, str(uuid.uuid4()), NOW)


@pytest.mark.parametrize("agent, tenant, message", [
    ("forecasting", None, "no agent 'forecasting'"), (None, "acme", "'acme' is not a tenant id"),
])
def test_filters_that_name_nothing_are_an_empty_state(agent, tenant, message):
    with pytest.raises(EmptyState, match=message):
        build_query(OPERATOR, agent, tenant, NOW)


@pytest.mark.parametrize("cmdline, pool", [
    (["/venv/bin/python", "-m", "celery", "-A", "workers.app", "worker", "--queues", "predict", "--hostname", "serving@%h"], "serving"),
    (["/venv/bin/celery", "-A", "workers.app", "worker"], "celery"),
    (["/venv/bin/python", "-m", "celery", "-A", "workers.app", "beat"], None),
    (["/venv/bin/python", "-m", "celery", "-A", "workers.app", "flower"], None),
    (["/usr/bin/python3", "worker.py"], None),
])
def test_worker_pools_are_told_by_their_command_line(cmdline, pool):
    assert _pool_of(cmdline) == pool


def test_two_spellings_of_one_broker_are_the_same_broker():
    assert _broker_address("redis://localhost:6379/13") == _broker_address("redis://127.0.0.1/13")
    assert _broker_address("redis://127.0.0.1:6379/13") != _broker_address("redis://127.0.0.1:6379/12")


def test_rollback_triggers_are_shown_by_name():
    assert _trigger_names({"accuracy_drop": {"accuracy": 0.5}, "high_override_rate": {}}) == ["accuracy_drop", "high_override_rate"]
    assert _trigger_names([{"trigger": "drift"}, "manual"]) == ["drift", "manual"]
