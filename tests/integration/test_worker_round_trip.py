"""A real Celery worker process, the real broker, the real database."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

import celeryconfig
from modelops import clock, db, retention
from workers.app import app
from workers.roundtrip import round_trip

pytestmark = pytest.mark.integration


def test_a_probe_through_every_queue_is_answered_by_a_worker_as_the_application_role(worker):
    answers = round_trip(timeout=30)
    assert [answer["queue"] for answer in answers] == list(celeryconfig.QUEUES)
    pid = worker.processes["worker-all"].pid
    for answer in answers:
        assert answer["database_role"] == "modelops_app"
        assert answer["pid"] != pid  # answered by a prefork child, not the parent that forked it


def test_the_partition_task_runs_through_the_broker(worker):
    result = app.send_task("modelops.maintenance.maintain_partitions").get(timeout=30)
    month = clock.today().strftime("y%Ym%m")
    assert f"ai.prediction_log_{month}" in result["ensured"]
    assert len(result["ensured"]) == retention.MONTHS_AHEAD + 1


def test_partitions_are_made_ahead_and_dropped_after_retention(database):
    with db.operator_scope() as connection:
        made = retention.ensure_partitions(connection, dt.date(2020, 1, 15))
        assert made[0] == "ai.prediction_log_y2020m01" and made[-1] == "ai.prediction_log_y2020m04"
        dropped = retention.drop_expired_partitions(connection, dt.date(2025, 3, 10), months=60)
        kept = connection.execute(text(
            "SELECT array_agg(inhrelid::regclass::text) FROM pg_inherits WHERE inhparent = 'ai.prediction_log'::regclass"
        )).scalar_one()
    # cutoff 2020-03-01: January and February end by then, March does not
    assert sorted(dropped) == ["ai.prediction_log_y2020m01", "ai.prediction_log_y2020m02"]
    assert "ai.prediction_log_y2020m03" in kept
    assert f"ai.prediction_log_{clock.today().strftime('y%Ym%m')}" in kept
