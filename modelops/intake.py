"""Feedback intake: validate, authorise, scrub, store exactly once.

The path of an event: the ingest task validates it and checks the caller may act for its tenant
(a bad event is rejected at once with its reason, recorded scrubbed, never retried), then hands
the accepted events to the scrub task, which removes personal data and only then writes them to
``ai.training_data`` (raw PII never reaches a table), updating the prediction each one answers in
the same transaction. The caller's idempotency key (or one derived from the content) is held by a
unique constraint, so a second delivery changes nothing.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

from pydantic import ValidationError
from sqlalchemy import Connection, text

from modelops import clock, db, storable
from modelops.monitoring import counters
from modelops.privacy.pii import scrub_many
from modelops.privacy.tenancy import authorize
from schemas.feedback import MAX_BATCH_EVENTS, MAX_EVENT_BYTES, MAX_EVENT_DEPTH, OVERRIDES, FeedbackEvent

log = logging.getLogger(__name__)

OVERRIDE_SOURCES = frozenset(source.value for source in OVERRIDES)
# An event's limits; a refused payload is kept for operators shortened to them, whatever was sent.
EVENT_LIMITS = storable.Limits(depth=MAX_EVENT_DEPTH, size=MAX_EVENT_BYTES)
MAX_KEY_LENGTH = 200  # FeedbackEvent.idempotency_key


class RejectedEvent(ValueError):
    """An event that can never be stored as sent; its message is the reason for the caller."""


@dataclass(frozen=True)
class Verdict:
    status: str  # accepted, duplicate, rejected, refused
    idempotency_key: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if value is not None}


def batch_problem(events: Any) -> str | None:
    """Why ``events`` cannot be taken as a batch at all (its events are then not judged one by one), or None."""
    if not isinstance(events, list):
        return f"events must be a JSON array, got {type(events).__name__}"
    if len(events) > MAX_BATCH_EVENTS:
        return f"events: at most {MAX_BATCH_EVENTS} events per batch, got {len(events)}; split the batch"
    return None


def parse(raw: Any) -> FeedbackEvent:
    """The event as a typed model, or RejectedEvent naming every field that is wrong."""
    if not isinstance(raw, dict):
        raise RejectedEvent(f"an event must be a JSON object, got {type(raw).__name__}")
    # depth and size first: within them, serialising and validating the event cannot fail on its shape
    unfit = storable.problem(raw, EVENT_LIMITS)
    if unfit:
        raise RejectedEvent(unfit)
    try:
        size = len(json.dumps(raw, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError, UnicodeEncodeError) as error:
        raise RejectedEvent(f"the event is not valid UTF-8 JSON: {error}") from None
    if size > MAX_EVENT_BYTES:
        raise RejectedEvent(f"the event is {size} bytes, more than the {MAX_EVENT_BYTES} allowed")
    try:
        return FeedbackEvent.model_validate(raw)
    except ValidationError as error:
        raise RejectedEvent(_reason(error)) from None


def _judged(raw: Any) -> tuple[FeedbackEvent, str]:
    """The event and its idempotency key, or RejectedEvent. Whatever goes wrong with one event
    (beyond what ``parse`` foresees: a fault of ours or of a library) is that event's rejection,
    never the failure of the events sent with it."""
    try:
        event = parse(raw)
        return event, event.key()
    except RejectedEvent:
        raise
    except Exception as error:
        log.exception("a feedback event could not be judged; it is rejected")
        raise RejectedEvent(f"the event could not be read ({type(error).__name__})") from None


def _reason(error: ValidationError) -> str:
    parts = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(step) for step in problem["loc"]) or "event"
        parts.append(f"{where}: {problem['msg']}")
    return "; ".join(parts)


def admit(raws: Iterable[Any], caller: str, task_name: str) -> tuple[list[Verdict], list[dict]]:
    """Judge each event: the verdicts in order, and the accepted events (as JSON) to scrub and store."""
    verdicts: list[Verdict | None] = []
    accepted: dict[int, FeedbackEvent] = {}
    keys: dict[int, str] = {}
    rejected: list[tuple[Any, str]] = []
    for index, raw in enumerate(raws):
        try:
            accepted[index], keys[index] = _judged(raw)
            verdicts.append(None)
        except RejectedEvent as error:
            rejected.append((raw, str(error)))
            verdicts.append(Verdict("rejected", reason=str(error)))
    record_rejections(rejected, task_name)

    by_tenant: dict[uuid.UUID, list[int]] = {}
    for index, event in accepted.items():
        by_tenant.setdefault(event.tenant_id, []).append(index)
    to_store: list[dict] = []
    for tenant, indexes in by_tenant.items():
        try:
            authorize(caller, tenant, action=task_name)
        except PermissionError as error:
            for index in indexes:
                verdicts[index] = Verdict("refused", reason=str(error))
            continue
        stored = _existing_keys(tenant, {keys[index] for index in indexes})
        seen_here: set[str] = set()
        for index in indexes:
            key = keys[index]
            if key in stored or key in seen_here:
                verdicts[index] = Verdict("duplicate", key)
                continue
            seen_here.add(key)
            verdicts[index] = Verdict("accepted", key)
            to_store.append(accepted[index].model_dump(mode="json") | {"idempotency_key": key})
    return verdicts, to_store


def _existing_keys(tenant: uuid.UUID, keys: set[str]) -> set[str]:
    with db.tenant_scope(tenant) as connection:
        rows = connection.execute(
            text("SELECT idempotency_key FROM ai.training_data WHERE idempotency_key = ANY(:keys)"),
            {"keys": list(keys)},
        )
        return set(rows.scalars())


# A definer function: a rejected event may name no tenant, or one that does not exist (it is then
# kept without one), which no tenant's scope could write.
INSERT_REJECTIONS = text("SELECT ai.record_rejected_events(CAST(:events AS jsonb))")


def record_rejection(raw: Any, reason: str, task_name: str) -> None:
    """Keep a refused event for operators: scrubbed, since it was never validated."""
    record_rejections([(raw, reason)], task_name)


def record_rejections(rejected: list[tuple[Any, str]], task_name: str) -> None:
    """Keep refused events (each with its reason) for operators, scrubbed, in one transaction."""
    if not rejected:
        return
    scrubbed = scrub_many([_jsonable(raw) for raw, _ in rejected])
    rows = [{"tenant": _tenant_of(raw), "task": task_name, "reason": reason[:2000], "payload": result.value,
             "key": _key_of(raw)}
            for (raw, reason), result in zip(rejected, scrubbed)]
    with db.unscoped() as connection:
        connection.execute(INSERT_REJECTIONS, {"events": json.dumps(rows)})


# A refused payload may be anything: only a string is taken for its key or tenant (str() of a
# deeply nested value would raise as its repr does).

def _key_of(raw: Any) -> str | None:
    key = raw.get("idempotency_key") if isinstance(raw, dict) else None
    return key if isinstance(key, str) and len(key) <= MAX_KEY_LENGTH and not storable.problem(key) else None


def _tenant_of(raw: Any) -> str | None:
    tenant = raw.get("tenant_id") if isinstance(raw, dict) else None
    try:
        return str(uuid.UUID(tenant)) if isinstance(tenant, str) else None
    except ValueError:
        return None


def _jsonable(raw: Any) -> Any:
    """The event as JSON Postgres accepts: shortened to the limits (whatever its depth and size),
    undecodable text replaced, NUL characters dropped."""
    text_form = json.dumps(storable.shortened(raw, EVENT_LIMITS), ensure_ascii=False)
    text_form = text_form.encode("utf-8", "replace").decode("utf-8")
    try:
        # NaN and Infinity come back as the words, which jsonb takes (it refuses the numbers)
        return json.loads(text_form.replace("\\u0000", ""), parse_constant=str)
    except ValueError:
        return {"unparseable": text_form}


# -- the scrub-and-store step ---------------------------------------------------------------------

INSERT_ROWS = text("""
    INSERT INTO ai.training_data (
        tenant_id, agent_type, input_data, expected_output, actual_output, was_correct,
        user_feedback, confidence_score, feedback_timestamp, source, prediction_id,
        idempotency_key, scrub_hits, signal, created_at, updated_at)
    SELECT r.tenant_id, r.agent_type::ai.agent_type, r.input_data, r.expected_output, r.actual_output,
           r.was_correct, r.user_feedback, r.confidence_score, r.feedback_timestamp, r.source,
           r.prediction_id, r.idempotency_key, r.scrub_hits, r.signal, :now, :now
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        tenant_id uuid, agent_type text, input_data jsonb, expected_output jsonb, actual_output jsonb,
        was_correct boolean, user_feedback text, confidence_score numeric, feedback_timestamp timestamp,
        source text, prediction_id uuid, idempotency_key text, scrub_hits jsonb, signal jsonb)
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING prediction_id, expected_output, was_correct, user_feedback, source, signal
""")

# The verdicts the answered predictions had before, locked: two verdicts on one prediction are
# then counted in the metrics one after the other, each as a change from the one before.
PREVIOUS_VERDICTS = text("""
    SELECT id, model_version_id, agent_type, prediction_timestamp, predicted_output, actual_output,
           was_correct, user_override
    FROM ai.prediction_log WHERE id = ANY(CAST(:ids AS uuid[])) FOR UPDATE
