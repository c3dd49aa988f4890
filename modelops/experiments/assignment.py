"""Sticky assignment of traffic to control or treatment.

A unit's group is a pure function of the test id and the unit's key, so every process and every
host agrees on it, across restarts, with no table of assignments: hash both with SHA-256 (not
Python's ``hash``, which changes with PYTHONHASHSEED) and read the first 8 bytes as a position in
[0, 1). Positions below the allocation are treatment. A unit keeps its position when the allocation
changes, so raising it only moves units from control to treatment, never back; and a new test id
reshuffles everyone, so one test's treatment group is not the next one's.
"""
from __future__ import annotations

import hashlib

CONTROL = "control"
TREATMENT = "treatment"
DEFAULT_ALLOCATION = 0.1  # the spec's AB_TEST_CONFIG allocation_ratio


def position(test_id: str, key: str) -> float:
    """The unit's place in [0, 1) for this test."""
    test_id, key = str(test_id), str(key)
    if not test_id or not key:
        raise ValueError(f"test_id and key must be non-empty, got test_id={test_id!r}, key={key!r}")
    # The length prefix keeps ("ab", "c") and ("a", "bc") apart.
    digest = hashlib.sha256(f"{len(test_id)}:{test_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign(test_id: str, key: str, allocation: float = DEFAULT_ALLOCATION) -> str:
    """``"treatment"`` for an ``allocation`` share of keys, ``"control"`` for the rest."""
    if isinstance(allocation, bool) or not isinstance(allocation, (int, float)) or not 0.0 < allocation < 1.0:
        raise ValueError(f"allocation must be a number in (0, 1) (the treatment's share), got {allocation!r}")
    return TREATMENT if position(test_id, key) < allocation else CONTROL
