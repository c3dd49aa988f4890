"""Reading a moved-aside counter hash into the rows a fold adds (no Redis or Postgres here)."""
from __future__ import annotations

import datetime as dt
import logging
import uuid

from modelops.monitoring import counters
from modelops.monitoring.fold import read_counts

V1, V2 = uuid.UUID(int=1), uuid.UUID(int=2)
DAY = dt.date(2026, 11, 2)


def hash_of(**by_field) -> dict[bytes, bytes]:
    return {name.encode(): str(value).encode() for name, value in by_field.items()}


def test_a_hash_becomes_one_row_per_version_and_day_in_key_order():
    raw = {counters.field(V2, DAY, "predictions").encode(): b"5",
           counters.field(V1, DAY + dt.timedelta(days=1), "predictions").encode(): b"1",
           counters.field(V1, DAY, "confidence_micros").encode(): b"2500000",
           counters.field(V1, DAY, "response_us").encode(): b"12345",
           counters.field(V1, DAY, "predictions").encode(): b"3",
           counters.field(V1, DAY, "tp:Rent").encode(): b"2",
           counters.field(V1, DAY, "fn:Rent").encode(): b"1",
           counters.field(V1, DAY, "fp:Travel: abroad").encode(): b"1",
           counters.field(V1, DAY, "peak_memory_mb").encode(): b"300",
           counters.field(V1, DAY, "peak_cpu_centipercent").encode(): b"12345"}
    rows = read_counts(raw)
    assert [(r.model_version_id, r.metric_date) for r in rows] == [(V1, DAY), (V1, DAY + dt.timedelta(days=1)), (V2, DAY)]
    first = rows[0].row()
    assert first["predictions"] == 3 and first["confidence_micros"] == 2_500_000 and first["response_us"] == 12_345
    assert first["failed"] == first["labelled"] == first["rating_count"] == 0
    assert first["class_counts"] == {"Rent": {"tp": 2, "fp": 0, "fn": 1}, "Travel: abroad": {"tp": 0, "fp": 1, "fn": 0}}
    assert first["peak_memory_mb"] == 300 and first["cpu_percent"] == 123.45
    assert rows[2].row()["peak_memory_mb"] is None and rows[2].row()["cpu_percent"] is None


def test_negative_changes_of_a_replaced_verdict_are_kept():
    rows = read_counts({counters.field(V1, DAY, "correct"): "-1", counters.field(V1, DAY, "tp:Rent"): "-1"})
    assert rows[0].sums == {"correct": -1} and rows[0].class_counts == {"Rent": {"tp": -1, "fp": 0, "fn": 0}}


def test_a_cpu_reading_beyond_the_column_is_capped():
    rows = read_counts({counters.field(V1, DAY, "peak_cpu_centipercent"): "250000"})
    assert rows[0].row()["cpu_percent"] == 999.99


def test_fields_that_are_not_ours_are_left_out_and_logged(caplog):
    with caplog.at_level(logging.WARNING):
        rows = read_counts({b"garbage": b"1", counters.field(V1, DAY, "predictions").encode(): b"x",
                            counters.field(V1, DAY, "bogus_measure").encode(): b"7",
                            counters.field(V2, DAY, "predictions").encode(): b"2"})
    assert len(rows) == 2 and rows[1].sums == {"predictions": 2}
    assert rows[0].sums == {} and rows[0].row()["predictions"] == 0
    assert sum("left out" in message for message in caplog.messages) == 3
