"""Shared fixtures: a freshly migrated test database, a clean Redis db, a real Celery worker."""
from __future__ import annotations

import datetime as dt
import os
import uuid
from contextlib import contextmanager

import pytest
import redis
from sqlalchemy import create_engine, pool, text

from modelops import clock, db, migrations
from modelops.config import is_amqp, settings
from modelops.supervisor import ProcessGroup
from tests import brokers, servers
from tests.servers import migrating, recreate_database


@pytest.fixture(scope="session")
def run_lock(request):
    """This run's hold on its database and Redis db, taken by the first test that uses them (a run
    of unit tests alone waits for nobody)."""
    found = request.config.stash[servers.STASH]
    request.config.stash[servers.RUN_LOCK_STASH] = servers.hold_run_lock(found)


@pytest.fixture(autouse=True)
def _integration_tests_hold_the_run(request):
    if request.node.get_closest_marker("integration"):
        request.getfixturevalue("run_lock")


@pytest.fixture(scope="session")
def database(run_lock) -> str:
    """The test database, dropped, created and migrated once per run."""
    url = settings().database_url
    db.dispose_engines()
    with migrating(url):
        recreate_database(url)
        migrations.upgrade()
    yield url
    db.dispose_engines()


@pytest.fixture(scope="session")
def owner(database):
    """The owner's engine, for seeding rows and reading them past row-level security."""
    engine = create_engine(database, poolclass=pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def broker(run_lock) -> redis.Redis:
    """The run's Redis db, emptied (and the run's RabbitMQ queues, when it is the broker)."""
    import celeryconfig

    client = redis.Redis.from_url(settings().redis_url)
    client.flushdb()
    if is_amqp(settings().broker_url):
        brokers.purge(settings().broker_url, celeryconfig.QUEUES)
    yield client
    client.close()


@contextmanager
def running_pool(log_dir, pool_name: str):
    """One worker of ``pool_name``, as `modelops worker --pool NAME` starts it, once it consumes every
    queue of the pool; stopped on the way out."""
    from workers import pools
    from workers.roundtrip import round_trip

    group = ProcessGroup(log_dir, dict(os.environ))
    group.start(pool_name, pools.worker_command(pool_name, loglevel="WARNING"), env=pools.environment(pool_name))
    try:
        round_trip(pools.queues_of(pool_name), timeout=90)
        yield group
    finally:
        group.stop()


@pytest.fixture(scope="session")
def worker(database, broker, tmp_path_factory):
    """One real worker process consuming every queue, as `modelops worker --pool all` runs it: with
    the front-facing and the system roles' URLs, and no owner URL. Its tenant scopes (serving,
    intake, scrubbing) run as the front-facing role, cross-tenant work as the system role."""
    from workers import pools
    from workers.roundtrip import round_trip

    group = ProcessGroup(tmp_path_factory.mktemp("worker-logs"), pools.environment(pools.ALL))
    group.start("worker-all", pools.worker_command(pools.ALL, concurrency=2, loglevel="WARNING"))
    try:
        round_trip(timeout=90)  # returns once the worker consumes every queue
        yield group
    finally:
        group.stop()


@pytest.fixture
def make_tenant(owner):
    """Create tenants (as the owner) for a test."""

    def make(name: str | None = None, **columns) -> uuid.UUID:
        tenant_id = uuid.uuid4()
        fields = {"id": tenant_id, "name": name or f"tenant-{tenant_id.hex[:8]}", **columns}
        names = ", ".join(fields)
        values = ", ".join(f":{key}" for key in fields)
        with owner.begin() as connection:
            connection.execute(text(f"INSERT INTO ai.tenants ({names}) VALUES ({values})"), fields)
        return tenant_id

    return make


@contextmanager
def clock_set_to(new: clock.Clock):
    """The time of this process and of every worker and beat of the run (they all follow the run's
    clock file) is ``new`` inside the block, and what it was after it."""
    shared = clock.current()
    assert isinstance(shared, clock.FileClock), "the run's processes follow MODELOPS_CLOCK=file:..."
    before = shared.current()
    shared.set(new)
    try:
        yield new
    finally:
        shared.set(before)


@contextmanager
def audit_log_at(owner, now: dt.datetime, months: int = 2):
    """The run's clock standing at ``now``, and the audit log's monthly partitions of ``now`` and the
    ``months - 1`` before it, where a test writes the rows its checks read."""
    first = now.date().replace(day=1)
    with owner.begin() as connection:
        for back in range(months):
            month = dt.date(first.year + (first.month - 1 - back) // 12, (first.month - 1 - back) % 12 + 1, 1)
            connection.execute(text("SELECT ai.ensure_month_partition('ai.prediction_log', :month)"), {"month": month})
    with clock_set_to(clock.FixedClock(now)):
        yield
