"""The signed envelope: what verifies, and each way a forged, altered, stale or malformed one is refused."""
from __future__ import annotations

import json

import pytest

from modelops.auth.envelope import FRESHNESS_SECONDS, Unauthenticated, open_envelope, seal, signature

KEY, OTHER_KEY = b"k" * 32, b"o" * 32
TASK = "modelops.feedback.record"
NOW = 1_800_000_000


def key_of(service: str) -> bytes:
    if service != "ledger":
        raise Unauthenticated(f"{service!r} is not a service with a valid credential", service)
    return KEY


def opened(envelope, task=TASK, now=NOW):
    return open_envelope(envelope, task, key_of, now)


def test_a_sealed_call_opens_to_its_service_and_arguments():
    envelope = seal(KEY, "ledger", TASK, {"event": {"tenant_id": "t", "note": "Zoë \udc80"}}, now=NOW)
    call = opened(envelope)
    assert call.service == "ledger" and call.nonce == envelope["nonce"]
    assert call.arguments == {"event": {"tenant_id": "t", "note": "Zoë \udc80"}}


def test_an_envelope_made_by_hand_as_another_language_would_verifies():
    body = '{"items": [{"amount": 12.0}]}'  # spacing and number format are the sender's: the text is what is signed
    envelope = {"service": "ledger", "issued_at": NOW, "nonce": "n" * 16, "body": body,
                "signature": signature(KEY, TASK, "ledger", NOW, "n" * 16, body)}
    assert opened(envelope).arguments == {"items": [{"amount": 12.0}]}


@pytest.mark.parametrize("change, reason", [
    (lambda e: e | {"body": e["body"].replace("t1", "t2")}, "does not verify"),         # arguments altered
    (lambda e: e | {"service": "payroll"}, "not a service"),                              # another service claimed
    (lambda e: e | {"issued_at": e["issued_at"] + 1}, "does not verify"),                 # time altered
    (lambda e: e | {"nonce": "m" * 32}, "does not verify"),                               # nonce altered
    (lambda e: e | {"signature": "0" * 64}, "does not verify"),
    (lambda e: e | {"signature": "xyz"}, "64 hex characters"),
    (lambda e: {k: v for k, v in e.items() if k != "nonce"}, "lacks nonce"),
    (lambda e: e | {"caller": "ledger"}, "unknown fields 'caller'"),
    (lambda e: e | {"service": "ledger\x00"}, "must be a service's name"),                    # unstorable name
    (lambda e: e | {"signature": "é" * 64}, "64 hex characters"),                         # not ASCII
    (lambda e: e | {"issued_at": "1800000000"}, "issued_at must be an integer"),
    (lambda e: "a string", "must carry an envelope object"),
])
def test_an_altered_or_malformed_envelope_is_refused_with_its_reason(change, reason):
    envelope = seal(KEY, "ledger", TASK, {"event": {"tenant_id": "t1"}}, now=NOW)
    with pytest.raises(Unauthenticated, match=reason):
        opened(change(envelope))


def test_a_call_signed_with_another_key_or_for_another_task_is_refused():
    with pytest.raises(Unauthenticated, match="does not verify"):
        opened(seal(OTHER_KEY, "ledger", TASK, {"event": {}}, now=NOW))
    with pytest.raises(Unauthenticated, match="does not verify for modelops.serving.predict_batch"):
        opened(seal(KEY, "ledger", TASK, {"items": []}, now=NOW), task="modelops.serving.predict_batch")


@pytest.mark.parametrize("age", [FRESHNESS_SECONDS + 1, -(FRESHNESS_SECONDS + 1)])
def test_a_stale_or_future_envelope_is_refused(age):
    envelope = seal(KEY, "ledger", TASK, {"event": {}}, now=NOW - age)
    with pytest.raises(Unauthenticated, match="issued"):
        opened(envelope)
    assert opened(seal(KEY, "ledger", TASK, {"event": {}}, now=NOW - FRESHNESS_SECONDS + 5)).service == "ledger"


@pytest.mark.parametrize("body", ["[1, 2]", "not json", "[" * 100_000 + "]" * 100_000])
def test_a_signed_body_that_is_not_an_object_of_arguments_is_refused(body):
    envelope = {"service": "ledger", "issued_at": NOW, "nonce": "n" * 16, "body": body,
                "signature": signature(KEY, TASK, "ledger", NOW, "n" * 16, body)}
    with pytest.raises(Unauthenticated, match="body"):
        opened(envelope)


def test_the_body_is_parsed_only_once_the_signature_holds():
    body = json.dumps({"event": {}})
    forged = {"service": "ledger", "issued_at": NOW, "nonce": "n" * 16, "body": "[" * 100_000, "signature": "0" * 64}
    with pytest.raises(Unauthenticated, match="does not verify"):
        opened(forged)
    assert opened(forged | {"body": body, "signature": signature(KEY, TASK, "ledger", NOW, "n" * 16, body)}).arguments == {"event": {}}
