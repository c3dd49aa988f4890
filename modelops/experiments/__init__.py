"""A/B tests: sticky traffic split, sample size, sequential comparison of accuracy by key, split and
label-rate checks, segment guardrails and the decision of each look (pure logic: callers own
storage and scheduling)."""
from modelops.experiments.assignment import CONTROL, TREATMENT, assign
from modelops.experiments.config import ABTestConfig
from modelops.experiments.decision import (
    CONTINUE, INCONCLUSIVE, PROMOTE, REJECT, STOP_LABEL_RATE, STOP_SRM, ABCounts, Decision, KeySums, Look,
    VariantCounts, evaluate,
)
from modelops.experiments.sample_size import SamplePlan, plan_sample_size

__all__ = [
    "CONTROL", "TREATMENT", "assign", "ABTestConfig", "CONTINUE", "INCONCLUSIVE", "PROMOTE", "REJECT",
    "STOP_LABEL_RATE", "STOP_SRM", "ABCounts", "Decision", "KeySums", "Look", "VariantCounts", "evaluate", "SamplePlan", "plan_sample_size",
]
