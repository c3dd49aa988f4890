"""Servers this package does not start: the ones the environment names, and the usual local ones."""
from __future__ import annotations

import logging
import os

from sqlalchemy.engine import make_url

from modelops.config import DEFAULT_DATABASE_URL, normalise_database_url
from modelops.devstack.connections import ServiceError, check_postgres, check_redis, ensure_database

PROBE_POSTGRES = "MODELOPS_PROBE_POSTGRES"
PROBE_REDIS = "MODELOPS_PROBE_REDIS"
DEFAULT_POSTGRES_ADDRESS = "127.0.0.1:5432"
DEFAULT_REDIS_ADDRESS = "127.0.0.1:6379"

Address = tuple[str, int]

_log = logging.getLogger(__name__)


def env_postgres() -> str | None:
    """``DATABASE_URL`` in SQLAlchemy form once it answers; None when unset. Raises ServiceError."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return None
    check_postgres(url)
    return normalise_database_url(url)


def env_redis() -> str | None:
    """``REDIS_URL`` once it answers; None when unset. Raises ServiceError."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return None
    check_redis(url)
    return url


def postgres_probe() -> Address | None:
    return _probe_address(PROBE_POSTGRES, DEFAULT_POSTGRES_ADDRESS)


def redis_probe() -> Address | None:
    return _probe_address(PROBE_REDIS, DEFAULT_REDIS_ADDRESS)


def local_postgres(address: Address) -> str | None:
    """The Postgres at ``address`` (user ``postgres``, trust auth), with a ``modelops`` database; else None."""
    host, port = address
    url = make_url(DEFAULT_DATABASE_URL).set(host=host, port=port).render_as_string(hide_password=False)
    try:
        ensure_database(url)
    except ServiceError as error:
        _log.info("no usable local Postgres: %s", error)
        return None
    return url


def local_redis(address: Address) -> str | None:
    """The Redis at ``address``, db 0; None if absent."""
    host, port = address
    url = f"redis://{host}:{port}/0"
    try:
        check_redis(url)
    except ServiceError as error:
        _log.info("no usable local Redis: %s", error)
        return None
    return url


def _probe_address(variable: str, default: str) -> Address | None:
    """``host:port`` from ``variable`` (or the default); None when it says ``none``."""
    value = os.environ.get(variable, default).strip()
    if value.lower() == "none":
        return None
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ServiceError(f"{variable} must be host:port or none, not {value!r}")
    return host, int(port)
