"""Why a training run made no model."""
from __future__ import annotations


class TrainingRefused(Exception):
    """The data cannot make a model (too few rows, a single class, nothing new); the message says
    why, and ``details`` holds the counts behind it for the run's record."""

    def __init__(self, reason: str, details: dict | None = None):
        super().__init__(reason)
        self.details = details or {}
