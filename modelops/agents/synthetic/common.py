"""Seeding and small helpers the synthetic generators share.

Two seeds: ``tenant_seed`` fixes who the tenant is (its category mix, merchants, bank's descriptor
style, chart of accounts, policies), ``seed`` fixes which rows are drawn. The same pair always
gives the same rows; numpy's PCG64 streams are stable across platforms.
"""
from __future__ import annotations

import datetime as dt
import string
import zlib

import numpy as np

START = dt.date(2024, 1, 1)
_REFERENCE_ALPHABET = np.array(list(string.ascii_uppercase + string.digits))


def _salt(name: str) -> int:
    return zlib.crc32(name.encode())


def tenant_rng(tenant_seed: int, purpose: str) -> np.random.Generator:
    """Randomness that describes the tenant: the same for every seed."""
    return np.random.default_rng([tenant_seed, _salt(purpose)])


def rows_rng(seed: int, tenant_seed: int, purpose: str) -> np.random.Generator:
    """Randomness of the rows drawn for a tenant."""
    return np.random.default_rng([seed, tenant_seed, _salt(purpose), 1])


def check_drift(drift: float) -> float:
    if not 0.0 <= drift <= 1.0:
        raise ValueError(f"drift must be in [0, 1], got {drift}")
    return float(drift)


def codes(rng: np.random.Generator, n: int, length: int) -> list[str]:
    """Random upper-case alphanumeric codes, like the tails of card descriptors ("2K4H81")."""
    return ["".join(row) for row in rng.choice(_REFERENCE_ALPHABET, size=(n, length))]


def dates(rng: np.random.Generator, n: int, days: int = 365) -> np.ndarray:
    """Day offsets from START, uniform over ``days``."""
    return rng.integers(0, days, size=n)


def iso(offset: int) -> str:
    return (START + dt.timedelta(days=int(offset))).isoformat()


def offset_of(date: str) -> int:
    return (dt.date.fromisoformat(date) - START).days


def noisy_choice(rng: np.random.Generator, labels: list, choices: list, rate: float) -> list:
    """Replace a share ``rate`` of labels by a different random choice: the mistakes real reviewers
    make, which keep a fitted model honest (below 100%)."""
    flip = rng.random(len(labels)) < rate
    picks = rng.integers(0, len(choices), size=len(labels))
    out = list(labels)
    for i in np.flatnonzero(flip):
        candidate = choices[picks[i]]
        out[i] = candidate if candidate != labels[i] else choices[(picks[i] + 1) % len(choices)]
    return out
