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
is called through its own ``transform``, wrappers and all. The agents' pipelines never ask for
DataFrame output (``set_output``), under which a union joins its parts otherwise.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from scipy import sparse
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

Transform = Callable[[Any], Any]


class CompiledPipeline:
    """A fitted classification pipeline's ``predict_proba`` and ``classes_``, without the wrappers."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline  # the fitted object, kept as it is (its steps are shared, not copied)
        self.features = _sequence([step for _, step in pipeline.steps[:-1]])
        self.model = pipeline.steps[-1][1]
        self.classes_ = pipeline.classes_

    def predict_proba(self, inputs) -> Any:
        return self.model.predict_proba(self.features(inputs))


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
        return sparse.hstack(parts).tocsr() if any(sparse.issparse(part) for part in parts) else np.hstack(parts)

    return run
