"""Which model serves a tenant: the isolation policy and cold start in one place.

A tenant is served by its own production model. Without one (a new tenant, or one whose data has
not yet made a model good enough), it is served by its region's model if it opted in to aggregate
learning (the regional model learned from the pooled rows of the region's opted-in tenants; a
tenant that keeps its data to itself does not borrow from theirs), and otherwise by the global
model, which learned from synthetic data only. Per-tenant models are trained on the tenant's own
rows alone, so no tenant is ever served a model that saw another tenant's rows unless both opted in.
An agent whose labels are each tenant's own (journal: the tenant's chart of accounts) is served by
the tenant's own model only: a shared model would answer with accounts the tenant does not have.

Works in the tenant's scope (row-level security shows it its own row and versions, and the shared
models) or in the operator's.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from modelops.agents import check_agent, get_agent
from modelops.registry.store import ModelVersion, production
from modelops.registry.versions import scope_key


@dataclass(frozen=True)
class ServingModel:
    version: ModelVersion | None  # None when nothing can serve
    source: str | None  # tenant, regional, global
    reason: str


def serving_model(connection: Connection, agent_type: str, tenant_id: uuid.UUID | str) -> ServingModel:
    check_agent(agent_type)
    own = production(connection, agent_type, scope_key(tenant_id))
    if own is not None:
        return ServingModel(own, "tenant", f"the tenant's own production model {own.version}")
    if get_agent(agent_type).labels_are_tenants_own:
        return ServingModel(None, None, f"no {agent_type} model yet: its labels are the tenant's own, which no shared "
                                        f"model knows, so only a model trained on the tenant's own feedback serves it")
    tenant = connection.execute(
        text("SELECT region, aggregate_opt_in FROM ai.tenants WHERE id = :id"), {"id": tenant_id}
    ).mappings().first()
    if tenant is None:
        raise LookupError(f"tenant {tenant_id} does not exist (or this scope may not see it)")
    why_not_regional = _regional_refusal(tenant)
    if why_not_regional is None:
        regional = production(connection, agent_type, scope_key(None, tenant["region"]))
        if regional is not None:
            return ServingModel(regional, "regional", f"no model of its own; opted in, so region {tenant['region']}'s "
                                                      f"aggregate model {regional.version}")
        why_not_regional = f"region {tenant['region']} has no {agent_type} production model"
    shared = production(connection, agent_type, scope_key(None))
    if shared is not None:
        return ServingModel(shared, "global", f"no model of its own and {why_not_regional}; the global model "
                                              f"{shared.version}, trained on synthetic data")
    return ServingModel(None, None, f"no model of its own, {why_not_regional}, and no global {agent_type} production model")


def _regional_refusal(tenant) -> str | None:
    if not tenant["aggregate_opt_in"]:
        return "not opted in to aggregate learning"
    if not tenant["region"]:
        return "opted in but has no region"
    return None
