"""The metric fold's statements, run as the role the monitoring pool runs as, not as the owner: a
statement the role is not granted fails here as it would in production (a fold updating its ledger
row once failed every run with "permission denied for table metric_folds")."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from modelops import clock, db, tenants
from modelops.config import OPERATOR_ROLE
from modelops.monitoring import counters, fold
from tests.faults.support import logged_predictions

pytestmark = pytest.mark.integration

DAY = dt.date(2031, 8, 1)


def test_the_fold_runs_as_a_runtime_role_that_is_neither_owner_nor_superuser(database, owner):
    with db.operator_scope() as connection:
        session, current, superuser, bypass = connection.execute(text("""
            SELECT session_user, current_user, r.rolsuper, r.rolbypassrls FROM pg_roles r WHERE r.rolname = session_user""")).one()
    with owner.connect() as connection:
        owner_name = connection.execute(text("SELECT session_user")).scalar()
    assert current == OPERATOR_ROLE and session != owner_name and not superuser and not bypass


def test_every_statement_of_the_fold_is_granted_to_its_role(database, owner):
    tenant = tenants.create_tenant(f"fold-roles-{uuid.uuid4().hex[:6]}")
    known, _ = logged_predictions(owner, tenant, 1)
    unknown = uuid.uuid4()
    client = counters.client()
    now = clock.now()
    with owner.begin() as connection:  # a ledger row old enough to be pruned
        connection.execute(text("""INSERT INTO ai.metric_folds (fold_id, folded_at, version_days, predictions, labelled)
                                   VALUES (:id, :at, 0, 0, 0)"""), {"id": f"test-old-{uuid.uuid4().hex}", "at": now - 2 * fold.LEDGER_KEPT})

    for _ in range(2):  # the second time, the dropped counts' row exists and is added to
        for version in (known, unknown):
            client.hincrby(counters.LIVE, counters.field(version, DAY, "predictions"), 5)
        report = fold.fold_counters(client, now)  # KNOWN_VERSIONS, RECORD_FOLD, RECORD_DROPPED, ADD_COUNTS, DERIVE_AVERAGES, prune
        assert report.unfoldable == [] and report.dropped >= 1 and known in report.touched and report.pruned >= 0

    # a fold committed whose worker died before deleting it: found in the ledger, only deleted
    committed = report.folds[-1]
    client.hset(fold.fold_key(committed), counters.field(unknown, DAY, "predictions"), 5)
    client.sadd(counters.PENDING, committed)
    again = fold.fold_counters(client, now)
    assert committed in again.already_folded

    with owner.connect() as connection:
        assert connection.execute(text("SELECT sum(total_predictions) FROM ai.model_metrics WHERE model_version_id = :v"),
                                  {"v": known}).scalar() == 10
        assert tuple(connection.execute(text("SELECT predictions, folds FROM ai.dropped_metric_counts WHERE model_version_id = :v"),
                                        {"v": unknown}).one()) == (10, 2)
