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
from dataclasses import dataclass
from typing import Any, Iterator, Protocol, Sequence

import numpy as np
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

_BUCKETS = 2**64


def row_key(row_input: Any, seed: int) -> int:
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
    keys = [row_key(row_input, seed) for row_input in inputs]
    # rows that tie are the same input with the same label: their order cannot matter
    order = sorted(range(len(inputs)), key=lambda i: (keys[i], str(labels[i])))
    sides: dict[bool, tuple[list, list]] = {False: ([], []), True: ([], [])}
    for i in order:
        side = sides[counts[labels[i]] >= 2 and keys[i] < threshold]
        side[0].append(inputs[i])
        side[1].append(labels[i])
    (train_x, train_y), (val_x, val_y) = sides[False], sides[True]
    return train_x, val_x, train_y, val_y


class Validation(Protocol):
    """A version's validation side as the gate reads it: its rows a batch at a time."""
    rows: int

    def batches(self) -> Iterator[tuple[list, list]]: ...


@dataclass(frozen=True)
class HeldValidation:
    """A validation side held in memory: one batch."""
    inputs: list
    labels: list

    @property
    def rows(self) -> int:
        return len(self.labels)

    def batches(self) -> Iterator[tuple[list, list]]:
        yield self.inputs, self.labels


def on_validation_side(key: int, validation_split: float) -> bool:
    """Whether a row of this key validates (when its class has at least two rows)."""
    return key < validation_split * _BUCKETS


def calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Expected calibration error: the gap between confidence and accuracy in ten equal-width
    confidence bins, averaged with the bins' shares of the rows as weights."""
    return Tally().add([0] * len(confidences), [0] * len(confidences), confidences, correct).calibration_error(bins)


class Tally:
    """What scoring needs, counted a batch at a time in memory that does not grow with the rows:
    how often each (truth, prediction) pair occurred, and per confidence bin its rows, right
    answers and summed confidence. A streamed validation side is scored this way; a list is
    scored by one ``add``, so both give the same figures."""

    BINS = 10

    def __init__(self):
        self.pairs: Counter = Counter()
        self.bins = np.zeros((self.BINS, 3))  # rows, right answers, summed confidence
        self.confident = False

    def add(self, truth: Sequence[Any], predicted: Sequence[Any], confidences: Sequence[float] | None = None,
            correct: Sequence[bool] | None = None) -> "Tally":
        keys, guesses = [str(label) for label in truth], [str(label) for label in predicted]
        self.pairs.update(zip(keys, guesses))
        if confidences is not None:
            self.confident = True
            confidences = np.asarray(confidences, dtype=float)
            right = np.asarray([k == g for k, g in zip(keys, guesses)] if correct is None else correct, dtype=float)
            which = np.minimum((confidences * self.BINS).astype(int), self.BINS - 1)
            np.add.at(self.bins, which, np.column_stack([np.ones_like(right), right, confidences]))
        return self

    def calibration_error(self, bins: int = BINS) -> float:
        rows = self.bins[:, 0]
        if bins != self.BINS:
            raise ValueError(f"a tally keeps {self.BINS} confidence bins, not {bins}")
        if not rows.sum():
            return 0.0
        kept = rows > 0
        gaps = np.abs(self.bins[kept, 1] / rows[kept] - self.bins[kept, 2] / rows[kept]) * rows[kept]
        return float(gaps.sum() / rows.sum())

    def metrics(self, training_counts: Counter) -> dict:
        """Summary metrics (macro), weighted ones, per class, the majority-class baseline of the
        training labels' counts and, when confidences were added, their calibration error."""
        pairs = list(self.pairs.items())
        keys = [key for (key, _), _ in pairs]
        guesses = [guess for (_, guess), _ in pairs]
        weights = [count for _, count in pairs]
        classes = sorted(set(keys) | set(guesses))
        macro = precision_recall_fscore_support(keys, guesses, average="macro", zero_division=0, sample_weight=weights)
        weighted = precision_recall_fscore_support(keys, guesses, average="weighted", zero_division=0,
                                                   sample_weight=weights)
        per_class = precision_recall_fscore_support(keys, guesses, labels=classes, zero_division=0,
                                                    sample_weight=weights)
        rows = sum(weights)
        majority = str(training_counts.most_common(1)[0][0])
        calibration = {"expected_calibration_error": self.calibration_error()} if self.confident else {}
        return {
            "averaging": "macro",
            "summary": {"accuracy": float(accuracy_score(keys, guesses, sample_weight=weights)),
                        "precision": float(macro[0]), "recall": float(macro[1]), "f1": float(macro[2])},
            "weighted": {"precision": float(weighted[0]), "recall": float(weighted[1]), "f1": float(weighted[2])},
            "per_class": {label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                          for label, p, r, f, s in zip(classes, *per_class)},
            "majority_baseline_accuracy": sum(c for (key, _), c in pairs if key == majority) / rows if rows else 0.0,
            **calibration,
        }


def score(truth: Sequence[Any], predicted: Sequence[Any], training_labels: Sequence[Any],
          confidences: Sequence[float] | None = None) -> dict:
    """Summary metrics (macro), weighted ones, per class, the majority-class baseline and, given
    the predictions' confidences, their expected calibration error."""
    return Tally().add(truth, predicted, confidences).metrics(Counter(training_labels))
