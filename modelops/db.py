"""The engine and the one session helper.

Every unit of work opens a scope: a tenant scope sets ``app.tenant_id`` for the transaction, so
that Postgres's row-level security shows and accepts only that tenant's rows; an operator scope
switches to the operator role for work that spans tenants (metric folds, rollback checks, the
scheduler). Either way the scope commits on success, rolls back on error and closes, and only
plain values should leave it. Engines are made lazily per process, so a forked worker never
shares its parent's connections.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, text

from modelops.config import OPERATOR_ROLE, settings

_engines: dict[tuple[int, str], Engine] = {}


def engine(url: str | None = None) -> Engine:
    """The application's engine (as the application role), one per process and URL."""
    url = url or settings().app_database_url
    key = (os.getpid(), url)
    if key not in _engines:
        _engines[key] = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    return _engines[key]


def owner_engine() -> Engine:
    """The owner's engine, for migrations and administration only."""
    return engine(settings().database_url)


def dispose_engines() -> None:
    """Drop this process's pools (after a fork, or at shutdown)."""
    for key in [key for key in _engines if key[0] == os.getpid()]:
        _engines.pop(key).dispose()
    _engines.clear()


@contextmanager
def tenant_scope(tenant_id: uuid.UUID | str) -> Iterator[Connection]:
    """A transaction that sees and writes only ``tenant_id``'s rows."""
    tenant = str(uuid.UUID(str(tenant_id)))  # refuses anything that is not a UUID before it reaches SQL
    with engine().begin() as connection:
        connection.execute(text("SELECT set_config('app.tenant_id', :tenant, true)"), {"tenant": tenant})
        yield connection


@contextmanager
def operator_scope() -> Iterator[Connection]:
    """A transaction acting across tenants, as the operator role."""
    with engine().begin() as connection:
        connection.execute(text(f"SET LOCAL ROLE {OPERATOR_ROLE}"))
        yield connection


@contextmanager
def unscoped() -> Iterator[Connection]:
    """A transaction with no tenant: row-level security shows it nothing of any tenant."""
    with engine().begin() as connection:
        yield connection
