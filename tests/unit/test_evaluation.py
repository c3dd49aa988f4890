from __future__ import annotations

from modelops.training.evaluation import score, split


def test_split_is_seeded_stratified_and_keeps_singletons_in_training():
    labels = ["a"] * 50 + ["b"] * 30 + ["c"]
    inputs = list(range(len(labels)))
    first = split(inputs, labels, 0.2, seed=7)
    assert first == split(inputs, labels, 0.2, seed=7)
    train_x, val_x, train_y, val_y = first
    assert 80 in train_x  # the lone "c" can only be learned from
    assert val_y.count("a") == 10 and val_y.count("b") == 6
    assert first != split(inputs, labels, 0.2, seed=8)


def test_score_reports_macro_weighted_per_class_and_the_majority_baseline():
    result = score(["a", "a", "a", "b"], ["a", "a", "b", "b"], training_labels=["a", "a", "b"])
    assert result["summary"]["accuracy"] == 0.75
    assert result["per_class"]["b"] == {"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1}
    assert result["summary"]["recall"] == (2 / 3 + 1.0) / 2  # macro: the mean over classes
    assert result["majority_baseline_accuracy"] == 0.75
