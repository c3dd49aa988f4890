"""Watching production models: metrics, alerts, rollback, drift."""
