"""Starts and stops the local processes of a run (worker pools, beat), each in its own session so
that one Ctrl-C reaches us and we stop them in order, children included."""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

# prctl(2) option: the signal the kernel sends a process when the thread that started it ends.
# Linux only; elsewhere a run's processes outlive a supervisor that is killed.
_PR_SET_PDEATHSIG = 1
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)


class ProcessGroup:
    """Processes that live no longer than the thread that starts them: stopped by :meth:`stop`, or
    sent SIGTERM by the kernel if that thread ends without stopping them (its process killed, say)."""

    def __init__(self, log_dir: Path, env: dict[str, str]):
        self.log_dir = log_dir
        self.env = env
        self.processes: dict[str, subprocess.Popen] = {}
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start ``argv`` with the group's environment, or with ``env`` (a pool's own) when given."""
        log = open(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            argv, env=self.env if env is None else env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_end_with(os.getpid()) if _prctl else None,
        )
        log.close()  # the child holds its own descriptor
        self.processes[name] = process
        return process

    def exited(self) -> dict[str, int]:
        """Processes that have stopped on their own, with their exit codes."""
        return {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM each process (a warm shutdown for Celery), then SIGKILL what is left of its group."""
        for process in self.processes.values():
            # The leader only: a Celery worker stops its own pool processes once their tasks are
            # done, whereas a SIGTERM to the whole group would kill them mid-task.
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # the group may hold prefork children even after the leader exited
            _signal_group(process, signal.SIGKILL)
            process.wait()
        self.processes.clear()


def _end_with(parent: int):
    """What a child runs before its program: ask for SIGTERM when the thread that started it ends."""

    def arrange() -> None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent ended before the request was in place
            os.kill(os.getpid(), signal.SIGTERM)

    return arrange


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
