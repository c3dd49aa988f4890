"""The model registry: versions, the production pointer and its history, promotion."""
