"""The one source of time for everything time-based.

Tests and the demo replace the clock so that a week of retraining schedules, A/B looks and
rollback windows runs in seconds. Worker processes take theirs from ``MODELOPS_CLOCK`` so that
every process of a run agrees on the simulated time:

    MODELOPS_CLOCK=system                                   (default) wall time, UTC
    MODELOPS_CLOCK=fixed:2026-01-05T09:00:00                time stands still
    MODELOPS_CLOCK=scaled:2026-01-05T00:00:00@1767571200x3600
        simulated time 2026-01-05T00:00 at real epoch second 1767571200, running 3600x faster
    MODELOPS_CLOCK=file:/path/to/clock
        whichever of the above the file holds, read again whenever the file is replaced: a test
        run sets the time of workers that are already running (``FileClock.set``)

All times are naive UTC, matching the schema's TIMESTAMP columns.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path


class Clock:
    #: Simulated seconds per real second.
    speed: float = 1.0

    def now(self) -> dt.datetime:
        raise NotImplementedError

    def today(self) -> dt.date:
        return self.now().date()


class SystemClock(Clock):
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)

    def spec(self) -> str:
        return "system"


@dataclass
class FixedClock(Clock):
    """A clock that moves only when told to."""

    current: dt.datetime

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current

    def spec(self) -> str:
        return f"fixed:{self.current.isoformat()}"


@dataclass
class ScaledClock(Clock):
    """Simulated time anchored to a real instant and running ``speed`` times faster."""

    sim_anchor: dt.datetime
    real_anchor: float = field(default_factory=time.time)
    speed: float = 1.0

    def now(self) -> dt.datetime:
        return self.sim_anchor + dt.timedelta(seconds=(time.time() - self.real_anchor) * self.speed)

    def spec(self) -> str:
        return f"scaled:{self.sim_anchor.isoformat()}@{self.real_anchor}x{self.speed}"


class FileClock(Clock):
    """The clock a file names, followed as the file is replaced.

    Each reading costs one ``stat``; the file is read again only when it is a new file (``set``
    replaces it atomically), so a reader never sees half a spec.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._seen: tuple[int, int] | None = None
        self._clock: Clock = SystemClock()

    def set(self, clock: Clock) -> None:
        """Make every process that follows this file read ``clock`` from now on."""
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        partial.write_text(clock.spec())
        os.replace(partial, self.path)

    def current(self) -> Clock:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return SystemClock()
        if (stat.st_ino, stat.st_mtime_ns) != self._seen:
            self._clock = parse(self.path.read_text().strip())
            self._seen = (stat.st_ino, stat.st_mtime_ns)
        return self._clock

    def now(self) -> dt.datetime:
        return self.current().now()

    @property
    def speed(self) -> float:
        return self.current().speed

    def spec(self) -> str:
        return f"file:{self.path}"


def parse(spec: str) -> Clock:
    kind, _, rest = spec.partition(":")
    if kind == "file":
        return FileClock(Path(rest))
    if kind == "system":
        return SystemClock()
    if kind == "fixed":
        return FixedClock(dt.datetime.fromisoformat(rest))
    if kind == "scaled":
        sim, _, real_speed = rest.partition("@")
        real, _, speed = real_speed.partition("x")
        return ScaledClock(dt.datetime.fromisoformat(sim), float(real), float(speed or 1))
    raise ValueError(f"MODELOPS_CLOCK must be system, fixed:ISO, scaled:ISO@EPOCHxSPEED or file:PATH, got {spec!r}")


_clock: Clock = parse(os.environ.get("MODELOPS_CLOCK", "system"))


def use(clock: Clock) -> Clock:
    """Install ``clock`` for this process; returns the previous one so a test can restore it."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def current() -> Clock:
    return _clock


def now() -> dt.datetime:
    return _clock.now()


def speed() -> float:
    """Simulated seconds per real second: what turns a simulated interval (a daily retrain check)
    into the real one a scheduler waits."""
    return _clock.speed


def today() -> dt.date:
    return _clock.today()
