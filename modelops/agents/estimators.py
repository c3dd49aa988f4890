"""The two learners the agents use, sized for a serving worker that holds hundreds of models.

Text agents: a linear support vector machine (squared hinge, L2, one-vs-rest) over TF-IDF
n-grams, the strongest plain learner for short text: on BANKING77 it is right where SGD-fitted
logistic regression is not, and on a tenant's few hundred statement lines it needs no tuning of
epochs or learning rates. Its scores become probabilities by a softmax at a temperature fitted on
out-of-fold scores (``CrossFittedTemperature``), so a confidence of 0.8 is right about 80% of the
time. Once fitted, all but the largest ``kept_coefficients`` share of its weights are zeroed and
the rest stored sparse: a model's size follows what it learned, not vocabulary x classes.

Above ``svm_max_rows`` rows (a large tenant, a global model) the SVM and its three calibration
fits cost several times SGD's CPU for no gain in accuracy on regular rows, and would take many
minutes where a million rows must train in about one and a half: there the text agents
fit logistic regression by SGD with an elastic-net penalty instead (one streaming pass per epoch;
the L1 part zeroes most coefficients), its temperature fitted on a seeded held-out tenth, which
such a tenant can spare (``ByRowCount``). On 10,000 and 50,000 synthetic statement lines the two
are level (0.961), the SVM at seven and seventy times the CPU.

Tabular agents: gradient-boosted trees on histograms, few and small, for the thresholds and
interactions a linear model misses (an amount a little over a limit, a date a few days late).
"""
from __future__ import annotations

import os
from collections import Counter

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

# C: the SVM's usual default, right for TF-IDF rows of unit length. No class weights: on the
# benchmark's statement lines (41 categories, skewed) "balanced" cost accuracy and macro-F1 alike
# (0.827 / 0.659 against 0.833 / 0.674), since the hinge loss already leaves rare classes a margin
# of their own. Keeping the largest 10% of coefficients costs BANKING77 three answers in 2,001
# (0.897 against 0.898, n-grams alone) and nothing on the statement lines, and a 77-intent chat model takes
# 3.7 MB where the dense one would take 37.
# svm_max_rows: above it, SGD's keys apply (alpha ... calibration_share). 5,000: the SVM pays on a
# small tenant's few hundred lines (0.833 against 0.711 for SGD) and costs seven times SGD's CPU
# for the same accuracy on 10,000 regular ones (0.961), where the training benchmark allows 10 s. SGD's epochs stop once the
# training loss improves by less than tol twice running: a few on a million rows.
LINEAR_DEFAULTS = {"C": 1.0, "class_weight": None, "calibration_folds": 3, "kept_coefficients": 0.1,
                   "svm_max_rows": 5_000, "alpha": 2e-5, "l1_ratio": 0.15, "max_iter": 30, "tol": 1e-3,
                   "n_iter_no_change": 2, "calibration_share": 0.1}
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


class SparseSGDClassifier(SGDClassifier):
    """SGDClassifier that stores its coefficients sparse once fitted (``sparsify``)."""

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        super().fit(X, y, coef_init=coef_init, intercept_init=intercept_init, sample_weight=sample_weight)
        return self.sparsify()


class TemperatureScaled(ClassifierMixin, BaseEstimator):
    """A fitted linear ``estimator_`` whose probabilities are softmax(scores / ``temperature_``)."""

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """The probabilities of the estimator's class scores (``class_scores``)."""
        return softmax(scores / self.temperature_, axis=1)

    def predict_proba(self, X) -> np.ndarray:
        return self.probabilities(class_scores(self.estimator_, X))

    def predict(self, X) -> np.ndarray:
        return self.classes_[class_scores(self.estimator_, X).argmax(axis=1)]


