"""Folding the Redis counters into ``ai.model_metrics``: nothing lost, nothing counted twice.

A fold run, every second (beat):

1. finishes the folds an earlier run left pending (its worker died, or Postgres was down);
2. moves the live hash aside, atomically (a Lua script renames it to ``fold:<id>`` and adds the id to
   the pending set): counts that arrive from then on go to a new live hash, none is lost between;
3. folds it: in one transaction, records the fold's id in the ledger ``ai.metric_folds`` and adds
   its counts to ``ai.model_metrics`` (one upsert row per version and day), then recomputes the
   averages from the row's sums; only after the commit deletes the hash and its pending id.

A fold that dies before its commit leaves its hash pending, and the next run folds it. One that
dies after its commit but before the delete leaves it pending too, and the next run finds its id in
the ledger and only deletes it. While Postgres is unreachable a run fails at step 1 (or 3), so
counts stay in Redis, live or pending, and are folded once it is back. Two runs at once are safe:
the second insert of a fold's id waits for the first's transaction and then does nothing.

A pending fold whose counts Postgres refuses (a value out of range, say) would stop every later
run at step 1; it is set aside under ``unfoldable:<id>`` instead, with an error in the log, and
the runs go on. Counts of a version the registry does not hold (deleted, a database restored from
an older backup, a Redis shared with another deployment) are dropped the same way, without
stopping anything: the ledger row says how many version-days were dropped, and
``ai.dropped_metric_counts`` keeps what each such version and day lost, for an operator to see.

Ledger rows are pruned once a day old, and only those whose fold is no longer pending: the ids
are read from the ledger first and from Redis after, and a fold leaves the pending set only after
its hash was deleted, so a pruned id can never be folded again.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Mapping

import redis
from sqlalchemy import Connection, text
from sqlalchemy.exc import DataError, IntegrityError

from modelops import db
from modelops.monitoring import counters
from modelops.registry import store

log = logging.getLogger(__name__)

UNFOLDABLE_PREFIX = "modelops:metrics:unfoldable:"
LEDGER_KEPT = dt.timedelta(days=1)
LOCK_TIMEOUT = "5s"  # a run waiting longer on another's fold gives up; the next run tries again
# Tests hold a fold at a stage ("moved" or "committed") for some seconds to kill its worker there.
STALL_VARIABLE = "MODELOPS_TEST_FOLD_STALL"

# KEYS: the live hash, the fold's hash, the pending set; ARGV: the fold's id.
MOVE_ASIDE_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
"""

SUMS = ("predictions", "failed", "labelled", "correct", "overrides", "confidence_micros", "response_us",
        "rating_count", "rating_sum")
CLASS_MEASURES = ("tp", "fp", "fn")
CPU_PERCENT_MAX = 999.99  # DECIMAL(5,2)


@dataclass
class VersionDay:
    """The counts of one model version on one day, as one fold adds them."""

    model_version_id: uuid.UUID
    metric_date: dt.date
    sums: dict[str, int] = field(default_factory=dict)
    peaks: dict[str, int] = field(default_factory=dict)
    class_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def row(self) -> dict:
        cpu = self.peaks.get("peak_cpu_centipercent")
        return {
            "model_version_id": str(self.model_version_id), "metric_date": self.metric_date.isoformat(),
            **{name: self.sums.get(name, 0) for name in SUMS},
            "class_counts": self.class_counts,
            "peak_memory_mb": self.peaks.get("peak_memory_mb"),
            "cpu_percent": None if cpu is None else min(cpu / 100, CPU_PERCENT_MAX),
        }


