"""Predictions for authenticated callers: each request answered only for a member of its tenant."""
from __future__ import annotations

from typing import Any

from modelops.auth.envelope import AuthenticatedCall, Unauthenticated
from modelops.privacy.tenancy import Memberships
from modelops.serving.service import predict_many
from schemas.tasks import TaskName

ACTION = TaskName.SERVING_PREDICT
memberships = Memberships()


def denied(reason: str) -> dict:
    return {"status": "refused", "reason": reason}


def predict_for(calls: list[tuple[str, Any]]) -> list[dict]:
    """Each (caller, request) answered in order; ``refused`` (and recorded in ``ai.access_audit``)
    when the caller is not a member of the request's tenant."""
    answers, allowed = admitted(calls)
    for index, answer in zip(allowed, predict_many([calls[index][1] for index in allowed])):
        answers[index] = answer
    return answers


def admitted(calls: list[tuple[str, Any]]) -> tuple[list[dict | None], list[int]]:
    """(the refusal of each call whose caller is not a member of its request's tenant, None for the
    others; the positions of the others)."""
    answers: list[dict | None] = [None] * len(calls)
    allowed = []
    memberships.refresh((caller, request.get("tenant_id")) for caller, request in calls if isinstance(request, dict))
    # a batch is mostly one caller's requests for a few tenants: each pair granted once is granted
    # for the rest of the batch (a refusal is checked and recorded for every request, as before)
    granted: set[tuple[str, str]] = set()
    for index, (caller, request) in enumerate(calls):
        tenant = request.get("tenant_id") if isinstance(request, dict) else None
        pair = (caller, tenant)
        if isinstance(tenant, str) and pair in granted:
            allowed.append(index)
            continue
        problem = memberships.problem(caller, tenant, ACTION)
        if problem:
            answers[index] = denied(problem)
        else:
            allowed.append(index)
            if isinstance(tenant, str):
                granted.add(pair)
    return answers, allowed


def predict_opened(opened: list[AuthenticatedCall | Unauthenticated]) -> list[dict]:
    """Each opened envelope answered in order: ``refused`` when it did not authenticate."""
    answers = [denied(str(call)) for call in opened]
    signed = [index for index, call in enumerate(opened) if isinstance(call, AuthenticatedCall)]
    for index, answer in zip(signed, predict_for([(opened[index].service, opened[index].arguments) for index in signed])):
        answers[index] = answer
    return answers
