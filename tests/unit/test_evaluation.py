from __future__ import annotations

from collections import Counter

import pytest

from modelops.training.evaluation import Tally, score, split


def test_split_is_seeded_keeps_singletons_in_training_and_validates_each_class_in_share():
    labels = ["a"] * 5000 + ["b"] * 3000 + ["c"]
    inputs = [{"n": i} for i in range(len(labels))]
    first = split(inputs, labels, 0.2, seed=7)
    assert first == split(inputs, labels, 0.2, seed=7)
    train_x, val_x, train_y, val_y = first
    assert {"n": 8000} in train_x  # the lone "c" can only be learned from
    assert 0.18 < val_y.count("a") / 5000 < 0.22 and 0.18 < val_y.count("b") / 3000 < 0.22
    assert first != split(inputs, labels, 0.2, seed=8)
    assert split(inputs[::-1], labels[::-1], 0.2, seed=7) == first  # the rows decide, not their order


def test_a_row_keeps_its_side_when_rows_are_added_and_identical_inputs_share_one():
    inputs = [{"n": i % 700} for i in range(1000)]  # rows 700-999 repeat earlier inputs
    labels = ["a", "b"] * 500
    learned_before, validated_before, _, _ = split(inputs[:600], labels[:600], 0.2, seed=0)
    learned_after, validated_after, _, _ = split(inputs, labels, 0.2, seed=0)
    assert validated_before and all(row in validated_after for row in validated_before)
    assert not [row for row in learned_before if row in validated_after]  # the fair gate rests on this
    assert not [row for row in learned_after if row in validated_after]


def test_score_reports_macro_weighted_per_class_and_the_majority_baseline():
    result = score(["a", "a", "a", "b"], ["a", "a", "b", "b"], training_labels=["a", "a", "b"])
    assert result["summary"]["accuracy"] == 0.75
    assert result["per_class"]["b"] == {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1}
    assert result["summary"]["recall"] == (2 / 3 + 1.0) / 2  # macro: the mean over classes
    assert result["majority_baseline_accuracy"] == 0.75


def test_a_tally_of_batches_scores_as_the_whole_list_does():
    truth = ["a", "b", "c", "a", "b", "a", "c", "c"]
    predicted = ["a", "b", "a", "a", "c", "a", "c", "b"]
    confidences = [0.9, 0.55, 0.35, 0.8, 0.6, 0.95, 0.72, 0.41]
    whole = score(truth, predicted, ["a", "a", "b"], confidences)
    tally = Tally()
    for start in range(0, len(truth), 3):
        tally.add(truth[start:start + 3], predicted[start:start + 3], confidences[start:start + 3])
    assert tally.metrics(Counter(["a", "a", "b"])) == whole
    # the calibration error of the bins: |accuracy - mean confidence| per bin, weighted by its rows
    right = [t == p for t, p in zip(truth, predicted)]
    bins = {}
    for confidence, correct in zip(confidences, right):
        bins.setdefault(min(int(confidence * 10), 9), []).append((confidence, correct))
    expected = sum(abs(sum(c for _, c in rows) / len(rows) - sum(x for x, _ in rows) / len(rows)) * len(rows)
                   for rows in bins.values()) / len(truth)
    assert whole["expected_calibration_error"] == pytest.approx(expected)
