"""How often a version was right in each band of confidence, over its labelled predictions before
the short window: the record the sudden-failure check's risk adjustment reads (``sudden``).

Reading it takes an index scan of ``sudden.REFERENCE_ROWS`` rows a version (about 15 ms), against
a millisecond for the short window itself, and the check runs after every metrics fold, about once
a second, for every version the fold touched. The record covers days of predictions and moves
little in minutes, so each process keeps what it read for ``FRESH_SECONDS`` and reads again only
the versions whose record is older.
"""
from __future__ import annotations

import time
import uuid
from typing import Callable

from sqlalchemy import Connection, text

from modelops.monitoring.sudden import BINS, REFERENCE_ROWS, SHORT_WINDOW

FRESH_SECONDS = 600.0

Bands = dict[int, tuple[int, int]]  # band -> (labelled, correct)

READ = text("""
    SELECT v.id, g.band, g.labelled, g.correct
    FROM unnest(CAST(:versions AS uuid[])) AS v(id)
    JOIN LATERAL (
        SELECT least(floor(r.confidence_score * :bins), :bins - 1) AS band, count(*) AS labelled,
               count(*) FILTER (WHERE r.was_correct) AS correct
        FROM (SELECT p.was_correct, p.confidence_score FROM ai.prediction_log p
              WHERE p.model_version_id = v.id AND p.was_correct IS NOT NULL
              ORDER BY p.prediction_timestamp DESC, p.id DESC
              OFFSET :short_window LIMIT :reference_rows) r
        WHERE r.confidence_score IS NOT NULL
        GROUP BY 1
    ) g ON true
""")


class BandRecords:
    """Each version's record, read from the log when this process has none younger than
    ``fresh_seconds``."""

    def __init__(self, fresh_seconds: float = FRESH_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.fresh_seconds = fresh_seconds
        self.clock = clock
        self._kept: dict[uuid.UUID, tuple[float, Bands]] = {}

    def get(self, connection: Connection, version_ids: list[uuid.UUID]) -> dict[uuid.UUID, Bands]:
        now = self.clock()
        # records past their freshness are dropped, not kept: a retired version is never asked again
        self._kept = {v: kept for v, kept in self._kept.items() if now - kept[0] < self.fresh_seconds}
        stale = [v for v in version_ids if v not in self._kept]
        if stale:
            read: dict[uuid.UUID, Bands] = {v: {} for v in stale}
            for row in connection.execute(READ, {"versions": [str(v) for v in stale], "bins": BINS,
                                                 "short_window": SHORT_WINDOW, "reference_rows": REFERENCE_ROWS}):
                read[row.id][int(row.band)] = (int(row.labelled), int(row.correct))
            self._kept.update({v: (now, bands) for v, bands in read.items()})
        return {v: self._kept[v][1] for v in version_ids}


records = BandRecords()
