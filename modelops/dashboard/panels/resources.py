"""Resource Usage: CPU and memory of each worker pool on this host, the database's and the artifact
store's disk, network I/O, and the queues' backlog.

Worker pools are found among this host's processes by their command line (`celery ... worker
--hostname <pool>@...`), counting each worker's pool processes with it, and only those of this
deployment (their broker is ours). Flower shows the workers of every host. CPU percentages need
two looks at a process, so the sampler keeps the processes it saw between refreshes; network rates
are the change since the previous refresh.
"""
from __future__ import annotations

import collections
import os
import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from modelops import clock, db
from modelops.config import DEFAULT_REDIS_URL, settings
from modelops.dashboard import queues as broker_queues

HISTORY = 120  # samples kept for the network and CPU chart (an hour at one refresh every 30 s)
MEGABYTE = 1024 * 1024


class ResourceSampler:
    def __init__(self, queues: tuple[str, ...]):
        self.queues = queues
        self._processes: dict[int, psutil.Process] = {}
        self._last_network: tuple[float, int, int] | None = None
        self._history: collections.deque = collections.deque(maxlen=HISTORY)
        self._lock = threading.Lock()

    def read(self) -> dict:
        """Every figure that could be had; a part whose source is down says so in ``unavailable``."""
        unavailable: dict[str, str] = {}
        with self._lock:
            pools = self._pools()
            host = {"cpu_percent": psutil.cpu_percent(None), "cpus": psutil.cpu_count(),
                    "memory_percent": psutil.virtual_memory().percent}
            network = self._network(host["cpu_percent"])
            history = list(self._history)
        disk = {"artifact_store": _artifact_store(settings().artifact_dir)}
        try:
            disk["database_bytes"] = _database_size()
        except DBAPIError as error:
            disk["database_bytes"] = None
            unavailable["database"] = f"database unreachable ({type(error.orig or error).__name__})"
        try:
            queue_lengths = broker_queues.waiting(settings().broker_url, self.queues)
        except broker_queues.BrokerUnavailable as error:
            queue_lengths = None
            unavailable["broker"] = f"broker unreachable ({error})"
        return {"at": clock.now().isoformat(), "host": host, "pools": pools, "disk": disk, "network": network,
                "queues": queue_lengths, "history": history, "unavailable": unavailable}

    def _pools(self) -> list[dict]:
        seen: dict[str, dict] = {}
        alive: dict[int, psutil.Process] = {}
        for worker, pool in _workers_of_this_deployment():
            entry = seen.setdefault(pool, {"pool": pool, "workers": 0, "processes": 0, "cpu_percent": 0.0, "memory_mb": 0.0})
            entry["workers"] += 1
            try:
                family = [worker, *worker.children(recursive=True)]
            except psutil.Error:
                continue
            for member in family:
                process = self._processes.get(member.pid, member)
                try:
                    entry["cpu_percent"] += process.cpu_percent(None)
                    entry["memory_mb"] += process.memory_info().rss / MEGABYTE
                except psutil.Error:
                    continue
                entry["processes"] += 1
                alive[member.pid] = process
        self._processes = alive
        return [{**entry, "cpu_percent": round(entry["cpu_percent"], 1), "memory_mb": round(entry["memory_mb"], 1)}
                for entry in sorted(seen.values(), key=lambda e: e["pool"])]

    def _network(self, cpu_percent: float) -> dict:
        counters = psutil.net_io_counters()
        now = time.monotonic()
        rates = {"sent_per_second": None, "received_per_second": None}
        if self._last_network is not None and now > self._last_network[0]:
            elapsed = now - self._last_network[0]
            rates = {"sent_per_second": (counters.bytes_sent - self._last_network[1]) / elapsed,
                     "received_per_second": (counters.bytes_recv - self._last_network[2]) / elapsed}
            self._history.append({"at": clock.now().isoformat(), "cpu_percent": cpu_percent, **rates})
        self._last_network = (now, counters.bytes_sent, counters.bytes_recv)
        return {"bytes_sent": counters.bytes_sent, "bytes_received": counters.bytes_recv, **rates}


def _workers_of_this_deployment():
    """(process, pool name) of each Celery worker on this host whose broker is ours, its pool
    processes left out (they are counted with their worker)."""
    ours = _broker_address(settings().redis_url)
    found: dict[int, tuple[psutil.Process, str]] = {}
    for process in psutil.process_iter(["pid", "ppid", "cmdline"]):
        pool = _pool_of(process.info["cmdline"] or [])
        if pool is None:
            continue
        try:
            environment = process.environ()
        except psutil.Error:
            environment = None  # not ours to read: count it rather than hide a worker
        if environment is not None and _broker_address(environment.get("REDIS_URL", DEFAULT_REDIS_URL)) != ours:
            continue
        found[process.pid] = (process, pool)
    return [(process, pool) for process, pool in found.values() if process.info["ppid"] not in found]


def _broker_address(url: str) -> tuple:
    """(address, port, db) of a Redis URL, so that two spellings of one broker compare equal."""
    parsed = urlsplit(url)
    try:
        host = socket.gethostbyname(parsed.hostname or "127.0.0.1")
    except OSError:
        host = parsed.hostname
    return host, parsed.port or 6379, parsed.path.strip("/") or "0"


def _pool_of(cmdline: list[str]) -> str | None:
    """'serving' of `... celery -A workers.app worker ... --hostname serving@%h ...`."""
    if "worker" not in cmdline or not any(part.endswith("celery") or part == "celery" for part in cmdline[:3]):
        return None
    if "--hostname" in cmdline[:-1]:
        return cmdline[cmdline.index("--hostname") + 1].partition("@")[0]
    return "celery"


def _database_size() -> int:
    with db.unscoped() as connection:
        return connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()


def _artifact_store(folder: Path) -> dict:
    if not folder.is_dir():
        return {"path": str(folder), "bytes": 0, "files": 0, "free_bytes": None}
    size = files = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                size += os.stat(os.path.join(root, name)).st_size
                files += 1
            except OSError:  # removed while we walked
                continue
    return {"path": str(folder), "bytes": size, "files": files, "free_bytes": shutil.disk_usage(folder).free}
