"""SQL-injection-shaped strings in every field a caller controls are stored and returned exactly as
sent, and never executed: every table is still there afterwards and no other tenant's row moved."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from modelops.privacy.pii import scrub_many
from tests.faults.support import poll
from tests.integration.serving_models import record_model
from tests.security.support import event, rows_of, run
from tests.callers import signed, signed_batch
from workers.app import app

pytestmark = pytest.mark.integration

INJECTIONS = [
    "'; DROP TABLE ai.training_data; --",
    "1' OR '1'='1",
    "x'); DELETE FROM ai.tenants WHERE ('1'='1",
    "$$; SELECT pg_sleep(30); $$",
    "%' UNION SELECT rolpassword FROM pg_authid --",
    "\\'; TRUNCATE ai.prediction_log CASCADE; --",
    "'); SET ROLE modelops_operator; --",
    "Robert'); DROP TABLE students;--",
]


def injection(i: int) -> str:
    return INJECTIONS[i % len(INJECTIONS)]


def tables_and_counts(owner) -> dict[str, int]:
    with owner.connect() as connection:
        tables = connection.execute(text("""SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                            WHERE n.nspname = 'ai' AND c.relkind IN ('r', 'p') AND NOT c.relispartition""")).scalars()
        return {table: connection.execute(text(f"SELECT count(*) FROM ai.{table}")).scalar_one() for table in tables}


def test_the_scrubber_leaves_these_strings_alone():
    # so that what is stored can be compared with what was sent, character for character
    assert [result.value for result in scrub_many(INJECTIONS)] == INJECTIONS


def test_injection_strings_in_every_field_are_stored_verbatim_and_never_executed(worker, owner, tmp_path):
    before = tables_and_counts(owner)
    name, member = f"{injection(2)} {uuid.uuid4().hex[:6]}", f"{injection(0)} {uuid.uuid4().hex[:6]}"
    created = run("tenant", "create", name, "--member", member)
    assert created.returncode == 0, created.stderr
    tenant = uuid.UUID(created.stdout.strip())
    with owner.connect() as connection:
        assert connection.execute(text("SELECT name FROM ai.tenants WHERE id = :t"), {"t": tenant}).scalar_one() == name
    assert [row["principal"] for row in rows_of(owner, "tenant_members", tenant)] == [member]

    sent = []
    for i in range(len(INJECTIONS)):
        sent.append(event(tenant, f"{injection(i)} #{i}", user_feedback=injection(i + 1),
                          input_data={"description": injection(i + 2), "merchant": injection(i + 3), "amount": 12.5,
                                      "currency": "USD", "direction": "debit", "date": "2031-06-01"},
                          expected_output={"category": injection(i + 4)}, actual_output={"category": injection(i + 5)}))
    half = len(sent) // 2
    lines = tmp_path / "events.jsonl"
    lines.write_text("\n".join(json.dumps(e) for e in sent[:half]) + "\n")
    imported = run("feedback", "import", str(lines), "--caller", member, "--inline")
    assert imported.returncode == 0 and f"accepted: {half}" in imported.stdout, imported.stdout + imported.stderr
    # through the broker the caller is the signing service, whose name is only letters, digits and
    # dashes: a registered service of the tenant sends the rest
    service = f"svc-injection-{uuid.uuid4().hex[:6]}"
    answer = app.send_task("modelops.feedback.record_batch",
                           kwargs=signed("modelops.feedback.record_batch", service, [tenant], events=sent[half:])).get(timeout=30)
    assert answer["counts"] == {"accepted": len(sent) - half}, answer
    refused = app.send_task("modelops.feedback.record", kwargs=signed("modelops.feedback.record", service,
                                                                      event={**sent[0], "agent_type": injection(6)})).get(timeout=30)
    assert refused["status"] == "rejected"

    record_model("classification", tenant, tenant_seed=4711)
    request = {"tenant_id": str(tenant), "agent_type": "classification", "request_key": injection(3),
               "input_data": {"description": injection(4), "merchant": injection(5), "amount": 10.0, "currency": "USD",
                              "direction": "debit", "date": "2031-06-01"}}
    (predicted,) = app.send_task("modelops.serving.predict_batch",
                                 kwargs=signed_batch("modelops.serving.predict_batch", [request])).get(timeout=60)
    assert predicted["status"] == "predicted", predicted

    poll(lambda: len(rows_of(owner, "training_data", tenant)) >= len(sent), timeout=30)
    stored = {row["idempotency_key"]: row for row in rows_of(owner, "training_data", tenant)}
    assert set(stored) == {e["idempotency_key"] for e in sent}
    for e in sent:
        row = stored[e["idempotency_key"]]
        assert row["user_feedback"] == e["user_feedback"]
        assert {k: row["input_data"][k] for k in ("description", "merchant")} == {k: e["input_data"][k] for k in ("description", "merchant")}
        assert (row["expected_output"], row["actual_output"]) == (e["expected_output"], e["actual_output"])
    (logged,) = rows_of(owner, "prediction_log", tenant)
    assert logged["request_key"] == injection(3)
    assert (logged["input_data"]["description"], logged["input_data"]["merchant"]) == (injection(4), injection(5))
    (rejected,) = rows_of(owner, "rejected_events", tenant)
    assert rejected["payload"]["agent_type"] == injection(6) and rejected["idempotency_key"] == sent[0]["idempotency_key"]

    # an operator's filter given an injection string is refused as what it is, not run
    listed = run("alerts", "--tenant", injection(0))
    assert "Traceback" not in listed.stderr

    after = tables_and_counts(owner)
    assert set(after) == set(before), "a table disappeared"
    assert all(after[table] >= before[table] for table in before), {t: (before[t], after[t]) for t in before if after[t] < before[t]}
