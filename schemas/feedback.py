"""The feedback event: what other services send when a user reacts to an agent's output.

One JSON object per event, named by the spec's columns. ``source`` says what kind of feedback it
is, and decides which fields are required and what the event means for ``was_correct``:

| source                      | the user...                                   | needs                          | was_correct |
|-----------------------------|-----------------------------------------------|--------------------------------|-------------|
| user_correction             | changed the AI's suggestion                   | expected_output, actual_output | expected == actual |
| classification_correction   | corrected an auto-classified transaction      | expected_output, actual_output | expected == actual |
| manual_override             | overrode an AI decision                       | expected_output, actual_output | false       |
| accuracy_feedback           | said whether the AI was right                 | is_accurate                    | is_accurate |
| suggestion_approved         | approved the AI's suggestion                  | actual_output                  | true        |
| manual_match                | classified by hand, matching the AI           | expected_output, actual_output | expected == actual |
| verified_mapping            | verified a transaction mapping                | expected_output                | expected == actual, when actual is given |
| auto_match_confirmed        | confirmed an auto-matched reconciliation item | actual_output                  | true        |
| pattern_confirmed           | confirmed a pattern the AI identified         | actual_output                  | true        |
| journal_entry_validated     | validated a suggested journal entry           | actual_output                  | true        |
| classification_confirmed    | confirmed a classification                    | actual_output                  | true        |
| satisfaction_rating         | rated the answer (1 to 5)                     | rating                         | unknown     |
| implicit_signal             | acted on (or ignored) a suggestion            | engagement and/or seconds_to_resolution | unknown |

Confirmations and approvals take the AI's output as the truth (``expected_output`` defaults to
``actual_output``), so they teach the model what it got right.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.agents import AGENT_TYPES

# A whole event, serialised, may not exceed this: feedback is a label and its context, not a file.
MAX_EVENT_BYTES = 64 * 1024
# Nor may it nest deeper (the event object is level 1): a ledger's context is a few levels deep,
# and a payload hundreds deep breaks every recursive reader on its way (modelops/storable.py).
MAX_EVENT_DEPTH = 32
# Events per record_batch message, as predict_batch's items: a longer batch is refused whole.
MAX_BATCH_EVENTS = 10_000

AgentType = Literal[AGENT_TYPES]


class Source(str, Enum):
    USER_CORRECTION = "user_correction"
    CLASSIFICATION_CORRECTION = "classification_correction"
    MANUAL_OVERRIDE = "manual_override"
    ACCURACY_FEEDBACK = "accuracy_feedback"
    SUGGESTION_APPROVED = "suggestion_approved"
    MANUAL_MATCH = "manual_match"
    VERIFIED_MAPPING = "verified_mapping"
    AUTO_MATCH_CONFIRMED = "auto_match_confirmed"
    PATTERN_CONFIRMED = "pattern_confirmed"
    JOURNAL_ENTRY_VALIDATED = "journal_entry_validated"
    CLASSIFICATION_CONFIRMED = "classification_confirmed"
    SATISFACTION_RATING = "satisfaction_rating"
    IMPLICIT_SIGNAL = "implicit_signal"


CORRECTIONS = {Source.USER_CORRECTION, Source.CLASSIFICATION_CORRECTION, Source.MANUAL_MATCH}
CONFIRMATIONS = {
    Source.SUGGESTION_APPROVED, Source.AUTO_MATCH_CONFIRMED, Source.PATTERN_CONFIRMED,
    Source.JOURNAL_ENTRY_VALIDATED, Source.CLASSIFICATION_CONFIRMED,
}
# Events whose user overrode the AI: the prediction's log row gets user_override = true.
OVERRIDES = {Source.USER_CORRECTION, Source.CLASSIFICATION_CORRECTION, Source.MANUAL_OVERRIDE}


class FeedbackEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=16_384)

    tenant_id: uuid.UUID
    agent_type: AgentType
    source: Source
    input_data: dict[str, Any]
    expected_output: Any = None
    actual_output: Any = None
    prediction_id: uuid.UUID | None = None
    confidence_score: float | None = Field(default=None, ge=0, le=1)
    user_feedback: str | None = Field(default=None, max_length=4_000)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    occurred_at: dt.datetime | None = None
    # kind-specific fields
    is_accurate: bool | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    engagement: Literal["accepted", "edited", "ignored", "dismissed"] | None = None
    seconds_to_resolution: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _fields_the_source_needs(self) -> "FeedbackEvent":
        missing = [name for name in _required(self.source) if getattr(self, name) is None]
        if self.source is Source.IMPLICIT_SIGNAL and self.engagement is None and self.seconds_to_resolution is None:
            missing.append("engagement or seconds_to_resolution")
        if missing:
            raise ValueError(f"source {self.source.value!r} needs {', '.join(missing)}")
        if self.occurred_at is not None and self.occurred_at.tzinfo is not None:
            self.occurred_at = self.occurred_at.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return self

    # -- what the event means for training -------------------------------------------------------

    def label(self) -> Any:
        """The output the model should have given, as far as this event tells."""
        if self.source in CONFIRMATIONS and self.expected_output is None:
            return self.actual_output
        return self.expected_output

    def was_correct(self) -> bool | None:
        if self.source in CONFIRMATIONS:
            return True
        if self.source is Source.MANUAL_OVERRIDE:
            return False
        if self.source is Source.ACCURACY_FEEDBACK:
            return self.is_accurate
        if self.source in CORRECTIONS or (self.source is Source.VERIFIED_MAPPING and self.actual_output is not None):
            return self.expected_output == self.actual_output
        return None

    def signal(self) -> dict[str, Any] | None:
        """Ratings and implicit behaviour, kept beside the label."""
        fields = {"rating": self.rating, "engagement": self.engagement, "seconds_to_resolution": self.seconds_to_resolution}
        kept = {name: value for name, value in fields.items() if value is not None}
        return kept or None

    def key(self) -> str:
        """The caller's idempotency key, or one derived from the event's content."""
        if self.idempotency_key:
            return self.idempotency_key
        content = self.model_dump(mode="json", exclude={"idempotency_key"})
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _required(source: Source) -> tuple[str, ...]:
    if source in CORRECTIONS or source is Source.MANUAL_OVERRIDE:
        return ("expected_output", "actual_output")
    if source in CONFIRMATIONS:
        return ("actual_output",)
    if source is Source.VERIFIED_MAPPING:
        return ("expected_output",)
    if source is Source.ACCURACY_FEEDBACK:
        return ("is_accurate",)
    if source is Source.SATISFACTION_RATING:
        return ("rating",)
    return ()
