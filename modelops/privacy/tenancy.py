"""Tenant isolation in the code, on top of row-level security in the database.

The spec's ``enforce_tenant_isolation``: every read or write of tenant data names a tenant and a
caller, and the membership table must say that caller may act for that tenant. A refusal raises
PermissionError and is recorded in ``ai.access_audit`` (in its own transaction, so the refusal is
kept even though the work it guarded is not done).
"""
from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Iterable

from sqlalchemy import text

from modelops import db, storable


def authorize(caller: str | None, tenant_id: uuid.UUID | str | None, action: str) -> str:
    """The caller's role for the tenant; PermissionError (audited) when it has none."""
    if caller is not None and (not isinstance(caller, str) or storable.problem(caller)):  # a message may carry anything
        _refuse(repr(caller)[:200], tenant_id, action, f"the caller must be a principal's name, got {repr(caller)[:200]}")
    if not tenant_id:
        _refuse(caller or "anonymous", None, action, "a tenant is required for data access")
    if not caller:
        _refuse("anonymous", tenant_id, action, "a caller is required for data access")
    with db.tenant_scope(tenant_id) as connection:
        role = connection.execute(
            text("SELECT role FROM ai.tenant_members WHERE principal = :caller"), {"caller": caller}
        ).scalar()
    if role is None:
        _refuse(caller, tenant_id, action, f"{caller!r} may not act for tenant {tenant_id}")
    return role


def member_roles(caller: str, tenants: list[str]) -> dict[str, str]:
    """The role ``caller`` holds in each of ``tenants`` it is a member of (the others are absent),
    read in one call of ``ai.member_roles`` (migration 0015): each tenant's membership under that
    tenant's row-level security, as ``authorize`` reads one."""
    with db.unscoped() as connection:
        found = connection.execute(text("SELECT tenant, member_role FROM ai.member_roles(:caller, CAST(:tenants AS uuid[]))"),
                                   {"caller": caller, "tenants": tenants}).all()
    return {str(tenant): role for tenant, role in found}


def _refuse(caller: str, tenant_id, action: str, reason: str) -> None:
    record_refusal(caller, tenant_id, action, reason)
    raise PermissionError(reason)


def record_refusal(caller: str, tenant_id, action: str, reason: str) -> None:
    """Keep a refusal in ``ai.access_audit``, in a transaction of its own. What a sender wrote may
    be in the principal or the reason: text Postgres cannot store (NUL, lone surrogates) is escaped."""
    caller, action, reason = (storable.text_form(value) for value in (caller, action, reason))
    with db.unscoped() as connection:
        connection.execute(
            text("""INSERT INTO ai.access_audit (principal, tenant_id, action, allowed, reason)
                    VALUES (:caller, :tenant, :action, false, :reason)"""),
            {"caller": caller[:200], "tenant": str(tenant_id) if tenant_id else None, "action": action[:200],
             "reason": reason[:2000]},
        )


class Memberships:
    """Membership checks for a stream of calls (predictions): ``authorize`` with each granted
    (caller, tenant) remembered for a few seconds, so that a batch of a thousand requests from one
    service costs one lookup per tenant, not one per request. A membership removed takes hold
    within ``remember_seconds``; every refusal is checked and recorded afresh.

    ``refresh`` reads a batch's due grants together, one call per caller: single requests from a
    hundred tenants otherwise made a read per tenant as its grant ran out, and a hundred in one
    batch when they ran out together (after a pause): tens of milliseconds that every request of
    the batch waited out."""

    def __init__(self, remember_seconds: float = 10.0, read_roles: Callable[[str, list[str]], dict[str, str]] = member_roles,
                 clock: Callable[[], float] = time.monotonic):
        self.remember_seconds = remember_seconds
        self.read_roles = read_roles
        self.clock = clock
        self._granted: dict[tuple[str, str], float] = {}

    def refresh(self, pairs: Iterable[tuple[Any, Any]]) -> None:
        """Read in one call per caller the memberships of the (caller, tenant) ``pairs`` that are not
        remembered or past half their time, remember those granted and forget the others (so that
        ``problem`` checks and records their refusal). A pair that names no caller or no tenant is
        left to ``problem`` to refuse."""
        now = self.clock()
        due: dict[str, dict[str, None]] = {}
        for caller, tenant_id in pairs:
            tenant = _tenant(tenant_id)
            if tenant is None or not isinstance(caller, str) or not caller or storable.problem(caller):
                continue
            granted = self._granted.get((caller, tenant))
            if granted is None or now - granted >= self.remember_seconds / 2:
                due.setdefault(caller, {})[tenant] = None
        for caller, tenants in due.items():
            roles = self.read_roles(caller, list(tenants))
            for tenant in tenants:
                if tenant in roles:
                    self._granted[(caller, tenant)] = now
                else:
                    self._granted.pop((caller, tenant), None)

    def problem(self, caller: str, tenant_id: Any, action: str) -> str | None:
        """Why ``caller`` may not act for ``tenant_id`` (recorded), or None when it may."""
        tenant = _tenant(tenant_id)
        if tenant is None:
            return None  # not a tenant at all: the request's own validation rejects it, touching no tenant's data
        granted = self._granted.get((caller, tenant))
        if granted is not None and self.clock() - granted < self.remember_seconds:
            return None
        try:
            authorize(caller, tenant, action)
        except PermissionError as error:
            return str(error)
        self._granted[(caller, tenant)] = self.clock()
        return None


def _tenant(tenant_id: Any) -> str | None:
    """``tenant_id`` in the canonical form of a UUID, or None when it is not one."""
    try:
        return str(uuid.UUID(str(tenant_id)))
    except ValueError:
        return None
