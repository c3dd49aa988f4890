"""A compiled pipeline answers exactly as the fitted pipeline it was made from, for every agent."""
from __future__ import annotations

import gc

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from functools import partial

from sklearn.feature_extraction.text import TfidfVectorizer

from modelops import AGENT_TYPES
from modelops.agents import get_agent
from modelops.agents.estimators import LINEAR_DEFAULTS, calibrated_linear
from modelops.agents.features import char_ngrams_of_words, word_ngrams
from modelops.agents.synthetic import generate
from modelops.serving.compiled import CompiledPipeline, compiled, joined, materialised, rows_of


def fitted(agent_type: str, rows: int = 300, config: dict | None = None):
    agent = get_agent(agent_type)
    pairs = [(agent.validate_input(i), agent.label(o)) for i, o in generate(agent_type, rows, seed=3, tenant_seed=4)]
    pairs = [(i, label) for i, label in pairs if label is not None]
    return agent, agent.build_estimator(config).fit([i for i, _ in pairs], [label for _, label in pairs])


# the text agents' large-tenant learner (SGD, its temperature from held-out rows) as well as the SVM
TEXT_AGENTS_ABOVE_SVM_ROWS = [(agent_type, {"svm_max_rows": 100}) for agent_type in ("classification", "journal", "chat")]


@pytest.mark.parametrize(("agent_type", "config"), [(agent_type, None) for agent_type in AGENT_TYPES] + TEXT_AGENTS_ABOVE_SVM_ROWS)
def test_every_agent_answers_bit_for_bit_as_its_pipeline(agent_type, config):
    agent, estimator = fitted(agent_type, config=config)
    if config:
        assert type(estimator[-1].estimator_).__name__ == "HeldOutTemperature"
    fast = compiled(estimator)
    assert isinstance(fast, CompiledPipeline)
    inputs = [agent.validate_input(i) for i, _ in generate(agent_type, 60, seed=9, tenant_seed=4)]
    for batch in (inputs, inputs[:1], inputs[7:9]):  # many rows, one, and two: serving makes each
        assert np.array_equal(fast.predict_proba(batch), estimator.predict_proba(batch))
        assert agent.predict(fast, batch) == agent.predict(estimator, batch)
    assert fast.classes_.tolist() == estimator.classes_.tolist()


def test_a_step_it_does_not_know_runs_through_its_own_transform():
    rows = [{"a": "x", "b": float(n % 3)} for n in range(30)]
    labels = [n % 2 for n in range(30)]
    weighted = FeatureUnion([("one", DictVectorizer()), ("two", DictVectorizer())], transformer_weights={"one": 2.0})
    validating = FunctionTransformer(lambda X: X * 2, validate=True)
    pipeline = Pipeline([("union", weighted), ("dense", FunctionTransformer(lambda X: X.toarray())), ("double", validating),
                         ("model", LogisticRegression())]).fit(rows, labels)
    assert np.array_equal(compiled(pipeline).predict_proba(rows), pipeline.predict_proba(rows))


def test_what_is_not_a_pipeline_is_served_as_it_is():
    model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    assert compiled(model) is model
    transformer_only = make_pipeline(DictVectorizer(), FunctionTransformer())
    assert compiled(transformer_only) is transformer_only


def same_csr(fast, slow) -> bool:
    """The same matrix entry for entry, in the same stored order and type (a product sums them in that order)."""
    return (fast.shape == slow.shape and fast.dtype == slow.dtype and np.array_equal(fast.indptr, slow.indptr)
            and np.array_equal(fast.indices, slow.indices) and np.array_equal(fast.data, slow.data))


@pytest.mark.parametrize("analyzer", [partial(char_ngrams_of_words, sizes=(3, 4)), partial(word_ngrams, sizes=(1, 2))],
                         ids=["character n-grams of words", "word n-grams"])
@pytest.mark.parametrize("options", [dict(sublinear_tf=True, dtype=np.float32), dict(binary=True, norm="l1", use_idf=False)])
def test_the_ngrams_are_counted_and_weighted_as_scikit_learn_does(analyzer, options):
    training = ["amzn mktp us", "amazon marketplace us", "shell oil 0", "shell shell station", "uber trip", "uber eats"] * 3
    vectorizer = TfidfVectorizer(analyzer=analyzer, min_df=2, **options)
    pipeline = Pipeline([("text", vectorizer), ("model", LogisticRegression())]).fit(training, [n % 2 for n in range(18)])
    documents = ["", "   ", "zzzz qqqq", "shell shell shell", "uber  amzn\tshell", "amazon marketplace"] + training[:4]
    for batch in (documents, documents[:1], documents[3:4]):
        assert same_csr(compiled(pipeline).features(batch), pipeline[:-1].transform(batch))


# float32 features, as the agents' vectorisers make them for the float32 coefficients
@pytest.mark.parametrize("options", [dict(sublinear_tf=True), dict(binary=True, norm="l1", use_idf=False),
                                     dict(norm=None, smooth_idf=False)])
def test_a_word_tfidf_and_a_binary_calibrated_model_answer_as_scikit_learn_does(options):
    training = ["amzn mktp us", "amazon marketplace", "shell oil 0", "shell shell station", "uber trip", "uber eats"] * 5
    labels = ["shop", "shop", "fuel", "fuel", "ride", "ride"] * 5
    binary = [label == "fuel" for label in labels]  # a binary linear model scores one column
    documents = ["", "zzzz", "shell shell shell", "uber  amzn\tshell", "amazon"] + training[:4]
    for targets in (labels, binary):
        pipeline = Pipeline([("text", TfidfVectorizer(dtype=np.float32, **options)),
                             ("model", calibrated_linear({**LINEAR_DEFAULTS, "random_state": 0}))]).fit(training, targets)
        fast = compiled(pipeline)
        for batch in (documents, documents[:1], documents[2:3]):
            assert np.array_equal(fast.features(batch).toarray(), pipeline[:-1].transform(batch).toarray())
            assert np.array_equal(fast.predict_proba(batch), pipeline.predict_proba(batch))


