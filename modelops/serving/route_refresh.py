"""Routes read from the registry: which version serves each (agent, tenant), and its running test.

Which version serves a tenant is decided by ``modelops.registry.resolution`` alone (the isolation
policy: own model, else the region's if opted in, else the global one). Asking it for every key
twice a second would cost a few queries per key, so each check first reads, in one query for all
the keys, a signature of the rows that decision reads: the tenant's own production pointer, its
region and opt-in, the shared (regional and global) production pointers of the agent, and the
running A/B tests of those scopes. Only keys whose signature changed are resolved again. If the
isolation policy comes to read other rows, they belong in the signature too.

Routes span tenants (a batch mixes them), and serving runs as the front-facing role, which is no
operator: the signatures and the running tests come from two definer functions that return those
figures and nothing else, and each changed key is resolved in its own tenant's scope (row-level
security shows it the tenant's row and versions and the shared models), all in one transaction
that switches tenant as the audit log's writer does. Nothing is written here.
"""
from __future__ import annotations

from itertools import groupby

from sqlalchemy import Connection, text

from modelops import db
from modelops.registry import store
from modelops.registry.resolution import serving_model
from modelops.serving.pointers import Key, Known
from modelops.serving.routes import Route, RunningTest, ServedModel

# the query itself is ai.route_signatures (schemas/migrations/versions/0010_least_privilege_roles.py)
SIGNATURES = text("SELECT * FROM ai.route_signatures(CAST(:agents AS text[]), CAST(:tenants AS uuid[]))")
RUNNING_TESTS = text("SELECT * FROM ai.running_tests(CAST(:controls AS uuid[]))")
# what db.tenant_scope does at the start of its transaction, done again for each tenant of this one
SWITCH_TENANT = text("SELECT set_config('app.tenant_id', :tenant, true)")


def refresh_routes(keys: list[Key], known: dict[Key, Known]) -> dict[Key, Known]:
    """(signature, route) for every key; routes whose signature is unchanged are kept as they were."""
    with db.unscoped() as connection:
        signatures = signatures_of(connection, keys)
        changed = [key for key in keys if key not in known or known[key][0] != signatures[key]]
        resolved = resolve(connection, changed) if changed else {}
    return {key: (signatures[key], resolved[key] if key in resolved else known[key][1]) for key in keys}


def signatures_of(connection: Connection, keys: list[Key]) -> dict[Key, str]:
    rows = connection.execute(SIGNATURES, {"agents": [agent for agent, _ in keys], "tenants": [tenant for _, tenant in keys]})
    return {(row.agent_type, row.tenant_id): row.signature for row in rows}


def resolve(connection: Connection, keys: list[Key]) -> dict[Key, Route]:
    """The route of each key, each tenant's keys resolved in that tenant's scope."""
    routes: dict[Key, Route] = {}
    for tenant_id, tenant_keys in groupby(sorted(keys, key=lambda key: str(key[1])), key=lambda key: key[1]):
        connection.execute(SWITCH_TENANT, {"tenant": str(tenant_id)})
        routes.update(_resolve_in_tenant_scope(connection, list(tenant_keys)))
    return routes


def _resolve_in_tenant_scope(connection: Connection, keys: list[Key]) -> dict[Key, Route]:
    served: dict[Key, tuple[store.ModelVersion | None, str]] = {}
    for agent_type, tenant_id in keys:
        try:
            decision = serving_model(connection, agent_type, tenant_id)
            served[(agent_type, tenant_id)] = (decision.version, decision.reason)
        except LookupError as error:  # an unknown tenant: nothing may serve it
            served[(agent_type, tenant_id)] = (None, str(error))
    controls = sorted({version.id for version, _ in served.values() if version}, key=str)
    tests = _running_tests(connection, controls) if controls else {}
    return {
        key: Route(ServedModel.from_version(version), reason, tests.get(version.id)) if version
        else Route(None, f"no {key[0]} model serves tenant {key[1]}: {reason}")
        for key, (version, reason) in served.items()
    }


def _running_tests(connection: Connection, controls: list) -> dict:
    """The running test of each control version, its treatment read in the current tenant's scope
    (the tenant's own candidate, or a shared one, the only treatments a control serving it can have)."""
    running = connection.execute(RUNNING_TESTS, {"controls": controls}).mappings().all()
    treatments = {version.id: version for version in store.get_many(connection, [test["treatment_version_id"] for test in running])}
    return {test["control_version_id"]: RunningTest(test["test_id"], float(test["allocation"]),
                                                    ServedModel.from_version(treatments[test["treatment_version_id"]]))
            for test in running if test["treatment_version_id"] in treatments}
