"""A tenant's credentials (a principal that is a member of tenant A, acting as the application role
with A's ``app.tenant_id``) reach none of tenant B's rows: not through the intake's tasks, not
through the serving tasks, not through the command line. (The dashboard is checked with its own
tests; Postgres's row-level security itself in tests/integration/test_row_level_security.py.)"""
from __future__ import annotations

import json
import time
import uuid

import pytest
from sqlalchemy import text

from tests.faults.support import logged_predictions
from tests.integration.serving_models import record_model
from tests.security.support import event, rows_of, run, tenant_with_member
from tests.callers import signed, signed_batch
from workers.app import app

pytestmark = pytest.mark.integration

RECORD, RECORD_BATCH = "modelops.feedback.record", "modelops.feedback.record_batch"


def refusals(owner, principal: str) -> list[dict]:
    with owner.connect() as connection:
        return [dict(row) for row in connection.execute(
            text("SELECT * FROM ai.access_audit WHERE principal = :p ORDER BY id"), {"p": principal}).mappings()]


def wait_for_key(owner, tenant, key: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(row["idempotency_key"] == key for row in rows_of(owner, "training_data", tenant)):
            return
        time.sleep(0.1)
    raise AssertionError(f"{key} was not stored within {timeout}s")


def test_a_member_of_one_tenant_cannot_write_feedback_into_another_through_the_tasks(worker, owner):
    (a, member_a), (b, _) = tenant_with_member("iso-a"), tenant_with_member("iso-b")
    before_b = rows_of(owner, "training_data", b)
    single = app.send_task(RECORD, kwargs=signed(RECORD, member_a, event=event(b, "into-b-1"))).get(timeout=30)
    batch = app.send_task(RECORD_BATCH, kwargs=signed(RECORD_BATCH, member_a, events=[event(a, "own-a-1"), event(b, "into-b-2")])).get(timeout=30)
    assert single["status"] == "refused" and member_a in single["reason"]
    assert [r["status"] for r in batch["results"]] == ["accepted", "refused"]
    wait_for_key(owner, a, "own-a-1")  # the tenant's own event went all the way, so the refusal is not a stall
    assert rows_of(owner, "training_data", b) == before_b
    assert [(r["tenant_id"], r["allowed"]) for r in refusals(owner, member_a)] == [(b, False), (b, False)]


def test_feedback_naming_another_tenants_prediction_does_not_touch_it(worker, owner):
    (a, member_a), (b, _) = tenant_with_member("iso-pred-a"), tenant_with_member("iso-pred-b")
    _, (prediction_of_b,) = logged_predictions(owner, b, 1)
    sent = event(a, "answers-b", prediction_id=str(prediction_of_b))
    assert app.send_task(RECORD, kwargs=signed(RECORD, member_a, event=sent)).get(timeout=30)["status"] == "accepted"
    wait_for_key(owner, a, "answers-b")
    (logged,) = rows_of(owner, "prediction_log", b)
    # stored as A's row (A's own word about A's data), but B's audit row kept its verdict-less state
    assert (logged["was_correct"], logged["actual_output"], logged["feedback_at"]) == (None, None, None)


def test_a_tenant_without_a_model_is_never_served_by_another_tenants_model(worker):
    (a, _), (b, _) = tenant_with_member("iso-serve-a"), tenant_with_member("iso-serve-b")
    record_model("classification", b, tenant_seed=4401)
    request = {"agent_type": "classification", "input_data": {"description": "AWS", "amount": 10.0, "currency": "USD",
                                                              "direction": "debit", "date": "2031-06-01"}}
    items = [{**request, "tenant_id": str(b)}, {**request, "tenant_id": str(a)}]
    for_b, for_a = app.send_task("modelops.serving.predict_batch",
                                 kwargs=signed_batch("modelops.serving.predict_batch", items)).get(timeout=60)
    assert for_b["status"] == "predicted" and for_b["model_version"]["scope"] == "tenant"
    # A has no model of its own: it is refused, or served by a shared (global or regional) model
    # when an earlier test trained one, but never by B's
    if for_a["status"] == "predicted":
        assert for_a["model_version"]["scope"] in ("global", "regional")
        assert for_a["model_version"]["id"] != for_b["model_version"]["id"]
    else:
        assert for_a["status"] == "unavailable" and str(a) in for_a["reason"]


def test_the_command_line_imports_a_members_events_only_into_its_own_tenant(worker, owner, tmp_path):
    (a, member_a), (b, _) = tenant_with_member("iso-cli-a"), tenant_with_member("iso-cli-b")
    lines = tmp_path / "events.jsonl"
    lines.write_text("\n".join(json.dumps(e) for e in (event(a, "cli-own"), event(b, "cli-into-b"))) + "\n")
    before_b = rows_of(owner, "training_data", b)
    for mode in (("--inline",), ()):
        result = run("feedback", "import", str(lines), "--caller", member_a, *mode)
        assert result.returncode == 0, result.stderr
        assert "refused: 1" in result.stdout, result.stdout
    wait_for_key(owner, a, "cli-own")
    assert rows_of(owner, "training_data", b) == before_b
    assert len(refusals(owner, member_a)) == 2 and all(r["tenant_id"] == b for r in refusals(owner, member_a))


def test_a_caller_that_is_no_member_of_any_tenant_is_refused_and_audited(worker, owner):
    (a, _), stranger = tenant_with_member("iso-stranger"), f"stranger-{uuid.uuid4().hex[:6]}"
    answer = app.send_task(RECORD, kwargs=signed(RECORD, stranger, event=event(a, "from-a-stranger"))).get(timeout=30)
    assert answer["status"] == "refused"
    assert rows_of(owner, "training_data", a) == [] and len(refusals(owner, stranger)) == 1