""")

# The prediction each stored event answers; the audit log is partitioned, so the id alone finds it.
# An event without a verdict (a rating, an implicit signal) leaves an earlier verdict as it was.
UPDATE_PREDICTIONS = text("""
    UPDATE ai.prediction_log AS p
    SET actual_output = CASE WHEN f.was_correct IS NULL THEN p.actual_output ELSE f.actual_output END,
        was_correct = coalesce(f.was_correct, p.was_correct),
        user_override = CASE WHEN f.was_correct IS NULL THEN p.user_override ELSE f.user_override END,
        override_reason = CASE WHEN f.was_correct IS NULL THEN p.override_reason ELSE f.override_reason END,
        user_feedback = coalesce(f.user_feedback, p.user_feedback), feedback_at = :now
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS f(
        prediction_id uuid, actual_output jsonb, was_correct boolean, user_override boolean,
        override_reason text, user_feedback text)
    WHERE p.id = f.prediction_id
    RETURNING p.id, p.actual_output, p.was_correct, p.user_override
""")


@dataclass(frozen=True)
class ScrubbedBatch:
    """Accepted events, scrubbed and shaped as training rows, grouped by tenant."""
    rows_by_tenant: dict[uuid.UUID, list[dict]]
    hits: Counter
    received: int
    now: dt.datetime


def scrub_and_store(events: list[dict]) -> dict:
    """Scrub every accepted event in one batch, then store each tenant's events in one transaction."""
    return store(scrub_batch(events))


