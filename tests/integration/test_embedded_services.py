"""Finding and starting Postgres and Redis: real servers throughout, embedded ones under a scratch home.

The scratch homes live inside the project (``.modelops-test/``), never under /tmp: run as root,
pgserver widens the permissions of every parent folder of its data folder.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import redis
from sqlalchemy import create_engine, pool, text

from modelops.config import redact
from modelops.devstack import ServiceError, bring_down, bring_up, check_postgres, check_redis, running
from tests.faults.servers import LOOPBACK, private_postgres, private_redis

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROJECT = Path(__file__).resolve().parents[2]
SCRATCH = PROJECT / ".modelops-test"
WAIT = 60  # seconds any single wait in these tests may take


@pytest.fixture
def home():
    SCRATCH.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="services-", dir=SCRATCH)).resolve()
    yield folder
    bring_down(folder)  # whatever a failed test left running
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def embedded_only(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("MODELOPS_PROBE_POSTGRES", "none")
    monkeypatch.setenv("MODELOPS_PROBE_REDIS", "none")


@dataclass(frozen=True)
class LocalServers:
    """A Postgres and a Redis answering on loopback ports, as a machine's own servers do."""

    postgres: str  # host:port, as the probes take it
    redis: str

    @property
    def postgres_url(self) -> str:  # what the probe hands out: user postgres, database modelops
        return f"postgresql+psycopg://postgres@{self.postgres}/modelops"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis}/0"


@pytest.fixture(scope="module")
def local_servers():
    """Servers of the module's own standing for the machine's (which a new machine lacks): the
    probe code is the same whichever address it is given."""
    with private_postgres() as postgres, private_redis() as broker:
        yield LocalServers(f"{LOOPBACK}:{postgres.port}", f"{LOOPBACK}:{broker.port}")


def server_processes(home: Path) -> dict[str, list[psutil.Process]]:
    """Running postgres and redis-server processes whose command line names a folder inside ``home``."""
    found: dict[str, list[psutil.Process]] = {"postgres": [], "redis-server": []}
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        if process.info["name"] in found and process.info["status"] != psutil.STATUS_ZOMBIE:
            if f"{home}/" in " ".join(process.info["cmdline"] or []):
                found[process.info["name"]].append(process)
    return found


