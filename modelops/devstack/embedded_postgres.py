"""Postgres from the ``pgserver`` wheel, with its data in ``<home>/pg``, for hosts that have none.

Why the data folder stays inside the project: run as root, pgserver creates a system user
``pgserver`` to own the cluster (Postgres refuses to run as root) and, so that this user can reach
the folder, adds read and traverse permission for everyone on *every* parent folder up to ``/``.
Under a user's home folder or a shared temporary folder that would widen far more than intended;
under the project tree it widens only folders that are already meant to be read.

The server listens only on a unix socket in its data folder (pgserver's choice), so it never
collides with a local Postgres on port 5432; the URL names the socket folder as ``?host=``, which
psycopg and SQLAlchemy accept in any process on the host. It outlives the process that started it
(pgserver's ``cleanup_mode=None``) until :func:`stop`.

An owner killed without stopping the server leaves three things behind, handled by :func:`reuse`:
a running server (reused when it answers, stopped when it does not), a ``postmaster.pid`` that may
name a pid since taken by an unrelated process (pgserver would then believe a server runs and hand
out a dead URL, so the file is removed), and the dead owner's pid in pgserver's
``.handle_pids.json`` (pruned).
"""
from __future__ import annotations

import json
import signal
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psutil
from sqlalchemy.engine import make_url

from modelops.config import DEFAULT_DATABASE_URL
from modelops.devstack import processes
from modelops.devstack.connections import ServiceError, ensure_database

DATABASE = make_url(DEFAULT_DATABASE_URL).database  # the database every default URL names
USER = "postgres"  # the superuser pgserver's initdb creates
HANDLE_FILE = ".handle_pids.json"
# Fast shutdown: open sessions are rolled back rather than waited for.
STOP_SIGNAL = signal.SIGINT
STOP_GRACE = 30


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


@dataclass(frozen=True)
class _LockFile:
    """The fields of ``postmaster.pid`` used here (one per line: pid, data dir, start, port, socket dir, ...)."""

    pid: int
    socket_dir: Path


def data_dir(home: Path) -> Path:
    return (home / "pg").resolve()


def running_pid(home: Path) -> int | None:
    """The pid of this home's postmaster, when one runs."""
    postmasters = _postmasters(data_dir(home))
    return postmasters[0].pid if postmasters else None


def reuse(home: Path) -> Server | None:
    """The server a previous start left running, if it answers; else None, with the leftovers cleared."""
    pgdata = data_dir(home)
    _prune_handles(pgdata)
    postmasters = _postmasters(pgdata)
    lock = _read_lock_file(pgdata)
    current = next((p for p in postmasters if lock is not None and p.pid == lock.pid), None)
    if current is not None and _answers(_url(lock.socket_dir)):
        return Server(url=_url(lock.socket_dir), pid=current.pid)
    for postmaster in postmasters:
        processes.stop(postmaster, STOP_SIGNAL, STOP_GRACE)
    _remove_foreign_lock_file(pgdata)
    return None


def start(home: Path) -> Server:
    """Initialise ``<home>/pg`` if needed, start Postgres on it and create the ``modelops`` database."""
    pgdata = data_dir(home)
    pgdata.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # pgserver picks a runtime folder for its lock file at import and warns when
        # XDG_RUNTIME_DIR is unset; its fallback is fine. Imported here so that commands which
        # never start Postgres do not pay for (or print) that.
        warnings.simplefilter("ignore")
        import pgserver
    try:
        server = pgserver.PostgresServer(pgdata, cleanup_mode=None)
    except (subprocess.SubprocessError, OSError) as error:
        raise ServiceError(
            f"embedded Postgres in {pgdata} did not start ({type(error).__name__}); see {pgdata / 'log'}"
        ) from None
    info = server.get_postmaster_info()
    url = _url(info.socket_dir)
    ensure_database(url)
    return Server(url=url, pid=info.pid)


def stop(home: Path) -> list[str]:
    pgdata = data_dir(home)
    stopped = []
    for postmaster in _postmasters(pgdata):
        processes.stop(postmaster, STOP_SIGNAL, STOP_GRACE)
        stopped.append(f"stopped embedded Postgres (pid {postmaster.pid}, data in {pgdata})")
    return stopped


def _postmasters(pgdata: Path) -> list[psutil.Process]:
    # pg_ctl starts the postmaster as `postgres -D <pgdata> ...`; its children do not name the folder.
    return processes.matching("postgres", f"-D {pgdata}")


def _answers(url: str) -> bool:
    """Whether the server answers; the ``modelops`` database is created again if it went missing."""
    try:
        ensure_database(url)
    except ServiceError:
        return False
    return True


def _url(socket_dir: Path) -> str:
    return f"postgresql+psycopg://{USER}@/{DATABASE}?host={quote(str(socket_dir), safe='/')}"


def _read_lock_file(pgdata: Path) -> _LockFile | None:
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        return _LockFile(pid=int(lines[0]), socket_dir=Path(lines[4].strip()))
    except (OSError, ValueError, IndexError):
        return None


def _remove_foreign_lock_file(pgdata: Path) -> None:
    """Remove ``postmaster.pid`` when it is unreadable or its pid is alive but not a server of ours.

    Called with no postmaster running on ``pgdata``. A lock file naming a dead pid is left alone:
    Postgres itself recognises it as stale (and checks that no old backend still holds the
    shared memory it names).
    """
    path = pgdata / "postmaster.pid"
    if not path.exists():
        return
    lock = _read_lock_file(pgdata)
    if lock is None or psutil.pid_exists(lock.pid):
        path.unlink(missing_ok=True)


def _prune_handles(pgdata: Path) -> None:
    """Drop dead processes from pgserver's list of the processes holding a handle on the server."""
    path = pgdata / HANDLE_FILE
    if not path.exists():
        return
    try:
        pids = [pid for pid in json.loads(path.read_text()) if psutil.pid_exists(pid)]
    except (ValueError, TypeError):
        pids = []
    path.write_text(json.dumps(pids))