class HeldOutTemperature(TemperatureScaled):
    """A linear classifier whose probabilities are softmax(scores / T), for many rows.

    ``estimator`` is fitted on all rows but a seeded share ``calibration_share`` of them, and T is
    the temperature that maximises the likelihood of the held-out labels: one fit, where
    ``CrossFittedTemperature`` makes four. Rows of classes with fewer than ten examples are never
    held out (the model must see them), and when fewer than ``MIN_CALIBRATION_ROWS`` rows would be
    held out, nothing is and T is 1.
    """

    MIN_CALIBRATION_ROWS = 50

    def __init__(self, estimator, calibration_share=0.1, random_state=0):
        self.estimator = estimator
        self.calibration_share = calibration_share
        self.random_state = random_state

    def fit(self, X, y):
        y = np.asarray(y)
        counts = Counter(y.tolist())
        draws = np.random.default_rng(self.random_state).random(len(y))
        held = (draws < self.calibration_share) & np.array([counts[label] >= 10 for label in y.tolist()])
        if held.sum() < self.MIN_CALIBRATION_ROWS:
            held[:] = False
        self.estimator_ = clone(self.estimator).fit(X[~held], y[~held])
        self.classes_ = self.estimator_.classes_
        known = held & np.isin(y, self.classes_)
        self.temperature_ = (fitted_temperature(class_scores(self.estimator_, X[known]), np.searchsorted(self.classes_, y[known]))
                             if known.any() else 1.0)
        return self


class ByRowCount(ClassifierMixin, BaseEstimator):
    """``small`` fitted on up to ``max_rows`` rows, ``large`` on more: the choice is made by the rows
    each fit is given, so a tenant's model and a global one come from the same recipe."""

    def __init__(self, small, large, max_rows):
        self.small = small
        self.large = large
        self.max_rows = max_rows

    def fit(self, X, y):
        self.estimator_ = clone(self.small if X.shape[0] <= self.max_rows else self.large).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        return self.estimator_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        return self.estimator_.predict(X)


class CrossFittedTemperature(TemperatureScaled):
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
            scores[held] = class_scores(model, X[held])
        self.temperature_ = fitted_temperature(scores[scored], np.searchsorted(self.classes_, y[scored]))
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


def class_scores(model, X) -> np.ndarray:
    """A linear model's decision scores, one column per class (the streamed models use it too)."""
    return as_class_columns(model.decision_function(X))


def as_class_columns(scores: np.ndarray) -> np.ndarray:
    # A binary model scores the positive class only; the negative class scores 0 against it.
    return np.column_stack([np.zeros_like(scores), scores]) if scores.ndim == 1 else scores


def fitted_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The temperature that makes softmax(scores / T) fit the true classes best (log loss)."""
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


def calibrated_linear(config: dict) -> ByRowCount:
    """Multiclass is one-vs-rest, its scores calibrated together by one temperature: the SVM up to
    ``svm_max_rows`` rows, logistic regression by SGD above."""
    svm = PrunedLinearSVC(kept_coefficients=config["kept_coefficients"], C=config["C"],
                          class_weight=config["class_weight"], random_state=config["random_state"])
    sgd = SparseSGDClassifier(
        loss="log_loss", penalty="elasticnet", alpha=config["alpha"], l1_ratio=config["l1_ratio"],
        max_iter=config["max_iter"], tol=config["tol"], n_iter_no_change=config["n_iter_no_change"],
        class_weight=config["class_weight"], random_state=config["random_state"],
    )
    return ByRowCount(CrossFittedTemperature(svm, config["calibration_folds"], config["random_state"]),
                      HeldOutTemperature(sgd, config["calibration_share"], config["random_state"]),
                      config["svm_max_rows"])


def small_boosted_trees(config: dict) -> SingleThreadedBoostedTrees:
    """No early stopping: its validation split would hold back rows of small tenants."""
    return SingleThreadedBoostedTrees(
        max_iter=config["max_iter"], learning_rate=config["learning_rate"],
        max_leaf_nodes=config["max_leaf_nodes"], min_samples_leaf=config["min_samples_leaf"],
        l2_regularization=config["l2_regularization"], class_weight=config["class_weight"],
        early_stopping=False, random_state=config["random_state"],
    )
