"""modelops: training, versioning, A/B testing, monitoring and rollback of the models behind six AI agents."""

__version__ = "0.1.0"

from schemas.agents import AGENT_TYPES

__all__ = ["AGENT_TYPES"]
