"""Calling services and their credentials.

A service's credential is derived from the deployment's secret key, its name and its generation
(modelops.keys), so the database holds no secret: a database session, even the operator's, can
read every row here and still sign nothing. Rotating bumps the generation (the old credential
stops working), revoking stops the service altogether. Workers look a service up at most every
few seconds (``LOOKUP_SECONDS``), so a revocation takes hold within that time.
"""
from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import text

from modelops import clock, db, keys, tenants
from modelops.auth.envelope import Unauthenticated

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
LOOKUP_SECONDS = 10.0
# Names remembered by a worker, the least recently asked forgotten first: a sender inventing a new
# name for every message must not grow a worker's memory.
REMEMBERED_NAMES = 10_000


class ServiceError(ValueError):
    """An operator's request about services that cannot be done; the message says why."""


@dataclass(frozen=True)
class Issued:
    name: str
    generation: int
    credential: str  # hex, shown once to the operator and never stored


def credential(name: str, generation: int) -> bytes:
    return keys.derived_key(f"service:{name}:{generation}")


def _issued(name: str, generation: int) -> Issued:
    return Issued(name, generation, credential(name, generation).hex())


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME.match(name):
        raise ServiceError(f"a service's name is 1 to 63 lowercase letters, digits and dashes, got {name!r}")


def create(name: str, tenant_ids: list[uuid.UUID]) -> Issued:
    """Register a service, make it a member of each tenant, and issue its first credential."""
    _check_name(name)
    with db.operator_scope() as connection:
        inserted = connection.execute(
            text("INSERT INTO ai.services (name, created_at) VALUES (:name, :now) ON CONFLICT DO NOTHING RETURNING generation"),
            {"name": name, "now": clock.now()}).scalar()
    if inserted is None:
        raise ServiceError(f"service {name!r} exists already: rotate its credential instead")
    for tenant_id in tenant_ids:
        tenants.add_member(tenant_id, name, "service")
    return _issued(name, inserted)


def ensure(name: str, tenant_ids: list[uuid.UUID]) -> Issued:
    """The service, registered if it is not yet, and a member of each tenant; its current credential.

    For the system's own tools that act as a calling service (the demo's scenario, benchmarks):
    they hold the secret key, so they may derive any credential."""
    _check_name(name)
    with db.operator_scope() as connection:
        connection.execute(text("INSERT INTO ai.services (name, created_at) VALUES (:name, :now) ON CONFLICT DO NOTHING"),
                           {"name": name, "now": clock.now()})
        generation = connection.execute(text("SELECT generation FROM ai.services WHERE name = :name AND revoked_at IS NULL"),
                                        {"name": name}).scalar()
    if generation is None:
        raise ServiceError(f"service {name!r} is revoked")
    for tenant_id in tenant_ids:
        tenants.add_member(tenant_id, name, "service")
    return _issued(name, generation)


def current(name: str) -> Issued:
    """The registered service's current credential (for tools holding the secret key)."""
    with db.operator_scope() as connection:
        generation = connection.execute(text("SELECT generation FROM ai.services WHERE name = :name AND revoked_at IS NULL"),
                                        {"name": name}).scalar()
    if generation is None:
        raise ServiceError(f"{name!r} is not a registered service (modelops service create {name} --tenant ...)")
    return _issued(name, generation)


def rotate(name: str) -> Issued:
    """A new credential for the service; the one it had stops working."""
    with db.operator_scope() as connection:
        generation = connection.execute(
            text("UPDATE ai.services SET generation = generation + 1, rotated_at = :now, revoked_at = NULL "
                 "WHERE name = :name RETURNING generation"), {"name": name, "now": clock.now()}).scalar()
    if generation is None:
        raise ServiceError(f"no service is named {name!r}")
    return _issued(name, generation)


def revoke(name: str) -> None:
    with db.operator_scope() as connection:
        found = connection.execute(text("UPDATE ai.services SET revoked_at = :now WHERE name = :name RETURNING name"),
                                   {"name": name, "now": clock.now()}).scalar()
    if found is None:
        raise ServiceError(f"no service is named {name!r}")


class CredentialLookup:
    """The current credential of each calling service, as a worker checks it (cached briefly)."""

    def __init__(self, lookup_seconds: float = LOOKUP_SECONDS):
        self.lookup_seconds = lookup_seconds
        self._known: OrderedDict[str, tuple[float, bytes | None]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, name: str) -> bytes:
        with self._lock:
            seen = self._known.get(name)
        if seen is None or time.monotonic() - seen[0] > self.lookup_seconds:
            seen = (time.monotonic(), self._current(name))
            with self._lock:
                self._known[name] = seen
                self._known.move_to_end(name)
                while len(self._known) > REMEMBERED_NAMES:
                    self._known.popitem(last=False)
        if seen[1] is None:
            raise Unauthenticated(f"{name!r} is not a service with a valid credential", name)
        return seen[1]

    @staticmethod
    def _current(name: str) -> bytes | None:
        with db.unscoped() as connection:
            row = connection.execute(text("SELECT generation, revoked_at FROM ai.services WHERE name = :name"),
                                     {"name": name}).first()
        return credential(name, row.generation) if row is not None and row.revoked_at is None else None
