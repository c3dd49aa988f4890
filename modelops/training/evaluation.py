"""Splitting and scoring, the same way for every agent.

Precision, recall and F1 are macro-averaged (every class counts the same, so a model that ignores
a rare class is penalised; accounting categories and compliance violations are imbalanced), with
the weighted averages and per-class figures kept beside them.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.model_selection import train_test_split


def split(inputs: list, labels: list, validation_split: float, seed: int):
    """A seeded split, stratified by label; classes too small to split go to training only."""
    counts = Counter(labels)
    splittable = [i for i, label in enumerate(labels) if counts[label] >= 2]
    train_only = [i for i, label in enumerate(labels) if counts[label] < 2]
    train_idx, val_idx = train_test_split(
        splittable, test_size=validation_split, random_state=seed, stratify=[labels[i] for i in splittable]
    )
    train_idx = sorted(train_idx + train_only)
    val_idx = sorted(val_idx)
    return ([inputs[i] for i in train_idx], [inputs[i] for i in val_idx],
            [labels[i] for i in train_idx], [labels[i] for i in val_idx])


def score(truth: Sequence[Any], predicted: Sequence[Any], training_labels: Sequence[Any]) -> dict:
    """Summary metrics (macro), weighted ones, per class, and the majority-class baseline."""
    keys = [str(label) for label in truth]
    guesses = [str(label) for label in predicted]
    classes = sorted(set(keys) | set(guesses))
    macro = precision_recall_fscore_support(keys, guesses, average="macro", zero_division=0)
    weighted = precision_recall_fscore_support(keys, guesses, average="weighted", zero_division=0)
    per_class = precision_recall_fscore_support(keys, guesses, labels=classes, zero_division=0)
    majority = str(Counter(training_labels).most_common(1)[0][0])
    return {
        "averaging": "macro",
        "summary": {"accuracy": float(accuracy_score(keys, guesses)), "precision": float(macro[0]),
                    "recall": float(macro[1]), "f1": float(macro[2])},
        "weighted": {"precision": float(weighted[0]), "recall": float(weighted[1]), "f1": float(weighted[2])},
        "per_class": {label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for label, p, r, f, s in zip(classes, *per_class)},
        "majority_baseline_accuracy": sum(1 for key in keys if key == majority) / len(keys) if keys else 0.0,
    }
