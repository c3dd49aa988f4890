"""A process that reaches the broker, and holds nothing else (a plain Celery client, no credential),
cannot act for any tenant: each attack of the review, done as that process would do it, is refused
with its reason, recorded, and writes nothing.

Attacks with a credential of one's own (a service of tenant A acting on B) are in
test_tenant_isolation.py."""
from __future__ import annotations

import time
import uuid

import pytest
from celery import Celery
from sqlalchemy import text

from modelops import tenants
from modelops.auth import services
from modelops.auth import internal
from modelops.auth.client import ServiceCaller
from modelops.auth.envelope import FRESHNESS_SECONDS, seal
from modelops.config import settings
from tests.callers import caller, signed, signed_batch
from tests.integration.serving_models import record_model
from tests.security.support import event, rows_of, tenant_with_member
from workers.app import app

pytestmark = pytest.mark.integration

RECORD, RECORD_BATCH = "modelops.feedback.record", "modelops.feedback.record_batch"
PREDICT, PREDICT_BATCH = "modelops.serving.predict", "modelops.serving.predict_batch"
WAIT = 30


@pytest.fixture
def attacker():
    """Another process on the broker's network: the broker URL, and nothing of ours."""
    client = Celery(broker=settings().broker_url, backend=settings().redis_url)
    yield client
    client.close()


def audit_rows(owner, since, action: str) -> list[dict]:
    with owner.connect() as connection:
        return [dict(row) for row in connection.execute(text(
            "SELECT * FROM ai.access_audit WHERE created_at >= :since AND action = :action ORDER BY created_at"),
            {"since": since, "action": action}).mappings()]


def database_now(owner):
    with owner.connect() as connection:
        return connection.execute(text("SELECT CURRENT_TIMESTAMP::timestamp")).scalar_one()


def request_for(tenant) -> dict:
    return {"tenant_id": str(tenant), "agent_type": "classification",
            "input_data": {"description": "AMZN MKTP", "amount": 12.5, "currency": "USD", "direction": "debit",
                           "date": "2031-06-01"}}


def test_feedback_naming_a_members_name_as_caller_is_refused_and_stores_nothing(worker, owner, attacker):
    b, member_b = tenant_with_member("auth-b")
    since = database_now(owner)
    answers = [
        attacker.send_task(RECORD, args=[event(b, "forged-1")], kwargs={"caller": member_b}, queue="ingest").get(timeout=WAIT),
        attacker.send_task(RECORD_BATCH, args=[[event(b, "forged-2")], member_b], queue="ingest").get(timeout=WAIT),
    ]
    assert answers[0]["status"] == "refused" and "envelope" in answers[0]["reason"]
    assert answers[1]["counts"] == {"refused": 1}
    time.sleep(1)  # a store task, had one been queued, has run by now
    assert rows_of(owner, "training_data", b) == []
    assert len(audit_rows(owner, since, RECORD)) == 1 and len(audit_rows(owner, since, RECORD_BATCH)) == 1


def test_an_envelope_forged_for_a_member_or_replayed_is_refused(worker, owner, attacker):
    b, member_b = tenant_with_member("auth-forge")
    genuine = signed(RECORD, member_b, event=event(b, "genuine"))
    # a genuine envelope read off the broker, its body altered: the signature is of the other body
    forged = {"envelope": genuine["envelope"] | {"body": genuine["envelope"]["body"].replace('"genuine"', '"forged"')}}

    assert attacker.send_task(RECORD, kwargs=genuine, queue="ingest").get(timeout=WAIT)["status"] == "accepted"
    replayed = attacker.send_task(RECORD, kwargs=genuine, queue="ingest").get(timeout=WAIT)  # a copy read off the broker
    refused = attacker.send_task(RECORD, kwargs=forged, queue="ingest").get(timeout=WAIT)
    assert replayed["status"] == "refused" and "replay" in replayed["reason"]
    assert refused["status"] == "refused" and "does not verify" in refused["reason"]
    time.sleep(1)
    assert [row["idempotency_key"] for row in rows_of(owner, "training_data", b)] == ["genuine"]


def test_a_stale_envelope_and_a_revoked_or_unknown_service_are_refused(worker, owner, attacker):
    b, member_b = tenant_with_member("auth-stale")
    stale = {"envelope": seal(caller(member_b).credential, member_b, RECORD, {"event": event(b, "stale")},
                              now=time.time() - FRESHNESS_SECONDS - 60)}  # a message kept back and sent later
    assert attacker.send_task(RECORD, kwargs=stale, queue="ingest").get(timeout=WAIT)["reason"].startswith("the envelope was issued")

    stranger = signed(RECORD, member_b, event=event(b, "stranger"))
    stranger["envelope"]["service"] = "svc-nobody"
    assert "not a service" in attacker.send_task(RECORD, kwargs=stranger, queue="ingest").get(timeout=WAIT)["reason"]

    revoked_service = f"svc-revoked-{uuid.uuid4().hex[:6]}"
    before = attacker.send_task(RECORD, kwargs=signed(RECORD, revoked_service, tenants=[b], event=event(b, "before-revoke")),
                                queue="ingest").get(timeout=WAIT)
    assert before["status"] == "accepted"
    services.revoke(revoked_service)
    deadline = time.monotonic() + services.LOOKUP_SECONDS + WAIT
    while time.monotonic() < deadline:  # the workers look a service up again within LOOKUP_SECONDS
        kwargs = caller(revoked_service).kwargs(RECORD, event=event(b, f"after-revoke-{uuid.uuid4().hex[:6]}"))
        answer = attacker.send_task(RECORD, kwargs=kwargs, queue="ingest").get(timeout=WAIT)
        if answer["status"] == "refused":
            break
        time.sleep(1)
    assert answer["status"] == "refused" and "valid credential" in answer["reason"]


