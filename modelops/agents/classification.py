"""Classification: a transaction -> its bookkeeping category, e.g. {"category": "Software"}.

Input fields and the output key are a public contract (``description``, ``merchant``, ``amount``,
``currency``, ``direction``, ``date`` -> ``category``). Labels are read from
``expected_output["category"]``.
"""
from __future__ import annotations

from typing import Any

from modelops.agents.base import text_label
from modelops.agents.features import transaction_traits
from modelops.agents.inputs import Transaction
from modelops.agents.text_classifier import TextClassifierAgent


class ClassificationAgent(TextClassifierAgent):
    name = "classification"
    input_model = Transaction
    word_fields = ["description", "merchant"]
    char_fields = ["merchant", "description"]
    traits = staticmethod(transaction_traits)

    def label(self, expected_output: Any) -> str | None:
        return text_label(expected_output, "category")

    def output(self, label: str, confidence: float) -> dict[str, Any]:
        return {"category": label}
