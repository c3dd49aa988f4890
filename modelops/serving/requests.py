"""A prediction request as other services send it, checked before anything else happens to it.

A bad request fails alone: ``parse`` never raises, it turns each item into either a request ready
to route or the reason it was refused, naming the field (``input_data.amount: ...``). Its depth,
size and values are checked before it is validated (``LIMITS``), so that no payload, however
nested or large, costs more than its refusal.

``parse_many`` makes of a batch exactly what ``parse`` makes of each of its items, but checks the
requests of an agent in one validation call when they are all good (pydantic's core walks the
list at once instead of being entered twice per request): a fifth of the checking of a batch of
1,000. When one of them is bad, each is parsed alone, so that every refusal names its own field.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from modelops import AGENT_TYPES, storable
from modelops.agents import get_agent
from modelops.agents.base import Agent, describe

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


def parse_many(items: list[Any]) -> list[Union[ValidRequest, Refused]]:
    """``parse`` of each item, in order; each agent's good requests validated together."""
    parsed: list[Union[ValidRequest, Refused, None]] = [None] * len(items)
    by_agent: dict[str, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        agent_type = item.get("agent_type") if isinstance(item, dict) else None
        if agent_type in AGENT_TYPES and _validated_together(agent_type) and storable.problem(item, LIMITS) is None:
            by_agent[agent_type].append(index)
        else:
            parsed[index] = parse(item)
    for agent_type, indexes in by_agent.items():
        together = _parse_together(agent_type, [items[index] for index in indexes])
        for index, request in zip(indexes, together or [parse(items[index]) for index in indexes]):
            parsed[index] = request
    return parsed


def _parse_together(agent_type: str, items: list[dict]) -> list[ValidRequest] | None:
    """The requests of one agent, each storable, validated in one call; None if any is bad."""
    requests, inputs = _validated_together(agent_type)
    try:
        checked = requests.validate_python(items)
    except ValidationError:
        return None
    features_inputs = inputs.dump_python([request.input_data for request in checked], mode="json")
    return [ValidRequest(request.tenant_id, agent_type, features_input, request.request_key)
            for request, features_input in zip(checked, features_inputs)]


@cache
def _validated_together(agent_type: str) -> tuple[TypeAdapter, TypeAdapter] | None:
    """A list of this agent's requests, its input model in place of ``input_data``'s dict, and a
    list of its inputs; None for an agent with checks of its own beyond its input model."""
    agent = get_agent(agent_type)
    if type(agent).validate_input is not Agent.validate_input:
        return None
    request = create_model(f"{agent_type.title()}Request", __base__=PredictionRequest,
                           agent_type=(Literal[agent_type], ...), input_data=(agent.input_model, ...))
    return TypeAdapter(list[request]), TypeAdapter(list[agent.input_model])
