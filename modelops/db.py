"""The engines and the session scopes.

Every unit of work opens a scope. A tenant scope sets ``app.tenant_id`` for the transaction, so
that Postgres's row-level security shows and accepts only that tenant's rows; it runs as the
front-facing role (``modelops_app``), as does an unscoped transaction. An operator scope, for work
that spans tenants (metric folds, rollback checks, the scheduler), runs as the system role and
switches to the operator role; a dashboard scope runs as the dashboard's read-only role. Each
scope needs its role's URL in this process's environment (``modelops.config``): the pools that
face other services are given the front-facing role's alone, so an operator scope there fails
before it reaches the database (``RoleUnavailable``). Every scope commits on success, rolls back
on error and closes, and only plain values should leave it. Engines are made lazily per process,
so a forked worker never shares its parent's connections.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, text

from modelops.config import (APP_ROLE, DASHBOARD_ROLE, OPERATOR_ROLE, ROLE_URL_VARIABLES, SYSTEM_ROLE,
                             settings)

_engines: dict[tuple[int, str], Engine] = {}


class RoleUnavailable(RuntimeError):
    """This process was not given the database role a scope needs (by design, for a front-facing pool)."""


def engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (by default the front-facing role's), one per process and URL."""
    url = url or role_url(APP_ROLE)
    key = (os.getpid(), url)
    if key not in _engines:
        _engines[key] = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    return _engines[key]


def role_url(role: str) -> str:
    url = settings().role_urls.get(role)
    if url is None:
        raise RoleUnavailable(f"this process may not log in as {role} (it was given no {ROLE_URL_VARIABLES[role]}): "
                              "a pool facing other services acts across tenants only through definer functions")
    return url


def owner_engine() -> Engine:
    """The owner's engine, for migrations and administration only."""
    return engine(settings().database_url)


def dispose_engines() -> None:
    """Drop this process's pools (after a fork, or at shutdown)."""
    for key in [key for key in _engines if key[0] == os.getpid()]:
        _engines.pop(key).dispose()
    _engines.clear()


@contextmanager
def tenant_scope(tenant_id: uuid.UUID | str, isolation: str | None = None) -> Iterator[Connection]:
    """A transaction that sees and writes only ``tenant_id``'s rows (at ``isolation``, e.g.
    "REPEATABLE READ" for several reads from one snapshot, when given)."""
    tenant = str(uuid.UUID(str(tenant_id)))  # refuses anything that is not a UUID before it reaches SQL
    with engine().connect() as connection:
        if isolation:
            connection.execution_options(isolation_level=isolation)
        with connection.begin():
            connection.execute(text("SELECT set_config('app.tenant_id', :tenant, true)"), {"tenant": tenant})
            yield connection


@contextmanager
def operator_scope() -> Iterator[Connection]:
    """A transaction acting across tenants: the system role, switched to the operator role."""
    with engine(role_url(SYSTEM_ROLE)).begin() as connection:
        connection.execute(text(f"SET LOCAL ROLE {OPERATOR_ROLE}"))
        yield connection


@contextmanager
def dashboard_scope() -> Iterator[Connection]:
    """A transaction as the dashboard's role: every tenant's rows to read, tokens and sessions
    through definer functions only, nothing to write but an alert's resolution."""
    with engine(role_url(DASHBOARD_ROLE)).begin() as connection:
        yield connection


@contextmanager
def unscoped() -> Iterator[Connection]:
    """A transaction with no tenant: row-level security shows it nothing of any tenant."""
    with engine().begin() as connection:
        yield connection
