"""Hostile payloads fail alone: properties of the checks that admit feedback events and prediction
requests, of what is kept of a refused payload, of the scrubber, and of ``modelops scrub``.

Every check here must answer for any payload (deep, wide, huge or odd) without raising, refuse
what breaks the limits, and let through only what every later step (serialising, validating,
scrubbing, storing) can take.
"""
from __future__ import annotations

import json
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from modelops import intake, serving, storable
from modelops.privacy.pii import scrub
from modelops.serving.pointers import PointerCache
from modelops.serving.requests import LIMITS as REQUEST_LIMITS, Refused, ValidRequest, parse as parse_request
from modelops.serving.routes import Route, ServedModel
from modelops.serving.service import Server
from schemas.feedback import MAX_BATCH_EVENTS, MAX_EVENT_DEPTH
from tests.cli import run
from tests.hostile_payloads import HOSTILE, ODD, deep, depth_of, nest, text_length_of
from tests.model_versions import model_version

EVENT_LIMITS = intake.EVENT_LIMITS
HOSTILE_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TENANT = uuid.uuid4()


def texts_of(value):
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            yield from (key for key in item if isinstance(key, str))
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)


def storable_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def event(**fields) -> dict:
    return {"tenant_id": str(TENANT), "agent_type": "classification", "source": "classification_correction",
            "input_data": {"description": "CARD PAYMENT OFFICE DEPOT", "amount": 12.5, "currency": "USD",
                           "direction": "debit", "date": "2031-06-01"},
            "expected_output": {"category": "Office Supplies"}, "actual_output": {"category": "Travel"}, **fields}


def request(**fields) -> dict:
    return {"tenant_id": str(TENANT), "agent_type": "classification",
            "input_data": {"description": "AMZN MKTP US", "merchant": "Amazon", "amount": 12.5, "currency": "USD",
                           "direction": "debit", "date": "2031-06-01"}, **fields}


# -- the shared check ------------------------------------------------------------------------------

@HOSTILE_SETTINGS
@given(HOSTILE)
def test_the_check_answers_for_any_payload_and_lets_through_only_what_every_reader_takes(value):
    found = storable.problem(value, EVENT_LIMITS)
    if depth_of(value) > MAX_EVENT_DEPTH or text_length_of(value) > EVENT_LIMITS.size:
        assert found, "a payload beyond the limits was let through"
    if found is None:
        assert depth_of(value) <= MAX_EVENT_DEPTH
        assert all(storable_text(text) for text in texts_of(value))
        json.dumps(value, allow_nan=False)  # JSON, with text keys and finite numbers only
    else:
        assert isinstance(found, str) and len(found) < 1000


@pytest.mark.parametrize("depth, refused", [(MAX_EVENT_DEPTH, False), (MAX_EVENT_DEPTH + 1, True), (100_000, True)])
def test_depth_counts_the_outermost_container_as_the_first_level(depth, refused):
    found = storable.problem(nest(depth, ["dict", "list"], "leaf"), EVENT_LIMITS)
    assert (found is not None) == refused
    if refused:
        assert found.endswith(f"nested more than {MAX_EVENT_DEPTH} levels deep")


def test_without_limits_only_what_postgres_refuses_is_found_at_any_depth():
    assert storable.problem(nest(50_000, ["list"], "fine")) is None
    assert "NUL" in storable.problem(nest(50_000, ["dict"], "bad\x00"))


@HOSTILE_SETTINGS
@given(HOSTILE)
def test_what_is_kept_of_any_refused_payload_is_small_shallow_json(value):
    kept = storable.shortened(value, EVENT_LIMITS)
    assert depth_of(kept) <= MAX_EVENT_DEPTH
    text = json.dumps(kept, ensure_ascii=False)  # no default: everything in it is JSON already
    assert len(text) <= 2 * EVENT_LIMITS.size + 1_000


# -- feedback events (record, record_batch) --------------------------------------------------------

PLACES = ["input_data", "expected_output", "actual_output", "user_feedback", "idempotency_key", "memo"]


@HOSTILE_SETTINGS
@given(HOSTILE, st.sampled_from(PLACES))
def test_an_event_carrying_anything_is_judged_without_raising(payload, place):
    raw = event()
    if place == "memo":
        raw["input_data"]["memo"] = payload
    else:
        raw[place] = payload
    try:
        parsed = intake.parse(raw)
    except intake.RejectedEvent as error:
        assert str(error)
        return
    # what is accepted goes on: its key is derived and it is sent on as JSON
    parsed.key()
    json.dumps(parsed.model_dump(mode="json"), allow_nan=False)


@HOSTILE_SETTINGS
@given(deep(min_depth=MAX_EVENT_DEPTH, max_depth=20_000))
def test_a_deep_event_is_rejected_for_its_depth(payload):
    with pytest.raises(intake.RejectedEvent, match=f"nested more than {MAX_EVENT_DEPTH} levels deep"):
        intake.parse(event(expected_output=payload))


@HOSTILE_SETTINGS
@given(st.lists(st.one_of(st.just(None), HOSTILE), min_size=1, max_size=6))
def test_what_a_rejection_keeps_of_any_payload_is_scrubbed_and_stored_as_json(payloads):
    """The pure part of intake.record_rejections: never raises, whatever was refused."""
    raws = [event(input_data=payload) if payload is not None else event() for payload in payloads] + payloads
    for raw in raws:
        kept = scrub(intake._jsonable(raw)).value
        assert all(storable_text(text) for text in texts_of(kept))
        assert len(json.dumps(kept, allow_nan=False)) < 6 * EVENT_LIMITS.size
        assert intake._tenant_of(raw) in (None, str(TENANT))


