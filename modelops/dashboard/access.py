"""Who may look at the dashboard: tokens, the sessions a token starts, and the principal behind each.

An operator's token sees every tenant; a tenant's token sees its tenant only, and only while its
holder is a member of that tenant (ai.tenant_members), so removing the member ends the access
without touching the token. Secrets are random and shown once; the database keeps their SHA-256.
Every function takes the caller's connection and commits nothing itself; its ``now`` is the wall
clock's (``wall_now``), whatever clock the data runs on. Tokens are made and revoked by the command
line in the operator's scope. The dashboard checks them (before anyone knows which tenant the
caller is) and keeps sessions in its own role's scope, only through definer functions
(ai.dashboard_token_principal and the like, schemas/migrations/versions/0010_least_privilege_roles.py):
its role never reads a token's or a session's hash.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from modelops import clock

ROLES = ("operator", "tenant")
TOKEN_PREFIX = "mdo_"
# A browser's session ends after a working day, or with its token if that ends first.
SESSION_TTL = dt.timedelta(hours=12)
TTL_PATTERN = re.compile(r"^(\d+)([smhd])$")
TTL_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Principal:
    token_id: uuid.UUID
    role: str
    name: str
    tenant_id: uuid.UUID | None

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


def wall_now() -> dt.datetime:
    """Now by the wall clock: credentials expire in real time. Under a simulated clock (the demo
    plays a day every 20 seconds) a 12-hour token would otherwise end within seconds."""
    return clock.SystemClock().now()


def parse_ttl(value: str) -> dt.timedelta:
    """'90m', '12h', '30d' (or plain seconds) as a timedelta; ValueError naming the value otherwise."""
    value = value.strip()
    if value.isdigit():
        value += "s"
    match = TTL_PATTERN.match(value)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"a token lifetime is a positive number with s, m, h or d (e.g. 12h, 30d), got {value!r}")
    return dt.timedelta(**{TTL_UNITS[match.group(2)]: int(match.group(1))})


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(connection: Connection, *, role: str, tenant_id: uuid.UUID | None, principal: str,
                 created_by: str, ttl: dt.timedelta, now: dt.datetime) -> dict:
    """A new token: {id, token (the secret, shown this once), role, tenant_id, principal, expires_at}."""
    if role not in ROLES:
        raise ValueError(f"role must be operator or tenant, got {role!r}")
    if (role == "tenant") != (tenant_id is not None):
        raise ValueError("a tenant token names its tenant, and an operator token names none")
    if ttl <= dt.timedelta(0):
        raise ValueError(f"a token's lifetime must be positive, got {ttl}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = connection.execute(
        text("""INSERT INTO ai.dashboard_tokens (token_sha256, role, tenant_id, principal, created_by, created_at, expires_at)
                VALUES (:digest, :role, :tenant, :principal, :created_by, :now, :expires) RETURNING id"""),
        {"digest": digest(secret), "role": role, "tenant": tenant_id, "principal": principal,
         "created_by": created_by, "now": now, "expires": now + ttl},
    ).scalar_one()
    return {"id": str(token_id), "token": secret, "role": role, "tenant_id": str(tenant_id) if tenant_id else None,
            "principal": principal, "expires_at": (now + ttl).isoformat()}


def revoke_token(connection: Connection, token_id: uuid.UUID, now: dt.datetime) -> bool:
    """End a token and every session it started; False when there was no such live token."""
    revoked = connection.execute(
        text("UPDATE ai.dashboard_tokens SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL"),
        {"id": token_id, "now": now},
    ).rowcount
    connection.execute(text("DELETE FROM ai.dashboard_sessions WHERE token_id = :id"), {"id": token_id})
    return bool(revoked)


# The principal of a live token: not revoked, not expired, and (for a tenant's) held by a member of its tenant.
TOKEN_PRINCIPAL = text("SELECT * FROM ai.dashboard_token_principal(:digest, :now)")
SESSION_PRINCIPAL = text("SELECT * FROM ai.dashboard_session_principal(:digest, :now)")


def principal_for_token(connection: Connection, secret: str, now: dt.datetime) -> Principal | None:
    """The principal of a live token; None for a wrong, expired or revoked one (which is which is not told)."""
    return principal_for_digest(connection, digest(secret), now)


def principal_for_digest(connection: Connection, token_digest: str, now: dt.datetime) -> Principal | None:
    """The principal of the live token whose SHA-256 is ``token_digest`` (how a sign-in code names its token)."""
    return _principal(connection.execute(TOKEN_PRINCIPAL, {"digest": token_digest, "now": now}).first())


def principal_for_session(connection: Connection, secret: str, now: dt.datetime) -> Principal | None:
    return _principal(connection.execute(SESSION_PRINCIPAL, {"digest": digest(secret), "now": now}).first())


def open_session(connection: Connection, principal: Principal, now: dt.datetime) -> str:
    """A session for a principal that just showed its token; returns the cookie's secret."""
    secret = secrets.token_urlsafe(32)
    # ending no later than its token; ended sessions are of no use to anyone, so each login sweeps them
    connection.execute(
        text("SELECT ai.open_dashboard_session(:digest, :token, :now, :session_end)"),
        {"digest": digest(secret), "token": principal.token_id, "now": now, "session_end": now + SESSION_TTL},
    )
    return secret


def close_session(connection: Connection, secret: str) -> None:
    connection.execute(text("SELECT ai.close_dashboard_session(:digest)"), {"digest": digest(secret)})


def _principal(row) -> Principal | None:
    if row is None:
        return None
    return Principal(token_id=row.id, role=row.role, name=row.principal, tenant_id=row.tenant_id)
