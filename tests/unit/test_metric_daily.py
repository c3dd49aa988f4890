"""The definitions of the daily performance figures."""
from __future__ import annotations

import datetime as dt

import pytest

from modelops.monitoring.daily import DayCounts, dates_to_build, performance

DAY = dt.date(2026, 11, 10)


def days_before(n: int) -> dt.date:
    return DAY - dt.timedelta(days=n)


def test_every_figure_on_an_ordinary_day():
    days = [
        DayCounts(DAY, predictions=200, labelled=100, correct=80, confidence_sum=150.0, failed=50, rating_count=4, rating_sum=14),
        DayCounts(days_before(1), predictions=100, labelled=50, correct=45, confidence_sum=80.0),
        DayCounts(days_before(7), predictions=100, labelled=50, correct=45, confidence_sum=80.0),
    ]
    figures = performance(DAY, days)
    assert figures["prediction_volume"] == 200
    assert figures["accuracy_trend"] == pytest.approx(0.80 - 0.90)  # the week before pooled: 90 / 100
    assert figures["confidence_stability"] == pytest.approx(1 - abs(0.75 - 0.80) / 0.80)
    assert figures["user_satisfaction_score"] == pytest.approx(3.5)
    assert figures["error_rate"] == pytest.approx(50 / 250)


def test_the_week_is_pooled_not_an_average_of_days_and_older_days_are_outside_it():
    days = [DayCounts(DAY, labelled=10, correct=10, predictions=10, confidence_sum=9),
            DayCounts(days_before(2), labelled=1, correct=0, predictions=1, confidence_sum=0.5),
            DayCounts(days_before(3), labelled=99, correct=99, predictions=99, confidence_sum=89.1),
            DayCounts(days_before(8), labelled=1000, correct=0, predictions=1000, confidence_sum=100)]
    figures = performance(DAY, days)
    assert figures["accuracy_trend"] == pytest.approx(1.0 - 0.99)  # (0 + 99) / (1 + 99); day 8 is not in the week


def test_figures_without_their_evidence_are_null():
    figures = performance(DAY, [DayCounts(DAY)])
    assert figures == {"prediction_volume": 0, "accuracy_trend": None, "confidence_stability": None,
                       "user_satisfaction_score": None, "error_rate": None}
    first_day = performance(DAY, [DayCounts(DAY, predictions=5, labelled=5, correct=4, confidence_sum=4.0)])
    assert first_day["accuracy_trend"] is None and first_day["confidence_stability"] is None


def test_confidence_stability_stays_within_zero_and_one():
    days = [DayCounts(DAY, predictions=10, confidence_sum=9.9), DayCounts(days_before(1), predictions=10, confidence_sum=3.0)]
    assert performance(DAY, days)["confidence_stability"] == 0.0
    steady = [DayCounts(DAY, predictions=10, confidence_sum=7.0), DayCounts(days_before(1), predictions=30, confidence_sum=21.0)]
    assert performance(DAY, steady)["confidence_stability"] == pytest.approx(1.0)


def test_the_dates_built_are_the_one_asked_for_or_yesterday_and_today():
    assert dates_to_build("2026-11-10", today=dt.date(2031, 1, 1)) == [DAY]
    assert dates_to_build(None, today=DAY) == [days_before(1), DAY]


@pytest.mark.parametrize("bad", ["10/11/2026", "2026-13-01", "yesterday", ""])
def test_a_bad_date_is_refused_with_what_was_given(bad):
    with pytest.raises(ValueError, match=f"date must be an ISO date \\(YYYY-MM-DD\\), got '{bad}'"):
        dates_to_build(bad, today=DAY)
