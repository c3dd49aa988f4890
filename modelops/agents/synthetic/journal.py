"""Synthetic journal entries: the tenant's transactions posted to its own chart of accounts.

Each tenant numbers its expense accounts its own way (5000s, 6000s or 7000s, in steps of 10 or
100), may merge categories into one account (Meals into Travel & Entertainment), and has its own
bank, card, payables and petty-cash accounts. A debit posts the expense against the account that
paid it; a credit posts the bank against revenue, interest, owner's equity, or (a refund) the
expense account the purchase was posted to. ``drift`` moves a growing share of card postings to a
new company card's account and of expense categories to a new "Other operating expenses" account.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from modelops.agents.synthetic.common import noisy_choice, rows_rng, tenant_rng
from modelops.agents.synthetic.merchants import CATEGORIES
from modelops.agents.synthetic.transactions import draw_transactions

INCOME_ACCOUNTS = {"Revenue": "4000", "Interest": "4900", "Transfers": "3000"}
NEW_CARD_ACCOUNT, REORGANISED_ACCOUNT = "2110", "6990"


@dataclass(frozen=True)
class Chart:
    expense: dict  # category -> account
    method: dict  # payment method -> the account that pays
    drift_threshold: dict  # category -> drift above which it moves to REORGANISED_ACCOUNT


@lru_cache(maxsize=64)
def chart_of_accounts(tenant_seed: int) -> Chart:
    rng = tenant_rng(tenant_seed, "chart")
    base, step = int(rng.choice([5000, 6000, 7000])), int(rng.choice([10, 100]))
    expenses = [c.name for c in CATEGORIES if c.direction == "debit"]
    order = rng.permutation(len(expenses))
    expense = {expenses[i]: str(base + step * (rank + 1)) for rank, i in enumerate(order)}
    if rng.random() < 0.4:
        expense["Meals"] = expense["Travel"]
    if rng.random() < 0.3:
        expense["Telecom"] = expense["Utilities"]
    method = {"card": str(rng.choice(["2100", "2150"])), "bank_transfer": str(rng.choice(["1200", "1010"])),
              "bill_pay": "2000", "petty_cash": str(rng.choice(["1000", "1050"]))}
    return Chart(expense=expense, method=method, drift_threshold={name: float(rng.random()) for name in expenses})


def journal_rows(n: int, *, seed: int = 0, tenant_seed: int = 0, drift: float = 0.0,
                 noise: float = 0.03) -> list[tuple[dict, dict]]:
    """(input_data, {"debit_account": ..., "credit_account": ...}); the payment method is given on
    70% of rows (the rest must be read from the descriptor)."""
    chart = chart_of_accounts(tenant_seed)
    draws = draw_transactions(n, seed=seed, tenant_seed=tenant_seed, drift=drift, purpose="journal")
    rng = rows_rng(seed, tenant_seed, "journal")
    moved, told = rng.random(n) < 0.5 * drift, rng.random(n) < 0.7
    pairs = []
    for i, draw in enumerate(draws):
        bank = chart.method["bank_transfer"]
        if draw.input["direction"] == "credit":
            credit = INCOME_ACCOUNTS.get(draw.category) or _expense(chart, draw.purchase_category, drift)
            pairs.append(f"{bank}|{credit}")
        else:
            paid_by = NEW_CARD_ACCOUNT if draw.payment_method == "card" and moved[i] else chart.method[draw.payment_method]
            pairs.append(f"{_expense(chart, draw.category, drift)}|{paid_by}")
    labels = noisy_choice(rows_rng(seed, tenant_seed, "journal-noise"), pairs, sorted(set(pairs)), noise)
    rows = []
    for draw, label, method_given in zip(draws, labels, told):
        debit, credit = label.split("|")
        data = {**draw.input, "payment_method": draw.payment_method} if method_given else dict(draw.input)
        rows.append((data, {"debit_account": debit, "credit_account": credit}))
    return rows


def _expense(chart: Chart, category: str, drift: float) -> str:
    if chart.drift_threshold.get(category, 1.0) < 0.4 * drift:
        return REORGANISED_ACCOUNT
    return chart.expense.get(category, chart.expense["Office Supplies"])
