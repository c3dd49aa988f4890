"""A fitted pipeline run the way it computes, without scikit-learn's per-call machinery around it.

Every call of a fitted ``Pipeline`` or ``FeatureUnion`` passes through scikit-learn's generic
wrappers: output-container checks (which look for pandas and polars frames), estimator tags,
warning filters and, for a FeatureUnion, joblib's dispatch of each part even when it runs them
in turn. On a one-row prediction that machinery costs more than the features and the model
together: 1.8 ms of CPU for a classification request, of which 0.8 ms is the wrappers
(bench/bench_serving.py --steps profile). Serving makes one call per model in each batch, and
single requests from many tenants make batches of one or two requests per model, so that fixed
cost set the single-message throughput.

``compiled(estimator)`` walks the fitted pipeline once and returns an object with the same
``predict_proba`` and ``classes_``: each leaf transformer's own ``transform`` (a
FunctionTransformer's function itself, as its ``transform`` calls it when it does not validate),
the parts of a union stacked as the union stacks them, then the final estimator's own
``predict_proba``. The arithmetic is the fitted objects' own, in the same order, so the answers are
identical, bit for bit, to the pipeline's (tests/unit/test_serving_compiled.py checks every agent).
Any step it does not know as such (a union with weights, a FunctionTransformer that validates)
is called through its own ``transform``, wrappers and all.

One leaf is also computed differently, to the same numbers: TF-IDF over the character n-grams of
each word (``char_ngrams_of_words``). scikit-learn counts a document's n-grams one by one in Python,
two dictionary look-ups each (13 of the 31 ms of CPU of the features of 1,000 classification
requests); here each distinct word's known n-grams are looked up once and kept, the whole batch's
are counted at once by numpy, and the fitted weights are applied by scikit-learn's own
weighting. TF-IDF over our word n-grams (``word_ngrams``) is counted the same way, without a cache
(documents rarely repeat). A DictVectorizer of string and number values builds its one-hot rows
itself, and a union of CSR parts is joined by a few array operations (``joined``) rather than
scipy's block machinery: each, like the rest, to the same entries in the same stored order. The
agents' pipelines never ask for DataFrame output (``set_output``), under which a union joins its
parts otherwise.

Two more steps skip only scikit-learn's checks of their input, whose features the pipeline itself
has just made: the TF-IDF weighting of the counts (each vectoriser's fitted idf and norm, applied in
place by the same operations and the same normalising routine as ``TfidfTransformer.transform``), and
the linear models' scores (``decision_function``'s product and intercept), under the agents'
calibration wrappers. Five input checks per model call, each looking for dataframe libraries, cost
a millisecond of a call's 1.6; and single requests from many tenants make batches of one model call
per tenant (bench/bench_serving.py --steps profile).
"""
from __future__ import annotations

from array import array
from functools import partial
from operator import itemgetter
from numbers import Number
from typing import Any, Callable

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l1, inplace_csr_row_normalize_l2

from modelops.agents.estimators import ByRowCount, TemperatureScaled, as_class_columns
from modelops.agents.features import char_ngrams_of_words, word_ngrams

Transform = Callable[[Any], Any]


