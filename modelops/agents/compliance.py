"""Compliance: a payment -> a verdict, e.g. {"verdict": "missing_receipt"}.

Verdicts are "ok", "needs_review" or a violation type ("missing_receipt", "over_limit",
"duplicate_payment", "sanctioned_vendor", or any other a tenant's reviewers use); labels are read
from ``expected_output["verdict"]``. Facts that need the ledger's history arrive computed:
``days_since_same_payment`` is the number of days since the last payment of the same amount to
the same vendor (null when none in the last 90 days), ``approval_limit`` the limit of whoever
approved it.

Violations are rare (a few percent of payments each), so the trees are fitted with balanced
class weights: every class weighs as much in total as "ok", and a missed violation costs as much
as a false alarm on all the ok rows together. The probabilities are those of that reweighted
problem: they overstate rare classes, which is the intended bias for a reviewer's queue.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

from pydantic import Field

from modelops.agents.base import text_label
from modelops.agents.features import day, is_round
from modelops.agents.inputs import AgentInput, Count, Country, Currency, Money, Name, Text
from modelops.agents.tabular import TabularAgent


class ComplianceInput(AgentInput):
    vendor: Name
    description: Text = ""
    amount: Money
    currency: Currency
    date: dt.date
    category: Name | None = None
    has_receipt: bool | None = None
    approval_limit: Money | None = Field(default=None, gt=0)
    days_since_same_payment: Count | None = None
    vendor_country: Country | None = None


def compliance_features(rows: list[dict]) -> list[dict[str, Any]]:
    features = []
    for row in rows:
        amount, limit = abs(row["amount"]), row.get("approval_limit")
        receipt, repeat = row.get("has_receipt"), row.get("days_since_same_payment")
        features.append({
            "amount_log": math.log1p(amount),
            "limit_ratio": amount / limit if limit else math.nan,
            "has_receipt": math.nan if receipt is None else float(receipt),
            "days_since_same_payment": math.nan if repeat is None else float(repeat),
            "weekend": float(day(row["date"]).weekday() >= 5),
            "round": float(is_round(amount)),
            "vendor_country": row.get("vendor_country") or "unknown",
            "category": row.get("category") or "unknown",
            "currency": row["currency"],
        })
    return features


class ComplianceAgent(TabularAgent):
    name = "compliance"
    input_model = ComplianceInput
    features = staticmethod(compliance_features)

    def default_config(self) -> dict[str, Any]:
        # Leaves of 5 rows: a violation seen 10 times in training must be able to get a leaf of
        # its own; fewer, smaller trees keep the six-class model near 300 KB.
        return {**super().default_config(), "class_weight": "balanced", "min_samples_leaf": 5,
                "max_iter": 50, "max_leaf_nodes": 8, "learning_rate": 0.2}

    def label(self, expected_output: Any) -> str | None:
        return text_label(expected_output, "verdict")

    def output(self, label: str, confidence: float) -> dict[str, Any]:
        return {"verdict": label}
