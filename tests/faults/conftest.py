"""Fault scenarios: each reports its figures (sent, stored, duplicates, lost, time to recover),
printed as it ends and repeated at the end of the run, passed or failed."""
from __future__ import annotations

import pytest

from tests.faults.support import Figures

SUMMARY = pytest.StashKey[list]()


def pytest_configure(config):
    config.stash[SUMMARY] = []


@pytest.fixture
def figures(request, record_property):
    reported = Figures(request.node.name, record_property, request.config.stash[SUMMARY])
    yield reported
    reported.publish()


def pytest_terminal_summary(terminalreporter, config):
    lines = config.stash.get(SUMMARY, [])
    if lines:
        terminalreporter.section("fault-injection figures")
        for line in lines:
            terminalreporter.write_line(line)
