"""Synthetic bank and card transactions of one tenant, with the truth behind each.

A tenant (``tenant_seed``) has its own category mix, its own subset of merchants, books some
ambiguous merchants under another category, pays through its own mix of card / bank transfer /
bill pay / petty cash, and its bank prints descriptors in its own way. ``drift`` in [0, 1] brings
in merchants the tenant never used, inflates amounts, and rebooks a growing share of merchants
under another category (a chart-of-accounts reorganisation): the input distribution and the
label mapping both move.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from modelops.agents.synthetic.common import START, check_drift, codes, noisy_choice, rows_rng, tenant_rng
from modelops.agents.synthetic.merchants import (
    CARD_WRAPPERS, CATEGORIES, CITIES, CREDIT_WRAPPERS, MERCHANTS, NEW_MERCHANTS, TRANSFER_WRAPPERS, Merchant,
)

PAYMENT_METHODS = ("card", "bank_transfer", "bill_pay", "petty_cash")
# Typical payment-method mix per category (card, bank transfer, bill pay, petty cash).
METHOD_MIX = {
    "Software": (0.85, 0.1, 0.05, 0), "Travel": (0.9, 0.05, 0.03, 0.02), "Meals": (0.8, 0, 0, 0.2),
    "Rent": (0, 0.6, 0.4, 0), "Utilities": (0.2, 0.6, 0.2, 0), "Payroll": (0, 1, 0, 0),
    "Office Supplies": (0.85, 0, 0.05, 0.1), "Advertising": (0.7, 0.1, 0.2, 0),
    "Professional Services": (0.1, 0.3, 0.6, 0), "Insurance": (0.1, 0.7, 0.2, 0), "Bank Fees": (0, 1, 0, 0),
    "Taxes": (0, 0.9, 0.1, 0), "Telecom": (0.4, 0.5, 0.1, 0), "Shipping": (0.8, 0.05, 0.1, 0.05),
    "Equipment": (0.7, 0.1, 0.2, 0),
}
CREDIT_MIX = (0, 1, 0, 0)
# Where a drifting tenant rebooks a category.
DRIFT_TARGET = {"Meals": "Travel", "Software": "Professional Services", "Office Supplies": "Equipment",
                "Telecom": "Utilities", "Shipping": "Office Supplies", "Advertising": "Professional Services"}
CURRENCIES = ("USD", "USD", "USD", "EUR", "GBP", "CAD")


@dataclass(frozen=True)
class Draw:
    input: dict  # the classification agent's input_data
    merchant: str  # who was paid, even when the feed does not say
    category: str  # how the tenant books it
    payment_method: str
    purchase_category: str  # for a refund, the category of what was bought; else the category


@dataclass(frozen=True)
class TransactionTenant:
    currency: str
    category_weights: np.ndarray
    merchants: tuple[tuple[Merchant, ...], ...]  # per category, the merchants this tenant uses
    booking: dict  # (merchant name, category) -> category this tenant books it under
    drift_threshold: dict  # (merchant name, category) -> drift above which it is rebooked
    method_mix: np.ndarray  # per category, cumulative probabilities over PAYMENT_METHODS
    wrappers: dict  # payment method -> the descriptor wrappers of this tenant's bank
    merchant_share: float  # how often the feed names the merchant
    amount_scale: float


@lru_cache(maxsize=64)
def tenant_profile(tenant_seed: int) -> TransactionTenant:
    rng = tenant_rng(tenant_seed, "transactions")
    weights = np.array([c.weight for c in CATEGORIES]) * rng.gamma(2.0, 0.5, len(CATEGORIES))
    weights[rng.random(len(CATEGORIES)) < 0.12] = 0.0  # some tenants never book some categories
    weights /= weights.sum()
    merchants, booking, threshold = [], {}, {}
    for category in CATEGORIES:
        pool = [m for m in MERCHANTS if m.category == category.name]
        kept = [m for m in pool if rng.random() < 0.75] or pool[:1]
        merchants.append(tuple(kept))
        for m in kept:
            moves = m.alternative is not None and rng.random() < 0.35
            booking[(m.name, category.name)] = m.alternative if moves else category.name
            threshold[(m.name, category.name)] = float(rng.random())
    mix = np.array([METHOD_MIX.get(c.name, CREDIT_MIX) for c in CATEGORIES], dtype=float)
    mix = mix * rng.gamma(4.0, 0.25, mix.shape)
    mix = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)
    wrappers = {
        "card": tuple(rng.choice(CARD_WRAPPERS, size=3, replace=False)),
        "bank_transfer": tuple(rng.choice(TRANSFER_WRAPPERS, size=2, replace=False)),
        "bill_pay": ("BILL PAY {d} INV {ref}", "BILLPAY {d}"),
        "petty_cash": ("PETTY CASH {d}", "CASH RECEIPT {d}"),
        "credit": tuple(rng.choice(CREDIT_WRAPPERS, size=2, replace=False)),
    }
    return TransactionTenant(
        currency=str(rng.choice(CURRENCIES)), category_weights=weights, merchants=tuple(merchants),
        booking=booking, drift_threshold=threshold, method_mix=mix, wrappers=wrappers,
        merchant_share=float(rng.uniform(0.4, 0.95)), amount_scale=float(rng.lognormal(0, 0.3)),
    )


def draw_transactions(n: int, *, seed: int, tenant_seed: int, drift: float, purpose: str) -> list[Draw]:
    tenant = tenant_profile(tenant_seed)
    check_drift(drift)
    rng = rows_rng(seed, tenant_seed, purpose)
    cats = rng.choice(len(CATEGORIES), size=n, p=tenant.category_weights)
    picks = rng.random(n)
    novel = rng.random(n) < 0.3 * drift
    medians = np.array([c.median_amount for c in CATEGORIES]) * tenant.amount_scale * (1 + 0.3 * drift)
    spreads = np.array([c.spread for c in CATEGORIES])
    amounts = rng.lognormal(np.log(medians[cats]), spreads[cats])
    rounded = rng.random(n) < np.array([c.round_share for c in CATEGORIES])[cats]
    methods = (rng.random(n)[:, None] > tenant.method_mix[cats]).sum(axis=1)
    offsets = rng.integers(0, 365, size=n)
    months, scheduled_days = rng.integers(1, 13, size=n), rng.integers(0, 4, size=n)
    named = rng.random(n) < tenant.merchant_share
    wrap_picks, descriptor_picks = rng.integers(0, 6, size=n), rng.integers(0, 6, size=n)
    refs, stores = codes(rng, n, 6), rng.integers(100, 9999, size=n)
    cities, last4 = rng.choice(CITIES, size=n), rng.integers(1000, 9999, size=n)

    draws = []
    for i in range(n):
        category = CATEGORIES[cats[i]]
        method = PAYMENT_METHODS[min(methods[i], 3)]
        if category.days:
            date = dt.date(2024, int(months[i]), min(category.days[scheduled_days[i] % len(category.days)], 28))
        else:
            date = START + dt.timedelta(days=int(offsets[i]))
        amount = float(max(10.0, round(amounts[i], -1)) if rounded[i] else round(max(amounts[i], 0.5), 2))
        if novel[i] and category.name in NEW_MERCHANTS:
            names = NEW_MERCHANTS[category.name]
            name = names[int(picks[i] * len(names))]
            descriptor, booked = f"{name.upper()} {{ref}}", category.name
        else:
            merchant = tenant.merchants[cats[i]][int(picks[i] * len(tenant.merchants[cats[i]]))]
            name = merchant.name
            descriptor = merchant.descriptors[descriptor_picks[i] % len(merchant.descriptors)]
            booked = tenant.booking[(name, category.name)]
            if booked in DRIFT_TARGET and tenant.drift_threshold[(name, category.name)] < 0.5 * drift:
                booked = DRIFT_TARGET[booked]
        wrappers = tenant.wrappers["credit" if category.direction == "credit" else method]
        text = wrappers[wrap_picks[i] % len(wrappers)].format(
            d=descriptor, last4=last4[i], md=date.strftime("%m/%d"), ref="{ref}",
        ).format(ref=refs[i], store=stores[i], city=cities[i])
        draws.append(Draw(
            input={"description": text, "merchant": name if named[i] else "", "amount": amount,
                   "currency": tenant.currency, "direction": category.direction, "date": date.isoformat()},
            merchant=name, category=booked, payment_method=method, purchase_category=_purchase_category(tenant, name, booked),
        ))
    return draws


def _purchase_category(tenant: TransactionTenant, name: str, booked: str) -> str:
    """A refund reverses a purchase: the category the tenant books that merchant's purchases under."""
    if booked != "Refunds":
        return booked
    for (merchant, category), booking in tenant.booking.items():
        if merchant == name and category != "Refunds":
            return booking
    return "Office Supplies"


def classification_rows(n: int, *, seed: int = 0, tenant_seed: int = 0, drift: float = 0.0,
                        noise: float = 0.04) -> list[tuple[dict, dict]]:
    """(input_data, {"category": ...}); a share ``noise`` of labels is a bookkeeper's mistake."""
    draws = draw_transactions(n, seed=seed, tenant_seed=tenant_seed, drift=drift, purpose="classification")
    truth = [draw.category for draw in draws]
    labels = noisy_choice(rows_rng(seed, tenant_seed, "classification-noise"), truth, sorted(set(truth)), noise)
    return [(draw.input, {"category": label}) for draw, label in zip(draws, labels)]