def read_counts(raw: Mapping[bytes | str, bytes | str]) -> list[VersionDay]:
    """A moved-aside hash as rows to add; a field not written by ``counters`` is logged and left out."""
    rows: dict[tuple[uuid.UUID, dt.date], VersionDay] = {}
    for name, value in raw.items():
        name = name.decode() if isinstance(name, bytes) else name
        try:
            version, day, measure = counters.parse_field(name)
            amount = int(value)
        except ValueError:
            log.warning("metric counter %r = %r is not one of ours; left out", name, value)
            continue
        row = rows.setdefault((version, day), VersionDay(version, day))
        kind, _, label = measure.partition(":")
        if kind in CLASS_MEASURES and label:
            per_class = row.class_counts.setdefault(label, dict.fromkeys(CLASS_MEASURES, 0))
            per_class[kind] += amount
        elif measure in SUMS:
            row.sums[measure] = amount
        elif measure in counters.PEAKS:
            row.peaks[measure] = amount
        else:
            log.warning("metric counter %r measures nothing we know; left out", name)
    # in key order, so that two runs adding to the same rows lock them in the same order
    return [rows[key] for key in sorted(rows)]


@dataclass
class FoldReport:
    folds: list[str] = field(default_factory=list)  # folds whose counts were added by this run
    already_folded: list[str] = field(default_factory=list)  # pending folds found in the ledger (only deleted)
    unfoldable: list[str] = field(default_factory=list)
    touched: set[uuid.UUID] = field(default_factory=set)  # versions whose metrics a fold of this run carried
    predictions: int = 0
    labelled: int = 0
    dropped: int = 0  # version-days of versions the registry does not hold, left out
    pruned: int = 0

    def as_dict(self) -> dict:
        return {"folds": self.folds, "already_folded": self.already_folded, "unfoldable": self.unfoldable,
                "model_version_ids": sorted(str(v) for v in self.touched), "predictions": self.predictions,
                "labelled": self.labelled, "dropped_version_days": self.dropped, "pruned_ledger_rows": self.pruned}


@dataclass(frozen=True)
class Folded:
    """What one fold's transaction did with its rows."""

    first_time: bool  # False: the ledger had it already, and nothing was added
    added: list[VersionDay]  # rows of versions the registry holds
    dropped: list[VersionDay]  # rows of versions it does not


def fold_key(fold_id: str) -> str:
    return counters.FOLD_PREFIX + fold_id


def fold_counters(client: redis.Redis, now: dt.datetime) -> FoldReport:
    """One run: the pending folds, then the counts since the last run."""
    report = FoldReport()
    for pending in sorted(member.decode() for member in client.smembers(counters.PENDING)):
        fold_pending(client, pending, now, report)
    fold_id = uuid.uuid4().hex
    if move_aside(client, fold_id):
        _stall("moved")
        fold_pending(client, fold_id, now, report)
    report.pruned = prune_ledger(client, now - LEDGER_KEPT)
    return report


def move_aside(client: redis.Redis, fold_id: str) -> bool:
    """Rename the live hash to this fold's, atomically; False when nothing was counted."""
    moved = client.eval(MOVE_ASIDE_SCRIPT, 3, counters.LIVE, fold_key(fold_id), counters.PENDING, fold_id)
    return bool(moved)


def fold_pending(client: redis.Redis, fold_id: str, now: dt.datetime, report: FoldReport) -> None:
    rows = read_counts(client.hgetall(fold_key(fold_id)))
    try:
        with db.operator_scope() as connection:
            folded = add_to_metrics(connection, fold_id, rows, now)
    except (DataError, IntegrityError) as error:  # anything else (Postgres unreachable, say) leaves it pending
        set_aside(client, fold_id, error)
        report.unfoldable.append(fold_id)
        return
    _stall("committed")
    finish(client, fold_id)
    (report.folds if folded.first_time else report.already_folded).append(fold_id)
    report.touched.update(row.model_version_id for row in folded.added)
    if folded.first_time:
        report.predictions += _total(folded.added, "predictions")
        report.labelled += _total(folded.added, "labelled")
        report.dropped += len(folded.dropped)


def _total(rows: list[VersionDay], measure: str) -> int:
    return sum(row.sums.get(measure, 0) for row in rows)


