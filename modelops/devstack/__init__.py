"""Postgres and Redis for a modelops host: taken from the environment, found locally, or started here.

``bring_up`` decides each server on its own, in this order: the URL in ``DATABASE_URL`` /
``REDIS_URL`` (verified, never started; still this home's own when it names the server this home
runs); a server this home already runs; the usual local server
(``MODELOPS_PROBE_POSTGRES`` / ``MODELOPS_PROBE_REDIS``, ``host:port`` or ``none``); otherwise an
embedded server started under ``home``. ``bring_down`` stops the embedded ones and nothing else.
"""
from modelops.devstack.connections import ServiceError, check_broker, check_postgres, check_redis
from modelops.devstack.bringing_up import bring_down, bring_up, running
from modelops.devstack.state import Services

__all__ = ["ServiceError", "Services", "bring_down", "bring_up", "check_broker", "check_postgres", "check_redis", "running"]