class CompiledPipeline:
    """A fitted classification pipeline's ``predict_proba`` and ``classes_``, without the wrappers."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline  # the fitted object, kept as it is (its steps are shared, not copied)
        self.features = _sequence([step for _, step in pipeline.steps[:-1]])
        self.model = pipeline.steps[-1][1]
        self.probabilities = _probabilities(self.model)
        self.classes_ = pipeline.classes_

    def predict_proba(self, inputs) -> Any:
        return self.probabilities(self.features(inputs))


def compiled(estimator: Any) -> Any:
    """``estimator`` as serving calls it: a fitted Pipeline compiled, anything else as it is."""
    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1 and hasattr(estimator.steps[-1][1], "predict_proba"):
        return CompiledPipeline(estimator)
    return estimator


def _transform(step: Any) -> Transform:
    if step is None or step == "passthrough":
        return lambda X: X
    if isinstance(step, Pipeline):
        return _sequence([part for _, part in step.steps])
    if isinstance(step, FeatureUnion) and not step.transformer_weights:
        return _union(step)
    if _counts_words_alone(step):
        return _counted_tfidf(step, _char_ngram_columns(step))
    if _analyzes_word_ngrams(step):
        return _counted_tfidf(step, _word_ngram_columns(step))
    if type(step) is TfidfVectorizer and _weighs_as_known(step):
        return _tfidf(step)
    if type(step) is DictVectorizer and step.sparse:
        return _dict_vectorizer(step)
    if isinstance(step, FunctionTransformer) and not step.validate and step.func is not None:
        function, arguments = step.func, step.kw_args or {}
        return lambda X: function(X, **arguments)
    return step.transform


def _sequence(steps: list) -> Transform:
    transforms = [_transform(step) for step in steps]

    def run(X):
        for transform in transforms:
            X = transform(X)
        return X

    return run


def _union(union: FeatureUnion) -> Transform:
    transforms = [_transform(part) for _, part in union.transformer_list if part != "drop"]

    def run(X):
        # joined as the union joins them when no output container is configured (set_output)
        parts = [transform(X) for transform in transforms]
        if all(sparse.issparse(part) and part.format == "csr" for part in parts):
            return joined(parts)
        return sparse.hstack(parts).tocsr() if any(sparse.issparse(part) for part in parts) else np.hstack(parts)

    return run


def joined(parts: list) -> sparse.csr_array:
    """CSR matrices of the same rows side by side, as ``sparse.hstack(parts).tocsr()`` joins them:
    each row holds the entries of the first part's row, then the second's, ..., each in its own
    order, the columns of a part shifted past those of the parts before it. scipy's hstack gets
    there through its generic block machinery and seven checked constructions, a fifth of a
    one-row classification call; here it is a few array operations per part."""
    rows = parts[0].shape[0]
    lengths = [np.diff(part.indptr) for part in parts]
    indptr = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(np.sum(lengths, axis=0), out=indptr[1:])
    data = np.empty(indptr[-1], dtype=np.result_type(*(part.dtype for part in parts)))
    indices = np.empty(indptr[-1], dtype=np.int64)
    row_start, column_offset = indptr[:-1].copy(), 0
    for part, length in zip(parts, lengths):
        row = np.repeat(np.arange(rows), length)
        at = row_start[row] + (np.arange(len(part.indices)) - part.indptr[row])
        data[at] = part.data
        indices[at] = part.indices + column_offset
        row_start += length
        column_offset += part.shape[1]
    index_type = np.int32 if max(column_offset, indptr[-1]) <= np.iinfo(np.int32).max else np.int64
    return sparse.csr_array((data, indices.astype(index_type), indptr.astype(index_type)), shape=(rows, column_offset))


# distinct words whose n-grams a vectoriser keeps at most (then it starts again): bounded memory
# over a stream of one-off tokens (references, card numbers), while common words stay found
WORDS_KEPT = 1 << 16
# distinct rows of categories a dict vectoriser keeps at most, likewise
ROWS_KEPT = 1 << 14


def _counts_words_alone(step: Any) -> bool:
    """A fitted TF-IDF whose analyzer splits a document into words and takes each word's n-grams
    alone: a document's n-grams are the concatenation of its words'."""
    return _analyzes_with(step, char_ngrams_of_words)


def _analyzes_word_ngrams(step: Any) -> bool:
    """A fitted TF-IDF whose analyzer is our word n-grams (a function of the document alone)."""
    return _analyzes_with(step, word_ngrams)


def _analyzes_with(step: Any, function: Callable) -> bool:
    analyzer = getattr(step, "analyzer", None)
    return (type(step) is TfidfVectorizer and isinstance(analyzer, partial) and analyzer.func is function
            and not analyzer.args and set(analyzer.keywords) == {"sizes"} and hasattr(step, "vocabulary_"))


def _char_ngram_columns(vectorizer: TfidfVectorizer) -> Callable[[str, array], None]:
    """Adds a document's known character n-gram columns, word by word, each word's looked up once."""
    sizes, vocabulary = vectorizer.analyzer.keywords["sizes"], vectorizer.vocabulary_
    known: dict[str, array] = {}

    def columns(word: str) -> array:
        found = known.get(word)
        if found is None:
            if len(known) >= WORDS_KEPT:
                known.clear()
            found = known[word] = array("i", [vocabulary[gram] for gram in char_ngrams_of_words(word, sizes) if gram in vocabulary])
        return found

    def add(document: str, found: array) -> None:
        for word in document.split():
            found.extend(columns(word))

    return add


def _word_ngram_columns(vectorizer: TfidfVectorizer) -> Callable[[str, array], None]:
    """Adds a document's known word n-gram columns (documents rarely repeat: nothing is kept)."""
    analyzer, vocabulary = vectorizer.analyzer, vectorizer.vocabulary_

    def add(document: str, found: array) -> None:
        found.extend([column for column in map(vocabulary.get, analyzer(document)) if column is not None])

    return add


