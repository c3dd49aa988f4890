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
itself, and a union of sparse parts is joined by a few array operations (``joined``) rather than
scipy's block machinery: each, like the rest, to the same entries in the same stored order. The
agents' pipelines never ask for DataFrame output (``set_output``), under which a union joins its
parts otherwise.

These leaves hand the union plain arrays (``Rows``), not scipy matrices: the union normalises
every part's rows at once (``normalised``), joins them, and one checked scipy matrix is built for
the model. A one-row call built four before, and with the join they were half of its time.

Two more steps skip only scikit-learn's checks of their input, whose features the pipeline itself
has just made: the TF-IDF weighting of the counts (each vectoriser's fitted idf and norm, applied in
place by the same operations as ``TfidfTransformer.transform``, and normalised by its routine or,
for a single float32 row, by the same IEEE operations, ``_unit_row``), and
the linear models' scores (``decision_function``'s product and intercept), under the agents'
calibration wrappers. Five input checks per model call, each looking for dataframe libraries, cost
a millisecond of a call's 1.6; and single requests from many tenants make batches of one model call
per tenant (bench/bench_serving.py --steps profile).
"""
from __future__ import annotations

import math
from array import array
from functools import partial
from itertools import accumulate
from operator import itemgetter
from numbers import Number
from typing import Any, Callable, NamedTuple

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
        self._features = _sequence([step for _, step in pipeline.steps[:-1]])
        self.model = pipeline.steps[-1][1]
        self.probabilities = _probabilities(self.model)
        self.classes_ = pipeline.classes_

    def features(self, inputs) -> Any:
        """What the pipeline's steps before the model make of ``inputs``: a scipy matrix where they make one."""
        return materialised(self._features(inputs))

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
            X = transform(materialised(X))  # a step is given what the pipeline would give it
        return X

    return run


def _union(union: FeatureUnion) -> Transform:
    transforms = [_transform(part) for _, part in union.transformer_list if part != "drop"]

    def run(X):
        # joined as the union joins them when no output container is configured (set_output)
        parts = [transform(X) for transform in transforms]
        if all(isinstance(part, Rows) or (sparse.issparse(part) and part.format == "csr") for part in parts):
            return joined(normalised([part if isinstance(part, Rows) else rows_of(part) for part in parts]))
        parts = [materialised(part) for part in parts]
        return sparse.hstack(parts).tocsr() if any(sparse.issparse(part) for part in parts) else np.hstack(parts)

    return run


class Rows(NamedTuple):
    """Sparse rows before they are a scipy matrix: each row's entries (column, value) in stored
    order, one row after another, and the normalisation of each row still due (``norm``).

    The leaves of a union make them, the union normalises and joins them, and a call builds one
    checked scipy matrix at the end. Built at every step, the matrices and their checks were much
    of a one-row classification call: four constructions of 17-25 µs each and a join of 115 µs, in
    a call of 480 µs (one model, one request, CPU medians in one process)."""
    data: np.ndarray
    indices: np.ndarray
    lengths: np.ndarray  # entries per row
    width: int  # columns
    norm: str | None = None  # "l1", "l2" or None (nothing due)

    def having(self, data: np.ndarray, norm: str | None = None) -> "Rows":
        """The same entries with the values ``data``, and ``norm`` due."""
        return Rows(data, self.indices, self.lengths, self.width, norm)


def rows_of(matrix) -> Rows:
    return Rows(matrix.data, matrix.indices, np.diff(matrix.indptr), matrix.shape[1])


def materialised(X: Any) -> Any:
    """``X`` as a CSR matrix if it is Rows (normalised first if that is due), else as it is."""
    if not isinstance(X, Rows):
        return X
    X = normalised([X])[0]
    # 32-bit indices where they fit, as scipy would make them (given 64-bit ones, it checks and copies)
    index_type = np.int32 if max(X.width, len(X.data)) <= np.iinfo(np.int32).max else np.int64
    if len(X.lengths) == 1:
        indptr = np.array([0, len(X.data)], dtype=index_type)
    else:
        indptr = np.zeros(len(X.lengths) + 1, dtype=index_type)
        np.cumsum(X.lengths, out=indptr[1:])
    return sparse.csr_array((X.data, X.indices.astype(index_type, copy=False), indptr), shape=(len(X.lengths), X.width))


