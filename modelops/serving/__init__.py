"""Serving predictions: requests checked and routed, models cached per process, answers audited.

``predict_many(requests)`` answers a batch of requests (``tenant_id``, ``agent_type``,
``input_data``, optional ``request_key``) in order, each ``predicted``, ``rejected`` (bad input,
the reason names the field) or ``unavailable`` (no model serves the tenant, or its model cannot be
loaded). Celery-free: the tasks in ``tasks.serving`` and the command line call it alike.
"""
from __future__ import annotations

from typing import Any

from modelops.serving.service import predict_many, refused, server

# A batch is answered by one pool process in one go; beyond this it would hold that process (and
# its callers) for seconds, so larger lists are refused whole and should be split by the caller.
MAX_BATCH_ITEMS = 10_000


def batch_problem(items: Any) -> str | None:
    """Why ``items`` cannot be taken as a batch at all, or None."""
    if not isinstance(items, list):
        return f"items: expected a list of prediction requests, got {type(items).__name__}"
    if len(items) > MAX_BATCH_ITEMS:
        return f"items: at most {MAX_BATCH_ITEMS} requests per batch, got {len(items)}; split the batch"
    return None


__all__ = ["MAX_BATCH_ITEMS", "batch_problem", "predict_many", "refused", "server"]
