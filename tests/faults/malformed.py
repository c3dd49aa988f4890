"""Hypothesis strategies for malformed messages to the public tasks (docs/contracts.md).

Every payload drawn here is wrong on purpose: a valid message with at least one breaking change
(a field missing, of the wrong type, out of range, unknown, oversize, not storable as JSON in
Postgres, or the arguments themselves of the wrong shape), or no object at all; or a well-formed
call in an envelope that does not establish its sender (an unknown service, a wrong key, a
signature for another task or another body, a stale or malformed envelope) or whose service is no
member of the tenant. Each is a ``Message``: the task, its arguments, and what the contract
promises in answer:

    rejected   an answer (no exception) whose status is ``rejected`` or ``refused`` with a reason
    failed     the call itself does not fit the task's signature: the task fails with a TypeError
               naming it (Celery checks the arguments before the task runs)

A call of a public task names the service that signs it and the arguments its envelope carries;
the envelope is made when the message is sent (``sealed``), since signing needs the service's
credential, and an envelope is good for one message only.
"""
from __future__ import annotations

import math
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from hypothesis import seed as seeded

from modelops import AGENT_TYPES
from modelops.auth.envelope import FIELDS as ENVELOPE_FIELDS, FRESHNESS_SECONDS, seal
from schemas.feedback import FeedbackEvent, Source

RECORD, RECORD_BATCH = "modelops.feedback.record", "modelops.feedback.record_batch"
PREDICT, PREDICT_BATCH = "modelops.serving.predict", "modelops.serving.predict_batch"
REPRODUCE = "modelops.audit.reproduce_prediction"
ROLLBACK = "modelops.rollback.trigger_rollback"
CONTRACTS = Path(__file__).resolve().parents[2] / "docs" / "contracts.md"
PUBLIC = {RECORD, RECORD_BATCH, PREDICT, PREDICT_BATCH}
KNOWN = PUBLIC | {REPRODUCE, ROLLBACK}
# A service that is registered but a member of no tenant (the scenario registers it).
OUTSIDER = "faults-outsider"


@dataclass(frozen=True)
class Message:
    task: str
    args: list = field(default_factory=list)  # positional arguments, sent as they are
    kwargs: dict = field(default_factory=dict)  # keyword arguments (next to the envelope, if any)
    expect: str = "rejected"  # or "failed", "either"
    # A signed call: the service whose envelope carries ``arguments`` (None: no envelope is sent)
    service: str | None = None
    arguments: Any = None
    flaw: tuple = ()  # what is wrong with the envelope: (kind, detail), see ``sealed``
    envelope_name: str = "envelope"


def sealed(message: Message, credential_of: Callable[[str], bytes]) -> tuple[list, dict]:
    """The message's (args, kwargs) as sent, its envelope made now with ``credential_of(service)``
    and broken as its ``flaw`` says."""
    if message.service is None:
        return message.args, message.kwargs
    kind, detail = message.flaw or (None, None)  # other_task: signed for another public task
    key = secrets.token_bytes(32) if kind in ("unknown_service", "wrong_key") else credential_of(message.service)
    now = time.time() + {"stale": -2 * FRESHNESS_SECONDS, "future": 2 * FRESHNESS_SECONDS}.get(kind, 0)
    signed_for = min(PUBLIC - {message.task}) if kind == "other_task" else message.task
    envelope: Any = seal(key, message.service, signed_for, message.arguments, now=now)
    if kind == "body":  # the same arguments, in another text than the one signed
        envelope["body"] = " " + envelope["body"]
    elif kind in ("field", "unknown_field"):
        envelope[detail[0]] = detail[1]
    elif kind == "missing":
        del envelope[detail]
    elif kind == "not_an_object":
        envelope = detail
    return message.args, {**message.kwargs, message.envelope_name: envelope}


def contract_tasks() -> list[str]:
    """Every task name docs/contracts.md gives a section of its own."""
    return sorted(set(re.findall(r"^##+ `(modelops\.[a-z_]+\.[a-z_]+)\(", CONTRACTS.read_text(), re.MULTILINE)))


# -- values ------------------------------------------------------------------------------------------

LETTERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzXYZ _-", min_size=1, max_size=20)
JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), LETTERS,
                 st.lists(st.integers(), max_size=3), st.dictionaries(LETTERS, st.integers(), max_size=2))
NOT_AN_OBJECT = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
                          st.lists(st.integers(), max_size=3))
