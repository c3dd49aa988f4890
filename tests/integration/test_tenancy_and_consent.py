"""Tenant isolation in the code (membership) and opt-in aggregate learning."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from modelops import db, quality, tenants
from modelops.privacy import aggregates
from modelops.privacy.tenancy import authorize

pytestmark = pytest.mark.integration
NOW = dt.datetime(2026, 11, 20, 12)


def refusals(principal: str) -> list[str]:
    with db.operator_scope() as connection:
        return connection.execute(
            text("SELECT reason FROM ai.access_audit WHERE principal = :p AND NOT allowed ORDER BY created_at"), {"p": principal}
        ).scalars().all()


def test_a_member_may_act_for_its_tenant(database):
    tenant = tenants.create_tenant("member-ok")
    tenants.add_member(tenant, "svc-ok", "service")
    assert authorize("svc-ok", tenant, "read") == "service"


def test_a_caller_outside_the_tenant_is_refused_and_audited(database):
    mine, theirs = tenants.create_tenant("mine"), tenants.create_tenant("theirs")
    tenants.add_member(mine, "svc-mine")
    with pytest.raises(PermissionError, match="'svc-mine' may not act for tenant"):
        authorize("svc-mine", theirs, "read")
    assert refusals("svc-mine") == [f"'svc-mine' may not act for tenant {theirs}"]


@pytest.mark.parametrize("caller, tenant, reason", [
    ("svc-x", None, "a tenant is required"),
    (None, uuid.uuid4(), "a caller is required"),
])
def test_a_missing_tenant_or_caller_is_refused(database, caller, tenant, reason):
    with pytest.raises(PermissionError, match=reason):
        authorize(caller, tenant, "read")


def test_a_country_code_must_be_two_letters(database):
    with pytest.raises(ValueError, match="ISO 3166-1"):
        tenants.create_tenant("bad-country", country="Germany")


def seed_rows(owner, tenant, n: int, agent="classification"):
    with owner.begin() as connection:
        for i in range(n):
            connection.execute(text("""
                INSERT INTO ai.training_data (tenant_id, agent_type, input_data, expected_output, source, idempotency_key, scrub_hits)
                VALUES (:t, CAST(:agent AS ai.agent_type), :input, :label, 'suggestion_approved', :key, CAST(:hits AS jsonb))
            """), {"t": tenant, "agent": agent, "input": json.dumps({"description": f"row {i} of {tenant}"}),
                   "label": json.dumps({"category": "Software"}), "key": f"seed-{tenant}-{i}",
                   "hits": json.dumps({"NAME": 1} if i == 0 else {})})


def aggregate_inputs(area: str) -> list[str]:
    with db.operator_scope() as connection:
        return connection.execute(text("""
            SELECT d.input_data->>'description' FROM ai.aggregate_training_data d
            JOIN ai.aggregate_snapshots s ON s.id = d.snapshot_id
            WHERE s.level = 'country' AND s.area = :area AND s.agent_type = 'classification'
        """), {"area": area}).scalars().all()


def test_only_opted_in_tenants_reach_the_aggregate_and_an_opt_out_leaves_it(owner):
    opted = [tenants.create_tenant(f"fr-{i}", country="FR", region="EU", opt_in=True) for i in range(3)]
    outsider = tenants.create_tenant("fr-private", country="FR", region="EU")
    for tenant in [*opted, outsider]:
        seed_rows(owner, tenant, 4)

    built = aggregates.build("country", "FR", "classification", NOW)
    assert built["built"] and built["tenants"] == 3 and built["rows"] == 12
    rows = aggregate_inputs("FR")
    assert not any(str(outsider) in row for row in rows)
    assert all(any(str(tenant) in row for row in rows) for tenant in opted)

    tenants.set_aggregate_opt_in(opted[0], False, actor="owner@fr-0")
    rebuilt = aggregates.build("country", "FR", "classification", NOW, minimum=2)
    assert rebuilt["rows"] == 8
    assert not any(str(opted[0]) in row for row in aggregate_inputs("FR"))
    with db.tenant_scope(opted[0]) as connection:
        consent = connection.execute(text("SELECT aggregate_opt_in FROM ai.consent_events ORDER BY created_at")).scalars().all()
    assert consent == [True, False]


def test_too_few_contributors_build_no_aggregate(owner):
    lone = tenants.create_tenant("lu-0", country="LU", opt_in=True)
    seed_rows(owner, lone, 3)
    result = aggregates.build("country", "LU", "classification", NOW)
    assert result["built"] is False and "fewer than the 3" in result["reason"]
    assert aggregate_inputs("LU") == []


def test_the_application_role_cannot_read_the_aggregates(database):
    with pytest.raises(DBAPIError, match="permission denied"):
        with db.tenant_scope(uuid.uuid4()) as connection:
            connection.execute(text("SELECT count(*) FROM ai.aggregate_training_data"))


def test_data_quality_figures_count_sources_scrub_hits_and_rejections(owner):
    tenant = tenants.create_tenant("quality")
    seed_rows(owner, tenant, 3)
    with owner.begin() as connection:
        connection.execute(text("INSERT INTO ai.rejected_events (tenant_id, task_name, reason) VALUES (:t, 'x', 'rating: not an integer')"),
                           {"t": tenant})
    with db.tenant_scope(tenant) as connection:
        figures = quality.figures(connection, dt.datetime(2000, 1, 1))
    [agent] = figures["agents"]
    assert agent["tenant_id"] == str(tenant) and agent["agent_type"] == "classification"
    assert agent["by_source"] == {"suggestion_approved": 3} and agent["labelled"] == 3
    assert agent["scrub_hits"] == {"NAME": 1}
    assert figures["rejected"] == [{"tenant_id": str(tenant), "by_cause": {"rating": 1}, "total": 1}]
