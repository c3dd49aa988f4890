"""The README's main command on a machine with no Postgres or Redis answering: `modelops demo`
brings up the embedded servers and runs every pool and beat, `modelops up` reuses the servers,
`modelops down` stops them, and nothing of the run is left behind.

Every command is the installed `modelops` console script run as its own process, with
DATABASE_URL and REDIS_URL unset and the local-server probes pointed at nothing
(tests/integration/demo_support.py). How a running demo stops: test_demo_stops.py.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess

import pytest
import redis
from sqlalchemy import create_engine, pool, text

import celeryconfig
from modelops import migrations
from modelops.config import redact
from tests.integration.demo_support import (MODELOPS, PROJECT, COMMAND_WAIT, closed_port, described,
                                            embedded_only_env, exported, modelops, processes_of,
                                            run_processes_of, scratch_home, server_pids)
from workers import pools

pytestmark = [pytest.mark.integration, pytest.mark.slow(minutes=7)]
# "  ingest       done in  1.234s  by host pid 42  (database role modelops_app)"
DONE_LINE = re.compile(r"^ +(?P<queue>\S+) +done in +[\d.]+s +by \S+ pid (?P<pid>\d+) +\(database role (?P<role>\S+)\)$", re.M)


@pytest.fixture
def home():
    with scratch_home() as folder:
        yield folder


# The whole main job runs here, on servers this test starts: about 510 s of a CI run on two cores,
# too near the suite's 10-minute limit for a test that stops only a hung run.
@pytest.mark.timeout(1200)
def test_main_command_runs_on_embedded_servers_that_up_reuses_and_down_stops(home):
    demo = modelops(home, "demo", "--once")

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Traceback" not in demo.stderr
    output = demo.stdout
    assert re.search(r"^database postgresql\+psycopg://postgres@/modelops\?host=\S+ \(embedded\)$", output, re.M), output
    assert re.search(r"^broker   redis://127\.0\.0\.1:\d+/0 \(embedded\)$", output, re.M), output
    assert f"schema   at revision {migrations.head_revision()}\n" in output
    answers = {match["queue"]: match for match in DONE_LINE.finditer(output)}
    assert sorted(answers) == sorted(celeryconfig.QUEUES), output
    assert {match["role"] for match in answers.values()} == {"modelops_app"}

    logs = home / "logs"
    for name, spec in pools.POOLS.items():
        log = (logs / f"worker-{name}.log").read_text()
        assert re.search(rf"\] {name}@\S+ ready\.$", log, re.M), f"pool {name} never became ready"
        for queue in spec.queues:
            # The probe of each queue was done by the pool that consumes it, in the process the demo named.
            pid = answers[queue]["pid"]
            assert re.search(rf"succeeded in .*'queue': '{queue}', .*'pid': {pid}\b", log), f"{queue} not done by {name}"
        # A warm shutdown: the pool's own processes were not killed under it.
        assert "WorkerLostError" not in log and "exited with 'signal" not in log, log
    assert "beat: Starting..." in (logs / "beat.log").read_text()

    # The scenario's story, in its summary: a candidate won its A/B test, one was refused at the
    # gate, and a degraded model was rolled back to the version before.
    summary = dict(re.findall(r"^  (\S.*?\S) +([\d,]+)$", output.split("\nsummary of ", 1)[1], re.M))
    for told in ("decision promote", "version rejected", "rollback rolled_back"):
        assert int(summary.get(told, "0").replace(",", "")) >= 1, f"{told!r} missing from the summary:\n{output}"
    assert re.search(r"^ +ROLLBACK +Northwind Traders classification v\S+ back to v\S+ \(", output, re.M), output
    # Day 0 raises nothing critical (first shared models meeting tenants' own labels get warnings),
    # and a degraded model with nothing to go back to says what is being done about it.
    day_0 = output.split("\nday  0 (", 1)[1].split("\nday  1 (", 1)[0]
    assert "alert     critical" not in day_0, day_0
    for line in re.findall(r"^ +alert +critical +rollback_impossible: .*$", output, re.M):
        assert "a retrain on the tenant's recent feedback: training run " in line, line

    record = json.loads((home / "services.json").read_text())
    assert record["origin"] == {"postgres": "embedded", "redis": "embedded"}
    servers = server_pids(home)
    assert servers == {"postgres": [record["pids"]["postgres"]], "redis-server": [record["pids"]["redis"]]}
    assert not described(run_processes_of(home)), "--once must stop every pool and beat before it exits"

    first, second = modelops(home, "up"), modelops(home, "up")

    for up in (first, second):
        assert up.returncode == 0, up.stderr
        assert up.stderr.splitlines() == ["# postgres: embedded", "# redis: embedded"]
    assert second.stdout == first.stdout
    urls = exported(first)
    assert sorted(urls) == ["DATABASE_URL", "REDIS_URL"]
    assert first.stdout.splitlines() == [f"export {name}={shlex.quote(value)}" for name, value in urls.items()]
    assert f"?host={home / 'pg'}" in urls["DATABASE_URL"]
    assert f"database {redact(urls['DATABASE_URL'])} (embedded)" in output
    assert f"broker   {redact(urls['REDIS_URL'])} (embedded)" in output
    assert server_pids(home) == servers, "a second server was started"
    assert json.loads((home / "services.json").read_text()) == record

    # A shell that evaluates the lines reaches the same servers, and `up` from that shell (where
    # the environment now names them) still reuses them.
    # ... and in the database: the same events, with the promoted version replaced by the rollback
    engine = create_engine(urls["DATABASE_URL"], poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            events = dict(connection.execute(text(
                "SELECT event, count(*) FROM ai.production_history GROUP BY event")).all())
            rolled_back = connection.execute(text(
                """SELECT r.triggers, h.event FROM ai.rollback_events r
                   JOIN ai.production_history h ON h.model_version_id = r.to_version_id AND h.event = 'rollback'
                   WHERE r.outcome = 'rolled_back'""")).all()
            rejected = connection.execute(text("SELECT count(*) FROM ai.model_versions WHERE status = 'rejected'")).scalar()
            tickets = connection.execute(text("SELECT count(*) FROM ai.investigation_tickets")).scalar()
    finally:
        engine.dispose()
    assert events.get("promotion", 0) >= 1 and rolled_back and rejected >= 1 and tickets >= 1, (events, rolled_back, rejected)

    shell = subprocess.run(
        ["bash", "-c", f'eval "$({MODELOPS} up 2>/dev/null)" && printf "%s\\n" "$DATABASE_URL" "$REDIS_URL"'
                       f" && {MODELOPS} up"],
        env=embedded_only_env(home), cwd=PROJECT, capture_output=True, text=True, timeout=COMMAND_WAIT,
    )
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.splitlines() == [urls["DATABASE_URL"], urls["REDIS_URL"], *first.stdout.splitlines()]
    assert shell.stderr.splitlines() == ["# postgres: embedded", "# redis: embedded"]
    assert json.loads((home / "services.json").read_text()) == record
    engine = create_engine(urls["DATABASE_URL"], poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW data_directory")).scalar() == str(home / "pg")
    finally:
        engine.dispose()
    broker = redis.Redis.from_url(urls["REDIS_URL"])
    try:
        assert broker.info("server")["process_id"] == record["pids"]["redis"]
    finally:
        broker.close()
    assert server_pids(home) == servers

    down = modelops(home, "down")

    assert down.returncode == 0, down.stderr
    assert down.stdout.splitlines() == [
        f"stopped embedded Postgres (pid {record['pids']['postgres']}, data in {home / 'pg'})",
        f"stopped embedded Redis (pid {record['pids']['redis']}, in {home / 'redis'})",
    ]
    assert not described(processes_of(home)), "down left a process of this home running"
    assert not (home / "services.json").exists()
    again = modelops(home, "down")
    assert again.returncode == 0 and again.stdout.strip() == "nothing to stop"


@pytest.mark.parametrize("variable, url, server", [
    ("DATABASE_URL", "postgresql://admin:s3cret-pw@127.0.0.1:{port}/modelops", "Postgres"),
    ("REDIS_URL", "redis://:s3cret-pw@127.0.0.1:{port}/0", "Redis"),
])
def test_demo_with_an_unreachable_url_says_so_in_one_line_and_starts_nothing(home, variable, url, server):
    url = url.format(port=closed_port())

    demo = modelops(home, "demo", "--once", **{variable: url})

    assert demo.returncode == 2
    assert demo.stderr.splitlines() == [f"error: {server} at {redact(url)}: connection refused"]
    assert "***" in demo.stderr and "s3cret-pw" not in demo.stdout + demo.stderr
    assert demo.stdout == ""
    assert not described(processes_of(home))
    assert not (home / "pg").exists() and not (home / "redis").exists()


