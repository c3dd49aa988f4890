"""Retention through a real worker on a simulated clock (a month every two seconds): the audit log's
month partitions are made ahead of the clock, those past the retention period are dropped as
simulated months pass, and a query on recent data reads only the recent partitions."""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import uuid

import pytest
from sqlalchemy import text

from modelops import clock, db, tenants
from modelops.clock import ScaledClock
from modelops.retention import MONTHS_AHEAD, add_months, ensure_partitions
from tests.integration.training_support import other_workers, start_worker, wait_until, worker_group, workers_paused
from workers.app import app

pytestmark = pytest.mark.integration

MAINTAIN = "modelops.maintenance.maintain_partitions"
RETENTION_MONTHS = 36
SPEED = 15 * 24 * 3600  # fifteen simulated days a second
# Years of history before the simulated start: the retention cut falls inside them.
HISTORY = [add_months(dt.date(2001, 1, 1), n) for n in range(7 * 12)]
START = dt.datetime(2008, 1, 1)


@pytest.fixture(scope="module")
def simulated(database, broker, owner, tmp_path_factory):
    with owner.begin() as connection:
        for month in HISTORY:
            connection.execute(text("SELECT ai.ensure_month_partition('ai.prediction_log', :month)"), {"month": month})
    simulated_clock = ScaledClock(START, real_anchor=time.time(), speed=SPEED)
    previous = clock.use(simulated_clock)
    group = worker_group(tmp_path_factory.mktemp("retention-worker"), MODELOPS_CLOCK=simulated_clock.spec(),
                         MODELOPS_RETENTION_MONTHS=str(RETENTION_MONTHS))
    try:
        with workers_paused(other_workers()):
            start_worker(group, "retention")
            yield simulated_clock
    finally:
        group.stop()
        clock.use(previous)


def partitions(owner) -> dict[dt.date, str]:
    """The audit log's partitions by the first day of their month."""
    with owner.connect() as connection:
        names = connection.execute(text("""SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                                           WHERE i.inhparent = 'ai.prediction_log'::regclass""")).scalars().all()
    return {month_of(name): name for name in names}


def month_of(name: str) -> dt.date:
    year, month = re.search(r"_y(\d{4})m(\d{2})$", name).groups()
    return dt.date(int(year), int(month), 1)


def log_row(owner, tenant, version, at: dt.datetime) -> uuid.UUID:
    prediction = uuid.uuid4()
    with owner.begin() as connection:
        connection.execute(text("""INSERT INTO ai.prediction_log (id, model_version_id, agent_type, tenant_id, input_data,
                                                                  prediction_timestamp)
                                   VALUES (:id, :version, 'classification', :tenant, '{}', :at)"""),
                           {"id": prediction, "version": version, "tenant": tenant, "at": at})
    return prediction


def logged(owner, prediction) -> bool:
    with owner.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM ai.prediction_log WHERE id = :id"), {"id": prediction}).scalar_one() == 1


def maintain() -> tuple[dt.date, dict]:
    """Run the maintenance task; returns the worker's month (between the clock's before and after) and its result."""
    before = clock.today().replace(day=1)
    result = app.send_task(MAINTAIN).get(timeout=60)
    after = clock.today().replace(day=1)
    ensured = [month_of(name) for name in result["ensured"]]
    assert ensured == [add_months(ensured[0], n) for n in range(MONTHS_AHEAD + 1)]
    assert before <= ensured[0] <= after, "the partitions ensured start at the worker's current month"
    return ensured[0], result


def test_partitions_are_made_ahead_and_dropped_after_retention_as_months_pass(simulated, owner):
    tenant = tenants.create_tenant("retention")
    version = uuid.uuid4()
    with owner.begin() as connection:
        connection.execute(text("""INSERT INTO ai.model_versions (id, agent_type, version, trained_on, tenant_id)
                                   VALUES (:v, 'classification', 'v1.0', :at, :t)"""), {"v": version, "t": tenant, "at": START})
    old_row = log_row(owner, tenant, version, dt.datetime(2004, 12, 31, 23, 59))
    kept_row = log_row(owner, tenant, version, dt.datetime(2007, 6, 1, 0, 0))
    real_month = dt.date.today().replace(day=1)
    assert real_month in partitions(owner)

    first_month, first = maintain()
    existing = partitions(owner)
    for offset in range(MONTHS_AHEAD + 1):
        assert add_months(first_month, offset) in existing
    cutoff = add_months(first_month, -RETENTION_MONTHS)
    expired = {month for month in HISTORY if add_months(month, 1) <= cutoff}
    assert expired and {month_of(name) for name in first["dropped"]} == expired
    assert [month for month in HISTORY if month in existing] == [month for month in HISTORY if month not in expired]
    assert not logged(owner, old_row) and logged(owner, kept_row)
    assert real_month in existing  # recent months are far inside the retention period

    wait_until(lambda: clock.today().replace(day=1) >= add_months(first_month, 3), timeout=60, what="three simulated months")
    later_month, later = maintain()
    existing = partitions(owner)
    assert add_months(later_month, MONTHS_AHEAD) in existing and add_months(later_month, MONTHS_AHEAD) not in HISTORY
    later_cutoff = add_months(later_month, -RETENTION_MONTHS)
    newly_expired = {month for month in HISTORY if add_months(month, 1) <= later_cutoff} - expired
    assert newly_expired and {month_of(name) for name in later["dropped"]} == newly_expired
    assert not newly_expired & set(existing) and logged(owner, kept_row)


def scanned_partitions(owner, sql: str, **params) -> set[str]:
    with owner.connect() as connection:
        plan = connection.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"), params).scalar_one()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    names = set()

    def walk(node):
        if "Relation Name" in node:
            names.add(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)
    walk(plan[0]["Plan"])
    return names


def test_a_query_on_recent_data_reads_only_the_recent_partitions(simulated, owner):
    existing = partitions(owner)
    recent = max(month for month in existing if month <= dt.date.today())
    scanned = scanned_partitions(owner, "SELECT count(*) FROM ai.prediction_log WHERE prediction_timestamp >= :since",
                                 since=dt.datetime.combine(recent, dt.time()))
    assert scanned == {name for month, name in existing.items() if month >= recent}
    assert len(scanned) < len(existing) / 4
    one_month = scanned_partitions(owner, "SELECT * FROM ai.prediction_log WHERE prediction_timestamp >= :start AND prediction_timestamp < :end",
                                   start=dt.datetime(2007, 6, 1), end=dt.datetime(2007, 7, 1))
    assert one_month == {existing[dt.date(2007, 6, 1)]}


def test_two_writers_making_the_same_new_month_at_once_both_succeed(database, owner):
    month = dt.date(2040, 1, 1)
    outcomes = []

    def writer(delay: float):
        time.sleep(delay)
        try:
            with db.unscoped() as connection:  # as the serving path makes its month's partition
                ensure_partitions(connection, month, months_ahead=0)
                time.sleep(1.0)  # the other writer comes while this transaction is open
            outcomes.append("ok")
        except Exception as error:  # noqa: BLE001 - the outcome is what is asserted
            outcomes.append(repr(error))

    threads = [threading.Thread(target=writer, args=(delay,)) for delay in (0.0, 0.3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["ok", "ok"]
    assert month in partitions(owner)
