"""A simulated day's requests and the users' answers to them, in the public contracts' shapes.

Inputs and the right answers come from the synthetic generators (``modelops.agents.synthetic``)
with the tenant's seed and the day's drift, so a model that learned the tenant is right as often as
it would be on real bookings of that kind. A user answers a share of predictions: approves a right
one, corrects a wrong one or flags it, and now and then rates the answer (higher when it was right).
"""
from __future__ import annotations

import random
import uuid
from typing import Any

from modelops.agents import get_agent
from modelops.agents.synthetic import generate
from modelops.simulation.platform import DEFAULT_LABEL, Tenant

RATING_SHARE = 0.1
# Of the wrong answers a user reacts to, the share corrected (an override of the AI); the others
# are flagged as wrong without the right answer.
CORRECTION_SHARE = 0.6


def rows(tenant: Tenant, agent_type: str, count: int, day: int, merged: bool = False) -> list[tuple[dict, dict]]:
    """``count`` (input, right answer) pairs of ``tenant``'s ``day``; day -1 is the history."""
    seed = tenant.seed * 10_000 + day + 1 + 97 * sorted(tenant.volume).index(agent_type)
    if agent_type != "classification":
        return generate(agent_type, count, seed=seed, tenant_seed=tenant.seed)
    data_seed, drift = tenant.classification_data(max(day, 0), merged)
    pairs = generate(agent_type, count, seed=seed, tenant_seed=data_seed, drift=drift)
    if tenant.default_labels:
        # a misconfigured integration: mostly its default category, whatever the transaction
        picker = random.Random(seed)
        return [(data, DEFAULT_LABEL if picker.random() < 0.9 else truth) for data, truth in pairs]
    return pairs


def history(tenant_id: uuid.UUID, tenant: Tenant, agent_type: str) -> list[dict]:
    """Feedback from before the run: bookings a user verified, the tenant's first training data."""
    return [
        {"tenant_id": str(tenant_id), "agent_type": agent_type, "source": "verified_mapping",
         "input_data": data, "expected_output": truth,
         "idempotency_key": f"history-{tenant_id}-{agent_type}-{n}"}
        for n, (data, truth) in enumerate(rows(tenant, agent_type, tenant.history, day=-1))
    ]


def requests(tenant_id: uuid.UUID, agent_type: str, pairs: list[tuple[dict, dict]]) -> list[dict]:
    return [{"tenant_id": str(tenant_id), "agent_type": agent_type, "input_data": data,
             "request_key": f"entity-{n % 500}"} for n, (data, _) in enumerate(pairs)]


def answers(tenant: Tenant, tenant_id: uuid.UUID, agent_type: str, pairs: list[tuple[dict, dict]],
            predictions: list[dict], day: int) -> list[dict]:
    """The users' feedback on a day's predictions (those that were answered)."""
    agent = get_agent(agent_type)
    picker = random.Random(f"{tenant.seed}-{agent_type}-{day}")
    events = []
    for (data, truth), prediction in zip(pairs, predictions):
        if prediction.get("status") != "predicted" or picker.random() >= tenant.feedback_share:
            continue
        right = agent.label(truth) == agent.label(prediction["output"])
        event: dict[str, Any] = {
            "tenant_id": str(tenant_id), "agent_type": agent_type, "prediction_id": prediction["prediction_id"],
            "input_data": data, "actual_output": prediction["output"],
            "confidence_score": prediction["confidence"], "idempotency_key": f"answer-{prediction['prediction_id']}",
        }
        if right:
            event["source"] = "suggestion_approved"
        elif picker.random() < CORRECTION_SHARE:
            event.update(source="user_correction", expected_output=truth)
        else:
            event.update(source="accuracy_feedback", is_accurate=False)
        events.append(event)
        if picker.random() < RATING_SHARE:
            events.append({
                "tenant_id": str(tenant_id), "agent_type": agent_type, "prediction_id": prediction["prediction_id"],
                "source": "satisfaction_rating", "input_data": data,
                "rating": picker.choice((4, 5)) if right else picker.choice((1, 2, 3)),
                "idempotency_key": f"rating-{prediction['prediction_id']}",
            })
    return events
