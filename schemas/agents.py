"""The six agents, by the name every message and table uses for them."""

AGENT_TYPES = ("classification", "reconciliation", "journal", "compliance", "insight", "chat")
