"""The agent and tenant filters of a panel request, checked before any panel query runs.

A filter that names nothing the caller may see is not an error: the panel shows an empty state
with a message saying why (an unknown agent, a tenant that does not exist, a tenant that is not
the caller's), so a mistyped link gives a readable page rather than a failure.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from modelops import AGENT_TYPES
from modelops.dashboard.access import Principal


@dataclass(frozen=True)
class Query:
    """What a panel reads: the filters (None = all) and the time it reads at."""

    agent_type: str | None
    tenant_id: uuid.UUID | None
    now: dt.datetime
    is_operator: bool

    @property
    def today(self) -> dt.date:
        return self.now.date()

    @property
    def start_of_today(self) -> dt.datetime:
        return dt.datetime.combine(self.today, dt.time())

    def params(self, **more) -> dict:
        """The filters as SQL parameters (:agent, :tenant), NULL meaning every one."""
        return {"agent": self.agent_type, "tenant": self.tenant_id, **more}


class EmptyState(Exception):
    """The filters select nothing the caller may see; the message says why."""


def build_query(principal: Principal, agent: str | None, tenant: str | None, now: dt.datetime) -> Query:
    """The query a principal's filters ask for, or EmptyState. A tenant's user always reads its own tenant."""
    agent = (agent or "").strip() or None
    tenant = (tenant or "").strip() or None
    if agent is not None and agent not in AGENT_TYPES:
        raise EmptyState(f"no agent {agent!r}: the agents are {', '.join(AGENT_TYPES)}")
    tenant_id = None
    if tenant is not None:
        try:
            tenant_id = uuid.UUID(tenant)
        except ValueError:
            raise EmptyState(f"{tenant!r} is not a tenant id") from None
    if not principal.is_operator:
        if tenant_id is not None and tenant_id != principal.tenant_id:
            raise EmptyState(f"tenant {tenant_id} is not yours: this login sees tenant {principal.tenant_id} only")
        tenant_id = principal.tenant_id
    return Query(agent_type=agent, tenant_id=tenant_id, now=now, is_operator=principal.is_operator)


def check_tenant_exists(connection: Connection, query: Query) -> None:
    """EmptyState when an operator's tenant filter names no tenant (a tenant's own always exists)."""
    if query.tenant_id is None or not query.is_operator:
        return
    if connection.execute(text("SELECT 1 FROM ai.tenants WHERE id = :id"), {"id": query.tenant_id}).first() is None:
        raise EmptyState(f"no tenant {query.tenant_id}")


def choices(connection: Connection) -> dict:
    """What the filter menus offer: the agents, and the tenants this scope sees."""
    tenants = connection.execute(text("SELECT id, name FROM ai.tenants ORDER BY name, id")).all()
    return {"agents": list(AGENT_TYPES), "tenants": [{"id": str(row.id), "name": row.name} for row in tenants]}
