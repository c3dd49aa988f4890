"""Running `modelops` from a test.

``run`` calls the command in this process through click's test runner: the command's own code,
output and exit code, without the seconds a new interpreter takes to import the libraries. What
only a process of its own shows (the environment it starts from, its console script, a signal)
goes through ``run_process``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

MODELOPS = str(Path(sys.executable).parent / "modelops")


@dataclass(frozen=True)
class Ran:
    """What a command left: the same three fields as a finished process."""

    returncode: int
    stdout: str
    stderr: str


def run(*args: str, env: dict | None = None, stdin: str | None = None) -> Ran:
    from cli import main

    result = CliRunner().invoke(main, list(args), input=stdin, env=env)
    stderr = result.stderr
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        # what the console script would have printed before exiting with 1
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return Ran(result.exit_code, result.stdout, stderr)


def run_process(*args: str, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([MODELOPS, *args], capture_output=True, text=True, input=stdin, timeout=120,
                          env={**os.environ, **(env or {})})
