"""The two learners the agents use, sized for a serving worker that holds hundreds of models.

Text agents: logistic regression fitted by SGD with an elastic-net penalty. It trains a million
rows in one streaming pass per epoch, and the L1 part zeroes most coefficients, which are then
stored as a sparse matrix: a model's size follows what it learned, not vocabulary x classes.
Its one-vs-rest scores become probabilities by a softmax at a temperature fitted on held-out rows
(normalising the per-class sigmoids instead left 77-class BANKING77 answers right 90% of the time
at a mean confidence of 68%).

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
from threadpoolctl import threadpool_limits

# Epochs stop once the training loss improves by less than tol twice running: a few on a million
# rows, more on a small tenant's thousand.
LINEAR_DEFAULTS = {"alpha": 2e-5, "l1_ratio": 0.15, "max_iter": 30, "tol": 1e-3, "n_iter_no_change": 2,
                   "class_weight": None, "calibration_share": 0.1}
# Some L2 on leaf values: without it a leaf of a few rare-class rows gets an extreme value, and a
# multiclass fit can end below the majority baseline.
TREE_DEFAULTS = {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 20,
                 "l2_regularization": 1.0, "class_weight": None}


class SparseSGDClassifier(SGDClassifier):
    """SGDClassifier that stores its coefficients sparse once fitted (``sparsify``)."""

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        super().fit(X, y, coef_init=coef_init, intercept_init=intercept_init, sample_weight=sample_weight)
        return self.sparsify()


class TemperatureScaledClassifier(ClassifierMixin, BaseEstimator):
    """A linear classifier whose probabilities are softmax(scores / T).

    ``estimator`` is fitted on all rows but a seeded share ``calibration_share`` of them, and T is
    the temperature that maximises the likelihood of the held-out labels. Rows of classes with
    fewer than ten examples are never held out (the model must see them), and when fewer than
    ``MIN_CALIBRATION_ROWS`` rows would be held out, nothing is and T is 1.
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
        self.temperature_ = self._temperature(X[held], y[held]) if held.any() else 1.0
        return self

    def _temperature(self, X, y) -> float:
        known = np.isin(y, self.classes_)
        scores, truth = self._scores(X[known]), np.searchsorted(self.classes_, y[known])
        rows = np.arange(len(truth))

        def loss(log_t: float) -> float:
            return -log_softmax(scores / np.exp(log_t), axis=1)[rows, truth].mean()

        return float(np.exp(minimize_scalar(loss, bounds=(-3.0, 3.0), method="bounded").x))

    def _scores(self, X) -> np.ndarray:
        scores = self.estimator_.decision_function(X)
        # A binary model scores the positive class only; the negative class scores 0 against it.
        return np.column_stack([np.zeros_like(scores), scores]) if scores.ndim == 1 else scores

    def predict_proba(self, X) -> np.ndarray:
        return softmax(self._scores(X) / self.temperature_, axis=1)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self._scores(X).argmax(axis=1)]


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


def sparse_logistic(config: dict) -> TemperatureScaledClassifier:
    """Multiclass is one-vs-rest, its scores calibrated together by one temperature."""
    model = SparseSGDClassifier(
        loss="log_loss", penalty="elasticnet", alpha=config["alpha"], l1_ratio=config["l1_ratio"],
        max_iter=config["max_iter"], tol=config["tol"], n_iter_no_change=config["n_iter_no_change"],
        class_weight=config["class_weight"], random_state=config["random_state"],
    )
    return TemperatureScaledClassifier(model, config["calibration_share"], config["random_state"])


def small_boosted_trees(config: dict) -> SingleThreadedBoostedTrees:
    """No early stopping: its validation split would hold back rows of small tenants."""
    return SingleThreadedBoostedTrees(
        max_iter=config["max_iter"], learning_rate=config["learning_rate"],
        max_leaf_nodes=config["max_leaf_nodes"], min_samples_leaf=config["min_samples_leaf"],
        l2_regularization=config["l2_regularization"], class_weight=config["class_weight"],
        early_stopping=False, random_state=config["random_state"],
    )
