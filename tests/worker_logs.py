"""A failed test's report ends with the logs that workers, beat and servers wrote while it ran.

A worker that never answers fails the test waiting for it (at the latest on the per-test timeout),
and what the worker said is what tells why; so every ``*.log`` under the run's temporary folders and
the test home that changed during the test is attached, its last lines only.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

TAIL = 4000  # characters of each log
FOLDERS = pytest.StashKey[list]()
STARTED = pytest.StashKey[float]()


def watch(config: pytest.Config, *folders: Path) -> None:
    """Look for logs under ``folders`` too, when a test fails."""
    config.stash.setdefault(FOLDERS, []).extend(folders)


@pytest.fixture(scope="session", autouse=True)
def _watch_temporary_folders(request, tmp_path_factory):
    watch(request.config, tmp_path_factory.getbasetemp())


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[STARTED] = time.time()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed or STARTED not in item.stash:
        return
    for path in _written_since(item.config.stash.get(FOLDERS, []), item.stash[STARTED]):
        text = path.read_text(errors="replace")
        report.sections.append((f"log {path}", text[-TAIL:]))


def _written_since(folders: list[Path], since: float) -> list[Path]:
    found = set()
    for folder in folders:
        for path in Path(folder).rglob("*.log"):
            try:
                if path.is_file() and path.stat().st_mtime >= since:
                    found.add(path)
            except OSError:  # removed meanwhile
                continue
    return sorted(found)
