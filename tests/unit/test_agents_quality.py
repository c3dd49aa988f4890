"""Model quality: a small tenant's many categories are learned, confidences mean what they say, the
served model learns from every usable row while its figures and the gate stay on held-out rows."""
from __future__ import annotations

import datetime as dt
import string
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from modelops.agents import get_agent
from modelops.agents.estimators import CrossFittedTemperature, HeldOutTemperature, PrunedLinearSVC, SparseSGDClassifier
from modelops.agents.synthetic import generate
from modelops.training.evaluation import calibration_error, split
from modelops.training.pipeline import validate_then_refit

PREFIXES = ("POS PURCHASE {} {}", "CARD {} {} ", "DD {} REF {}", "SEPA-LASTSCHRIFT {} {}", "{} {}", "VISA DEBIT {} {}")


def small_tenant(seed: int, rows: int, categories: int = 42):
    """Statement lines of a tenant with ``categories`` categories, two or three invented merchants
    each, wrapped in payment-rail prefixes with store numbers and references, cut at 24
    characters, and a skewed category mix."""
    rng = np.random.default_rng(seed)
    merchants = [["".join(rng.choice(list(string.ascii_uppercase), rng.integers(5, 10))) for _ in range(rng.integers(2, 4))]
                 for _ in range(categories)]
    medians = rng.lognormal(4, 1.5, categories)
    weights = 1.0 / np.arange(1, categories + 1) ** 0.7
    weights /= weights.sum()
    labels = np.concatenate([np.arange(categories), rng.choice(categories, rows - categories, p=weights)])
    inputs = []
    for label in labels:
        name = merchants[label][rng.integers(len(merchants[label]))]
        line = PREFIXES[rng.integers(len(PREFIXES))].format(name, rng.integers(10, 99_999))[:24]
        inputs.append({"description": line, "amount": float(round(medians[label] * rng.lognormal(0, 0.4), 2)),
                       "currency": "EUR", "direction": "credit" if label % 7 == 0 else "debit",
                       "date": (dt.date(2025, 1, 1) + dt.timedelta(days=int(rng.integers(365)))).isoformat()})
    return inputs, [f"category {label}" for label in labels]


@pytest.fixture(scope="module")
def small_tenant_model():
    agent = get_agent("classification")
    train_x, train_y = small_tenant(seed=1, rows=450)
    test_x, test_y = small_tenant(seed=1, rows=1_000)  # the same tenant's merchants, other lines
    inputs = [agent.validate_input(row) for row in train_x]
    return agent, agent.build_estimator().fit(inputs, train_y), train_y, [agent.validate_input(r) for r in test_x], test_y


def test_a_small_tenant_with_many_categories_learns_every_one_and_beats_the_majority_class(small_tenant_model):
    agent, model, train_y, test_x, test_y = small_tenant_model
    assert len(train_y) <= 500 and len(set(train_y)) >= 40
    assert set(model.classes_) == set(train_y)  # the served model knows every category, even those booked once
    predicted = [p.label for p in agent.predict(model, test_x)]
    accuracy = np.mean([p == t for p, t in zip(predicted, test_y)])
    majority = Counter(train_y).most_common(1)[0][0]
    assert accuracy > np.mean([t == majority for t in test_y]) + 0.6


def test_a_small_tenant_is_classified_at_least_as_well_as_by_character_tfidf_and_logistic_regression(small_tenant_model):
    agent, model, train_y, test_x, test_y = small_tenant_model
    train_x, _ = small_tenant(seed=1, rows=450)
    plain = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)), LogisticRegression(max_iter=1_000))
    plain.fit([row["description"] for row in train_x], train_y)
    plain_accuracy = np.mean(plain.predict([row["description"] for row in test_x]) == np.array(test_y))
    accuracy = np.mean([p.label == t for p, t in zip(agent.predict(model, test_x), test_y)])
    assert accuracy >= plain_accuracy


def test_confidences_are_calibrated_and_would_not_be_without_the_temperature():
    agent = get_agent("chat")
    train = generate("chat", 1_500, seed=1, tenant_seed=4)
    held_out = generate("chat", 1_500, seed=2, tenant_seed=4)
    model = agent.build_estimator().fit([agent.validate_input(d) for d, _ in train], [agent.label(e) for _, e in train])
    inputs, truth = [agent.validate_input(d) for d, _ in held_out], [agent.label(e) for _, e in held_out]
    predictions = agent.predict(model, inputs)
    correct = [p.label == t for p, t in zip(predictions, truth)]
    assert calibration_error([p.confidence for p in predictions], correct) < 0.05
    raw = softmax(model[:-1].transform(inputs) @ model[-1].estimator_.estimator_.coef_.T.toarray() + model[-1].estimator_.estimator_.intercept_, axis=1)
    assert calibration_error(raw.max(axis=1), correct) > 0.2