def _counted_tfidf(vectorizer: TfidfVectorizer, add_columns: Callable[[str, array], None]) -> Transform:
    """A fitted TF-IDF vectoriser whose analyzer we know: each document's known n-grams, all
    documents in one array, counted at once by numpy (CountVectorizer counts them one by one, in
    a dictionary per document), then the fitted weighting."""
    weighting = _weighting(vectorizer) if _weighs_as_known(vectorizer) else _transformer_weighting(vectorizer)
    width = len(vectorizer.vocabulary_)

    def run(documents):
        # the count matrix CountVectorizer builds: per row, each n-gram's count, columns in order.
        # Each n-gram found is a 1 in its row; scipy sorts each row's columns and sums the repeats
        # (row by row, half the time of sorting the batch's cells as one array).
        found, lengths = array("i"), []
        for document in documents:
            before = len(found)
            add_columns(document, found)
            lengths.append(len(found) - before)
        indptr = np.zeros(len(lengths) + 1, dtype=np.int32)
        np.cumsum(lengths, out=indptr[1:])
        counted = sparse.csr_array((np.ones(len(found), dtype=vectorizer.dtype), np.frombuffer(found, dtype=np.intc), indptr),
                                   shape=(len(lengths), width))
        counted.sum_duplicates()
        if vectorizer.binary:
            counted.data.fill(1)
        return weighting(counted)

    return run


def _dict_vectorizer(vectorizer: DictVectorizer) -> Transform:
    """``DictVectorizer.transform`` of rows whose values are strings (one-hot: "name=value", 1) or
    numbers (the name, the number), each row's columns in order; a batch holding any other value
    (a list, a mapping) goes through scikit-learn's own transform. A row of strings alone (an
    agent's categories: a transaction's direction, currency, weekday) is looked up once and kept:
    such rows repeat, and each costs a formatted name and a look-up per value."""
    vocabulary, separator, dtype = vectorizer.vocabulary_, vectorizer.separator, vectorizer.dtype
    width = len(vocabulary)
    known: dict[tuple, tuple[array, list]] = {}

    def columns_of(row: dict) -> tuple[array, list] | None:
        """The row's (columns, values) in column order (a column named twice keeps the row's
        order), or None if a value is neither a string nor a number."""
        found = []
        for name, value in row.items():
            if isinstance(value, str):
                name, value = f"{name}{separator}{value}", 1
            elif not isinstance(value, Number):
                return None
            column = vocabulary.get(name)
            if column is not None:
                found.append((column, value))
        found.sort(key=itemgetter(0))
        return array("i", [column for column, _ in found]), [value for _, value in found]

    def run(rows):
        columns, values, lengths = array("i"), [], []
        for row in rows:
            # numbers are not kept: 0.0 and -0.0 are one key but not one value
            key = tuple(row.items()) if all(type(value) is str for value in row.values()) else None
            entry = known.get(key) if key is not None else None
            if entry is None:
                entry = columns_of(row)
                if entry is None:
                    return vectorizer.transform(rows)
                if key is not None:
                    if len(known) >= ROWS_KEPT:
                        known.clear()
                    known[key] = entry
            columns.extend(entry[0])
            values.extend(entry[1])
            lengths.append(len(entry[0]))
        indptr = np.zeros(len(lengths) + 1, dtype=np.int32)
        np.cumsum(lengths, out=indptr[1:])
        return sparse.csr_array((np.asarray(values, dtype=dtype), np.frombuffer(columns, dtype=np.intc), indptr),
                                shape=(len(lengths), width))

    return run


