"""Alerts and their delivery: raised by monitoring, A/B evaluation and rollback alike, so below them all."""