def test_one_hot_rows_are_vectorised_as_scikit_learn_does_and_other_values_by_scikit_learn():
    rows = [{"direction": "debit", "weekday": "3", "amount": 12.5}, {"weekday": "1", "direction": "credit", "flag": True},
            {"direction": "refund", "count": 2}, {}]
    vectorizer = DictVectorizer(dtype=np.float32).fit(rows[:2])
    pipeline = Pipeline([("traits", vectorizer), ("model", LogisticRegression())]).fit(rows[:2], [0, 1])
    fast = compiled(pipeline)
    for batch in (rows, rows[:1], rows[2:]):  # unknown names and an empty row add no column
        assert same_csr(fast.features(batch), vectorizer.transform(batch))
    with_a_list = rows + [{"direction": ["debit", "credit"]}]  # a list value: scikit-learn's own transform answers
    assert same_csr(fast.features(with_a_list), vectorizer.transform(with_a_list))
    # rows of strings alone are kept once read: read again, in the same batch and the next, they are the same
    categories = [{"weekday": "3", "direction": "debit"}, {"direction": "credit", "weekday": "1"}, {"weekday": "3", "direction": "debit"}]
    for _ in range(2):
        assert same_csr(fast.features(categories), vectorizer.transform(categories))
    signed = [{"amount": 0.0, "direction": "debit"}, {"amount": -0.0, "direction": "debit"}]  # one key, two values: not kept
    assert np.signbit(fast.features(signed).data).tolist() == np.signbit(vectorizer.transform(signed).data).tolist()


def test_parts_are_joined_as_scipy_joins_them():
    random = np.random.default_rng(5)
    dense = [(random.random((6, width)) * (random.random((6, width)) < 0.4)).astype(dtype)
             for width, dtype in ((4, np.float32), (7, np.float64), (3, np.float32))]
    dense[1][[2, 4]] = 0  # rows with nothing in a part
    parts = [sparse.csr_array(values) for values in dense]
    parts.append(sparse.csr_array((6, 5), dtype=np.float32))  # a part with no entry at all
    for rows in (parts, [part[:1] for part in parts], [part[:0] for part in parts], parts[1:2]):
        fast = materialised(joined([rows_of(part) for part in rows]))
        assert same_csr(fast, sparse.hstack(rows).tocsr())


def test_a_union_of_parts_of_different_norms_and_types_is_made_as_scikit_learn_makes_it():
    """Parts due the same norm and type are normalised together, a single float32 row on its own:
    each row still comes out as scikit-learn's, for any mix of parts."""
    training = [{"memo": memo, "kind": kind} for memo, kind in
                [("amzn mktp us", "card"), ("amazon marketplace", "card"), ("shell oil 0", "cash"), ("uber trip", "card")] * 4]
    memo = FunctionTransformer(lambda rows: [row["memo"] for row in rows])
    union = FeatureUnion([
        ("words", make_pipeline(memo, TfidfVectorizer(analyzer=partial(word_ngrams, sizes=(1, 2)), dtype=np.float32))),
        ("chars", make_pipeline(memo, TfidfVectorizer(analyzer=partial(char_ngrams_of_words, sizes=(2, 3))))),  # float64
        ("plain", make_pipeline(memo, TfidfVectorizer(dtype=np.float32, sublinear_tf=True, norm="l1"))),
        ("kinds", make_pipeline(FunctionTransformer(lambda rows: [{"kind": row["kind"]} for row in rows]), DictVectorizer())),
    ])
    pipeline = Pipeline([("features", union), ("model", LogisticRegression())]).fit(training, [n % 3 for n in range(16)])
    asked = [{"memo": "zzzz", "kind": "card"}, {"memo": "shell shell amzn", "kind": "wire"}, {"memo": "", "kind": "cash"}] + training[:5]
    for batch in (asked, asked[:1], asked[1:2], asked[2:3]):  # many rows; one with nothing known; one; one empty
        assert same_csr(compiled(pipeline).features(batch), pipeline[:-1].transform(batch))
        assert np.array_equal(compiled(pipeline).predict_proba(batch), pipeline.predict_proba(batch))


def test_what_a_compiled_model_keeps_between_calls_is_no_work_for_the_cyclic_collector():
    # A serving process keeps every distinct word it has seen, per model: a full collection that
    # walked them all was a pause of tens of milliseconds every few seconds.
    agent, estimator = fitted("classification")
    fast = compiled(estimator)
    rows = [agent.validate_input(i) for i, _ in generate("classification", 1000, seed=11, tenant_seed=4)]
    words = [f"vendor{n}x{n * 7}" for n in range(len(rows))]
    rows = [{**row, "description": f"{row['description']} {word}", "merchant": word} for row, word in zip(rows, words)]
    for row in rows[:20]:  # (what the first calls make once)
        fast.predict_proba([row])
    gc.collect()
    before = len(gc.get_objects())
    for row in rows[20:]:  # one at a time, as single requests come
        fast.predict_proba([row])
    gc.collect()
    grown = len(gc.get_objects()) - before
    assert grown < len(words) // 4, grown
