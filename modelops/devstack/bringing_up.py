"""``bring_up``, ``bring_down`` and ``running``: each server decided on its own, the outcome recorded."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable
from urllib.parse import unquote

from modelops.devstack import discovery, embedded_postgres, embedded_redis, state
from modelops.devstack.connections import ServiceError, check_postgres, check_redis
from modelops.devstack.state import Record, Services


@dataclass(frozen=True)
class _Kind:
    name: str
    from_env: Callable[[], str | None]
    probe: Callable[[], discovery.Address | None]
    local: Callable[[discovery.Address], str | None]
    embedded: ModuleType  # reuse(home), start(home), stop(home), running_pid(home)
    check: Callable[[str], None]


_KINDS = (
    _Kind(
        "postgres",
        discovery.env_postgres,
        discovery.postgres_probe,
        discovery.local_postgres,
        embedded_postgres,
        check_postgres,
    ),
    _Kind("redis", discovery.env_redis, discovery.redis_probe, discovery.local_redis, embedded_redis, check_redis),
)


def bring_up(home: Path) -> Services:
    """Find or start Postgres and Redis for ``home``; a second call reuses what the first started."""
    home = Path(home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    with state.locked(home):
        # The environment is read and its URLs verified before anything starts, so that a mistake
        # there fails the call without leaving a server behind.
        from_env = {kind.name: kind.from_env() for kind in _KINDS}
        probes = {kind.name: kind.probe() for kind in _KINDS}
        urls, origins, pids = {}, {}, {}
        for kind in _KINDS:
            urls[kind.name], origins[kind.name], pids[kind.name] = _decide(
                kind, from_env[kind.name], probes[kind.name], home
            )
        services = Services(database_url=urls["postgres"], redis_url=urls["redis"], origin=origins)
        state.save(home, Record(services=services, pids=pids))
    return services


def bring_down(home: Path) -> list[str]:
    """Stop the embedded servers of ``home`` (never a local or an environment's server); one line each."""
    home = Path(home).resolve()
    if not home.is_dir():
        return []
    with state.locked(home):
        # Found by their data folders rather than by services.json, so that servers whose record
        # was lost (or whose start was interrupted) are stopped too.
        stopped = [line for kind in _KINDS for line in kind.embedded.stop(home)]
        state.clear(home)
    return stopped


def running(home: Path) -> Services | None:
    """What the last ``bring_up`` of ``home`` left, if its embedded servers still run and all answer."""
    home = Path(home).resolve()
    record = state.load(home)
    if record is None:
        return None
    urls = {"postgres": record.services.database_url, "redis": record.services.redis_url}
    for kind in _KINDS:
        embedded = record.services.origin.get(kind.name) == "embedded"
        if embedded and kind.embedded.running_pid(home) != record.pids.get(kind.name):
            return None
        try:
            kind.check(urls[kind.name])
        except ServiceError:
            return None
    return record.services


def _decide(
    kind: _Kind, env_url: str | None, probe: discovery.Address | None, home: Path
) -> tuple[str, str, int | None]:
    if env_url is not None:
        return _named_by_env(kind, env_url, home) or (env_url, "env", None)
    # A server this home already runs comes before the local probe, so that a second bring_up
    # hands out the URL the first one did even if a local server has appeared since.
    server = kind.embedded.reuse(home)
    if server is None:
        local = kind.local(probe) if probe is not None else None
        if local is not None:
            return local, "local", None
        server = kind.embedded.start(home)
    return server.url, "embedded", server.pid


def _named_by_env(kind: _Kind, env_url: str, home: Path) -> tuple[str, str, int] | None:
    """This home's running server when ``env_url`` names it, else None.

    The environment names it in a shell that evaluated `modelops up`, and in every command once
    the command line adopted the running servers. It stays recorded as embedded (so that its pid
    is tracked and the record still says it is ours to stop) with the URL the first call handed out.
    """
    if kind.embedded.running_pid(home) is None:
        return None
    server = kind.embedded.reuse(home)
    # Compared unquoted: the environment's Postgres URL was normalised, which percent-encodes the
    # socket folder that the embedded server's URL spells out.
    if server is None or unquote(server.url) != unquote(env_url):
        return None
    return server.url, "embedded", server.pid
