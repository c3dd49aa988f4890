"""The recipe of the agents that read numbers and categories (reconciliation, compliance,
insight): a feature dict per row, one-hot encoded, and small boosted trees."""
from __future__ import annotations

from typing import Any, Callable, ClassVar

from sklearn.pipeline import Pipeline

from modelops.agents.base import Agent
from modelops.agents.estimators import TREE_DEFAULTS, small_boosted_trees
from modelops.agents.features import dict_features


class TabularAgent(Agent):
    # rows -> one feature dict per row; NaN marks a missing value, which the trees route on
    features: ClassVar[Callable[[list[dict]], list[dict]]]

    def default_config(self) -> dict[str, Any]:
        return {**TREE_DEFAULTS, "random_state": 0}

    def make_estimator(self, config: dict[str, Any]) -> Pipeline:
        return Pipeline([("features", dict_features(self.features, sparse=False)),
                         ("model", small_boosted_trees(config))])
