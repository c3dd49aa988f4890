"""The README's main command on a machine with no Postgres or Redis answering: `modelops demo`
brings up the embedded servers and runs every pool and beat, `modelops up` reuses the servers,
`modelops down` stops them, and nothing of the run is left behind.

Every command is the installed `modelops` console script run as its own process, with
DATABASE_URL and REDIS_URL unset and the local-server probes pointed at nothing. The homes live
inside the project (``.modelops-test/``), never under /tmp: run as root, pgserver widens the
permissions of every parent folder of its data folder.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest
import redis
from sqlalchemy import create_engine, pool, text

import celeryconfig
from modelops import migrations
from modelops.config import redact
from workers import pools

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROJECT = Path(__file__).resolve().parents[2]
SCRATCH = PROJECT / ".modelops-test"
MODELOPS = str(Path(sys.executable).parent / "modelops")
SERVERS = ("postgres", "redis-server")
# Generous bounds for one command (a demo starts a dozen Python processes and plays its scenario
# on a possibly busy machine) and for processes to go; they only stop a hung run, they measure nothing.
COMMAND_WAIT = 1500
GONE_WAIT = 60
# "  ingest       done in  1.234s  by host pid 42  (database role modelops_app)"
DONE_LINE = re.compile(r"^ +(?P<queue>\S+) +done in +[\d.]+s +by \S+ pid (?P<pid>\d+) +\(database role (?P<role>\S+)\)$", re.M)


def embedded_only_env(home: Path, **overrides: str) -> dict[str, str]:
    """This process's environment with no server named, the probes off, and ``home`` as the data folder."""
    named = ("DATABASE_URL", "REDIS_URL", "RESULT_BACKEND_URL", "APP_DATABASE_URL", "MODELOPS_ARTIFACT_DIR")
    env = {key: value for key, value in os.environ.items() if key not in named}
    env.update(MODELOPS_HOME=str(home), MODELOPS_PROBE_POSTGRES="none", MODELOPS_PROBE_REDIS="none", **overrides)
    return env


def modelops(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MODELOPS, *args], env=embedded_only_env(home, **env), cwd=PROJECT,
        capture_output=True, text=True, timeout=COMMAND_WAIT,
    )


def processes_of(home: Path) -> list[psutil.Process]:
    """Live processes of ``home``: it is in their command line or their working folder, or it is their MODELOPS_HOME.

    The command line finds the servers and beat, the working folder Postgres's backends (they run
    in the data folder), the environment the worker pools (their command line names no folder).
    """
    inside = f"{home}{os.sep}"
    found = []
    for process in psutil.process_iter(["name", "cmdline", "cwd", "environ", "status"]):
        info = process.info
        if process.pid == os.getpid() or info["status"] == psutil.STATUS_ZOMBIE:
            continue
        command_line = " ".join(info["cmdline"] or [])
        cwd = info["cwd"] or ""
        if (
            str(home) in command_line
            or cwd == str(home)
            or cwd.startswith(inside)
            or (info["environ"] or {}).get("MODELOPS_HOME") == str(home)
        ):
            found.append(process)
    return found


def described(found: list[psutil.Process]) -> list[str]:
    descriptions = []
    for process in found:
        try:
            descriptions.append(f"{process.pid} {process.name()}: {' '.join(process.cmdline())}")
        except psutil.NoSuchProcess:
            pass
    return descriptions


def server_pids(home: Path) -> dict[str, list[int]]:
    """The pids of ``home``'s Postgres postmaster and Redis server (the processes that name it)."""
    pids: dict[str, list[int]] = {name: [] for name in SERVERS}
    for process in processes_of(home):
        if process.info["name"] in pids and str(home) in " ".join(process.info["cmdline"] or []):
            pids[process.info["name"]].append(process.pid)
    return {name: sorted(found) for name, found in pids.items()}


def run_processes_of(home: Path) -> list[psutil.Process]:
    """The processes of ``home`` that are not its servers: the pools, beat, the demo itself."""
    return [process for process in processes_of(home) if process.info["name"] not in SERVERS]


def wait_until_gone(home: Path) -> list[str]:
    """The run's processes still there once they have all gone, or after GONE_WAIT seconds."""
    deadline = time.monotonic() + GONE_WAIT
    while (left := run_processes_of(home)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return described(left)


def exported(up: subprocess.CompletedProcess) -> dict[str, str]:
    """The variables of `modelops up`'s export lines, read as a shell reads them."""
    variables = {}
    for line in up.stdout.splitlines():
        words = shlex.split(line)
        assert words[0] == "export" and len(words) == 2, f"not an export line: {line!r}"
        name, _, value = words[1].partition("=")
        variables[name] = value
    return variables


def read_until(process: subprocess.Popen, prefix: str) -> list[str]:
    """``process``'s output up to the first line that starts with ``prefix``, or to its end.

    A process that neither prints the line nor exits within COMMAND_WAIT is killed, which ends the output.
    """
    watchdog = threading.Timer(COMMAND_WAIT, process.kill)
    watchdog.start()
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith(prefix):
                break
    finally:
        watchdog.cancel()
    return lines


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def home():
    SCRATCH.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="main-job-", dir=SCRATCH)).resolve()
    try:
        yield folder
    finally:
        # Whatever a failed test left: the servers through the command under test, then any pool
        # or beat of a demo that did not stop them.
        modelops(folder, "down")
        for process in run_processes_of(folder):
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


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


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGHUP, signal.SIGKILL], ids=lambda s: s.name)
def test_a_running_demo_stopped_or_killed_leaves_no_pool_or_beat_behind(home, stop):
    """Ctrl-C (SIGINT) and a closed terminal (SIGHUP) stop the pools and beat in order; a demo killed
    outright cannot, and its pools and beat must still go with it."""
    demo = subprocess.Popen(
        [MODELOPS, "demo"], env=embedded_only_env(home), cwd=PROJECT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # every pool is up once the round trip went through all the queues; the scenario follows
        seen = read_until(demo, "round trip through")
        assert seen[-1:] and seen[-1].startswith("round trip through"), "".join(seen) + demo.stderr.read()
        pool_processes = described(run_processes_of(home))
        assert len(pool_processes) > len(pools.POOLS) + 1, "the demo, every pool and beat should be running"

        demo.send_signal(stop)
        demo.wait(timeout=COMMAND_WAIT)
        rest, errors = demo.stdout.read(), demo.stderr.read()
    finally:
        demo.kill()
        demo.stdout.close()
        demo.stderr.close()

    if stop == signal.SIGKILL:
        assert demo.returncode == -signal.SIGKILL
    else:
        assert demo.returncode == 0, errors
        assert "Traceback" not in errors
        assert rest.splitlines()[-1] == "pools and beat stopped"
    assert not wait_until_gone(home), f"left behind after {stop.name}"
    assert server_pids(home)["postgres"] and server_pids(home)["redis-server"], "the servers stay for `modelops down`"
