"""Routes read from the registry: which version serves each (agent, tenant), and its running test.

Which version serves a tenant is decided by ``modelops.registry.resolution`` alone (the isolation
policy: own model, else the region's if opted in, else the global one). Asking it for every key
twice a second would cost a few queries per key, so each check first reads, in one query for all
the keys, a signature of the rows that decision reads: the tenant's own production pointer, its
region and opt-in, the shared (regional and global) production pointers of the agent, and the
running A/B tests of those scopes. Only keys whose signature changed are resolved again. If the
isolation policy comes to read other rows, they belong in the signature too.

Routes span tenants (a batch mixes them), so they are read in the operator's scope; nothing is
written here.
"""
from __future__ import annotations

from sqlalchemy import Connection, text

from modelops import db
from modelops.registry.resolution import serving_model
from modelops.serving.pointers import Key, Known
from modelops.serving.routes import Route, RunningTest, ServedModel

SIGNATURES = text("""
    WITH keys AS (
        SELECT k.agent_type, k.tenant_id, 'tenant:' || k.tenant_id AS scope_key
        FROM unnest(CAST(:agents AS text[]), CAST(:tenants AS uuid[])) AS k(agent_type, tenant_id)
    )
    SELECT keys.agent_type, keys.tenant_id, concat_ws('|',
        coalesce((SELECT v.id::text FROM ai.model_versions v
                  WHERE v.is_production AND v.agent_type = keys.agent_type AND v.scope_key = keys.scope_key), '-'),
        coalesce((SELECT coalesce(t.region, '') || ':' || t.aggregate_opt_in FROM ai.tenants t WHERE t.id = keys.tenant_id), '-'),
        coalesce((SELECT string_agg(v.id::text, ',' ORDER BY v.id) FROM ai.model_versions v
                  WHERE v.is_production AND v.agent_type = keys.agent_type AND v.tenant_id IS NULL), '-'),
        coalesce((SELECT string_agg(concat_ws(':', a.id, a.control_version_id, a.treatment_version_id, a.allocation), ',' ORDER BY a.id)
                  FROM ai.ab_tests a
                  WHERE a.status = 'running' AND a.agent_type = keys.agent_type
                    AND (a.scope_key = keys.scope_key OR a.tenant_id IS NULL)), '-')
    ) AS signature
    FROM keys
""")

RUNNING_TESTS = text("""
    SELECT a.id AS test_id, a.control_version_id, a.allocation, v.*
    FROM ai.ab_tests a JOIN ai.model_versions v ON v.id = a.treatment_version_id
    WHERE a.status = 'running' AND a.control_version_id = ANY(CAST(:controls AS uuid[]))
""")


def refresh_routes(keys: list[Key], known: dict[Key, Known]) -> dict[Key, Known]:
    """(signature, route) for every key; routes whose signature is unchanged are kept as they were."""
    with db.operator_scope() as connection:
        signatures = signatures_of(connection, keys)
        changed = [key for key in keys if key not in known or known[key][0] != signatures[key]]
        resolved = resolve(connection, changed) if changed else {}
    return {key: (signatures[key], resolved[key] if key in resolved else known[key][1]) for key in keys}


def signatures_of(connection: Connection, keys: list[Key]) -> dict[Key, str]:
    rows = connection.execute(SIGNATURES, {"agents": [agent for agent, _ in keys], "tenants": [tenant for _, tenant in keys]})
    return {(row.agent_type, row.tenant_id): row.signature for row in rows}


def resolve(connection: Connection, keys: list[Key]) -> dict[Key, Route]:
    served: dict[Key, tuple[dict | None, str]] = {}
    for agent_type, tenant_id in keys:
        try:
            decision = serving_model(connection, agent_type, tenant_id)
            served[(agent_type, tenant_id)] = (decision.version, decision.reason)
        except LookupError as error:  # an unknown tenant: nothing may serve it
            served[(agent_type, tenant_id)] = (None, str(error))
    controls = sorted({version["id"] for version, _ in served.values() if version}, key=str)
    tests = {row["control_version_id"]: RunningTest(row["test_id"], float(row["allocation"]), ServedModel.from_row(row))
             for row in connection.execute(RUNNING_TESTS, {"controls": controls}).mappings()} if controls else {}
    return {
        key: Route(ServedModel.from_row(version), reason, tests.get(version["id"])) if version
        else Route(None, f"no {key[0]} model serves tenant {key[1]}: {reason}")
        for key, (version, reason) in served.items()
    }
