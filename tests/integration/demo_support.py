"""What the tests of the README's main command share: `modelops` run as its own process with no
server named and the local-server probes pointed at nothing, in a home inside the project
(``.modelops-test/``), never under /tmp: run as root, pgserver widens the permissions of every
parent folder of its data folder; and the processes of such a home, found and waited for."""
from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psutil

PROJECT = Path(__file__).resolve().parents[2]
SCRATCH = PROJECT / ".modelops-test"
MODELOPS = str(Path(sys.executable).parent / "modelops")
SERVERS = ("postgres", "redis-server")
# Generous bounds for one command (a demo starts a dozen Python processes and plays its scenario
# on a possibly busy machine) and for processes to go; they only stop a hung run, they measure nothing.
COMMAND_WAIT = 1500
GONE_WAIT = 60


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


@contextmanager
def scratch_home() -> Iterator[Path]:
    """A new home inside the project; afterwards, its servers and any process of it are gone."""
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


