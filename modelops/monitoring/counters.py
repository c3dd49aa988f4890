"""Counting predictions and feedback in Redis, per model version and day, without touching a table.

The spec's ``update_model_metrics`` upserts one row per prediction: at thousands of predictions a
second every serving process would queue on the same ``(model_version_id, metric_date)`` row. Here a
batch's counts are added to one Redis hash in one call (a Lua script, so the additions and maxima of
a batch land together), and the fold (``modelops.monitoring.fold``) moves that hash aside every
second and adds it to ``ai.model_metrics``, one row per version and day.

A field of the hash is ``<model_version_id>|<metric_date>|<measure>``; the measures:

    predictions                answers committed to the audit log
    failed                     requests routed to the version that it could not answer (load or predict failed)
    confidence_micros          sum of the answers' confidence, in millionths (integers add exactly)
    response_us                sum of the answers' response times, in microseconds
    labelled, correct          predictions with a verdict from feedback, and those the verdict calls right
    overrides                  predictions the user overrode
    tp:<class> fp:<class> fn:<class>   per-class counts, for precision, recall and F1
    rating_count, rating_sum   satisfaction ratings (1 to 5) given to the version's answers
    peak_memory_mb             the largest resident set of a serving process that answered (a maximum)
    peak_cpu_centipercent      the highest CPU use of such a process over a second or more (a maximum)

Feedback arrives after the prediction it answers and is counted on the day of that prediction and
against the version that made it. A prediction has one verdict at a time (a later correction
replaces an earlier approval), so what is counted is the change: the new verdict's counts minus the
old one's, both read in the transaction that replaced it. Every other measure only grows.

Precision, recall and F1 are macro averages, as in training's validation figures
(``modelops.training.evaluation``), so a live figure compares with the version's own: a right answer
is a true positive of its class; a wrong one is a false positive of the class it predicted and, when
the feedback names the right class, a false negative of that class. Per class, precision is
tp / (tp + fp), recall tp / (tp + fn), F1 their harmonic mean (0 where undefined); each class seen
weighs the same (``ai.macro_average``). Per-class counts add, so a day's or a week's figure is exact.
(Micro averages would add too, but for one label per answer they all equal the accuracy.)

Counts are added only after the audit log (or the feedback) has committed, so nothing is counted
that did not happen; a process killed in the microseconds between its commit and the Redis call
loses that batch's counts, and so does a Redis that loses its memory before the next fold.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import resource
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import redis

from modelops.agents import get_agent
from modelops.config import settings

if TYPE_CHECKING:
    from modelops.serving.auditlog import LogRow

log = logging.getLogger(__name__)

LIVE = "modelops:metrics:live"  # the hash every serving and intake process adds to
FOLD_PREFIX = "modelops:metrics:fold:"  # a hash moved aside by a fold, under the fold's id
PENDING = "modelops:metrics:pending"  # the ids of folds moved aside and not yet finished
SEPARATOR = "|"
PEAKS = ("peak_memory_mb", "peak_cpu_centipercent")

# ARGV holds (operation, field, value) triples: "add" adds, "max" keeps the larger value.
ADD_SCRIPT = """
for i = 1, #ARGV, 3 do
  local operation, field, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if operation == 'max' then
    local current = redis.call('HGET', KEYS[1], field)
    if not current or tonumber(value) > tonumber(current) then redis.call('HSET', KEYS[1], field, value) end
  else
    redis.call('HINCRBY', KEYS[1], field, value)
  end
end
return 1
"""


def field(model_version_id: uuid.UUID | str, day: dt.date, measure: str) -> str:
    return f"{model_version_id}{SEPARATOR}{day.isoformat()}{SEPARATOR}{measure}"


def parse_field(name: str) -> tuple[uuid.UUID, dt.date, str]:
    """(model version, day, measure) of a field; ValueError for a field not made by ``field``."""
    version, day, measure = name.split(SEPARATOR, 2)
    return uuid.UUID(version), dt.date.fromisoformat(day), measure


class Tally:
    """One batch's counts, per field, to be added in one call."""

    def __init__(self) -> None:
        self.sums: dict[str, int] = defaultdict(int)
        self.peaks: dict[str, int] = {}

    def add(self, model_version_id, day: dt.date, measure: str, amount: int) -> None:
        if amount:
            self.sums[field(model_version_id, day, measure)] += amount

    def peak(self, model_version_id, day: dt.date, measure: str, value: int | None) -> None:
        if value is not None:
            name = field(model_version_id, day, measure)
            self.peaks[name] = max(value, self.peaks.get(name, value))

    def arguments(self) -> list[str | int]:
        arguments: list[str | int] = []
        for name, amount in self.sums.items():
            if amount:  # the changes of a batch may cancel out
                arguments += ["add", name, amount]
        for name, value in self.peaks.items():
            arguments += ["max", name, value]
        return arguments


# -- predictions ---------------------------------------------------------------------------------

