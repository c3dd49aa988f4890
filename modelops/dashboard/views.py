"""What each endpoint answers, apart from HTTP: a panel's JSON in the principal's scope, the filter
menus, an alert resolved. A tenant's user reads through db.tenant_scope, so row-level security
decides what it sees whatever a query asks for; an operator reads through db.dashboard_scope, as
the dashboard's own role (read-only across tenants: see modelops.dashboard.access)."""
from __future__ import annotations

from contextlib import contextmanager

from modelops import clock, db
from modelops.alerting import alerts
from modelops.dashboard import filters, panels
from modelops.dashboard.access import Principal
from modelops.dashboard.filters import EmptyState
from modelops.dashboard.widgets import PANELS_BY_NAME


class Refused(PermissionError):
    """The principal may not do this (an operator's act asked by a tenant's user)."""


@contextmanager
def scope_of(principal: Principal):
    if principal.is_operator:
        with db.dashboard_scope() as connection:
            yield connection
    else:
        with db.tenant_scope(principal.tenant_id) as connection:
            yield connection


def panel(name: str, principal: Principal, agent: str | None, tenant: str | None, sampler) -> dict:
    """{panel, at, data} or {panel, at, empty: why}. Raises KeyError for an unknown panel, and the
    database's own error when it does not answer (the caller turns that into a notice)."""
    spec = PANELS_BY_NAME[name]
    now = clock.now()
    answer = {"panel": name, "at": now.isoformat(), "refresh_interval": spec.refresh_interval}
    if spec.operators_only and not principal.is_operator:
        return {**answer, "empty": f"{spec.title} is shown to operators"}
    try:
        query = filters.build_query(principal, agent, tenant, now)
        if name == "resources":
            return {**answer, "data": sampler.read()}
        with scope_of(principal) as connection:
            filters.check_tenant_exists(connection, query)
            return {**answer, "data": panels.reader(name)(connection, query)}
    except EmptyState as empty:
        return {**answer, "empty": str(empty)}


def choices(principal: Principal) -> dict:
    with scope_of(principal) as connection:
        return filters.choices(connection)


def resolve_alert(principal: Principal, alert_id: str, note: str) -> dict:
    """Resolve an open alert as the operator ``principal``; ValueError (the alerts' AlertError) names
    what is wrong: not an id, no such alert, already resolved, no note."""
    if not principal.is_operator:
        raise Refused("resolving alerts is an operator's act")
    if not note.strip():
        raise ValueError("say how the alert was resolved (the note is kept with it)")
    with db.dashboard_scope() as connection:
        return alerts.resolve_alert(connection, alert_id, resolved_by=f"dashboard:{principal.name}", note=note, now=clock.now())