def test_a_batch_is_an_array_of_at_most_the_cap():
    assert intake.batch_problem([event()] * MAX_BATCH_EVENTS) is None
    assert intake.batch_problem([event()] * (MAX_BATCH_EVENTS + 1)) == (
        f"events: at most {MAX_BATCH_EVENTS} events per batch, got {MAX_BATCH_EVENTS + 1}; split the batch")
    assert intake.batch_problem({"events": []}) == "events must be a JSON array, got dict"


# -- prediction requests (predict, predict_batch) --------------------------------------------------

REQUEST_PLACES = ["input_data", "request_key", "description", "merchant", "undeclared", "tenant_id"]


@HOSTILE_SETTINGS
@given(HOSTILE, st.sampled_from(REQUEST_PLACES))
def test_a_request_carrying_anything_is_judged_without_raising(payload, place):
    item = request()
    if place in ("description", "merchant", "undeclared"):
        item["input_data"][place] = payload
    else:
        item[place] = payload
    parsed = parse_request(item)
    assert isinstance(parsed, (Refused, ValidRequest))
    if depth_of(item) > REQUEST_LIMITS.depth:
        assert isinstance(parsed, Refused) and "levels deep" in parsed.reason
    if isinstance(parsed, ValidRequest):  # what the audit log will hold, as one JSON write
        json.dumps(parsed.features_input, allow_nan=False).encode("utf-8")


class Constant:
    """An estimator that answers every input alike."""

    classes_ = np.array(["Office Supplies", "Travel"])

    def predict_proba(self, inputs):
        return np.tile([0.75, 0.25], (len(inputs), 1))


class ConstantModels:
    def get(self, model):
        return Constant()


def constant_server(written: list) -> Server:
    model = ServedModel.from_version(model_version(model_artifact_path="unused", artifact_sha256="0" * 64))
    def refresh(keys, known):
        return {key: ("", Route(model, "")) for key in keys}
    return Server(PointerCache(refresh), ConstantModels(), write_log=written.extend)


@HOSTILE_SETTINGS
@given(st.lists(st.one_of(st.none(), HOSTILE, deep(max_depth=2_000).map(lambda d: request(input_data={**request()["input_data"], "x": d}))),
                min_size=1, max_size=8))
def test_a_batch_of_requests_answers_the_good_and_refuses_the_hostile_each_alone(drawn):
    good = [item is None for item in drawn]  # the hostile ones are no request at all, or too deep
    items = [request() if item is None else item for item in drawn]
    written: list = []
    assert serving.batch_problem(items) is None
    answers = constant_server(written).predict_many(items)
    assert [answer["status"] for answer in answers] == ["predicted" if ok else "rejected" for ok in good]
    assert all(answer["reason"] for answer, ok in zip(answers, good) if not ok)
    assert len(written) == sum(good)


def test_a_batch_of_requests_beyond_the_cap_is_refused_whole():
    assert "at most 10000 requests" in serving.batch_problem([request()] * (serving.MAX_BATCH_ITEMS + 1))


# -- the scrubber and `modelops scrub` -------------------------------------------------------------

@HOSTILE_SETTINGS
@given(st.integers(1, 20_000), st.lists(st.sampled_from(["dict", "list"]), min_size=1, max_size=3))
def test_the_scrubber_walks_any_depth(depth, kinds):
    result = scrub(nest(depth, kinds, "write to bob@example.com"))
    value = result.value
    for level in reversed(range(depth)):  # unwrapped without recursion: == on such a value would recurse
        value = value["k"] if kinds[level % len(kinds)] == "dict" else value[0]
    assert value == "write to [EMAIL]"
    assert result.hits == {"EMAIL": 1}


def one_line(text: str) -> bool:
    return bool(text.strip()) and not any(end in text for end in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def written(value) -> str:
    """``value`` as another program may write it; an integer longer than Python writes, as digits."""
    try:
        return json.dumps(value)
    except ValueError:
        return "1" * 5_000


@HOSTILE_SETTINGS
@given(st.one_of(ODD.map(written), st.text(max_size=30), st.just('{"a": ')).filter(one_line))
def test_modelops_scrub_answers_any_line_with_json_or_an_error_naming_it(line):
    result = run("scrub", stdin=line + "\n")
    assert result.returncode in (0, 2), result.stderr
    if result.returncode == 0:
        output, end = result.stdout.split("\n")  # one line (JSON escapes every line break it carries)
        assert end == ""
        json.loads(output)
    else:
        assert result.stderr.startswith("error: line 1 ")


@HOSTILE_SETTINGS
@given(st.integers(1, 5_000))
def test_modelops_scrub_scrubs_a_deep_line_or_says_it_is_too_deep(depth):
    result = run("scrub", stdin="[" * depth + '"call 415-555-0132"' + "]" * depth + "\n")
    if result.returncode == 0:
        assert result.stdout == "[" * depth + '"call [PHONE]"' + "]" * depth + "\n"
    else:
        assert result.returncode == 2 and result.stderr == "error: line 1 is nested too deeply to be read as JSON\n"