# The ledger row is written whole, dropped version-days included: the operator role may insert
# ledger rows and delete old ones, never change one.
RECORD_FOLD = text("""
    INSERT INTO ai.metric_folds (fold_id, folded_at, version_days, predictions, labelled, unknown_versions)
    VALUES (:fold_id, :now, :version_days, :predictions, :labelled, :unknown_versions)
    ON CONFLICT (fold_id) DO NOTHING
    RETURNING fold_id
""")

# What counts of versions the registry does not hold were dropped, added up per version and day.
RECORD_DROPPED = text("""
    INSERT INTO ai.dropped_metric_counts AS d (
        model_version_id, metric_date, predictions, labelled, folds, first_dropped_at, last_dropped_at)
    SELECT r.model_version_id, r.metric_date, r.predictions, r.labelled, 1, :now, :now
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        model_version_id uuid, metric_date date, predictions bigint, labelled bigint)
    ON CONFLICT (model_version_id, metric_date) DO UPDATE SET
        predictions = d.predictions + EXCLUDED.predictions,
        labelled = d.labelled + EXCLUDED.labelled,
        folds = d.folds + 1,
        last_dropped_at = EXCLUDED.last_dropped_at
""")

# Counts add; peaks keep the larger. Each row carries its version's tenant.
ADD_COUNTS = text("""
    INSERT INTO ai.model_metrics AS m (
        model_version_id, metric_date, tenant_id, total_predictions, failed_predictions, labelled_predictions,
        correct_predictions, user_overrides, confidence_sum, response_time_sum_ms, rating_count, rating_sum,
        class_counts, peak_memory_usage_mb, cpu_utilization_percent, created_at, updated_at)
    SELECT r.model_version_id, r.metric_date, r.tenant_id, r.predictions, r.failed, r.labelled, r.correct,
           r.overrides, r.confidence_micros / 1e6, r.response_us / 1e3, r.rating_count, r.rating_sum,
           r.class_counts, r.peak_memory_mb, r.cpu_percent, :now, :now
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        model_version_id uuid, tenant_id uuid, metric_date date, predictions integer, failed integer, labelled integer,
        correct integer, overrides integer, confidence_micros bigint, response_us bigint, rating_count integer,
        rating_sum integer, class_counts jsonb, peak_memory_mb integer, cpu_percent numeric)
    ON CONFLICT (model_version_id, metric_date) DO UPDATE SET
        total_predictions = coalesce(m.total_predictions, 0) + EXCLUDED.total_predictions,
        failed_predictions = m.failed_predictions + EXCLUDED.failed_predictions,
        labelled_predictions = m.labelled_predictions + EXCLUDED.labelled_predictions,
        correct_predictions = coalesce(m.correct_predictions, 0) + EXCLUDED.correct_predictions,
        user_overrides = coalesce(m.user_overrides, 0) + EXCLUDED.user_overrides,
        confidence_sum = m.confidence_sum + EXCLUDED.confidence_sum,
        response_time_sum_ms = m.response_time_sum_ms + EXCLUDED.response_time_sum_ms,
        rating_count = m.rating_count + EXCLUDED.rating_count,
        rating_sum = m.rating_sum + EXCLUDED.rating_sum,
        class_counts = ai.add_class_counts(m.class_counts, EXCLUDED.class_counts),
        peak_memory_usage_mb = greatest(m.peak_memory_usage_mb, EXCLUDED.peak_memory_usage_mb),
        cpu_utilization_percent = greatest(m.cpu_utilization_percent, EXCLUDED.cpu_utilization_percent),
        updated_at = EXCLUDED.updated_at
    RETURNING m.id
""")

# Every average is a quotient of the row's sums, so it is right however the sums were added up.
# Accuracy is over the labelled predictions (the spec's sketch divides by all predictions, counting
# every prediction without feedback as wrong). The bounds only keep a value in its column's range,
# should a replaced verdict be counted before the verdict it replaced.
DERIVE_AVERAGES = text("""
    UPDATE ai.model_metrics SET
        accuracy = CASE WHEN labelled_predictions > 0
                        THEN round(least(greatest(correct_predictions::numeric / labelled_predictions, 0), 1), 4) END,
        precision = ai.macro_average(class_counts, 'precision'),
        recall = ai.macro_average(class_counts, 'recall'),
        f1_score = ai.macro_average(class_counts, 'f1'),
        avg_confidence = CASE WHEN total_predictions > 0
                              THEN round(least(greatest(confidence_sum / total_predictions, 0), 1)::numeric, 2) END,
        avg_response_time_ms = CASE WHEN total_predictions > 0
                                    THEN round(least(response_time_sum_ms / total_predictions, 999999.99)::numeric, 2) END
    WHERE id = ANY(CAST(:ids AS uuid[]))
""")