def scrub_batch(events: list[dict]) -> ScrubbedBatch:
    """The training rows of accepted events, personal data replaced; nothing is written yet."""
    parsed = [FeedbackEvent.model_validate(event) for event in events]
    texts = [[e.input_data, e.label(), e.actual_output, e.user_feedback] for e in parsed]
    scrubbed = _scrub_by_country(texts, [e.tenant_id for e in parsed])
    rows_by_tenant: dict[uuid.UUID, list[dict]] = {}
    hits_total: Counter = Counter()
    now = clock.now()
    for event, result in zip(parsed, scrubbed):
        input_data, label, actual, feedback = result.value
        hits_total.update(result.hits)
        rows_by_tenant.setdefault(event.tenant_id, []).append({
            "tenant_id": str(event.tenant_id),
            "agent_type": event.agent_type,
            "input_data": input_data,
            "expected_output": label,
            "actual_output": actual,
            "was_correct": event.was_correct(),
            "user_feedback": feedback,
            "confidence_score": event.confidence_score,
            "feedback_timestamp": (event.occurred_at or now).isoformat(),
            "source": event.source.value,
            "prediction_id": str(event.prediction_id) if event.prediction_id else None,
            "idempotency_key": event.idempotency_key,
            "scrub_hits": dict(result.hits),
            "signal": event.signal(),
        })
    return ScrubbedBatch(rows_by_tenant, hits_total, len(events), now)


