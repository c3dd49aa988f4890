"""What every agent is: an input contract, a label reader, an estimator recipe and an output shape.

An agent holds no state: the fitted estimator is the model (a scikit-learn estimator whose ``X`` is
a list of validated input dicts), and the agent is the code that builds, reads and explains it.
The training pipeline calls ``validate_input`` and ``label`` on every feedback row, fits
``build_estimator(config)`` on what is left, and scores ``predict``; serving calls
``validate_input`` and ``predict``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class Prediction:
    label: Hashable  # comparable with what ``Agent.label`` reads from an expected_output
    output: dict[str, Any]  # the JSON the agent answers with
    confidence: float  # the model's probability of ``label``, in [0, 1]


class Agent(ABC):
    name: ClassVar[str]
    input_model: ClassVar[type[BaseModel]]
    # True where each tenant's labels are its own (a chart of accounts): a model learned from other
    # tenants' rows or from synthetic data cannot answer with them, so only the tenant's own serves.
    labels_are_tenants_own: ClassVar[bool] = False

    def validate_input(self, payload: Any) -> dict[str, Any]:
        """The payload as the model reads it (JSON types, declared fields only); a ValueError whose
        message starts with the first bad field's dotted path otherwise."""
        if not isinstance(payload, Mapping):
            raise ValueError(f"input_data: expected an object, got {type(payload).__name__}")
        try:
            return self.input_model.model_validate(payload).model_dump(mode="json")
        except ValidationError as error:
            raise ValueError(describe(error)) from None

    @abstractmethod
    def label(self, expected_output: Any) -> Hashable | None:
        """The training label an expected_output carries, or None when it carries none."""

    @abstractmethod
    def output(self, label: Hashable, confidence: float) -> dict[str, Any]:
        """The answer for a predicted label."""

    @abstractmethod
    def default_config(self) -> dict[str, Any]:
        """Every hyper-parameter and feature setting, JSON-ready (it is recorded with the version)."""

    def synthetic_config(self) -> dict[str, Any]:
        """The config of a model learned from synthetic rows (the global model): the default, but
        where a part pays only on real data."""
        return self.default_config()

    @abstractmethod
    def make_estimator(self, config: dict[str, Any]):
        """An unfitted estimator for a complete config."""

    def build_estimator(self, config: Mapping[str, Any] | None = None):
        """An unfitted estimator; ``config`` overrides some defaults, and an unknown key is an error
        (a misspelt hyper-parameter would otherwise train the default silently)."""
        defaults = self.default_config()
        unknown = sorted(set(config or {}) - set(defaults))
        if unknown:
            raise ValueError(f"unknown {self.name} config keys {unknown}; known: {sorted(defaults)}")
        return self.make_estimator({**defaults, **(config or {})})

    def predict(self, estimator, inputs: list[dict[str, Any]]) -> list[Prediction]:
        """One predict_proba call for the whole batch; each answer is the most probable label."""
        if not inputs:
            return []
        probabilities = estimator.predict_proba(inputs)
        classes = estimator.classes_.tolist()  # Python values, not numpy scalars: they go to JSON
        best = probabilities.argmax(axis=1)
        return [
            self._prediction(classes[column], float(row[column]))
            for row, column in zip(probabilities, best)
        ]

    def _prediction(self, label: Hashable, confidence: float) -> Prediction:
        return Prediction(label=label, output=self.output(label, confidence), confidence=confidence)


def text_label(expected_output: Any, key: str) -> str | None:
    """The non-empty string under ``key`` of an expected_output object; None for any other shape."""
    if isinstance(expected_output, Mapping):
        value = expected_output.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def flag_label(expected_output: Any, key: str) -> bool | None:
    """The boolean under ``key`` of an expected_output object; None for any other shape."""
    if isinstance(expected_output, Mapping) and isinstance(expected_output.get(key), bool):
        return expected_output[key]
    return None


def describe(error: ValidationError) -> str:
    """'field.path: message' for each problem, the first field leading (the pipeline counts skipped
    rows by it)."""
    problems = []
    for detail in error.errors():
        path = ".".join(str(part) for part in detail["loc"]) or "input_data"
        problems.append(f"{path}: {detail['msg']}")
    return "; ".join(problems)