class ProcessLoad:
    """This process's peak memory and CPU use, read in microseconds once per batch.

    CPU use is the process's CPU time over the wall time since the previous reading, taken only
    once a second or more has passed, so a short busy batch does not read as a spike."""

    WINDOW_SECONDS = 1.0

    def __init__(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        self._centipercent: int | None = None

    def sample(self) -> tuple[int, int | None]:
        """(peak resident set in MB, CPU use in hundredths of a percent, None before a whole window)."""
        wall, cpu = time.perf_counter(), time.process_time()
        if wall - self._wall >= self.WINDOW_SECONDS:
            self._centipercent = round(10_000 * (cpu - self._cpu) / (wall - self._wall))
            self._wall, self._cpu = wall, cpu
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, self._centipercent  # ru_maxrss: KiB on Linux


def tally_predictions(rows: Iterable["LogRow"], failed: Mapping[uuid.UUID, int], day: dt.date,
                      load: tuple[int | None, int | None] = (None, None)) -> Tally:
    """A batch's answers (audit rows, each on its own day) and its failures (on ``day``)."""
    # summed per version and day first: a field name costs microseconds to build, a row should not
    sums: dict[tuple[uuid.UUID, dt.date], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for row in rows:
        entry = sums[(row.model_version_id, row.prediction_timestamp.date())]
        entry[0] += 1
        entry[1] += row.confidence
        entry[2] += row.duration_ms
    tally = Tally()
    for (version, row_day), (count, confidence, duration_ms) in sums.items():
        tally.add(version, row_day, "predictions", count)
        tally.add(version, row_day, "confidence_micros", round(confidence * 1_000_000))
        tally.add(version, row_day, "response_us", round(duration_ms * 1000))
    for version, count in failed.items():
        tally.add(version, day, "failed", count)
    memory_mb, cpu_centipercent = load
    for version, row_day in sums.keys() | {(version, day) for version in failed}:
        tally.peak(version, row_day, "peak_memory_mb", memory_mb)
        tally.peak(version, row_day, "peak_cpu_centipercent", cpu_centipercent)
    return tally


# -- feedback ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """What a prediction's audit row says about it, as far as the metrics count."""

    was_correct: bool | None
    overridden: bool
    predicted: str | None  # the class the model answered
    actual: str | None  # the class the feedback named, if it named one

    def counts(self) -> dict[str, int]:
        if self.was_correct is None:
            return {"overrides": int(self.overridden)}
        counts = {"labelled": 1, "correct": int(self.was_correct), "overrides": int(self.overridden)}
        if self.predicted is not None:
            counts[f"{'tp' if self.was_correct else 'fp'}:{self.predicted}"] = 1
        if not self.was_correct and self.actual is not None:
            counts[f"fn:{self.actual}"] = 1
        return counts


NO_VERDICT = Verdict(None, False, None, None)


@dataclass(frozen=True)
class Answer:
    """A prediction's feedback as one transaction changed it."""

    model_version_id: uuid.UUID
    day: dt.date  # the day of the prediction, not of the feedback
    before: Verdict
    after: Verdict
    ratings: tuple[int, ...] = ()


def verdict(agent_type: str, predicted_output: Any, actual_output: Any, was_correct: bool | None, overridden: bool | None) -> Verdict:
    """The verdict of an audit row; classes as training names them (``str`` of the agent's label)."""
    agent = get_agent(agent_type)
    predicted, actual = agent.label(predicted_output), agent.label(actual_output)
    return Verdict(was_correct, bool(overridden), None if predicted is None else str(predicted),
                   None if actual is None else str(actual))


def tally_feedback(answers: Iterable[Answer]) -> Tally:
    tally = Tally()
    for answer in answers:
        before, after = answer.before.counts(), answer.after.counts()
        for measure in before.keys() | after.keys():
            tally.add(answer.model_version_id, answer.day, measure, after.get(measure, 0) - before.get(measure, 0))
        tally.add(answer.model_version_id, answer.day, "rating_count", len(answer.ratings))
        tally.add(answer.model_version_id, answer.day, "rating_sum", sum(answer.ratings))
    return tally


# -- Redis ---------------------------------------------------------------------------------------

_clients: dict[int, redis.Redis] = {}


def client() -> redis.Redis:
    """This process's Redis client (made after a worker forks, never shared with a parent)."""
    if os.getpid() not in _clients:
        _clients.clear()
        _clients[os.getpid()] = redis.Redis.from_url(settings().redis_url)
    return _clients[os.getpid()]


class Recorder:
    """Adds a batch's counts to the live hash in one round trip to Redis."""

    def __init__(self, redis_client: redis.Redis):
        self.add_script = redis_client.register_script(ADD_SCRIPT)
        self.load = ProcessLoad()

    def predictions(self, rows: list["LogRow"], failed: Mapping[uuid.UUID, int], day: dt.date) -> None:
        self._add(tally_predictions(rows, failed, day, self.load.sample()), f"{len(rows)} predictions")

    def feedback(self, answers: list[Answer]) -> None:
        self._add(tally_feedback(answers), f"feedback on {len(answers)} predictions")

    def _add(self, tally: Tally, what: str) -> None:
        arguments = tally.arguments()
        if not arguments:
            return
        try:
            self.add_script(keys=[LIVE], args=arguments)
        except redis.RedisError:
            # already committed and answered: failing the caller now would not undo it
            log.exception("%s were not counted in the metrics", what)


_recorders: dict[int, Recorder] = {}


def recorder() -> Recorder:
    """This process's recorder."""
    if os.getpid() not in _recorders:
        _recorders.clear()
        _recorders[os.getpid()] = Recorder(client())
    return _recorders[os.getpid()]
