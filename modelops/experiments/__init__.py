"""A/B tests: sticky traffic split, sample size, sequential two-proportion test, split check and
the decision of each look (pure logic: callers own storage and scheduling)."""
from modelops.experiments.assignment import CONTROL, TREATMENT, assign
from modelops.experiments.config import ABTestConfig
from modelops.experiments.decision import (
    CONTINUE, PROMOTE, REJECT, STOP_SRM, ABCounts, Decision, Look, VariantCounts, evaluate,
)
from modelops.experiments.sample_size import SamplePlan, plan_sample_size

__all__ = [
    "CONTROL", "TREATMENT", "assign", "ABTestConfig", "CONTINUE", "PROMOTE", "REJECT", "STOP_SRM",
    "ABCounts", "Decision", "Look", "VariantCounts", "evaluate", "SamplePlan", "plan_sample_size",
]