NOT_A_UUID = st.one_of(LETTERS.filter(lambda s: not _is_uuid(s)), st.integers(), st.none(), st.booleans(),
                       st.lists(st.integers(), max_size=2), st.just(""), st.just(str(uuid.uuid4())[:-1]))
NOT_TEXT = st.one_of(st.integers(), st.lists(LETTERS, max_size=2), st.dictionaries(LETTERS, LETTERS, max_size=1))
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
# characters that JSON carries but Postgres cannot store (NUL), or that are not UTF-8 at all (a lone surrogate)
UNSTORABLE = st.sampled_from(["\x00", "\ud800", "\udfff"])


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
        return True
    except ValueError:
        return False


def _long(minimum: int):
    return st.integers(minimum, minimum + 500).map(lambda n: "x" * n)


def _with_unstorable(text: str):
    return UNSTORABLE.map(lambda bad: text[:3] + bad + text[3:])


# -- feedback ----------------------------------------------------------------------------------------

def valid_event(tenant: uuid.UUID) -> dict:
    return {"tenant_id": str(tenant), "agent_type": "classification", "source": "classification_correction",
            "input_data": {"description": "CARD PAYMENT OFFICE DEPOT", "amount": 12.5, "currency": "USD",
                           "direction": "debit", "date": "2031-06-01"},
            "expected_output": {"category": "Office Supplies"}, "actual_output": {"category": "Travel"},
            "idempotency_key": f"malformed-{uuid.uuid4()}", "user_feedback": "it was paper"}


SOURCES = [source.value for source in Source]
FIELDS = set(FeedbackEvent.model_fields)
EVENT_BREAKS = {
    "tenant_id": NOT_A_UUID,
    "agent_type": st.one_of(LETTERS.filter(lambda s: s not in AGENT_TYPES), st.integers(), st.none()),
    "source": st.one_of(LETTERS.filter(lambda s: s not in SOURCES), st.integers(), st.none()),
    "input_data": NOT_AN_OBJECT,
    "confidence_score": st.one_of(st.floats(min_value=1.0001, max_value=1e9), st.floats(max_value=-0.0001, min_value=-1e9),
                                  NON_FINITE, st.lists(st.floats(0, 1), min_size=1, max_size=2)),
    "user_feedback": st.one_of(_long(4001), NOT_TEXT, _with_unstorable("the user's words")),
    "idempotency_key": st.one_of(st.just(""), _long(201), NOT_TEXT, _with_unstorable("key-1")),
    "occurred_at": st.one_of(LETTERS, st.lists(st.integers(), max_size=2), st.just("2031-13-45T99:00:00")),
    "prediction_id": NOT_A_UUID.filter(lambda value: value is not None),
    "engagement": LETTERS.filter(lambda s: s not in ("accepted", "edited", "ignored", "dismissed")),
    "seconds_to_resolution": st.one_of(st.floats(max_value=-0.001, min_value=-1e6), LETTERS),
}


@st.composite
def broken_event(draw, tenant: uuid.UUID):
    event = valid_event(tenant)
    breaks = draw(st.lists(st.sampled_from(["missing", "value", "unknown", "source_needs", "oversize", "unstorable",
                                            "non_finite"]), min_size=1, max_size=3))
    for kind in breaks:
        if kind == "missing":
            event.pop(draw(st.sampled_from(["tenant_id", "agent_type", "source", "input_data"])), None)
        elif kind == "value":
            name = draw(st.sampled_from(sorted(EVENT_BREAKS)))
            event[name] = draw(EVENT_BREAKS[name])
        elif kind == "unknown":
            event[draw(LETTERS.filter(lambda s: s not in FIELDS))] = draw(JUNK)
        elif kind == "source_needs":  # a source whose own field is absent
            event["source"] = draw(st.sampled_from(["satisfaction_rating", "accuracy_feedback", "implicit_signal"]))
        elif kind == "oversize":
            event["input_data"] = {**(event.get("input_data") if isinstance(event.get("input_data"), dict) else {}),
                                   "memo": "m" * draw(st.integers(70_000, 80_000))}
        elif kind == "unstorable":
            where = draw(st.sampled_from(["user_feedback", "input_data", "expected_output"]))
            bad = draw(_with_unstorable("CARD PAYMENT"))
            if where == "user_feedback":
                event["user_feedback"] = bad
            else:
                event[where] = {"description" if where == "input_data" else "category": bad}
        else:  # non_finite: JSON has no NaN, Postgres's jsonb refuses it
            where = draw(st.sampled_from(["input_data", "expected_output", "actual_output"]))
            event[where] = {"amount": draw(NON_FINITE)}
    return event


