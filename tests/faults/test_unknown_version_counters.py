"""Counters of model versions the registry does not hold (deleted, a database restored from an older
backup, a Redis shared with another deployment) do not stop the metrics.

Beside real counts of two real versions, counters of unknown versions are planted in the live hash
and in a fold left pending (as a restore would leave one); the run's worker folds them through
``modelops.metrics.fold_counters``, as the role it runs as. Every real count must reach
``ai.model_metrics`` exactly, the unknown ones must be recorded as dropped (the ledger row's count,
``ai.dropped_metric_counts``), and the next fold must go on the same way.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

import pytest
from sqlalchemy import text

from modelops import tenants
from modelops.monitoring import counters, fold
from tests.faults.support import logged_predictions
from workers.app import app

pytestmark = pytest.mark.integration

FOLD = "modelops.metrics.fold_counters"
DAYS = (dt.date(2031, 7, 1), dt.date(2031, 7, 2))
MEASURES = ("predictions", "labelled", "correct")


def plant(client, key: str, versions, round_: int) -> Counter:
    """Counts of every version on both days into hash ``key``; returns them by (version, day, measure)."""
    planted: Counter = Counter()
    for v, version in enumerate(versions):
        for d, day in enumerate(DAYS):
            for m, measure in enumerate(MEASURES):
                amount = 100 * round_ + 10 * v + 3 * d + m + 1
                client.hincrby(key, counters.field(version, day, measure), amount)
                planted[version, day, measure] += amount
    return planted


def folded(owner, versions) -> Counter:
    with owner.connect() as connection:
        rows = connection.execute(text("""
            SELECT model_version_id, metric_date, total_predictions, labelled_predictions, correct_predictions
            FROM ai.model_metrics WHERE model_version_id = ANY(:ids)"""), {"ids": list(versions)})
        return Counter({(version, day, measure): amount for version, day, *amounts in rows
                        for measure, amount in zip(MEASURES, amounts)})


def dropped(owner, versions) -> dict:
    with owner.connect() as connection:
        rows = connection.execute(text("""
            SELECT model_version_id, metric_date, predictions, labelled, folds FROM ai.dropped_metric_counts
            WHERE model_version_id = ANY(:ids)"""), {"ids": list(versions)})
        return {(version, day): (predictions, labelled, folds) for version, day, predictions, labelled, folds in rows}


def unknown_in_ledger(owner, fold_id: str) -> int | None:
    with owner.connect() as connection:
        return connection.execute(text("SELECT unknown_versions FROM ai.metric_folds WHERE fold_id = :id"), {"id": fold_id}).scalar()


def waiting_in_redis(client, versions) -> set:
    wanted = {str(version) for version in versions}
    hashes = [counters.LIVE] + [fold.fold_key(member.decode()) for member in client.smembers(counters.PENDING)]
    return {name for key in hashes for name in map(bytes.decode, client.hkeys(key)) if name.split(":")[0] in wanted}


def test_counters_of_unknown_versions_are_dropped_and_recorded_and_every_real_count_is_folded(worker, owner, figures):
    real = [logged_predictions(owner, tenants.create_tenant(f"faults-unknown-{uuid.uuid4().hex[:6]}"), 1)[0] for _ in range(2)]
    unknown = [uuid.uuid4() for _ in range(3)]
    client = counters.client()

    # a fold moved aside before the database was restored, and live counts since, of both kinds
    restored_fold = f"test-restored-{uuid.uuid4().hex}"
    expected = plant(client, fold.fold_key(restored_fold), real, 1)
    lost = plant(client, fold.fold_key(restored_fold), unknown, 1)
    client.sadd(counters.PENDING, restored_fold)
    expected += plant(client, counters.LIVE, real, 2)
    lost += plant(client, counters.LIVE, unknown, 2)

    first = app.send_task(FOLD).get(timeout=60)

    # the next fold goes on as the first did
    expected += plant(client, counters.LIVE, real, 3)
    lost += plant(client, counters.LIVE, unknown, 3)
    second = app.send_task(FOLD).get(timeout=60)

    counted, recorded = folded(owner, real), dropped(owner, unknown)
    figures.report(real_counts=sum(expected.values()), folded=sum(counted.values()),
                   unknown_version_days=len(unknown) * len(DAYS), recorded_dropped=len(recorded),
                   dropped_by_first_run=first["dropped_version_days"], dropped_by_second_run=second["dropped_version_days"])
    assert counted == expected, figures.line()
    assert recorded == {(version, day): (lost[version, day, "predictions"], lost[version, day, "labelled"], 3)
                        for version in unknown for day in DAYS}, figures.line()
    assert unknown_in_ledger(owner, restored_fold) == len(unknown) * len(DAYS)
    assert first["unfoldable"] == [] and second["unfoldable"] == []
    assert restored_fold in first["folds"]
    assert first["dropped_version_days"] == 2 * len(unknown) * len(DAYS) and second["dropped_version_days"] == len(unknown) * len(DAYS)
    assert not set(map(str, unknown)) & set(first["model_version_ids"] + second["model_version_ids"]), \
        "a rollback check was sent for a version the registry does not hold"
    assert not waiting_in_redis(client, real + unknown)
