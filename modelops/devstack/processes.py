"""Finding the server processes started for a home, and stopping them with everything they forked."""
from __future__ import annotations

import contextlib
import signal
import time

import psutil


def matching(name: str, phrase: str) -> list[psutil.Process]:
    """Live processes called ``name`` whose command line contains ``phrase`` as whole words."""
    found = []
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        if process.info["name"] != name or process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        # Joined with spaces because a server that rewrites its process title (Redis) is read back
        # as one space-separated string; padded so that ".../pg" does not match ".../pg2".
        if f" {phrase} " in f" {' '.join(process.info['cmdline'] or [])} ":
            found.append(process)
    return found


def stop(process: psutil.Process, request: signal.Signals, grace: float) -> None:
    """Ask ``process`` to shut down with ``request``; kill it and its descendants after ``grace`` seconds."""
    try:
        family = [process, *process.children(recursive=True)]
        process.send_signal(request)
        # A suspended server only acts on the request once resumed.
        process.send_signal(signal.SIGCONT)
    except psutil.NoSuchProcess:
        return
    survivors = _wait_until_gone(family, grace)
    for survivor in survivors:
        with contextlib.suppress(psutil.NoSuchProcess):
            survivor.kill()
    _wait_until_gone(survivors, 5)


def _wait_until_gone(family: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait for every process to exit; return those still running after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        survivors = [process for process in family if _running(process)]
        if not survivors or time.monotonic() >= deadline:
            return survivors
        time.sleep(0.05)


def _running(process: psutil.Process) -> bool:
    # A daemon's exit leaves a zombie until init reaps it, which can take a second or more; it
    # holds no port, socket or file any more, so it counts as gone.
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
