"""The retention period's setting and month arithmetic."""
from __future__ import annotations

import datetime as dt

import pytest

from modelops import retention


def test_the_retention_period_defaults_to_five_years(monkeypatch):
    monkeypatch.delenv("MODELOPS_RETENTION_MONTHS", raising=False)
    assert retention.retention_months() == 60
    monkeypatch.setenv("MODELOPS_RETENTION_MONTHS", "84")
    assert retention.retention_months() == 84


@pytest.mark.parametrize("value", ["0", "-3", "five years", "1.5", ""])
def test_a_retention_period_that_would_drop_current_data_or_is_not_a_number_is_refused(monkeypatch, value):
    monkeypatch.setenv("MODELOPS_RETENTION_MONTHS", value)
    with pytest.raises(ValueError, match=f"MODELOPS_RETENTION_MONTHS must be a whole number of months, at least 1; got '{value}'"):
        retention.retention_months()


def test_check_histories_are_kept_four_hundred_days_unless_set(monkeypatch):
    monkeypatch.delenv("MODELOPS_CHECK_RETENTION_DAYS", raising=False)
    assert retention.check_retention_days() == 400
    monkeypatch.setenv("MODELOPS_CHECK_RETENTION_DAYS", "30")
    assert retention.check_retention_days() == 30
    monkeypatch.setenv("MODELOPS_CHECK_RETENTION_DAYS", "0")
    with pytest.raises(ValueError, match="MODELOPS_CHECK_RETENTION_DAYS must be a whole number of days, at least 1; got '0'"):
        retention.check_retention_days()


@pytest.mark.parametrize("day, months, first_day", [
    (dt.date(2026, 11, 30), 0, dt.date(2026, 11, 1)),
    (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 1)),
    (dt.date(2026, 1, 15), -1, dt.date(2025, 12, 1)),
    (dt.date(2026, 11, 30), -60, dt.date(2021, 11, 1)),
])
def test_add_months_gives_the_first_day_of_the_month(day, months, first_day):
    assert retention.add_months(day, months) == first_day
