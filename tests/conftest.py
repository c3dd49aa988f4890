"""Test settings: Postgres and Redis found or started as `modelops demo` does (tests/servers.py),
in a database and a Redis db of their own, so a test run never touches a deployment's data."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
TEST_HOME = PROJECT / ".modelops-test"
# Where embedded servers of the run live: inside the project, since pgserver run as root opens
# the permissions of every parent folder of its data folder.
SERVERS_HOME = TEST_HOME / "servers"

# Every process of the run (this one, every worker and beat it starts) reads the time from one
# file, so that a test sets the clock of workers already running (tests/fixtures.py: clock_set_to).
# One file per run: runs on other servers may share the checkout. Until a test sets it, the wall clock.
CLOCK_FILE = TEST_HOME / f"clock-{os.getpid()}"
os.environ["MODELOPS_CLOCK"] = f"file:{CLOCK_FILE}"
os.environ["MODELOPS_HOME"] = str(TEST_HOME)
os.environ["MODELOPS_ARTIFACT_DIR"] = str(TEST_HOME / "artifacts")
os.environ.pop("RESULT_BACKEND_URL", None)
# The run's own processes derive every role's URL from the owner's (DATABASE_URL); the workers it
# starts are given their roles' URLs alone (workers.pools.environment).
for role_url in ("APP_DATABASE_URL", "SYSTEM_DATABASE_URL", "DASHBOARD_DATABASE_URL"):
    os.environ.pop(role_url, None)

pytest_plugins = ["tests.fixtures", "tests.worker_logs"]


def pytest_addoption(parser):
    parser.addoption("--broker", choices=("redis", "amqp"), default="redis",
                     help="the run's broker: Redis (the default), or RabbitMQ at MODELOPS_TEST_AMQP_URL "
                          "(default amqp://guest:guest@127.0.0.1:5672//); where none answers, every test is skipped")


def pytest_configure(config):
    # Before any test module is imported (celeryconfig reads REDIS_URL and BROKER_URL at import),
    # and inherited by every worker process a test starts.
    from tests import brokers, servers, worker_logs

    os.environ.pop("BROKER_URL", None)
    if config.getoption("broker") == "amqp" and (config.getoption("numprocesses", None) or os.environ.get("PYTEST_XDIST_WORKER")):
        # the run's processes would share the RabbitMQ queues, and each take the others' tasks
        raise pytest.UsageError("--broker amqp runs in one process: leave out -n")
    if config.getoption("broker") == "amqp":
        config.stash[brokers.STASH] = brokers.rabbitmq()
        if config.stash[brokers.STASH].skipped:
            return  # nothing will run: no servers to find or start
        os.environ["BROKER_URL"] = config.stash[brokers.STASH].url
    found = servers.bring_up(SERVERS_HOME, os.environ.get("PYTEST_XDIST_WORKER"),
                             config.getoption("broker"))
    os.environ["DATABASE_URL"] = found.database_url
    os.environ["REDIS_URL"] = found.redis_url
    config.stash[servers.STASH] = found
    worker_logs.watch(config, TEST_HOME)


def pytest_report_header(config):
    from tests import brokers, servers

    lines = []
    found = config.stash.get(servers.STASH, None)
    if found is not None:
        lines.append(f"servers: postgres {found.origin['postgres']}, redis {found.origin['redis']}")
    rabbitmq = config.stash.get(brokers.STASH, None)
    if rabbitmq is not None:
        lines.append(f"broker: {rabbitmq.describe()}")
    return lines


def pytest_collection_modifyitems(config, items):
    from tests import brokers

    brokers.skip_what_cannot_run(config, items)
    # The slow tests first, the longest of them (``slow(minutes=N)``) before the others: a run split
    # over processes then ends on many short files rather than on one long one.
    def order(item) -> tuple[bool, float]:
        slow = item.get_closest_marker("slow")
        return slow is None, -(slow.kwargs.get("minutes", 1) if slow else 0)

    items.sort(key=order)


def pytest_unconfigure(config):
    from tests import servers

    CLOCK_FILE.unlink(missing_ok=True)
    lock = config.stash.get(servers.RUN_LOCK_STASH, None)
    if lock is not None:
        lock.close()
    found = config.stash.get(servers.STASH, None)
    # Only embedded servers are ours to stop; only the run's first process (the one the others
    # report to) stops them, and not while another run uses them or waits to.
    if (found is not None and "embedded" in found.origin.values() and not hasattr(config, "workerinput")
            and not servers.in_use(found)):
        servers.bring_down(SERVERS_HOME)
