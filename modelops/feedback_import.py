"""Importing feedback from a JSON-lines file: each chunk of events admitted by a given function,
in this process (``admit_inline``) or through the broker (the command line's, signed as the caller)."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from modelops import intake
from schemas.tasks import TaskName

TASK_NAME = TaskName.FEEDBACK_RECORD_BATCH
CHUNK = 1000
# events and the caller -> one verdict (as intake's tasks answer) per event
Admit = Callable[[list, str], list[dict]]


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


def import_file(path: Path, caller: str, admit: Admit) -> ImportReport:
    report = ImportReport()
    lines = read_lines(path, report)
    for start in range(0, len(lines), CHUNK):
        chunk = lines[start:start + CHUNK]
        results = admit([event for _, event in chunk], caller)
        for (number, _), result in zip(chunk, results):
            report.counts[result["status"]] += 1
            if result.get("reason"):
                report.problems.append((number, result["reason"]))
    return report


def admit_inline(events: list, caller: str) -> list[dict]:
    """Admit, scrub and store in this process, as the intake's tasks would."""
    verdicts, accepted = intake.admit(events, caller, TASK_NAME)
    if accepted:
        intake.scrub_and_store(accepted)
    return [verdict.as_dict() for verdict in verdicts]


def _reject(report: ImportReport, number: int, reason: str, line: bytes) -> None:
    intake.record_rejection({"line": line.decode("utf-8", "replace")}, reason, "modelops feedback import")
    report.counts["rejected"] += 1
    report.problems.append((number, reason))
