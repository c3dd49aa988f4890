"""Chat: a user's support message -> its intent, e.g. {"intent": "card_arrival"}.

Input ``{"message": ...}``; labels are read from ``expected_output["intent"]``. Customer messages
are short, misspelt and phrased many ways, so the vocabularies are larger than for bank descriptors,
single characters count (a "?" marks a question), and training runs more epochs (ten thousand
messages take seconds).
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from modelops.agents.base import text_label
from modelops.agents.inputs import AgentInput
from modelops.agents.text_classifier import TextClassifierAgent


class ChatInput(AgentInput):
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4_000)]


class ChatAgent(TextClassifierAgent):
    name = "chat"
    input_model = ChatInput
    word_fields = ["message"]
    char_fields = ["message"]

    def default_config(self) -> dict[str, Any]:
        return {**super().default_config(), "char_ngrams": [1, 4], "max_word_features": 8_000,
                "max_char_features": 30_000, "max_iter": 50, "tol": 1e-4, "n_iter_no_change": 3}

    def label(self, expected_output: Any) -> str | None:
        return text_label(expected_output, "intent")

    def output(self, label: str, confidence: float) -> dict[str, Any]:
        return {"intent": label}
