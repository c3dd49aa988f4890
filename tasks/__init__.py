"""Thin Celery tasks, one module per kind of work; the logic lives in the modelops package."""