def test_predictions_without_a_credential_or_for_another_tenant_are_refused_and_log_nothing(worker, owner, attacker):
    (a, member_a), (b, _) = tenant_with_member("auth-pa"), tenant_with_member("auth-pb")
    record_model("classification", b, tenant_seed=5)
    unsigned_batch = attacker.send_task(PREDICT_BATCH, args=[[request_for(b)]], queue="predict").get(timeout=WAIT)
    unsigned_single = attacker.send_task(PREDICT, kwargs=request_for(b), queue="predict").get(timeout=WAIT)
    as_a = attacker.send_task(PREDICT_BATCH, kwargs=signed(PREDICT_BATCH, member_a, items=[request_for(b)]),
                              queue="predict").get(timeout=WAIT)
    assert unsigned_batch[0]["status"] == unsigned_single["status"] == "refused"
    assert as_a[0]["status"] == "refused" and member_a in as_a[0]["reason"]
    assert rows_of(owner, "prediction_log", b) == []
    # the same request, signed by a member of B, is answered: the refusals above were not an outage
    answered = attacker.send_task(PREDICT_BATCH, kwargs=signed_batch(PREDICT_BATCH, [request_for(b)]), queue="predict")
    assert answered.get(timeout=WAIT)[0]["status"] == "predicted"


@pytest.mark.both_brokers
def test_a_plain_client_holding_the_broker_url_and_a_service_credential_gets_a_prediction(worker, owner):
    # What another service is given: the broker's URL (Redis, or RabbitMQ's amqp:// URL), the
    # result backend's, and the credential `modelops service create` prints; nothing of ours but
    # the envelope it seals with that credential, as any language can (docs/contracts.md).
    tenant = tenants.create_tenant(f"auth-plain-{uuid.uuid4().hex[:6]}")
    record_model("classification", tenant, tenant_seed=6)
    issued = services.ensure(f"svc-plain-{uuid.uuid4().hex[:6]}", [tenant])
    sealing = ServiceCaller.from_hex(issued.name, issued.credential)
    client = Celery(broker=settings().broker_url, backend=settings().redis_url)
    try:
        answer = client.send_task(PREDICT, kwargs=sealing.kwargs(PREDICT, **request_for(tenant)),
                                  queue="predict").get(timeout=WAIT)
    finally:
        client.close()
    assert answer["status"] == "predicted" and answer["tenant_id"] == str(tenant), answer
    assert [str(row["id"]) for row in rows_of(owner, "prediction_log", tenant)] == [answer["prediction_id"]]


@pytest.mark.parametrize("name, queue, args", [
    ("modelops.privacy.scrub_and_store", "scrub", "events"),
    ("modelops.rollback.trigger_rollback", "rollback", "rollback"),
    ("modelops.training.train_model", "train", "run"),
    ("modelops.metrics.fold_counters", "metrics", "none"),
    ("modelops.audit.reproduce_prediction", "evaluate", "prediction"),
])
def test_internal_tasks_sent_straight_to_their_queue_are_refused(worker, owner, attacker, name, queue, args):
    b, _ = tenant_with_member("auth-internal")
    arguments = {"events": [[event(b, "straight-to-scrub") | {"idempotency_key": "straight-to-scrub"}]],
                 "rollback": ["classification", str(b), "attack", "attacker"],
                 "run": [str(uuid.uuid4())], "none": [], "prediction": [str(uuid.uuid4())]}[args]
    since = database_now(owner)
    answer = attacker.send_task(name, args=arguments, queue=queue).get(timeout=WAIT)
    assert answer["status"] == "refused" and "internal" in answer["reason"]
    assert rows_of(owner, "training_data", b) == [] and rows_of(owner, "alerts", b) == []
    assert rows_of(owner, "rollback_events", b) == []
    assert [row["allowed"] for row in audit_rows(owner, since, name)] == [False]
    if args == "none":  # the same task sent by the system itself runs: refused for its sender, not broken
        assert "refused" not in str(app.send_task(name, args=arguments).get(timeout=WAIT))


def test_a_system_signature_taken_from_one_message_does_not_carry_another(worker, owner, attacker):
    b, _ = tenant_with_member("auth-altered")
    task_id = str(uuid.uuid4())
    # a signature read off the broker, from a harmless system message, put on a harmful one
    signature = internal.sign("modelops.metrics.fold_counters", task_id, [], {})
    answer = attacker.send_task("modelops.rollback.trigger_rollback", args=["classification", str(b), "x", "y"],
                                task_id=task_id, headers={internal.HEADER: signature}, queue="rollback").get(timeout=WAIT)
    assert answer["status"] == "refused" and "does not verify" in answer["reason"]
    assert rows_of(owner, "alerts", b) == [] and rows_of(owner, "rollback_events", b) == []