def normalised(parts: list[Rows]) -> list[Rows]:
    """The parts with each row normalised as ``TfidfTransformer`` normalises it: a single float32 row to
    unit length by ``_unit_row`` (a single request's TF-IDF), any other by scikit-learn's own in-place
    routine, every part due the same norm and of the same type in one call, its rows stacked as the
    rows of one matrix (a row's norm involves that row alone)."""
    due: dict[tuple, list[int]] = {}
    parts = list(parts)
    for position, part in enumerate(parts):
        if part.norm == "l2" and part.data.dtype == np.float32 and len(part.lengths) == 1:
            parts[position] = _unit_row(part)
        elif part.norm is not None:
            due.setdefault((part.norm, part.data.dtype), []).append(position)
    for (norm, _), positions in due.items():
        members = [parts[position] for position in positions]
        lengths = np.concatenate([part.lengths for part in members])
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        stacked = sparse.csr_array((np.concatenate([part.data for part in members]), np.concatenate([part.indices for part in members]),
                                    indptr), shape=(len(lengths), max(part.width for part in members)))
        NORMALISED[norm](stacked)
        start = 0
        for position, part in zip(positions, members):
            parts[position] = part.having(stacked.data[start:start + len(part.data)])
            start += len(part.data)
    return parts


def _unit_row(part: Rows) -> Rows:
    """One float32 row divided by its Euclidean length, to the same bits as scikit-learn's
    ``inplace_csr_row_normalize_l2``, whose call on a matrix built for it (a checked scipy
    construction) was a sixth of a one-row classification call. That routine squares each value in
    float32, adds the squares in double one after another in stored order, takes the square root,
    leaves a row whose sum is 0 as it is, and divides each value by the root in double, rounded
    back to float32: here the same IEEE operations, the sum in Python's double. (A float product
    cannot be fused into a double sum, so no compiler's choice can make the two differ;
    tests/unit/test_serving_compiled.py compares them on every agent's rows.)"""
    total = 0.0
    for square in (part.data * part.data).tolist():
        total += square
    if total == 0.0:
        return part.having(part.data)
    return part.having((part.data.astype(np.float64) / math.sqrt(total)).astype(np.float32))


