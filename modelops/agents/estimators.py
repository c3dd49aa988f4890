"""The two learners the agents use, sized for a serving worker that holds hundreds of models.

Text agents: a linear support vector machine (squared hinge, L2, one-vs-rest) over TF-IDF
n-grams, the strongest plain learner for short text: on BANKING77 it is right where SGD-fitted
logistic regression is not, and on a tenant's few hundred statement lines it needs no tuning of
epochs or learning rates. Its scores become probabilities by a softmax at a temperature fitted on
out-of-fold scores (``CrossFittedTemperature``), so a confidence of 0.8 is right about 80% of the
time. Once fitted, all but the largest ``kept_coefficients`` share of its weights are zeroed and
the rest stored sparse: a model's size follows what it learned, not vocabulary x classes.

Tabular agents: gradient-boosted trees on histograms, few and small, for the thresholds and
interactions a linear model misses (an amount a little over a limit, a date a few days late).
"""
from __future__ import annotations

import os

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

# C: the SVM's usual default, right for TF-IDF rows of unit length. No class weights: on the
# benchmark's statement lines (41 categories, skewed) "balanced" cost accuracy and macro-F1 alike
# (0.827 / 0.659 against 0.833 / 0.674), since the hinge loss already leaves rare classes a margin
# of their own. Keeping the largest 10% of coefficients costs no accuracy on BANKING77 or the
# statement lines and shrinks a 77-intent model from 19 MB to about 2 MB.
LINEAR_DEFAULTS = {"C": 1.0, "class_weight": None, "calibration_folds": 3, "kept_coefficients": 0.1}
# Some L2 on leaf values: without it a leaf of a few rare-class rows gets an extreme value, and a
# multiclass fit can end below the majority baseline.
TREE_DEFAULTS = {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 20,
                 "l2_regularization": 1.0, "class_weight": None}


class PrunedLinearSVC(LinearSVC):
    """LinearSVC that keeps only the largest ``kept_coefficients`` share of its weights (by
    magnitude, over all classes) and stores them sparse, in the float32 of the TF-IDF features,
    once fitted."""

    def __init__(self, *, kept_coefficients=0.1, C=1.0, class_weight=None, random_state=None):
        super().__init__(C=C, class_weight=class_weight, random_state=random_state)
        self.kept_coefficients = kept_coefficients

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)
        weights = np.abs(self.coef_)
        self.coef_[weights < np.quantile(weights, 1.0 - self.kept_coefficients)] = 0.0
        self.coef_ = self.sparsify().coef_.astype(np.float32)
        return self


class CrossFittedTemperature(ClassifierMixin, BaseEstimator):
    """A linear classifier whose probabilities are softmax(scores / T), fitted on every row.

    T maximises the likelihood of out-of-fold scores: the rows are dealt, class by class, into
    ``folds`` seeded folds, and each fold is scored by a clone fitted on the others. Every row of
    a class with at least ``folds`` rows is scored once (classes with fewer stay in every clone's
    training and are not scored), so a small tenant's temperature comes from all its rows rather
    than a held-out tenth it cannot spare, and the served model still learns from every row. With
    fewer than ``MIN_SCORED_ROWS`` rows to score, T is 1.
    """

    MIN_SCORED_ROWS = 20

    def __init__(self, estimator, folds=3, random_state=0):
        self.estimator = estimator
        self.folds = folds
        self.random_state = random_state

    def fit(self, X, y):
        y = np.asarray(y)
        fold = self._folds(y)
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        scored = fold >= 0
        if scored.sum() < self.MIN_SCORED_ROWS:
            self.temperature_ = 1.0
            return self
        scores = np.zeros((len(y), len(self.classes_)))
        for f in range(self.folds):
            held = fold == f
            model = clone(self.estimator).fit(X[~held], y[~held])
            scores[held] = _scores(model, X[held])
        self.temperature_ = _temperature(scores[scored], np.searchsorted(self.classes_, y[scored]))
        return self

    def _folds(self, y: np.ndarray) -> np.ndarray:
        """Each row's fold, -1 for rows of classes too small to score; seeded, class by class."""
        rng = np.random.default_rng(self.random_state)
        fold = np.full(len(y), -1)
        for label in np.unique(y):
            rows = np.flatnonzero(y == label)
            if len(rows) >= self.folds:
                fold[rng.permutation(rows)] = np.arange(len(rows)) % self.folds
        return fold

    def predict_proba(self, X) -> np.ndarray:
        return softmax(_scores(self.estimator_, X) / self.temperature_, axis=1)

    def predict(self, X) -> np.ndarray:
        return self.classes_[_scores(self.estimator_, X).argmax(axis=1)]


def _scores(model, X) -> np.ndarray:
    scores = model.decision_function(X)
    # A binary model scores the positive class only; the negative class scores 0 against it.
    return np.column_stack([np.zeros_like(scores), scores]) if scores.ndim == 1 else scores


def _temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    rows = np.arange(len(truth))

    def loss(log_t: float) -> float:
        return -log_softmax(scores / np.exp(log_t), axis=1)[rows, truth].mean()

    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, 3.0), method="bounded").x))


class SingleThreadedBoostedTrees(HistGradientBoostingClassifier):
    """HistGradientBoostingClassifier on one OpenMP thread. A tenant's data is small, and on a busy
    worker host OpenMP threads waiting for each other cost far more than they save: 8,000 rows
    took 7.8 s on two threads of a loaded two-core host and 0.1 s on one."""

    def fit(self, X, y, **fit_params):
        one_openmp_thread()
        return super().fit(X, y, **fit_params)

    def predict(self, X):
        one_openmp_thread()
        return super().predict(X)

    def predict_proba(self, X):
        one_openmp_thread()
        return super().predict_proba(X)


_limited_in: int | None = None  # the process whose OpenMP pool is limited


def one_openmp_thread() -> None:
    """Limit this process's OpenMP pool to one thread, once per process. A limit scoped to each
    call would cost 3 ms a call (threadpoolctl inspects every loaded library each time), more than
    a serving batch's predict."""
    global _limited_in
    if _limited_in != os.getpid():
        threadpool_limits(1, user_api="openmp")
        _limited_in = os.getpid()


def calibrated_linear_svm(config: dict) -> CrossFittedTemperature:
    """Multiclass is one-vs-rest, its scores calibrated together by one temperature."""
    model = PrunedLinearSVC(kept_coefficients=config["kept_coefficients"], C=config["C"],
                            class_weight=config["class_weight"], random_state=config["random_state"])
    return CrossFittedTemperature(model, config["calibration_folds"], config["random_state"])


def small_boosted_trees(config: dict) -> SingleThreadedBoostedTrees:
    """No early stopping: its validation split would hold back rows of small tenants."""
    return SingleThreadedBoostedTrees(
        max_iter=config["max_iter"], learning_rate=config["learning_rate"],
        max_leaf_nodes=config["max_leaf_nodes"], min_samples_leaf=config["min_samples_leaf"],
        l2_regularization=config["l2_regularization"], class_weight=config["class_weight"],
        early_stopping=False, random_state=config["random_state"],
    )
