"""Field types the agents' input models share, so every agent refuses the same bad values alike.

Models ignore fields they do not declare: producers add context fields (ids, user names) over
time, and a training row should not be dropped for carrying more than the agent reads.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Money = Annotated[float, Field(allow_inf_nan=False)]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]
Count = Annotated[int, Field(ge=0)]


class AgentInput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=16_384)


class Transaction(AgentInput):
    """A bank or card transaction as the ledger service sends it. ``amount`` is read as a magnitude:
    feeds disagree on signs, ``direction`` says which way the money went."""

    description: Text
    merchant: Text | None = None
    amount: Money
    currency: Currency
    direction: Literal["debit", "credit"]
    date: dt.date
