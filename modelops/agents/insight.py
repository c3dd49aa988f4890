"""Insight: will users find an insight useful? {"useful": true, "probability": 0.81}.

Input: the insight's ``kind`` (e.g. "spending_spike", "cash_flow_warning"), ``magnitude`` (the
relative size of what it reports: 0.35 for +35%), optional ``amount`` (money at stake),
``period`` it covers, the tenant's ``tenant_size``, and ``similar_shown_before`` (how many of the
same kind this user has already been shown: insights tire). Labels are read from
``expected_output["useful"]`` (a boolean). ``probability`` is the model's P(useful); the
prediction's confidence is the probability of the answer given, max(p, 1 - p).
"""
from __future__ import annotations

import math
from typing import Any, Literal

from modelops.agents.base import flag_label
from modelops.agents.inputs import AgentInput, Count, Money, Name
from modelops.agents.tabular import TabularAgent


class InsightInput(AgentInput):
    kind: Name
    magnitude: Money
    amount: Money | None = None
    period: Literal["day", "week", "month", "quarter", "year"]
    tenant_size: Literal["micro", "small", "medium", "large", "enterprise"]
    similar_shown_before: Count = 0


def insight_features(rows: list[dict]) -> list[dict[str, Any]]:
    return [{
        "kind": row["kind"],
        "period": row["period"],
        "tenant_size": row["tenant_size"],
        "magnitude_log": math.copysign(math.log1p(abs(row["magnitude"])), row["magnitude"]),
        "amount_log": math.nan if row.get("amount") is None else math.log1p(abs(row["amount"])),
        "similar_shown_before": float(row["similar_shown_before"]),
    } for row in rows]


class InsightAgent(TabularAgent):
    name = "insight"
    input_model = InsightInput
    features = staticmethod(insight_features)

    def label(self, expected_output: Any) -> bool | None:
        return flag_label(expected_output, "useful")

    def output(self, label: bool, confidence: float) -> dict[str, Any]:
        return {"useful": label, "probability": confidence if label else 1.0 - confidence}
