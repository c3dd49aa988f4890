"""What ``bring_up`` found or started, kept in ``<home>/services.json`` (mode 0600) for later commands."""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

STATE_FILE = "services.json"
LOCK_FILE = "services.lock"


@dataclass(frozen=True)
class Services:
    database_url: str  # the owner's URL, SQLAlchemy form postgresql+psycopg://...
    redis_url: str
    origin: dict[str, str]  # {"postgres": "env"|"local"|"embedded", "redis": ...}


@dataclass(frozen=True)
class Record:
    services: Services
    pids: dict[str, int | None]  # the embedded servers' pids; None for a server this home did not start


def save(home: Path, record: Record) -> None:
    path = home / STATE_FILE
    partial = path.with_suffix(".json.partial")
    partial.unlink(missing_ok=True)  # one left by an interrupted save may have another mode
    # readable by its owner only: the database URL holds the owner's password
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(json.dumps({**asdict(record.services), "pids": record.pids}, indent=2) + "\n")
    os.replace(partial, path)  # readers see the old record or the new one, never half of one


def load(home: Path) -> Record | None:
    """The last record, or None when there is none or it cannot be read (then nothing is trusted)."""
    try:
        raw = json.loads((home / STATE_FILE).read_text())
        services = Services(raw["database_url"], raw["redis_url"], dict(raw["origin"]))
        return Record(services=services, pids=dict(raw["pids"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clear(home: Path) -> None:
    (home / STATE_FILE).unlink(missing_ok=True)


@contextmanager
def locked(home: Path) -> Iterator[None]:
    """Hold the home's lock, so two ``modelops up`` at once cannot both start a server."""
    with open(home / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
