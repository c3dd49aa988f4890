"""Synthetic bank lines, the ledger entries they settle, and the entries they could be mistaken for.

A tenant (``tenant_seed``) has its customers and suppliers, an invoice-number format, a bank that
prints names truncated and references sometimes (digits only, or their tail), customers who pay
some weeks late, and recurring invoices of the same amount every month: the hard negatives.
Paid amounts sometimes lose a wire fee or an exchange-rate difference, or are part payments.
``drift`` makes the bank drop references and shorten names, and payers later and fee-prone.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from modelops.agents.synthetic.common import check_drift, iso, offset_of, rows_rng, tenant_rng

COMPANIES = ("Northwind", "Contoso", "Fabrikam", "Tailspin Toys", "Wingtip", "Adventure Works", "Blue Yonder",
             "Litware", "Proseware", "Lucerne Publishing", "Alpine Ski House", "Coho Winery", "Trey Research",
             "Woodgrove", "Fourth Coffee", "Humongous Insurance", "Wide World Importers", "Southridge Video",
             "VanArsdel", "Relecloud", "A. Datum", "Bellows College", "Munson's Pickles", "Graphic Design Institute",
             "Margie's Travel", "Olympic Supplies", "Fineartschool", "Consolidated Messenger", "Nod Publishers",
             "City Power & Light")
SUFFIXES = ("Ltd", "LLC", "Inc", "GmbH", "Corp", "& Co", "")
REFERENCE_FORMATS = ("INV-{year}-{n:04d}", "INV{n:05d}", "{n:06d}", "SO-{n:05d}", "BILL/{year}/{n:04d}")
RECEIPT_WRAPPERS = ("ACH CREDIT {name}", "INCOMING WIRE FROM {name}", "DEPOSIT {name}", "{name} PAYMENT")
PAYMENT_WRAPPERS = ("ACH DEBIT {name}", "BILL PAY {name}", "WIRE OUT {name}", "ONLINE PMT TO {name}")


@dataclass(frozen=True)
class ReconciliationTenant:
    counterparties: tuple[str, ...]
    recurring: np.ndarray  # per counterparty: its monthly amount, or 0 when it is not recurring
    reference_format: str
    reference_share: float  # how often the bank prints the reference
    name_length: int  # where the bank truncates names
    lag_days: float  # how late customers pay on average


@lru_cache(maxsize=64)
def tenant_profile(tenant_seed: int) -> ReconciliationTenant:
    rng = tenant_rng(tenant_seed, "reconciliation")
    names = rng.choice(len(COMPANIES), size=20, replace=False)
    counterparties = tuple(f"{COMPANIES[i]} {rng.choice(SUFFIXES)}".strip() for i in names)
    monthly = np.round(rng.lognormal(7, 1, size=20), 2) * (rng.random(20) < 0.35)
    return ReconciliationTenant(
        counterparties=counterparties, recurring=monthly, reference_format=str(rng.choice(REFERENCE_FORMATS)),
        reference_share=float(rng.uniform(0.35, 0.8)), name_length=int(rng.integers(14, 24)),
        lag_days=float(rng.uniform(5, 25)),
    )


def reconciliation_rows(n: int, *, seed: int = 0, tenant_seed: int = 0, drift: float = 0.0,
                        noise: float = 0.01, negatives: int = 3) -> list[tuple[dict, dict]]:
    """(input_data = {"bank_line", "candidate"}, {"match": bool}): each bank line with its entry
    and ``negatives`` look-alikes, so one row in ``negatives + 1`` is a match."""
    cases = _cases(-(-n // (negatives + 1)), negatives, seed, tenant_seed, check_drift(drift))
    rows = [({"bank_line": bank, "candidate": entry}, {"match": entry is truth})
            for bank, truth, candidates in cases for entry in candidates][:n]
    flips = rows_rng(seed, tenant_seed, "reconciliation-noise").random(len(rows)) < noise
    return [(data, {"match": bool(label["match"] != flip)}) for (data, label), flip in zip(rows, flips)]


def reconciliation_cases(n: int, *, seed: int = 0, tenant_seed: int = 0, drift: float = 0.0,
                         candidates: int = 8) -> list[tuple[dict, dict]]:
    """(input_data = {"bank_line", "candidates"}, {"best": id of the true entry}): rankings to score."""
    cases = _cases(n, candidates - 1, seed, tenant_seed, check_drift(drift))
    return [({"bank_line": bank, "candidates": entries}, {"best": truth["id"]}) for bank, truth, entries in cases]


def _cases(n: int, negatives: int, seed: int, tenant_seed: int, drift: float):
    """(bank line, true entry, shuffled candidates including it) for n bank lines."""
    tenant = tenant_profile(tenant_seed)
    rng = rows_rng(seed, tenant_seed, "reconciliation")
    cases = []
    for i in range(n):
        who = int(rng.integers(len(tenant.counterparties)))
        receipt = bool(rng.random() < 0.6)
        truth = _entry(rng, tenant, who, f"LE-{seed}-{i}-0", int(rng.integers(0, 330)), receipt)
        bank = _bank_line(rng, tenant, truth, receipt, drift)
        others = [_look_alike(rng, tenant, truth, who, f"LE-{seed}-{i}-{k + 1}", receipt) for k in range(negatives)]
        entries = [truth, *others]
        cases.append((bank, truth, [entries[j] for j in rng.permutation(len(entries))]))
    return cases


def _entry(rng, tenant: ReconciliationTenant, who: int, entry_id: str, offset: int, receipt: bool) -> dict:
    amount = tenant.recurring[who] or round(float(rng.lognormal(6.5, 1.3)), 2)
    reference = tenant.reference_format.format(year=2024, n=int(rng.integers(1, 99_999)))
    name = tenant.counterparties[who]
    kind = "Invoice" if receipt else "Bill"
    return {"id": entry_id, "amount": float(amount), "date": iso(offset), "reference": reference,
            "description": f"{kind} {reference} {name}", "counterparty": name, "currency": "USD"}


def _bank_line(rng, tenant: ReconciliationTenant, truth: dict, receipt: bool, drift: float) -> dict:
    amount = truth["amount"]
    roll = rng.random()
    if roll < 0.05 + 0.1 * drift:
        amount -= float(rng.choice([10.0, 15.0, 25.0, 35.0]))  # wire fee taken on the way
    elif roll < 0.09 + 0.1 * drift:
        amount *= 1 + float(rng.normal(0, 0.01))  # exchange-rate difference
    elif roll < 0.11 + 0.1 * drift:
        amount *= 0.5  # part payment
    lag = rng.gamma(2.0, (tenant.lag_days + 20 * drift) / 2) if receipt else rng.integers(0, 5)
    name = truth["counterparty"].upper()[: max(6, int(tenant.name_length * (1 - 0.5 * drift)))]
    text = str(rng.choice(RECEIPT_WRAPPERS if receipt else PAYMENT_WRAPPERS)).format(name=name)
    if rng.random() < tenant.reference_share * (1 - drift):
        digits = "".join(ch for ch in truth["reference"] if ch.isdigit())
        text += " " + str(rng.choice([truth["reference"], digits, digits[-4:]]))
    return {"description": text, "amount": round(amount if receipt else -amount, 2),
            "date": iso(offset_of(truth["date"]) + int(lag)), "currency": "USD"}


def _look_alike(rng, tenant: ReconciliationTenant, truth: dict, who: int, entry_id: str, receipt: bool) -> dict:
    """Another invoice of the same payer (a month apart, the same amount if it recurs), one of
    a similar amount and date from someone else, or any other open item."""
    truth_day = offset_of(truth["date"])
    roll = rng.random()
    if roll < 0.4:
        return _entry(rng, tenant, who, entry_id, truth_day + int(rng.choice([-60, -30, 30])) + int(rng.integers(-3, 4)), receipt)
    other = int(rng.integers(len(tenant.counterparties)))
    if roll < 0.7:
        entry = _entry(rng, tenant, other, entry_id, truth_day + int(rng.integers(-10, 11)), receipt)
        entry["amount"] = round(truth["amount"] * (1 + float(rng.uniform(-0.03, 0.03))), 2)
        return entry
    return _entry(rng, tenant, other, entry_id, truth_day + int(rng.integers(-60, 61)), receipt)
