"""The six agents, by name: ``get_agent("classification")``.

Each module under ``modelops.agents`` declares one agent: its input model, how a label is read
from a feedback row's expected_output, its features and estimator, and its output.
"""
from __future__ import annotations

from modelops import AGENT_TYPES
from modelops.agents.base import Agent, Prediction
from modelops.agents.chat import ChatAgent
from modelops.agents.classification import ClassificationAgent
from modelops.agents.compliance import ComplianceAgent
from modelops.agents.insight import InsightAgent
from modelops.agents.journal import JournalAgent
from modelops.agents.reconciliation import ReconciliationAgent

AGENTS: dict[str, Agent] = {agent.name: agent for agent in (
    ClassificationAgent(), ReconciliationAgent(), JournalAgent(), ComplianceAgent(), InsightAgent(), ChatAgent(),
)}
assert set(AGENTS) == set(AGENT_TYPES), "every agent type has exactly one agent module"


def get_agent(name: str) -> Agent:
    try:
        return AGENTS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown agent {name!r}; known agents: {', '.join(AGENT_TYPES)}") from None


def check_agent(name: str) -> None:
    """ValueError naming the known agents when ``name`` is none of them."""
    get_agent(name)


__all__ = ["AGENTS", "Agent", "Prediction", "check_agent", "get_agent"]
