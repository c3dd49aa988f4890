"""modelops: training, versioning, A/B testing, monitoring and rollback of the models behind six AI agents."""

__version__ = "0.1.0"

AGENT_TYPES = ("classification", "reconciliation", "journal", "compliance", "insight", "chat")
