"""What a batch of predictions and a batch of feedback add to the metric counters (no Redis here)."""
from __future__ import annotations

import datetime as dt
import time
import uuid
from types import SimpleNamespace

import pytest

from modelops.monitoring import counters
from modelops.monitoring.counters import NO_VERDICT, Answer, ProcessLoad, Tally, Verdict

V1, V2 = uuid.uuid4(), uuid.uuid4()
MONDAY, TUESDAY = dt.date(2026, 11, 2), dt.date(2026, 11, 3)


def row(version, day, confidence, duration_ms):
    return SimpleNamespace(model_version_id=version, prediction_timestamp=dt.datetime.combine(day, dt.time(23, 59)),
                           confidence=confidence, duration_ms=duration_ms)


def as_dict(tally: Tally) -> dict:
    """The script's arguments back as {(version, day, measure): (operation, value)}."""
    arguments = tally.arguments()
    triples = [arguments[i:i + 3] for i in range(0, len(arguments), 3)]
    return {counters.parse_field(name): (operation, value) for operation, name, value in triples}


def test_a_field_names_version_day_and_measure_and_reads_back():
    name = counters.field(V1, MONDAY, "tp:Office|Supplies")  # a class may hold the separator
    assert counters.parse_field(name) == (V1, MONDAY, "tp:Office|Supplies")
    with pytest.raises(ValueError):
        counters.parse_field("not-a-uuid|2026-11-02|predictions")


def test_predictions_are_counted_per_version_and_day_with_their_sums_and_the_process_peaks():
    rows = [row(V1, MONDAY, 0.9, 12.5), row(V1, MONDAY, 0.7, 12.5), row(V2, TUESDAY, 0.123456, 3.25)]
    counted = as_dict(counters.tally_predictions(rows, {V2: 4}, TUESDAY, load=(512, 8750)))
    assert counted == {
        (V1, MONDAY, "predictions"): ("add", 2),
        (V1, MONDAY, "confidence_micros"): ("add", 1_600_000),
        (V1, MONDAY, "response_us"): ("add", 25_000),
        (V1, MONDAY, "peak_memory_mb"): ("max", 512),
        (V1, MONDAY, "peak_cpu_centipercent"): ("max", 8750),
        (V2, TUESDAY, "predictions"): ("add", 1),
        (V2, TUESDAY, "confidence_micros"): ("add", 123_456),
        (V2, TUESDAY, "response_us"): ("add", 3_250),
        (V2, TUESDAY, "failed"): ("add", 4),
        (V2, TUESDAY, "peak_memory_mb"): ("max", 512),
        (V2, TUESDAY, "peak_cpu_centipercent"): ("max", 8750),
    }


def test_no_cpu_reading_yet_adds_no_peak_and_an_empty_batch_adds_nothing():
    counted = as_dict(counters.tally_predictions([row(V1, MONDAY, 0.5, 1.0)], {}, MONDAY, load=(100, None)))
    assert (V1, MONDAY, "peak_cpu_centipercent") not in counted and counted[(V1, MONDAY, "peak_memory_mb")] == ("max", 100)
    assert counters.tally_predictions([], {}, MONDAY).arguments() == []


def test_a_verdict_counts_labelled_correct_overrides_and_its_classes():
    assert Verdict(True, False, "Rent", "Rent").counts() == {"labelled": 1, "correct": 1, "overrides": 0, "tp:Rent": 1}
    assert Verdict(False, True, "Rent", "Travel").counts() == {"labelled": 1, "correct": 0, "overrides": 1,
                                                             "fp:Rent": 1, "fn:Travel": 1}
    # wrong, and the feedback does not say what was right: only the predicted class is charged
    assert Verdict(False, False, "Rent", None).counts() == {"labelled": 1, "correct": 0, "overrides": 0, "fp:Rent": 1}
    assert NO_VERDICT.counts() == {"overrides": 0}


def test_feedback_counts_the_change_of_verdict_on_the_day_of_the_prediction():
    approval = Answer(V1, MONDAY, before=NO_VERDICT, after=Verdict(True, False, "Rent", "Rent"))
    correction = Answer(V1, MONDAY, before=Verdict(True, False, "Rent", "Rent"), after=Verdict(False, True, "Rent", "Travel"))
    rating = Answer(V2, TUESDAY, before=Verdict(True, False, "A", "A"), after=Verdict(True, False, "A", "A"), ratings=(4, 2))
    counted = as_dict(counters.tally_feedback([approval, correction, rating]))
    assert counted == {
        # the approval's counts, then the correction replacing them: one labelled, wrong, overridden
        (V1, MONDAY, "labelled"): ("add", 1),
        (V1, MONDAY, "overrides"): ("add", 1),
        (V1, MONDAY, "fp:Rent"): ("add", 1),
        (V1, MONDAY, "fn:Travel"): ("add", 1),
        # the rating changed no verdict
        (V2, TUESDAY, "rating_count"): ("add", 2),
        (V2, TUESDAY, "rating_sum"): ("add", 6),
    }


def test_the_classes_of_a_verdict_are_the_agents_labels_as_training_names_them():
    verdict = counters.verdict("reconciliation", {"match": True, "score": 0.8}, {"match": False}, False, True)
    assert verdict == Verdict(False, True, "True", "False")
    unlabelled = counters.verdict("classification", {"category": "Rent"}, None, None, None)
    assert unlabelled == Verdict(None, False, "Rent", None)


def test_peaks_keep_the_largest_value_of_a_batch():
    tally = Tally()
    tally.peak(V1, MONDAY, "peak_memory_mb", 300)
    tally.peak(V1, MONDAY, "peak_memory_mb", 200)
    assert as_dict(tally) == {(V1, MONDAY, "peak_memory_mb"): ("max", 300)}


def test_process_load_reads_cpu_only_over_a_whole_window():
    load = ProcessLoad()
    memory_mb, cpu = load.sample()
    assert memory_mb > 10 and cpu is None
    load.WINDOW_SECONDS = 0.05
    deadline = time.perf_counter() + 0.1
    while time.perf_counter() < deadline:  # busy: this process's CPU time grows with the wall time
        pass
    _, busy = load.sample()
    assert busy is not None and 0 < busy <= 10_100  # one thread's CPU time cannot outrun the wall clock
