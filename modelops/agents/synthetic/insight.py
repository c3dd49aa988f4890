"""Synthetic insights shown to a tenant's users, and whether they found them useful.

Usefulness is drawn from a probability, so even the best model errs: bigger changes and more
money at stake help, each similar insight shown before tires the user, and every tenant
(``tenant_seed``) has its own taste per kind (cash-flow warnings matter to small companies more
than to large ones). ``drift`` shifts the tastes and makes users tire faster.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from modelops.agents.synthetic.common import check_drift, rows_rng, tenant_rng

KINDS = ("spending_spike", "cash_flow_warning", "unusual_vendor", "duplicate_subscription", "budget_overrun",
         "revenue_trend", "tax_deadline", "late_invoices", "savings_opportunity")
SIZES = ("micro", "small", "medium", "large", "enterprise")
SIZE_SCALE = np.array([2e3, 1e4, 5e4, 2.5e5, 1e6])  # a typical amount at stake, by tenant size
PERIODS = ("day", "week", "month", "quarter", "year")
PERIOD_SHARE = (0.05, 0.3, 0.45, 0.15, 0.05)
PERIOD_EFFECT = np.array([-0.6, -0.2, 0.2, 0.3, -0.1])


@dataclass(frozen=True)
class Audience:
    taste: np.ndarray  # per kind, added to the log-odds of usefulness
    drift_taste: np.ndarray  # where the tastes move under drift
    size: int  # the tenant's usual size
    fatigue: float  # log-odds lost per similar insight shown before


@lru_cache(maxsize=64)
def audience(tenant_seed: int) -> Audience:
    rng = tenant_rng(tenant_seed, "insight")
    return Audience(taste=rng.normal(0, 1, len(KINDS)), drift_taste=rng.normal(0, 1.5, len(KINDS)),
                    size=int(rng.integers(len(SIZES))), fatigue=float(rng.uniform(0.3, 0.9)))


def insight_rows(n: int, *, seed: int = 0, tenant_seed: int = 0, drift: float = 0.0) -> list[tuple[dict, dict]]:
    """(input_data, {"useful": bool})."""
    users = audience(tenant_seed)
    drift = check_drift(drift)
    rng = rows_rng(seed, tenant_seed, "insight")
    kinds = rng.integers(len(KINDS), size=n)
    sizes = np.where(rng.random(n) < 0.8, users.size, rng.integers(len(SIZES), size=n))
    periods = rng.choice(len(PERIODS), size=n, p=PERIOD_SHARE)
    magnitude = rng.lognormal(np.log(0.2), 0.9, size=n) * np.where(rng.random(n) < 0.2, -1, 1)
    amount = SIZE_SCALE[sizes] * np.abs(magnitude) * rng.lognormal(0, 0.8, size=n)
    has_amount = rng.random(n) < 0.9
    shown = rng.poisson(1.5, size=n)
    small_company = sizes <= 1
    cash_warning = kinds == KINDS.index("cash_flow_warning")
    log_odds = (0.8 + users.taste[kinds] + drift * users.drift_taste[kinds]
                + 1.1 * np.log(np.abs(magnitude) / 0.2)
                + np.where(has_amount, 0.35 * np.log10(amount / SIZE_SCALE[sizes] / 0.2), 0.0)
                - users.fatigue * (1 + drift) * shown + PERIOD_EFFECT[periods]
                + np.where(cash_warning, np.where(small_company, 0.8, -0.5), 0.0))
    useful = rng.random(n) < 1 / (1 + np.exp(-log_odds))
    return [({"kind": KINDS[kinds[i]], "magnitude": round(float(magnitude[i]), 4),
              "amount": round(float(amount[i]), 2) if has_amount[i] else None, "period": PERIODS[periods[i]],
              "tenant_size": SIZES[sizes[i]], "similar_shown_before": int(shown[i])},
             {"useful": bool(useful[i])}) for i in range(n)]
