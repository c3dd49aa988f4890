"""Importing feedback from a JSON-lines file, through the broker or in this process."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from modelops import intake
from modelops.auth import services
from modelops.auth.client import ServiceCaller
from schemas.tasks import TaskName

TASK_NAME = TaskName.FEEDBACK_RECORD_BATCH
CHUNK = 1000


@dataclass
class ImportReport:
    counts: Counter = field(default_factory=Counter)
    problems: list[tuple[int, str]] = field(default_factory=list)


def read_lines(path: Path, report: ImportReport) -> list[tuple[int, object]]:
    """(line number, parsed value) for every line that is JSON; the others are rejected here."""
    parsed = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                parsed.append((number, json.loads(raw.decode("utf-8"))))
            except UnicodeDecodeError as error:
                _reject(report, number, f"not valid UTF-8: {error}", raw)
            except ValueError as error:
                _reject(report, number, f"not JSON: {error}", raw)
    return parsed


def import_file(path: Path, caller: str, inline: bool) -> ImportReport:
    report = ImportReport()
    lines = read_lines(path, report)
    for start in range(0, len(lines), CHUNK):
        chunk = lines[start:start + CHUNK]
        results = _admit_inline(chunk, caller) if inline else _admit_via_broker(chunk, caller)
        for (number, _), result in zip(chunk, results):
            report.counts[result["status"]] += 1
            if result.get("reason"):
                report.problems.append((number, result["reason"]))
    return report


def _admit_inline(chunk, caller: str) -> list[dict]:
    verdicts, accepted = intake.admit([event for _, event in chunk], caller, TASK_NAME)
    if accepted:
        intake.scrub_and_store(accepted)
    return [verdict.as_dict() for verdict in verdicts]


def _admit_via_broker(chunk, caller: str) -> list[dict]:
    from workers.app import (
        app,  # the broker path needs Celery; the inline path does not
    )

    issued = services.current(caller)  # signed as the caller, a registered service (this process holds the secret key)
    signed = ServiceCaller.from_hex(issued.name, issued.credential).kwargs(TASK_NAME, events=[event for _, event in chunk])
    result = app.send_task(TASK_NAME, kwargs=signed)
    return result.get(timeout=300)["results"]


def _reject(report: ImportReport, number: int, reason: str, line: bytes) -> None:
    intake.record_rejection({"line": line.decode("utf-8", "replace")}, reason, "modelops feedback import")
    report.counts["rejected"] += 1
    report.problems.append((number, reason))
