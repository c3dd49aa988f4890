"""A prediction request as other services send it, checked before anything else happens to it.

A bad request fails alone: ``parse`` never raises, it turns each item into either a request ready
to route or the reason it was refused, naming the field (``input_data.amount: ...``). Its depth,
size and values are checked before it is validated (``LIMITS``), so that no payload, however
nested or large, costs more than its refusal.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modelops import AGENT_TYPES, storable
from modelops.agents import get_agent
from modelops.agents.base import describe

# A request nests a few levels (a reconciliation's candidates[i].id is 4 deep) and a ranking of
# 1,000 ledger entries with their descriptions is some hundreds of KB: these leave room for both.
LIMITS = storable.Limits(depth=32, size=1024 * 1024)


class PredictionRequest(BaseModel):
    # a misspelt optional field (``requestkey``) would otherwise be dropped silently
    model_config = ConfigDict(extra="forbid")

    tenant_id: uuid.UUID
    agent_type: Literal[AGENT_TYPES]
    input_data: dict[str, Any]
    request_key: str | None = Field(default=None, min_length=1, max_length=200)


@dataclass(frozen=True)
class ValidRequest:
    tenant_id: uuid.UUID
    agent_type: str
    features_input: dict[str, Any]  # what the agent's feature extraction reads, as logged
    request_key: str | None


@dataclass(frozen=True)
class Refused:
    reason: str


def parse(item: Any) -> Union[ValidRequest, Refused]:
    if not isinstance(item, dict):
        return Refused(f"request: expected an object with tenant_id, agent_type and input_data, got {type(item).__name__}")
    # all of it, undeclared fields too: what the audit log will hold is drawn from it and must be
    # storable, or the batch's one write would fail for every request in it
    unfit = storable.problem(item, LIMITS)
    if unfit:
        return Refused(unfit)
    try:
        request = PredictionRequest.model_validate(item)
    except ValidationError as error:
        return Refused(describe(error))
    try:
        features_input = get_agent(request.agent_type).validate_input(request.input_data)
    except ValueError as error:
        # the agent names fields within input_data; the caller sent them one level up
        return Refused("; ".join(f"input_data.{problem}" for problem in str(error).split("; ")))
    return ValidRequest(request.tenant_id, request.agent_type, features_input, request.request_key)
