"""Splitting and scoring, the same way for every agent.

The validation side of a row is fixed by a seeded hash of its input, not drawn anew for each
training: a row that validated v1.0 validates v1.1 too, and a row v1.0 learned from is never in
v1.1's validation set. That is what makes the promotion gate fair: production and candidate are
scored on the same rows, none of which either model trained on. (A fresh random split per training
hands production rows it learned from: it is then scored on its training accuracy, the candidate
on its validation accuracy, and a candidate trained on more rows can fail the gate.) The model a
version serves is refitted on every usable row once its figures are taken (a small tenant's fifth
is too much to leave out), so the figures and the gate's comparison are those of each version's
validation model, its fit on the training side alone, which the pipeline stores beside the
served one. Identical inputs
share a side, so a duplicated row cannot be learned on one side and tested on the other. Each row
goes to validation with probability ``validation_split``, so every class is split in that share
on average (stratified in expectation, not exactly); a class with a single row can only be
learned from and stays in training. Each side comes out in the order of the hashes, so a model
depends on which rows it learned from, not on the order the database returned them in.

Precision, recall and F1 are macro-averaged (every class counts the same, so a model that ignores
a rare class is penalised; accounting categories and compliance violations are imbalanced), with
the weighted averages and per-class figures kept beside them. When the confidences of the
answers are given, the expected calibration error is kept too: the confidence a prediction logs
must mean what it says (0.8 right 80% of the time).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any, Sequence

import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

_BUCKETS = 2**64


def _row_key(row_input: Any, seed: int) -> int:
    """A seeded 64-bit hash of a validated input. ``repr`` of one is canonical: the agents' input
    models dump their fields in declaration order, with JSON types only."""
    digest = hashlib.blake2b(repr(row_input).encode(), digest_size=8, salt=seed.to_bytes(16, "big", signed=True))
    return int.from_bytes(digest.digest(), "big")


def split(inputs: list, labels: list, validation_split: float, seed: int):
    """(train_x, val_x, train_y, val_y): each row on the side its hash gives, singleton classes in
    training, each side in the order of the hashes, so that the same rows give the same model
    however the database happened to return them."""
    counts = Counter(labels)
    threshold = validation_split * _BUCKETS
    keys = [_row_key(row_input, seed) for row_input in inputs]
    # rows that tie are the same input with the same label: their order cannot matter
    order = sorted(range(len(inputs)), key=lambda i: (keys[i], str(labels[i])))
    sides: dict[bool, tuple[list, list]] = {False: ([], []), True: ([], [])}
    for i in order:
        side = sides[counts[labels[i]] >= 2 and keys[i] < threshold]
        side[0].append(inputs[i])
        side[1].append(labels[i])
    (train_x, train_y), (val_x, val_y) = sides[False], sides[True]
    return train_x, val_x, train_y, val_y


def calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Expected calibration error: the gap between confidence and accuracy in ten equal-width
    confidence bins, averaged with the bins' shares of the rows as weights."""
    confidences, correct = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=float)
    if not len(confidences):
        return 0.0
    which = np.minimum((confidences * bins).astype(int), bins - 1)
    gaps = [abs(correct[which == b].mean() - confidences[which == b].mean()) * (which == b).sum()
            for b in range(bins) if (which == b).any()]
    return float(sum(gaps) / len(confidences))


def score(truth: Sequence[Any], predicted: Sequence[Any], training_labels: Sequence[Any],
          confidences: Sequence[float] | None = None) -> dict:
    """Summary metrics (macro), weighted ones, per class, the majority-class baseline and, given
    the predictions' confidences, their expected calibration error."""
    keys = [str(label) for label in truth]
    guesses = [str(label) for label in predicted]
    classes = sorted(set(keys) | set(guesses))
    macro = precision_recall_fscore_support(keys, guesses, average="macro", zero_division=0)
    weighted = precision_recall_fscore_support(keys, guesses, average="weighted", zero_division=0)
    per_class = precision_recall_fscore_support(keys, guesses, labels=classes, zero_division=0)
    majority = str(Counter(training_labels).most_common(1)[0][0])
    calibration = {} if confidences is None else {
        "expected_calibration_error": calibration_error(confidences, [k == g for k, g in zip(keys, guesses)])}
    return {
        "averaging": "macro",
        "summary": {"accuracy": float(accuracy_score(keys, guesses)), "precision": float(macro[0]),
                    "recall": float(macro[1]), "f1": float(macro[2])},
        "weighted": {"precision": float(weighted[0]), "recall": float(weighted[1]), "f1": float(weighted[2])},
        "per_class": {label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for label, p, r, f, s in zip(classes, *per_class)},
        "majority_baseline_accuracy": sum(1 for key in keys if key == majority) / len(keys) if keys else 0.0,
        **calibration,
    }