def add_to_metrics(connection: Connection, fold_id: str, rows: list[VersionDay], now: dt.datetime) -> Folded:
    """Record the fold and add the rows of known versions, recording those of unknown ones as
    dropped; nothing is added when the ledger has the fold already."""
    connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    known = store.identities(connection, sorted({row.model_version_id for row in rows}))
    added = [row for row in rows if row.model_version_id in known]
    dropped = [row for row in rows if row.model_version_id not in known]
    recorded = connection.execute(RECORD_FOLD, {
        "fold_id": fold_id, "now": now, "version_days": len(added), "predictions": _total(added, "predictions"),
        "labelled": _total(added, "labelled"), "unknown_versions": len(dropped),
    }).scalar()
    if recorded is None:
        return Folded(False, added, dropped)
    if dropped:
        log.warning("fold %s: %d version-days of model versions not in the registry (%s) are dropped",
                    fold_id, len(dropped), ", ".join(sorted({str(row.model_version_id) for row in dropped})))
        connection.execute(RECORD_DROPPED, {"rows": json.dumps([{
            "model_version_id": str(row.model_version_id), "metric_date": row.metric_date.isoformat(),
            "predictions": row.sums.get("predictions", 0), "labelled": row.sums.get("labelled", 0)} for row in dropped]),
            "now": now})
    if added:
        documents = [row.row() | {"tenant_id": known[row.model_version_id].tenant_id} for row in added]
        ids = connection.execute(ADD_COUNTS, {"rows": json.dumps(documents, default=str), "now": now}).scalars().all()
        connection.execute(DERIVE_AVERAGES, {"ids": [str(i) for i in ids]})
    return Folded(True, added, dropped)


def finish(client: redis.Redis, fold_id: str) -> None:
    """Forget a committed fold: its hash first, its pending id with it (one transaction)."""
    with client.pipeline(transaction=True) as pipe:
        pipe.delete(fold_key(fold_id))
        pipe.srem(counters.PENDING, fold_id)
        pipe.execute()


def set_aside(client: redis.Redis, fold_id: str, error: Exception) -> None:
    log.error("fold %s cannot be added to ai.model_metrics and is set aside under %s%s: %s",
              fold_id, UNFOLDABLE_PREFIX, fold_id, error)
    with client.pipeline(transaction=True) as pipe:
        pipe.rename(fold_key(fold_id), UNFOLDABLE_PREFIX + fold_id)
        pipe.srem(counters.PENDING, fold_id)
        pipe.execute()


def prune_ledger(client: redis.Redis, before: dt.datetime) -> int:
    with db.operator_scope() as connection:
        old = connection.execute(text("SELECT fold_id FROM ai.metric_folds WHERE folded_at < :before LIMIT 10000"),
                                 {"before": before}).scalars().all()
    if not old:
        return 0
    pending = {member.decode() for member in client.smembers(counters.PENDING)}  # read after the ledger: see above
    done = [fold_id for fold_id in old if fold_id not in pending]
    with db.operator_scope() as connection:
        connection.execute(text("DELETE FROM ai.metric_folds WHERE fold_id = ANY(:ids)"), {"ids": done})
    return len(done)


def _stall(stage: str) -> None:
    wanted, _, seconds = os.environ.get(STALL_VARIABLE, "").partition(":")
    if wanted == stage:
        log.warning("fold held at %r for %s s (%s is set)", stage, seconds, STALL_VARIABLE)
        time.sleep(float(seconds))