def alive(pid: int) -> bool:
    """Running, counting an exited process that its parent has not reaped yet (a zombie) as gone."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def pids(home: Path) -> dict[str, list[int]]:
    return {name: sorted(p.pid for p in found) for name, found in server_processes(home).items()}


def query(url: str, sql: str, **params):
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(sql), params)
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def handle_pids(home: Path) -> list[int]:
    return json.loads((home / "pg" / ".handle_pids.json").read_text())


def test_embedded_servers_answer_are_reused_and_stop(home, embedded_only):
    services = bring_up(home)

    assert services.origin == {"postgres": "embedded", "redis": "embedded"}
    assert services.database_url.startswith("postgresql+psycopg://postgres@")
    assert services.redis_url.startswith("redis://127.0.0.1:") and services.redis_url.endswith("/0")

    query(services.database_url, "CREATE TABLE kept (note text)")
    query(services.database_url, "INSERT INTO kept VALUES (:note)", note="written before the restart")
    assert query(services.database_url, "SELECT current_database(), count(*) FROM kept") == [("modelops", 1)]
    # Another process reaches the same server through the same URL (it is a unix-socket URL).
    other = subprocess.run(
        [sys.executable, "-c", "import os, sqlalchemy as s; e = s.create_engine(os.environ['URL']);"
         " print(e.connect().execute(s.text('SELECT note FROM kept')).scalar())"],
        env={**os.environ, "URL": services.database_url}, capture_output=True, text=True, timeout=WAIT,
    )
    assert other.stdout.strip() == "written before the restart", other.stderr

    broker = redis.Redis.from_url(services.redis_url)
    assert broker.ping()
    broker.set("greeting", "hello")
    assert broker.get("greeting") == b"hello"
    broker.close()

    started = pids(home)
    assert len(started["postgres"]) == 1 and len(started["redis-server"]) == 1
    postmaster = psutil.Process(started["postgres"][0])
    backends = postmaster.children(recursive=True)
    assert backends, "a running Postgres has background processes"
    recorded = json.loads((home / "services.json").read_text())
    assert recorded["origin"] == services.origin
    assert recorded["pids"] == {"postgres": started["postgres"][0], "redis": started["redis-server"][0]}
    assert running(home) == services

    assert bring_up(home) == services
    assert pids(home) == started, "a second bring_up must reuse the servers, not start new ones"

    stopped = bring_down(home)

    assert len(stopped) == 2 and "Postgres" in stopped[0] and "Redis" in stopped[1]
    assert pids(home) == {"postgres": [], "redis-server": []}
    assert not any(alive(backend.pid) for backend in backends)
    assert running(home) is None
    assert not (home / "services.json").exists()
    assert bring_down(home) == []

    # Started again on the same data, and on the same Redis port, so the URLs stay valid.
    again = bring_up(home)
    assert again == services
    assert query(again.database_url, "SELECT note FROM kept") == [("written before the restart",)]
    assert bring_down(home)
    assert pids(home) == {"postgres": [], "redis-server": []}


OWNER = """
import json, sys, time
from pathlib import Path
from modelops.devstack import bring_up
services = bring_up(Path(sys.argv[1]))
print(json.dumps([services.database_url, services.redis_url]), flush=True)
time.sleep(300)
"""


def test_servers_of_a_killed_owner_are_reused_then_stopped(home, embedded_only):
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(home)], stdout=subprocess.PIPE, text=True, cwd=PROJECT
    )
    try:
        ready, _, _ = select.select([owner.stdout], [], [], WAIT)
        assert ready, "the owner process did not bring the servers up in time"
        urls = json.loads(owner.stdout.readline())
        assert owner.pid in handle_pids(home)
        left = pids(home)
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=WAIT)
    finally:
        owner.kill()
        owner.stdout.close()

    assert pids(home) == left and len(left["postgres"]) == 1 and len(left["redis-server"]) == 1
    (home / "services.json").unlink()
    assert running(home) is None

    services = bring_up(home)

    assert [services.database_url, services.redis_url] == urls
    assert pids(home) == left, "the orphans are reused, not doubled"
    assert owner.pid not in handle_pids(home)
    assert query(services.database_url, "SELECT 1") == [(1,)]
    assert running(home) == services

    assert len(bring_down(home)) == 2
    assert pids(home) == {"postgres": [], "redis-server": []}


def test_servers_that_no_longer_answer_are_stopped_and_replaced(home, embedded_only):
    first = bring_up(home)
    hung = pids(home)
    for pid in (*hung["postgres"], *hung["redis-server"]):
        os.kill(pid, signal.SIGSTOP)  # alive, listening, and answering nothing

    services = bring_up(home)

    now = pids(home)
    assert len(now["postgres"]) == 1 and len(now["redis-server"]) == 1
    assert not set(now["postgres"]) & set(hung["postgres"])
    assert not set(now["redis-server"]) & set(hung["redis-server"])
    assert not any(alive(pid) for pid in (*hung["postgres"], *hung["redis-server"]))
    assert services == first  # same socket folder, and the freed Redis port taken again
    check_postgres(services.database_url)
    check_redis(services.redis_url)

    bring_down(home)
    assert pids(home) == {"postgres": [], "redis-server": []}


def test_a_lock_file_naming_an_unrelated_live_process_is_not_taken_for_a_server(home, embedded_only):
    bring_up(home)
    bring_down(home)
    bystander = subprocess.Popen(["sleep", str(WAIT * 5)])
    try:
        pgdata = home / "pg"
        # What a server killed with its host leaves: the lock file, its pid now someone else's.
        (pgdata / "postmaster.pid").write_text(
            f"{bystander.pid}\n{pgdata}\n1700000000\n5432\n{pgdata}\n\n  0 0\nready   \n"
        )
        (home / "redis" / "redis.pid").write_text(f"{bystander.pid}\n")

        services = bring_up(home)

        assert query(services.database_url, "SELECT 1") == [(1,)]
        assert pids(home)["postgres"] and bystander.pid not in pids(home)["postgres"]
        bring_down(home)
        assert bystander.poll() is None, "bring_down must never stop a process that is not its server"
        assert pids(home) == {"postgres": [], "redis-server": []}
    finally:
        bystander.kill()
        bystander.wait(timeout=WAIT)


def test_an_env_database_url_that_refuses_connections_is_one_clear_line(home, monkeypatch):
    url = f"postgresql://modelops:s3cret-pw@127.0.0.1:{closed_port()}/modelops"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("MODELOPS_PROBE_REDIS", "none")

    with pytest.raises(ServiceError) as raised:
        bring_up(home)

    message = str(raised.value)
    assert redact(url) in message and "***" in message
    assert "connection refused" in message
    assert "s3cret-pw" not in message and "\n" not in message
    assert pids(home) == {"postgres": [], "redis-server": []}


def test_an_env_redis_url_that_refuses_connections_fails_before_anything_starts(home, monkeypatch):
    url = f"redis://:s3cret-pw@127.0.0.1:{closed_port()}/0"
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("MODELOPS_PROBE_POSTGRES", "none")

    with pytest.raises(ServiceError) as raised:
        bring_up(home)

    message = str(raised.value)
    assert redact(url) in message and "connection refused" in message
    assert "s3cret-pw" not in message and "\n" not in message
    # Postgres would have been embedded: the bad Redis URL must stop the call before that.
    assert pids(home) == {"postgres": [], "redis-server": []}
    assert not (home / "pg").exists()


def test_checks_say_what_a_real_server_refused(local_servers):
    with pytest.raises(ServiceError, match='database "modelops_no_such_database" does not exist'):
        check_postgres(f"postgresql://postgres@{local_servers.postgres}/modelops_no_such_database")
    with pytest.raises(ServiceError, match="DB index is out of range"):
        check_redis(f"redis://{local_servers.redis}/4096")
    with pytest.raises(ServiceError, match="not a PostgreSQL URL"):
        check_postgres("mysql://root:pw@127.0.0.1/modelops")


def test_a_malformed_probe_address_is_reported(home, embedded_only, monkeypatch):
    monkeypatch.setenv("MODELOPS_PROBE_REDIS", "localhost")
    with pytest.raises(ServiceError, match="MODELOPS_PROBE_REDIS must be host:port or none"):
        bring_up(home)
    assert pids(home) == {"postgres": [], "redis-server": []}


def test_probes_find_the_local_servers_and_start_nothing(home, local_servers, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("MODELOPS_PROBE_POSTGRES", local_servers.postgres)
    monkeypatch.setenv("MODELOPS_PROBE_REDIS", local_servers.redis)

    services = bring_up(home)

    assert services.origin == {"postgres": "local", "redis": "local"}
    assert (services.database_url, services.redis_url) == (local_servers.postgres_url, local_servers.redis_url)
    assert query(services.database_url, "SELECT current_database()") == [("modelops",)]
    assert pids(home) == {"postgres": [], "redis-server": []}
    assert not (home / "pg").exists() and not (home / "redis").exists()
    assert running(home) == services

    assert bring_down(home) == []
    check_postgres(local_servers.postgres_url)
    check_redis(local_servers.redis_url)


def test_postgres_and_redis_are_decided_independently(home, local_servers, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("MODELOPS_PROBE_POSTGRES", "none")
    monkeypatch.setenv("MODELOPS_PROBE_REDIS", local_servers.redis)

    services = bring_up(home)

    assert services.origin == {"postgres": "embedded", "redis": "local"}
    assert services.redis_url == local_servers.redis_url
    assert len(pids(home)["postgres"]) == 1 and pids(home)["redis-server"] == []

    stopped = bring_down(home)

    assert len(stopped) == 1 and "Postgres" in stopped[0]
    assert pids(home) == {"postgres": [], "redis-server": []}
    check_redis(local_servers.redis_url)  # the machine's own Redis is never stopped
