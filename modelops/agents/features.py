"""Feature extraction the agents share: functions over lists of validated input dicts.

They are module-level functions wrapped in ``FunctionTransformer``, so a fitted pipeline pickles
them by reference: an artifact holds parameters, not code.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache, partial
from typing import Any, Iterable

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
# Words are runs of letters: card numbers, store numbers and references differ on every row and
# would fill a bounded vocabulary with one-off tokens.
_WORD = re.compile(r"(?u)\b[^\W\d_]{2,}\b")
# Reference-like tokens: optional letters, then four or more digits that may be split by dashes or
# slashes (INV-2024-0183, PO 88123, 2024/0183).
_REFERENCE = re.compile(r"[A-Za-z]*[-/ #]?\d[\d\-/]{2,}\d")


def normalise(text: str) -> str:
    """Lower case, every digit run as one 0, single spaces: what varies per row is flattened."""
    return _SPACES.sub(" ", _DIGITS.sub("0", text.lower())).strip()


def field_text(rows: Iterable[dict], fields: list[str]) -> list[str]:
    """The named string fields of each row, joined and normalised: one document per row.

    The same text as ``normalise`` of the fields joined by spaces: no step of it reaches across the
    space between two fields (a digit run, a run of spaces, a final sigma's lower case all end
    there), so each field is normalised alone and the non-empty ones joined. Alone, a field's
    normal form is kept: merchants and descriptions repeat, and an agent reads the same field into
    two documents (its words and its characters)."""
    documents = []
    for row in rows:
        parts = [_normalised_field(str(row.get(name) or "")) for name in fields]
        documents.append(" ".join([part for part in parts if part]))
    return documents


@lru_cache(maxsize=1 << 12)
def _normalised_field(text: str) -> str:
    return normalise(text)


def day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def magnitude_band(amount: float) -> str:
    """Amounts by powers of two: a linear model gets "rent-sized" and "coffee-sized" as categories."""
    return str(int(math.log2(abs(amount) + 1)))


def is_round(amount: float) -> bool:
    """Whole tens: rent, payroll, transfers and deposits; card purchases rarely are."""
    return abs(amount) >= 10 and float(abs(amount)) % 10 == 0


def month_part(date: dt.date) -> str:
    return "start" if date.day <= 5 else "end" if date.day >= 25 else "middle"


def transaction_traits(rows: Iterable[dict]) -> list[dict[str, str]]:
    """The non-text facts of a transaction, as categories for a DictVectorizer."""
    traits = []
    for row in rows:
        date = day(row["date"])
        traits.append({
            "direction": row["direction"],
            "currency": row["currency"],
            "magnitude": magnitude_band(row["amount"]),
            "round": str(is_round(row["amount"])),
            "weekday": str(date.weekday()),
            "month_part": month_part(date),
        })
    return traits


def word_ngrams(document: str, sizes: tuple[int, int]) -> list[str]:
    """Words and runs of ``sizes[0]`` to ``sizes[1]`` words, as scikit-learn's "word" analyzer."""
    words = _WORD.findall(document)
    grams = list(words) if sizes[0] == 1 else []
    for n in range(max(2, sizes[0]), sizes[1] + 1):
        grams.extend(" ".join(words[start:start + n]) for start in range(len(words) - n + 1))
    return grams


def char_ngrams_of_words(document: str, sizes: tuple[int, int]) -> list[str]:
    """Character n-grams of each space-padded word (scikit-learn's "char_wb"), computed once per
    distinct word: statements repeat the same few hundred words, so a million rows cost a
    million dictionary look-ups rather than a hundred million string slices."""
    grams: list[str] = []
    for word in document.split():
        grams.extend(_word_ngrams(word, sizes))
    return grams


@lru_cache(maxsize=1 << 15)
def _word_ngrams(word: str, sizes: tuple[int, int]) -> tuple[str, ...]:
    padded = f" {word} "
    return tuple(padded[start:start + n] for n in range(sizes[0], sizes[1] + 1)
                 for start in range(len(padded) - n + 1))


def text_features(config: dict, word_fields: list[str], char_fields: list[str]) -> list[tuple[str, Any]]:
    """FeatureUnion parts: TF-IDF of words (and word pairs) plus character n-grams within words,
    each vocabulary bounded by ``max_*_features`` and ``min_df``: the char n-grams carry misspelt
    and truncated merchant names ("AMZN MKTP", "AMAZON.COM") that share no whole word.

    Both analyzers are functions of ours rather than scikit-learn's built-in ones: the built-in
    word analyzer stores ``id(stop_words)`` on the vectoriser, a memory address that differs
    between processes, and two workers fitting the same data would write different bytes."""
    def tfidf(fields: list[str], **options) -> Any:
        return make_pipeline(
            FunctionTransformer(field_text, kw_args={"fields": fields}),
            TfidfVectorizer(min_df=config["min_df"], sublinear_tf=True, dtype=np.float32, **options),
        )

    return [
        ("words", tfidf(word_fields, analyzer=partial(word_ngrams, sizes=tuple(config["word_ngrams"])),
                        max_features=config["max_word_features"])),
        ("chars", tfidf(char_fields, analyzer=partial(char_ngrams_of_words, sizes=tuple(config["char_ngrams"])),
                        max_features=config["max_char_features"])),
    ]


def dict_features(function, sparse: bool = True) -> Any:
    """``function`` turns rows into feature dicts; string values become one-hot columns."""
    return make_pipeline(FunctionTransformer(function), DictVectorizer(sparse=sparse, dtype=np.float32))


def trigrams(text: str) -> set[str]:
    """The character trigrams of a normalised text: a similarity robust to truncation and order."""
    padded = f" {normalise(text)} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def jaccard(left: set, right: set) -> float:
    return len(left & right) / len(left | right) if left and right else 0.0


def references(text: str) -> set[str]:
    """Reference numbers in a text, by their digits: "INV-2024-0183" and "inv 20240183" agree."""
    return {re.sub(r"\D", "", token) for token in _REFERENCE.findall(text or "")}
