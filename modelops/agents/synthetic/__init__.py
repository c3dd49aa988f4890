"""Synthetic feedback rows for every agent: ``generate("classification", 1_000, tenant_seed=3)``.

Rows are ``(input_data, expected_output)`` in exactly the JSON shapes feedback events carry.
``seed`` fixes the rows, ``tenant_seed`` who the tenant is (its mixes, names, mappings and
policies), ``drift`` in [0, 1] how far its data has moved from where it started (0: not at all).
Labels carry some noise, as real reviewers' do, so a fitted model stays below 100%.
"""
from __future__ import annotations

from modelops import AGENT_TYPES
from modelops.agents.synthetic.chat import chat_rows
from modelops.agents.synthetic.compliance import compliance_rows
from modelops.agents.synthetic.insight import insight_rows
from modelops.agents.synthetic.journal import journal_rows
from modelops.agents.synthetic.reconciliation import reconciliation_cases, reconciliation_rows
from modelops.agents.synthetic.transactions import classification_rows

GENERATORS = {
    "classification": classification_rows, "reconciliation": reconciliation_rows, "journal": journal_rows,
    "compliance": compliance_rows, "insight": insight_rows, "chat": chat_rows,
}
assert set(GENERATORS) == set(AGENT_TYPES), "every agent has a generator"


def generate(agent_type: str, n: int, *, seed: int = 0, tenant_seed: int = 0,
             drift: float = 0.0) -> list[tuple[dict, dict]]:
    if agent_type not in GENERATORS:
        raise ValueError(f"unknown agent {agent_type!r}; known agents: {', '.join(AGENT_TYPES)}")
    return GENERATORS[agent_type](n, seed=seed, tenant_seed=tenant_seed, drift=drift)


__all__ = ["GENERATORS", "generate", "reconciliation_cases"]