NORMALISED = {None: None, "l1": inplace_csr_row_normalize_l1, "l2": inplace_csr_row_normalize_l2}


def _weighs_as_known(vectorizer: TfidfVectorizer) -> bool:
    """A norm this module applies, to counts of a float type the weighting keeps."""
    return vectorizer.norm in NORMALISED and np.dtype(vectorizer.dtype) in (np.float64, np.float32)


def _tfidf(vectorizer: TfidfVectorizer) -> Transform:
    """A fitted TF-IDF vectoriser: its own counting (CountVectorizer's), then the weighting."""
    weighting = _weighting(vectorizer)
    return lambda documents: weighting(CountVectorizer.transform(vectorizer, documents))


def _weighting(vectorizer: TfidfVectorizer) -> Transform:
    """``TfidfTransformer.transform`` of a count matrix of the vectoriser's own float type, in place:
    the same operations in the same order, without its input checks."""
    idf = vectorizer.idf_ if vectorizer.use_idf else None
    normalise, sublinear = NORMALISED[vectorizer.norm], vectorizer.sublinear_tf

    def run(counts):
        if sublinear:
            np.log(counts.data, counts.data)
            counts.data += 1.0
        if idf is not None:
            counts.data *= idf[counts.indices]
        if normalise is not None:
            normalise(counts)
        return counts

    return run


def _transformer_weighting(vectorizer: TfidfVectorizer) -> Transform:
    """The weighting by scikit-learn's own ``TfidfTransformer``, given the vectoriser's fitted idf."""
    weighting = TfidfTransformer(norm=vectorizer.norm, use_idf=vectorizer.use_idf, smooth_idf=vectorizer.smooth_idf,
                                 sublinear_tf=vectorizer.sublinear_tf)
    if vectorizer.use_idf:
        weighting.idf_ = vectorizer.idf_
    weighting.n_features_in_ = len(vectorizer.vocabulary_)
    return partial(weighting.transform, copy=False)


# the linear models whose decision_function is LinearClassifierMixin's
LINEAR = (LinearSVC, SGDClassifier)


def _probabilities(model: Any) -> Transform:
    """``model.predict_proba``: for the agents' calibrated linear models, the same arithmetic
    without the input checks of ``decision_function``."""
    if isinstance(model, ByRowCount):
        return _probabilities(model.estimator_)
    if isinstance(model, TemperatureScaled) and isinstance(model.estimator_, LINEAR):
        scores = _decision(model.estimator_)
        return lambda X: model.probabilities(as_class_columns(scores(X)))
    return model.predict_proba


def _decision(linear) -> Transform:
    """``decision_function`` as scikit-learn's linear classifiers compute it: X times the coefficients, plus
    the intercept; one column (a binary model's) as a vector. Sparse coefficients are transposed
    into the row-major form the product converts them to on every call, once."""
    coefficients, intercept = linear.coef_.T, linear.intercept_
    if sparse.issparse(coefficients) and coefficients.format == "csc":
        coefficients = coefficients.tocsr()

    def run(X):
        scores = safe_sparse_dot(X, coefficients, dense_output=True) + intercept
        return scores.reshape(-1) if scores.ndim > 1 and scores.shape[1] == 1 else scores

    return run
