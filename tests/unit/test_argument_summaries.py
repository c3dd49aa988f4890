"""What task events and Flower show of a task's arguments (workers/redaction.py): tenant ids, agent
types, feedback sources and sizes, and never another value, whatever shape the arguments take or
whatever argsrepr the sending code asked for."""
from __future__ import annotations

import json
import uuid

from workers.app import app
from workers.redaction import summaries

TENANT = str(uuid.uuid4())
PII = ("JANE DOE", "123-45-6789", "jane@example.com", "ledger-bob")


def event(**fields) -> dict:
    return {"tenant_id": TENANT, "agent_type": "classification", "source": "user_correction",
            "input_data": {"description": "ZELLE TO JANE DOE ssn 123-45-6789", "email": "jane@example.com"},
            "expected_output": {"category": "JANE DOE"}, "idempotency_key": "123-45-6789", **fields}


def assert_no_pii(*texts: str) -> None:
    for text in texts:
        assert not [value for value in PII if value in text], text


def test_one_event_shows_its_tenant_agent_source_and_size_only():
    argsrepr, kwargsrepr = summaries([event()], {"caller": "ledger-bob"})
    assert argsrepr == f"({{tenant_id={TENANT}, agent_type=classification, source=user_correction, 6 keys}})"
    assert kwargsrepr == "{caller: str of 10 chars}"


def test_a_batch_counts_its_tenants_agents_and_sources():
    other = str(uuid.uuid4())
    events = [event(), event(), event(tenant_id=other, agent_type="chat", source="satisfaction_rating")]
    argsrepr, _ = summaries([events], {})
    assert argsrepr == (f"([3 items: tenant_id={TENANT} (2) {other} (1), agent_type=classification (2) chat (1), "
                        "source=user_correction (2) satisfaction_rating (1)])")


def test_whitelisted_fields_holding_other_text_are_not_shown():
    argsrepr, _ = summaries([event(tenant_id="JANE DOE", agent_type="123-45-6789", source="jane@example.com")], {})
    assert argsrepr == "({tenant_id=?, agent_type=?, source=?, 6 keys})"


def test_a_signed_envelope_is_summarised_by_the_arguments_in_its_body():
    body = json.dumps({"events": [event(), event()]})
    envelope = {"service": "ledger-bob", "issued_at": 1, "nonce": "JANE DOE", "body": body, "signature": "123-45-6789"}
    _, kwargsrepr = summaries([], {"envelope": envelope})
    assert kwargsrepr == (f"{{envelope: body of {len(body)} chars {{events: [2 items: tenant_id={TENANT} (2), "
                          "agent_type=classification (2), source=user_correction (2)]}}")
    assert_no_pii(kwargsrepr)


def test_odd_shapes_show_no_value():
    deep = "JANE DOE"
    for _ in range(5000):
        deep = [deep]
    shapes = [("JANE DOE", "123-45-6789"), ([deep], {"JANE DOE 123-45-6789": 1}),
              ([], {"envelope": {"body": "[" * 100_000 + "\"JANE DOE\"" + "]" * 100_000}}),
              ([], {"envelope": {"body": "not json JANE DOE"}}), ([{"jane@example.com": "123-45-6789"}] * 500, {})]
    for args, kwargs in shapes:
        assert_no_pii(*summaries(args, kwargs))
    assert summaries("JANE DOE", "x") == ("(str of 8 chars)", "str of 1 chars")


def test_a_long_summary_is_cut():
    argsrepr, _ = summaries([str(uuid.uuid4()) for _ in range(100)], {})
    assert len(argsrepr) == 600 and argsrepr.endswith("…")


def test_this_applications_messages_and_sent_events_carry_summaries_whatever_the_caller_asked():
    message = app.amqp.as_task_v2(str(uuid.uuid4()), "modelops.privacy.scrub_and_store", args=[[event()]],
                                  kwargs={"caller": "ledger-bob"}, create_sent_event=True, argsrepr="JANE DOE")
    expected = summaries([[event()]], {"caller": "ledger-bob"})
    assert (message.headers["argsrepr"], message.headers["kwargsrepr"]) == expected
    assert (message.sent_event["args"], message.sent_event["kwargs"]) == expected
