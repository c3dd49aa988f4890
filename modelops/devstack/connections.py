"""Talking to Postgres, Redis and the broker just enough to know they answer, and saying in one
line why not."""
from __future__ import annotations

import re

import redis
import amqp.exceptions
from kombu import Connection
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from modelops.config import is_amqp, normalise_database_url, redact

# Long enough for a busy server, short enough that a black-holed address fails a command quickly.
CONNECT_TIMEOUT = 5


class ServiceError(RuntimeError):
    """A server that cannot be used; the message is one line and never contains a password."""


def check_postgres(url: str) -> None:
    """Connect to ``url`` and run ``SELECT 1``, or raise :class:`ServiceError` saying why not."""
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as error:
        raise ServiceError(f"Postgres at {redact(url)}: {_postgres_reason(error)}") from None
    finally:
        engine.dispose()


def ensure_database(url: str) -> None:
    """Create the database ``url`` names, connecting to the server's ``postgres`` database to do it."""
    admin = _engine(url, database="postgres")
    database = make_url(normalise_database_url(url)).database
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            ).scalar()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{database}"'))
    except DBAPIError as error:
        raise ServiceError(f"Postgres at {redact(url)}: {_postgres_reason(error)}") from None
    finally:
        admin.dispose()


def check_redis(url: str) -> None:
    """Connect to ``url`` and PING, or raise :class:`ServiceError` saying why not."""
    try:
        client = redis_client(url)
    except ValueError:
        hint = " (Redis keeps results, counters and caches; a RabbitMQ broker goes in BROKER_URL)" if is_amqp(url) else ""
        raise ServiceError(f"not a Redis URL: {redact(url)}{hint}") from None
    try:
        client.ping()
    except redis.AuthenticationError:
        raise ServiceError(f"Redis at {redact(url)}: authentication failed") from None
    except redis.TimeoutError:
        raise ServiceError(f"Redis at {redact(url)}: timed out after {CONNECT_TIMEOUT}s") from None
    except redis.ConnectionError as error:
        raise ServiceError(f"Redis at {redact(url)}: {_redis_reason(error)}") from None
    except redis.ResponseError as error:  # e.g. a db index the server does not have
        raise ServiceError(f"Redis at {redact(url)}: {_one_line(str(error))}") from None
    finally:
        client.close()


def check_broker(url: str) -> None:
    """Connect to the broker ``url`` names (Redis, or RabbitMQ for ``amqp://``), or raise
    :class:`ServiceError` saying why not."""
    if not is_amqp(url):
        check_redis(url)
        return
    try:
        with Connection(url, connect_timeout=CONNECT_TIMEOUT) as connection:
            connection.ensure_connection(max_retries=1, timeout=CONNECT_TIMEOUT)
    except amqp.exceptions.AccessRefused:
        raise ServiceError(f"RabbitMQ at {redact(url)}: authentication failed") from None
    except (amqp.exceptions.AMQPError, KombuOperationalError, OSError) as error:
        raise ServiceError(f"RabbitMQ at {redact(url)}: {_amqp_reason(error)}") from None


def redis_client(url: str) -> redis.Redis:
    """A client that gives up after one attempt of ``CONNECT_TIMEOUT``.

    redis-py retries timeouts with backoff by default, so a server that accepts connections but
    answers nothing (a suspended one) would take a minute to give up on.
    """
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=CONNECT_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )


def _engine(url: str, database: str | None = None):
    try:
        parsed = make_url(normalise_database_url(url))
    except (ArgumentError, ValueError):
        raise ServiceError(f"not a PostgreSQL URL: {redact(url)}") from None
    if database is not None:
        parsed = parsed.set(database=database)
    return create_engine(
        parsed,
        poolclass=pool.NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": CONNECT_TIMEOUT},
    )


def _postgres_reason(error: DBAPIError) -> str:
    # libpq says where it tried ("connection to server at ..., port ... failed: ") once per address
    # and then the cause; the cause of the last attempt is the useful part.
    message = str(error.orig).rsplit("failed: ", 1)[-1]
    return _one_line(re.sub(r"^(FATAL|ERROR):\s+", "", message.strip()))


def _redis_reason(error: redis.ConnectionError) -> str:
    # redis-py words socket errors as "Error 111 connecting to host:port. Connection refused."
    found = re.search(r"connecting to \S+?\. (.+?)\.?$", str(error))
    return _one_line(found.group(1) if found else str(error))


def _amqp_reason(error: Exception) -> str:
    # py-amqp words a refusal "(0, 0): (530) NOT_ALLOWED - vhost x not found", a socket error
    # "[Errno 111] Connection refused": the words after the codes are the reason
    found = re.search(r"(?:\(\d+\) [A-Z_]+ - |\[Errno \d+\] )(.+)$", str(error))
    return _one_line(found.group(1) if found else str(error))


def _one_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "no reason given"
    # "Connection refused" reads as "connection refused" mid-sentence; "DB index ..." stays as is.
    return line[0].lower() + line[1:] if line[1:2].islower() else line
