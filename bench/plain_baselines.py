"""The plain models the agents are benchmarked against, fitted on the same rows in the same run.

Each reads one document per row: the text fields of a text agent's input, or for any other input
its fields as ``key=value`` tokens (nested objects flattened, numbers rounded to two significant
digits so that an amount is a token that can recur).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC

TEXT_FIELDS = ("description", "merchant", "message")


def _tokens(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, Mapping):
        return [token for key, item in value.items() for token in _tokens(item, f"{prefix}{key}.")]
    if isinstance(value, list):
        return [token for item in value for token in _tokens(item, prefix)]
    if isinstance(value, float):
        value = f"{value:.2g}"
    return [f"{prefix[:-1]}={value}".replace(" ", "_")]


def document(row: dict) -> str:
    texts = [str(row[name]) for name in TEXT_FIELDS if row.get(name)]
    return " ".join(texts) if texts else " ".join(_tokens(row))


def word_tfidf_logistic():
    """TF-IDF of words + logistic regression, scikit-learn's defaults."""
    return make_pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression(max_iter=1_000))


def char_tfidf_logistic():
    """TF-IDF of character 2-5-grams within words + logistic regression."""
    return make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
                         LogisticRegression(max_iter=1_000))


def word_char_tfidf_svm():
    """TF-IDF of words and word pairs plus character 2-5-grams within words + a linear SVM."""
    return make_pipeline(make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
                         LinearSVC())


BASELINES = {"tfidf+LR": word_tfidf_logistic, "char tfidf+LR": char_tfidf_logistic,
             "word+char tfidf+SVM": word_char_tfidf_svm}
