"""The command line as an operator uses it, over the real database and broker: in this process, and
as a process of its own where the process is what is tested."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from modelops import db
from tests.cli import run, run_process

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("args, variable, url", [
    (("db", "upgrade"), "DATABASE_URL", "postgresql://admin:s3cret@127.0.0.1:1/modelops"),
    (("ping",), "REDIS_URL", "redis://:s3cret@127.0.0.1:1/0"),
])
def test_an_unreachable_url_gives_one_clear_line_without_the_password(args, variable, url):
    # a process of its own: the broker's URL is read once, when the Celery app is configured
    result = run_process(*args, env={variable: url})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "127.0.0.1:1" in lines[0] and "s3cret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_migrating_twice_is_a_no_op(database):
    first, second = run("db", "upgrade"), run("db", "upgrade")
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout == second.stdout and "at revision" in first.stdout


def test_tenant_create_prints_the_id_and_records_consent(database):
    wanted = uuid.uuid4()
    result = run("tenant", "create", "Acme GmbH", "--id", str(wanted), "--country", "de", "--region", "EU",
                 "--opt-in", "--member", "acme-ledger")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(wanted)
    with db.operator_scope() as connection:
        tenant = connection.execute(text("SELECT country, aggregate_opt_in FROM ai.tenants WHERE id = :t"), {"t": wanted}).one()
        member = connection.execute(text("SELECT role FROM ai.tenant_members WHERE tenant_id = :t"), {"t": wanted}).scalar_one()
    assert tuple(tenant) == ("DE", True) and member == "service"


def test_a_bad_country_is_refused_in_one_line(database):
    result = run("tenant", "create", "Nowhere", "--country", "Atlantis")
    assert result.returncode == 2 and "ISO 3166-1" in result.stderr and "Traceback" not in result.stderr


def test_feedback_import_counts_accepted_duplicate_and_rejected_with_reasons(database, tmp_path):
    tenant = run("tenant", "create", "Importer", "--member", "importer-svc").stdout.strip()
    good = {"tenant_id": tenant, "agent_type": "chat", "source": "satisfaction_rating", "input_data": {"message": "hi"},
            "rating": 5, "idempotency_key": f"imp-{uuid.uuid4()}"}
    lines = [json.dumps(good).encode(), json.dumps(good).encode(), b"{not json", b'{"x": "\xff"}',
             json.dumps({**good, "idempotency_key": "imp-bad", "rating": 9}).encode()]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = run("feedback", "import", str(path), "--inline", "--caller", "importer-svc")
    assert result.returncode == 0, result.stderr
    assert "accepted: 1\nduplicate: 1\nrejected: 3" in result.stdout
    assert "line 3: not JSON" in result.stdout and "line 4: not valid UTF-8" in result.stdout
    assert "line 5: rating" in result.stdout
    with db.operator_scope() as connection:
        stored = connection.execute(text("SELECT count(*) FROM ai.training_data WHERE tenant_id = :t"), {"t": tenant}).scalar_one()
    assert stored == 1


def test_scrub_reads_and_writes_one_json_value_per_line():
    result = run("scrub", stdin='{"memo": "ping bob@example.com"}\n["Office Supplies", {"to": "call 415-555-0132"}]\n')
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first == {"memo": "ping [EMAIL]"}
    assert second == ["Office Supplies", {"to": "call [PHONE]"}]
