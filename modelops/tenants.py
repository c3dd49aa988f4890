"""Tenants, their members, and their consent to aggregate learning (operator actions)."""
from __future__ import annotations

import uuid

from sqlalchemy import text

from modelops import clock, db

ROLES = ("owner", "admin", "member", "viewer", "service")


def create_tenant(
    name: str,
    *,
    tenant_id: uuid.UUID | None = None,
    country: str | None = None,
    region: str | None = None,
    opt_in: bool = False,
    actor: str = "operator",
) -> uuid.UUID:
    tenant_id = tenant_id or uuid.uuid4()
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise ValueError(f"country must be an ISO 3166-1 alpha-2 code such as DE or US, got {country!r}")
    now = clock.now()
    with db.operator_scope() as connection:
        connection.execute(
            text("""INSERT INTO ai.tenants (id, name, country, region, aggregate_opt_in, opt_in_changed_at, created_at, updated_at)
                    VALUES (:id, :name, :country, :region, :opt_in, :changed, :now, :now)"""),
            {"id": tenant_id, "name": name, "country": country.upper() if country else None, "region": region,
             "opt_in": opt_in, "changed": now if opt_in else None, "now": now},
        )
        if opt_in:
            _record_consent(connection, tenant_id, True, actor, now)
    return tenant_id


def add_member(tenant_id: uuid.UUID, principal: str, role: str = "service") -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    kind = "service" if role == "service" else "user"
    with db.operator_scope() as connection:
        connection.execute(
            text("""INSERT INTO ai.tenant_members (tenant_id, principal, principal_kind, role)
                    VALUES (:tenant, :principal, :kind, :role)
                    ON CONFLICT (tenant_id, principal) DO UPDATE SET role = EXCLUDED.role, principal_kind = EXCLUDED.principal_kind"""),
            {"tenant": tenant_id, "principal": principal, "kind": kind, "role": role},
        )


def set_aggregate_opt_in(tenant_id: uuid.UUID, opt_in: bool, actor: str) -> None:
    now = clock.now()
    with db.operator_scope() as connection:
        changed = connection.execute(
            text("""UPDATE ai.tenants SET aggregate_opt_in = :opt_in, opt_in_changed_at = :now, updated_at = :now
                    WHERE id = :tenant AND aggregate_opt_in IS DISTINCT FROM :opt_in"""),
            {"tenant": tenant_id, "opt_in": opt_in, "now": now},
        ).rowcount
        if changed:
            _record_consent(connection, tenant_id, opt_in, actor, now)


def _record_consent(connection, tenant_id, opt_in: bool, actor: str, now) -> None:
    connection.execute(
        text("""INSERT INTO ai.consent_events (tenant_id, aggregate_opt_in, actor, created_at)
                VALUES (:tenant, :opt_in, :actor, :now)"""),
        {"tenant": tenant_id, "opt_in": opt_in, "actor": actor, "now": now},
    )
