"""The recipe of the agents that read text (classification, journal, chat): bounded TF-IDF of
words and character n-grams, optional one-hot traits, optional pretrained sentence vectors (chat),
and a calibrated linear model (an SVM, or logistic regression by SGD above ``svm_max_rows`` rows)."""
from __future__ import annotations

from typing import Any, Callable, ClassVar

from sklearn.pipeline import FeatureUnion, Pipeline

from modelops.agents.base import Agent
from modelops.agents.estimators import LINEAR_DEFAULTS, calibrated_linear
from modelops.agents.features import dict_features, text_features
from modelops.agents.sentence_encoder import SentenceEmbeddings

TEXT_DEFAULTS = {"word_ngrams": [1, 2], "char_ngrams": [3, 4], "min_df": 1,
                 "max_word_features": 5_000, "max_char_features": 15_000}


class TextClassifierAgent(Agent):
    word_fields: ClassVar[list[str]]
    char_fields: ClassVar[list[str]]
    # rows -> feature dicts for the non-text fields, or None when the text is all there is
    traits: ClassVar[Callable[[list[dict]], list[dict]] | None] = None
    # fields whose meaning a pretrained sentence encoder reads (config: sentence_weight, 0 for none,
    # and sentence_max_rows)
    sentence_fields: ClassVar[list[str]] = []

    def default_config(self) -> dict[str, Any]:
        return {**TEXT_DEFAULTS, **LINEAR_DEFAULTS, "random_state": 0}

    def synthetic_config(self) -> dict[str, Any]:
        # Synthetic messages are templates whose wording the n-grams hold: on synthetic chat rows the
        # sentence vectors change nothing (0.959 against 0.960) and cost 12 ms of CPU a message, about
        # 80 s of a global model's training.
        config = self.default_config()
        return {**config, "sentence_weight": 0} if self.sentence_fields else config

    def make_estimator(self, config: dict[str, Any]) -> Pipeline:
        parts = text_features(config, self.word_fields, self.char_fields)
        if self.traits is not None:
            parts.append(("traits", dict_features(self.traits)))
        if self.sentence_fields and config["sentence_weight"]:
            parts.append(("sentences", SentenceEmbeddings(self.sentence_fields, config["sentence_weight"],
                                                          config["sentence_max_rows"])))
        return Pipeline([("features", FeatureUnion(parts)), ("model", calibrated_linear(config))])
