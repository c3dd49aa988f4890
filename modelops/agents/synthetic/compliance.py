"""Synthetic payments and the verdicts a tenant's reviewers gave them.

The tenant's policy (``tenant_seed``): a receipt threshold, approval limits, a tolerance over a
limit, how often receipts are attached, and how often it pays foreign vendors. Verdicts follow the
policy in order of gravity (sanctioned vendor, duplicate, over limit, missing receipt, needs
review), and reviewers miss some violations and flag some clean payments: about 85% of rows are
"ok" and the rarest violation is well under 1%. ``drift`` lowers the receipt threshold (the
policy tightens: the label mapping moves) and brings more foreign vendors and duplicates.
"""
from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from modelops.agents.synthetic.common import noisy_choice, rows_rng, tenant_rng
from modelops.agents.synthetic.transactions import draw_transactions

VERDICTS = ("ok", "needs_review", "missing_receipt", "over_limit", "duplicate_payment", "sanctioned_vendor")
SANCTIONED = ("IR", "KP", "SY", "CU")
FOREIGN = ("MX", "IN", "CN", "FR", "NL", "PL", "BR", "PH", "AE", "SG")
HOME = {"USD": "US", "EUR": "DE", "GBP": "GB", "CAD": "CA"}
RECURRING = {"Software", "Rent", "Utilities", "Telecom", "Insurance", "Payroll"}
LEISURE = {"Meals", "Travel"}


@dataclass(frozen=True)
class Policy:
    receipt_threshold: float
    limits: tuple[float, ...]
    tolerance: float
    receipt_share: float
    foreign_share: float


@lru_cache(maxsize=64)
def policy(tenant_seed: int) -> Policy:
    rng = tenant_rng(tenant_seed, "compliance")
    limits = ((500.0, 1_000.0, 5_000.0), (1_000.0, 2_500.0, 10_000.0), (250.0, 2_000.0, 7_500.0))
    return Policy(
        receipt_threshold=float(rng.choice([25, 50, 75, 100])), limits=limits[int(rng.integers(len(limits)))],
        tolerance=float(rng.choice([1.0, 1.05, 1.1])), receipt_share=float(rng.uniform(0.7, 0.92)),
        foreign_share=float(rng.uniform(0.03, 0.08)),
    )


def compliance_rows(n: int, *, seed: int = 0, tenant_seed: int = 0, drift: float = 0.0,
                    noise: float = 0.01) -> list[tuple[dict, dict]]:
    """(input_data, {"verdict": ...})."""
    rules = policy(tenant_seed)
    draws = [draw for draw in draw_transactions(2 * n, seed=seed, tenant_seed=tenant_seed, drift=drift, purpose="compliance")
             if draw.input["direction"] == "debit"][:n]
    rng = rows_rng(seed, tenant_seed, "compliance")
    rows, verdicts = [], []
    for draw in draws:
        payment = _payment(rng, draw, rules, drift)
        verdict = _verdict(payment, draw.category, rules, drift, tenant_seed)
        if verdict != "ok" and rng.random() < 0.08:
            verdict = "ok"  # a reviewer missed it
        rows.append(payment)
        verdicts.append(verdict)
    verdicts = noisy_choice(rows_rng(seed, tenant_seed, "compliance-noise"), verdicts, list(VERDICTS), noise)
    return [(payment, {"verdict": verdict}) for payment, verdict in zip(rows, verdicts)]


def _payment(rng: np.random.Generator, draw, rules: Policy, drift: float) -> dict:
    amount = draw.input["amount"]
    higher = [limit for limit in rules.limits if limit >= amount]
    if not higher:
        limit = None if rng.random() < 0.9 else rules.limits[-1]  # the CFO signs big payments
    elif rng.random() < 0.95:
        limit = higher[0]
    else:
        limit = rules.limits[max(0, len(rules.limits) - len(higher) - 1)]  # an approver below the amount
    roll = rng.random()
    if roll < 0.015 + 0.03 * drift:
        repeat = int(rng.integers(0, 4))  # paid again within days
    elif draw.category in RECURRING and roll < 0.6:
        repeat = int(rng.integers(28, 32))  # this month's subscription
    else:
        repeat = None
    place = rng.random()
    foreign = rules.foreign_share * (1 + 2 * drift)
    if place < 0.006:
        country = str(rng.choice(SANCTIONED + ("RU",)))
    elif place < 0.006 + foreign:
        country = str(rng.choice(FOREIGN))
    else:
        country = HOME.get(draw.input["currency"], "US")
    receipt = None if rng.random() < 0.08 else bool(rng.random() < rules.receipt_share or draw.payment_method == "bill_pay")
    return {
        "vendor": draw.merchant or "Bank", "description": draw.input["description"], "amount": amount,
        "currency": draw.input["currency"], "date": draw.input["date"], "category": draw.category,
        "has_receipt": receipt, "approval_limit": limit, "days_since_same_payment": repeat, "vendor_country": country,
    }


def _verdict(payment: dict, category: str, rules: Policy, drift: float, tenant_seed: int) -> str:
    amount, country = payment["amount"], payment["vendor_country"]
    if country in SANCTIONED:
        return "sanctioned_vendor"
    if country == "RU":
        # Some Russian vendors are on the list and some are not: the reviewer looks them up.
        listed = zlib.crc32(f"{tenant_seed}:{payment['vendor']}".encode()) % 2 == 0
        return "sanctioned_vendor" if listed else "needs_review"
    repeat = payment["days_since_same_payment"]
    if repeat is not None and repeat <= 3:
        return "duplicate_payment"
    if payment["approval_limit"] is not None and amount > payment["approval_limit"] * rules.tolerance:
        return "over_limit"
    threshold = rules.receipt_threshold * (1 - 0.6 * drift)
    if payment["has_receipt"] is False and amount > threshold:
        return "missing_receipt"
    if payment["has_receipt"] is None and amount > 4 * threshold:
        return "needs_review"
    weekend = dt.date.fromisoformat(payment["date"]).weekday() >= 5
    if weekend and category in LEISURE and amount > 150:
        return "needs_review"
    if country not in HOME.values() and amount > 2_000:
        return "needs_review"
    return "ok"