def test_calibration_error_is_the_row_weighted_gap_between_confidence_and_accuracy():
    assert calibration_error([0.8] * 10, [True] * 8 + [False] * 2) == pytest.approx(0.0)
    assert calibration_error([0.95] * 10 + [0.55] * 10, [True] * 5 + [False] * 5 + [True] * 10) == pytest.approx(0.45)


def test_the_temperature_comes_from_out_of_fold_scores_and_the_model_from_every_row():
    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.normal(size=(200, 5)).astype(np.float32))
    y = np.array(["a", "b", "c", "d"] * 49 + ["rare", "rare", "a", "b"])
    calibrated = CrossFittedTemperature(LinearSVC(), folds=3, random_state=0).fit(X, y)
    assert "rare" in calibrated.classes_  # two rows, fewer than the folds: never held out
    np.testing.assert_array_equal(calibrated.estimator_.coef_, LinearSVC().fit(X, y).coef_)
    # noise features: a calibrated model is unsure, where an uncalibrated softmax of SVM scores is not
    assert calibrated.predict_proba(X).max(axis=1).mean() < 0.45
    assert calibrated.temperature_ != 1.0


def test_the_linear_model_keeps_its_largest_coefficients_only():
    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.random((300, 400)).astype(np.float32))
    y = rng.integers(0, 5, 300)
    full = LinearSVC().fit(X, y).coef_
    pruned = PrunedLinearSVC(kept_coefficients=0.1).fit(X, y).coef_
    assert sp.issparse(pruned) and pruned.nnz == pytest.approx(0.1 * full.size, rel=0.01)
    kept = np.abs(full[pruned.toarray() != 0])
    assert kept.min() >= np.abs(full[pruned.toarray() == 0]).max()


def test_the_served_model_learns_from_every_usable_row_and_the_figures_from_the_training_side():
    agent = get_agent("classification")
    inputs, labels = small_tenant(seed=3, rows=300, categories=12)
    inputs = [agent.validate_input(row) for row in inputs]
    train_x, val_x, train_y, val_y = split(inputs, labels, 0.2, seed=0)
    # a category whose rows all fall on the validation side
    only_validated = sorted(set(val_y) - set(train_y)) or [val_y[0]]
    train_x = [x for x, y in zip(train_x, train_y) if y not in only_validated]
    train_y = [y for y in train_y if y not in only_validated]
    fitted = validate_then_refit(agent, agent.default_config(), train_x, train_y, val_x, val_y)
    assert set(only_validated) <= set(fitted.served_model.classes_)
    assert not set(only_validated) & set(fitted.validation_model.classes_)
    held = [p.label for p in agent.predict(fitted.validation_model, val_x)]
    assert fitted.metrics["summary"]["accuracy"] == pytest.approx(np.mean([p == t for p, t in zip(held, val_y)]))
    assert "expected_calibration_error" in fitted.metrics


def test_more_rows_than_svm_max_rows_are_fitted_by_sgd_with_a_held_out_temperature():
    agent = get_agent("classification")
    rows = generate("classification", 1_200, seed=1, tenant_seed=2)
    inputs, labels = [agent.validate_input(d) for d, _ in rows], [agent.label(e) for _, e in rows]
    small = agent.build_estimator({"svm_max_rows": 1_200}).fit(inputs, labels)[-1].estimator_
    large = agent.build_estimator({"svm_max_rows": 1_199}).fit(inputs, labels)[-1].estimator_
    assert isinstance(small, CrossFittedTemperature) and isinstance(small.estimator_, PrunedLinearSVC)
    assert isinstance(large, HeldOutTemperature) and isinstance(large.estimator_, SparseSGDClassifier)
    assert large.temperature_ != 1.0 and set(large.classes_) == set(labels)


def test_the_held_out_temperature_is_fitted_on_rows_the_model_did_not_see():
    rng = np.random.default_rng(0)
    X = sp.csr_matrix(rng.normal(size=(1_000, 5)).astype(np.float32))
    y = np.array(["a", "b", "c", "d"] * 248 + ["rare"] * 8)
    calibrated = HeldOutTemperature(LinearSVC(), calibration_share=0.1, random_state=0).fit(X, y)
    assert "rare" in calibrated.classes_  # fewer than ten rows: never held out
    # noise features: the held-out rows say the model knows nothing, so it is made unsure
    assert calibrated.predict_proba(X).max(axis=1).mean() < 0.45