def _scrub_by_country(texts: list, tenants: list[uuid.UUID]) -> list:
    """Each event scrubbed with its tenant's country, whose national formats (phones) differ."""
    if not texts:
        return []
    with db.unscoped() as connection:  # a definer function: the front-facing role reads no tenant's row
        found = connection.execute(text("SELECT tenant_id, country FROM ai.tenant_countries(CAST(:ids AS uuid[]))"),
                                   {"ids": [str(tenant) for tenant in set(tenants)]})
        countries = {tenant: country for tenant, country in found}
    by_country: dict[str | None, list[int]] = {}
    for index, tenant in enumerate(tenants):
        by_country.setdefault(countries.get(tenant), []).append(index)
    scrubbed: list = [None] * len(texts)
    for country, indexes in by_country.items():
        for index, result in zip(indexes, scrub_many([texts[i] for i in indexes], country=country)):
            scrubbed[index] = result
    return scrubbed


def store(batch: ScrubbedBatch) -> dict:
    """Write each tenant's rows in one transaction; a row already stored under its key is skipped."""
    stored = 0
    for tenant, rows in batch.rows_by_tenant.items():
        with db.tenant_scope(tenant) as connection:
            inserted = connection.execute(INSERT_ROWS, {"rows": json.dumps(rows), "now": batch.now}).all()
            stored += len(inserted)
            answered = _answer_predictions(connection, inserted, batch.now)
        counters.recorder().feedback(answered)  # once committed: a rolled-back answer is never counted
    return {"stored": stored, "duplicates": batch.received - stored, "scrub_hits": dict(batch.hits)}


def _answer_predictions(connection: Connection, inserted, now) -> list[counters.Answer]:
    """The audit row learns the real outcome: the label, whether the AI was right, any override.
    Returns how each answered prediction's verdict changed, and its ratings, for the metrics."""
    answers = []
    for row in inserted:
        if row.prediction_id is None:
            continue
        overridden = row.source in OVERRIDE_SOURCES and row.was_correct is False
        answers.append({
            "prediction_id": str(row.prediction_id),
            "actual_output": row.expected_output,
            "was_correct": row.was_correct,
            "user_override": overridden,
            "override_reason": row.user_feedback if overridden else None,
            "user_feedback": row.user_feedback,
        })
    if not answers:
        return []
    previous = connection.execute(PREVIOUS_VERDICTS, {"ids": [a["prediction_id"] for a in answers]}).mappings().all()
    updated = {row.id: row for row in connection.execute(UPDATE_PREDICTIONS, {"rows": json.dumps(answers), "now": now})}
    ratings: dict[str, list[int]] = {}
    for row in inserted:
        if row.prediction_id is not None and row.signal and row.signal.get("rating") is not None:
            ratings.setdefault(str(row.prediction_id), []).append(row.signal["rating"])
    return [_verdict_change(before, updated[before["id"]], ratings.get(str(before["id"]), ())) for before in previous]


def _verdict_change(before, after, ratings) -> counters.Answer:
    agent, predicted = before["agent_type"], before["predicted_output"]
    return counters.Answer(
        model_version_id=before["model_version_id"], day=before["prediction_timestamp"].date(),
        before=counters.verdict(agent, predicted, before["actual_output"], before["was_correct"], before["user_override"]),
        after=counters.verdict(agent, predicted, after.actual_output, after.was_correct, after.user_override),
        ratings=tuple(ratings))