def events(tenant):
    return st.one_of(NOT_AN_OBJECT, broken_event(tenant))


def record_messages(tenant: uuid.UUID, caller: str):
    return events(tenant).map(lambda event: Message(RECORD, service=caller, arguments={"event": event}))


def misshapen_record_messages(tenant: uuid.UUID, caller: str):
    """Calls that do not fit the public tasks' one argument, ``envelope``: refused, or (the body
    naming other arguments than the task's) rejected, each with the reason."""
    def call(task, arguments, **shape):
        return Message(task, service=caller, arguments=arguments, **shape)

    return st.one_of(
        events(tenant).map(lambda event: Message(RECORD, [event], {"caller": caller})),  # unsigned, positional
        events(tenant).map(lambda event: call(RECORD, {"event": event}, args=[event, caller, "extra"])),
        events(tenant).map(lambda event: call(RECORD, {"event": event}, kwargs={"caller": caller})),
        events(tenant).map(lambda event: call(RECORD, {"event": event}, envelope_name="envelop")),
        events(tenant).map(lambda event: call(RECORD, {"evnt": event})),
        events(tenant).map(lambda event: call(RECORD, {"event": event, "caller": caller})),
        st.just(Message(RECORD_BATCH, [], {"caller": caller})),
        st.just(call(RECORD_BATCH, {})),
    )


def record_batch_messages(tenant: uuid.UUID, caller: str):
    return st.one_of(
        st.lists(events(tenant), min_size=1, max_size=8).map(
            lambda batch: Message(RECORD_BATCH, service=caller, arguments={"events": batch})),
        st.one_of(st.none(), st.integers(), LETTERS, st.dictionaries(LETTERS, st.integers(), max_size=2))
          .map(lambda batch: Message(RECORD_BATCH, service=caller, arguments={"events": batch})),
    )


# -- predictions -------------------------------------------------------------------------------------

def valid_request(tenant: uuid.UUID) -> dict:
    return {"tenant_id": str(tenant), "agent_type": "classification",
            "input_data": {"description": "AMZN MKTP US", "merchant": "Amazon", "amount": 12.5, "currency": "USD",
                           "direction": "debit", "date": "2031-06-01"}}


INPUT_BREAKS = {
    "amount": st.one_of(LETTERS, NON_FINITE, st.none(), st.lists(st.integers(), min_size=1, max_size=2)),
    "currency": st.one_of(LETTERS.filter(lambda s: not re.fullmatch(r"\s*[A-Za-z]{3}\s*", s)), st.integers()),
    "direction": LETTERS.filter(lambda s: s not in ("debit", "credit")),
    "date": st.one_of(LETTERS, st.just("2031-02-30"), st.integers(min_value=10**12)),
    "description": st.one_of(_long(2001), NOT_TEXT, st.none(), _with_unstorable("AMZN MKTP")),
    "merchant": st.one_of(NOT_TEXT, _with_unstorable("Amazon")),
}


@st.composite
def broken_request(draw, tenant: uuid.UUID):
    request = valid_request(tenant)
    breaks = draw(st.lists(st.sampled_from(["missing", "tenant", "agent", "input", "field", "key", "unknown"]),
                           min_size=1, max_size=3))
    for kind in breaks:
        if kind == "missing":
            request.pop(draw(st.sampled_from(["tenant_id", "agent_type", "input_data"])), None)
        elif kind == "tenant":
            request["tenant_id"] = draw(NOT_A_UUID)
        elif kind == "agent":
            request["agent_type"] = draw(st.one_of(LETTERS.filter(lambda s: s not in AGENT_TYPES), st.integers(), st.none()))
        elif kind == "input":
            request["input_data"] = draw(NOT_AN_OBJECT)
        elif kind == "field":
            name = draw(st.sampled_from(sorted(INPUT_BREAKS)))
            data = request.get("input_data") if isinstance(request.get("input_data"), dict) else {}
            request["input_data"] = {**data, name: draw(INPUT_BREAKS[name])}
        elif kind == "key":
            request["request_key"] = draw(st.one_of(st.just(""), _long(201), NOT_TEXT, _with_unstorable("customer-42")))
        else:
            request[draw(LETTERS.filter(lambda s: s not in ("tenant_id", "agent_type", "input_data", "request_key")))] = draw(JUNK)
    return request