def joined(parts: list[Rows]) -> Rows:
    """Parts of the same rows side by side, as ``sparse.hstack(parts).tocsr()`` joins them: each
    row holds the entries of the first part's row, then the second's, ..., each in its own order,
    the columns of a part shifted past those of the parts before it.

    The parts' entries are laid one part after another; each (part, row) run of entries then moves
    by how far its start is, in that order, from its start one row after another: a few array
    operations for any number of rows and parts."""
    if len(parts) == 1:
        return parts[0]
    widths = [part.width for part in parts]
    data = np.concatenate([part.data for part in parts])
    indices = np.concatenate([part.indices for part in parts]).astype(np.int64)
    indices += np.repeat(list(accumulate(widths[:-1], initial=0)), [len(part.indices) for part in parts])
    if len(parts[0].lengths) == 1:  # one row: the parts' entries are already in its order
        return Rows(data, indices, np.array([len(data)]), sum(widths))
    runs = np.stack([part.lengths for part in parts])  # (part, row): entries of each run
    by_part = np.cumsum(runs.ravel()) - runs.ravel()  # each run's start, parts one after another
    by_row = (np.cumsum(runs.T.ravel()) - runs.T.ravel()).reshape(runs.shape[::-1]).T.ravel()  # rows one after another
    at = np.arange(len(data)) + np.repeat(by_row - by_part, runs.ravel())
    data[at], indices[at] = data.copy(), indices.copy()
    return Rows(data, indices, runs.sum(axis=0), sum(widths))


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
    # each word's columns as the bytes of C ints: bytes, unlike arrays, are no work for the cyclic
    # collector, which would otherwise walk every word kept by every model at each full collection
    known: dict[str, bytes] = {}

    def columns(word: str) -> bytes:
        found = known.get(word)
        if found is None:
            if len(known) >= WORDS_KEPT:
                known.clear()
            found = known[word] = array("i", [vocabulary[gram] for gram in char_ngrams_of_words(word, sizes)
                                              if gram in vocabulary]).tobytes()
        return found

    def add(document: str, found: array) -> None:
        for word in document.split():
            found.frombytes(columns(word))

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
        # the count matrix CountVectorizer builds: per row, each n-gram's count, columns in order
        found, lengths = array("i"), []
        for document in documents:
            before = len(found)
            add_columns(document, found)
            lengths.append(len(found) - before)
        columns = np.frombuffer(found, dtype=np.intc)
        if len(lengths) == 1:  # (a single request) numpy sorts and counts one row's n-grams in half scipy's time
            columns, counts = np.unique(columns, return_counts=True)
            counted = Rows(counts.astype(vectorizer.dtype), columns.astype(np.intc), np.array([len(columns)]), width)
        else:  # scipy sorts each row's and sums the repeats (row by row: half the time of sorting the batch's as one array)
            indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
            np.cumsum(lengths, out=indptr[1:])
            matrix = sparse.csr_array((np.ones(len(found), dtype=vectorizer.dtype), columns, indptr), shape=(len(lengths), width))
            matrix.sum_duplicates()
            counted = rows_of(matrix)
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
    known: dict[tuple, tuple[bytes, tuple]] = {}  # (immutable, so no work for the cyclic collector)

    def columns_of(row: dict) -> tuple[bytes, tuple] | None:
        """The row's (columns as the bytes of C ints, values) in column order (a column named twice
        keeps the row's order), or None if a value is neither a string nor a number."""
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
        return array("i", [column for column, _ in found]).tobytes(), tuple(value for _, value in found)

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
            columns.frombytes(entry[0])
            values.extend(entry[1])
            lengths.append(len(entry[1]))
        return Rows(np.asarray(values, dtype=dtype), np.frombuffer(columns, dtype=np.intc), np.asarray(lengths, dtype=np.int64), width)

    return run


NORMALISED = {None: None, "l1": inplace_csr_row_normalize_l1, "l2": inplace_csr_row_normalize_l2}


def _weighs_as_known(vectorizer: TfidfVectorizer) -> bool:
    """A norm this module applies, to counts of a float type the weighting keeps."""
    return vectorizer.norm in NORMALISED and np.dtype(vectorizer.dtype) in (np.float64, np.float32)


def _tfidf(vectorizer: TfidfVectorizer) -> Transform:
    """A fitted TF-IDF vectoriser: its own counting (CountVectorizer's), then the weighting."""
    weighting = _weighting(vectorizer)
    return lambda documents: weighting(rows_of(CountVectorizer.transform(vectorizer, documents)))


def _weighting(vectorizer: TfidfVectorizer) -> Callable[[Rows], Rows]:
    """``TfidfTransformer.transform`` of counts of the vectoriser's own float type, in place: the
    same operations in the same order, without its input checks. The rows' normalisation is left
    due (``normalised``), to be done with the other parts' at once."""
    idf = vectorizer.idf_ if vectorizer.use_idf else None
    sublinear = vectorizer.sublinear_tf

    def run(counts: Rows) -> Rows:
        values = counts.data  # changed in place
        if sublinear:
            np.log(values, values)
            values += 1.0
        if idf is not None:
            values *= idf[counts.indices]
        return counts.having(values, vectorizer.norm)

    return run


def _transformer_weighting(vectorizer: TfidfVectorizer) -> Transform:
    """The weighting by scikit-learn's own ``TfidfTransformer``, given the vectoriser's fitted idf."""
    weighting = TfidfTransformer(norm=vectorizer.norm, use_idf=vectorizer.use_idf, smooth_idf=vectorizer.smooth_idf,
                                 sublinear_tf=vectorizer.sublinear_tf)
    if vectorizer.use_idf:
        weighting.idf_ = vectorizer.idf_
    weighting.n_features_in_ = len(vectorizer.vocabulary_)
    return lambda counts: weighting.transform(materialised(counts), copy=False)


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
