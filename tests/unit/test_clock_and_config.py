from __future__ import annotations

import datetime as dt
import time

import pytest

from modelops import clock
from modelops.config import app_url_from_owner_url, normalise_database_url, redact


def test_fixed_clock_moves_only_when_advanced():
    fixed = clock.FixedClock(dt.datetime(2026, 1, 5, 9))
    previous = clock.use(fixed)
    try:
        assert clock.now() == dt.datetime(2026, 1, 5, 9)
        fixed.advance(days=7)
        assert clock.today() == dt.date(2026, 1, 12)
    finally:
        clock.use(previous)


def test_scaled_clock_spec_round_trips_and_runs_faster():
    anchor = time.time()
    scaled = clock.parse(f"scaled:2026-01-05T00:00:00@{anchor}x3600")
    again = clock.parse(scaled.spec())
    # one real second is an hour of simulated time, and both parse to the same timeline
    assert abs((scaled.now() - again.now()).total_seconds()) < 5
    assert dt.datetime(2026, 1, 5) <= scaled.now() < dt.datetime(2026, 1, 5) + dt.timedelta(hours=2)


def test_bad_clock_spec_names_the_accepted_forms():
    with pytest.raises(ValueError, match="scaled:ISO"):
        clock.parse("tomorrow")


def test_redact_hides_passwords_of_database_and_redis_urls():
    assert "s3cret" not in redact("postgresql://app:s3cret@db.internal:5432/modelops")
    assert redact("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert redact("redis://cache:6379/0") == "redis://cache:6379/0"


def test_database_urls_use_psycopg_and_the_application_role():
    owner = normalise_database_url("postgres://admin:pw@db:5432/modelops")
    assert owner.startswith("postgresql+psycopg://admin:pw@db:5432/modelops")
    app_url = app_url_from_owner_url(owner, "apppw")
    assert app_url == "postgresql+psycopg://modelops_app:apppw@db:5432/modelops"


def test_a_non_postgres_database_url_is_refused():
    with pytest.raises(ValueError, match="PostgreSQL"):
        normalise_database_url("mysql://root@db/modelops")