def requests(tenant):
    return st.one_of(NOT_AN_OBJECT, broken_request(tenant))


def predict_messages(tenant: uuid.UUID, caller: str):
    return st.one_of(
        broken_request(tenant).map(lambda request: Message(PREDICT, service=caller, arguments=request)),
        # a body that is no object of a request's fields
        NOT_AN_OBJECT.map(lambda request: Message(PREDICT, service=caller, arguments=request)),
        # positional arguments, unsigned: the request's fields arrive as nothing the task reads
        requests(tenant).map(lambda request: Message(PREDICT, [request], {})),
        broken_request(tenant).map(lambda request: Message(PREDICT, [], request)),
    )


def predict_batch_messages(tenant: uuid.UUID, caller: str):
    def call(items):
        return Message(PREDICT_BATCH, service=caller, arguments={"items": items})

    return st.one_of(
        st.lists(requests(tenant), min_size=1, max_size=8).map(call),
        st.one_of(st.none(), st.integers(), LETTERS, st.dictionaries(LETTERS, st.integers(), max_size=2)).map(call),
        st.just(call([valid_request(uuid.UUID(int=0))] * 10_001)),  # longer than allowed
        st.lists(requests(tenant), min_size=1, max_size=8).map(lambda items: Message(PREDICT_BATCH, [items])),  # unsigned
    )


# -- envelopes that do not establish their sender ------------------------------------------------------

SERVICE_NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,40}", fullmatch=True)
NOT_A_SERVICE = st.one_of(st.none(), st.just(""), st.integers(), st.lists(LETTERS, max_size=2),
                          st.dictionaries(LETTERS, LETTERS, max_size=1), st.just("s" * 64), LETTERS,
                          _with_unstorable("ledger-service"))
ENVELOPE_BREAKS = {
    "service": NOT_A_SERVICE,
    "issued_at": st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), LETTERS, st.just(str(int(time.time())))),
    "nonce": st.one_of(st.none(), st.integers(), st.text(max_size=15), st.text(min_size=65, max_size=80)),
    "body": st.one_of(st.none(), st.integers(), st.dictionaries(LETTERS, LETTERS, max_size=2)),
    "signature": st.one_of(st.none(), st.integers(), st.text(max_size=63), st.text(min_size=64, max_size=64),
                           st.just("0" * 64)),
}


def flaws(caller: str) -> dict:
    """Each kind of flaw: a strategy of (service, flaw) that makes the envelope of a well-formed call
    fail to authenticate, or (``OUTSIDER``) authenticate a service that is no member of the tenant."""
    def of_caller(kind):
        return st.just((caller, (kind, None)))

    return {
        "unknown_service": SERVICE_NAMES.map(lambda name: (f"unregistered-{name}", ("unknown_service", None))),
        **{kind: of_caller(kind) for kind in ("wrong_key", "other_task", "body", "stale", "future")},
        "field": st.sampled_from(sorted(ENVELOPE_BREAKS)).flatmap(
            lambda name: ENVELOPE_BREAKS[name].map(lambda value: (caller, ("field", (name, value))))),
        "missing": st.sampled_from(ENVELOPE_FIELDS).map(lambda name: (caller, ("missing", name))),
        "unknown_field": st.tuples(LETTERS.filter(lambda s: s not in ENVELOPE_FIELDS), JUNK)
                           .map(lambda extra: (caller, ("unknown_field", extra))),
        "not_an_object": NOT_AN_OBJECT.map(lambda value: (caller, ("not_an_object", value))),
        "outsider": st.just((OUTSIDER, ())),
    }


def unauthenticated_messages(feedback_tenant: uuid.UUID, model_tenant: uuid.UUID, flaw):
    """A well-formed call of a public task whose envelope has ``flaw`` (a strategy of ``flaws``):
    it does not establish its sender, or its service may not act for the tenant; refused."""
    def event(words):
        return {**valid_event(feedback_tenant), "user_feedback": words}

    def request(words):
        request = valid_request(model_tenant)
        return {**request, "input_data": {**request["input_data"], "description": words}}

    calls = {RECORD: lambda words: {"event": event(words)},
             RECORD_BATCH: lambda words: {"events": [event(words)]},
             PREDICT: request,
             PREDICT_BATCH: lambda words: {"items": [request(words)]}}
    # the words vary the calls, so that every kind of flaw is drawn often (Hypothesis draws no duplicates)
    return st.tuples(st.sampled_from(sorted(calls)), flaw, LETTERS).map(
        lambda drawn: Message(drawn[0], service=drawn[1][0], arguments=calls[drawn[0]](drawn[2]), flaw=drawn[1][1]))


# -- reproduction and the other contract tasks ---------------------------------------------------------

def reproduce_messages():
    ids = st.one_of(NOT_A_UUID, st.floats(allow_nan=False), st.dictionaries(LETTERS, LETTERS, max_size=2),
                    _with_unstorable("5c1e"))
    return st.one_of(
        ids.map(lambda value: Message(REPRODUCE, [value])),
        ids.map(lambda value: Message(REPRODUCE, [], {"prediction_id": value})),
    )


def misshapen_messages():
    """Arguments that do not fit the signature at all."""
    return st.one_of(
        st.just(Message(PREDICT_BATCH)),  # a public task answers even this: refused, no envelope
        st.just(Message(REPRODUCE, [], expect="failed")),
        NOT_A_UUID.map(lambda value: Message(REPRODUCE, [value, value], expect="failed")),
    )


def rollback_messages():
    """A manual rollback with a wrong agent, tenant, reason or actor (never one that could act: a
    valid agent always comes with a wrong tenant, reason or actor)."""
    agents = st.one_of(LETTERS.filter(lambda s: s not in AGENT_TYPES), st.integers(), st.none())
    tenants = st.one_of(NOT_A_UUID.filter(lambda value: value not in (None, "")), st.uuids().map(str))
    words = st.one_of(st.none(), st.just(""), st.just("   "), st.integers(), st.lists(LETTERS, max_size=2))
    return st.one_of(
        st.tuples(agents, tenants, LETTERS, LETTERS).map(lambda args: Message(ROLLBACK, list(args))),
        st.tuples(st.sampled_from(AGENT_TYPES), NOT_A_UUID.filter(lambda value: value not in (None, "")), LETTERS, LETTERS)
          .map(lambda args: Message(ROLLBACK, list(args))),
        st.tuples(st.sampled_from(AGENT_TYPES), st.uuids().map(str), words, words)
          .map(lambda args: Message(ROLLBACK, list(args))),
    )


def generic_messages(task: str):
    """A task named by the contract that this suite has no closer strategy for: arguments of
    every wrong kind; it must answer with a reason or fail naming what is wrong."""
    return st.one_of(
        st.lists(JUNK, max_size=3).map(lambda args: Message(task, args, expect="either")),
        st.dictionaries(LETTERS, JUNK, min_size=1, max_size=3).map(lambda kwargs: Message(task, [], kwargs, expect="either")),
    )


def quotas(feedback_tenant: uuid.UUID, model_tenant: uuid.UUID, caller: str, total: int) -> list[tuple]:
    """(strategy, how many) for every kind of malformed message, ``total`` in all: each task in
    proportion to its surface, and every other contract task a share of its own."""
    others = [task for task in contract_tasks() if task not in KNOWN]
    kinds = [
        (record_messages(feedback_tenant, caller), 0.17),
        *[(unauthenticated_messages(feedback_tenant, model_tenant, flaw), 0.08 / len(flaws(caller)))
          for flaw in flaws(caller).values()],
        (misshapen_record_messages(feedback_tenant, caller), 0.02),
        (record_batch_messages(feedback_tenant, caller), 0.10),
        (predict_messages(model_tenant, caller), 0.24),
        (predict_batch_messages(model_tenant, caller), 0.10),
        (reproduce_messages(), 0.12),
        (misshapen_messages(), 0.02),
        (rollback_messages(), 0.05),
        *[(generic_messages(task), 0.10 / len(others)) for task in others],
    ]
    weight = sum(share for _, share in kinds)
    counts = [int(total * share / weight) for _, share in kinds]
    counts[0] += total - sum(counts)
    return [(strategy, count) for (strategy, _), count in zip(kinds, counts)]


def draw(strategy, n: int, seed: int) -> list:
    """``n`` values of ``strategy``, generated (not shrunk: nothing fails here) from ``seed``."""
    drawn: list = []

    @seeded(seed)
    @settings(max_examples=n, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def keep(value):
        drawn.append(value)

    keep()
    return drawn
