"""Checking a bearer token or a session cookie, with a short memory.

Six panels refresh on their own, so one open page asks several times a minute: a principal checked
in the last CHECKED_FOR seconds is taken as is (so revoking a token or a membership takes effect
within that time). While the database does not answer, a principal checked within STALE_GRACE is
still accepted, so that the page can say "database unreachable" instead of sending its user to the
login form; with nothing remembered, the caller gets DatabaseUnavailable, never a 401.
"""
from __future__ import annotations

import threading
import time

from sqlalchemy.exc import DBAPIError

from modelops import db
from modelops.dashboard import access
from modelops.dashboard.access import Principal

CHECKED_FOR = 30.0
STALE_GRACE = 600.0


class DatabaseUnavailable(RuntimeError):
    """The database did not answer; the message says so without any secret."""


class Credentials:
    def __init__(self):
        self._checked: dict[tuple[str, str], tuple[Principal | None, float]] = {}
        self._lock = threading.Lock()

    def token(self, secret: str) -> Principal | None:
        return self._check("token", secret, access.principal_for_token)

    def token_digest(self, token_digest: str) -> Principal | None:
        """The principal of the token whose SHA-256 is ``token_digest`` (what a sign-in code names)."""
        return self._check("token digest", token_digest, access.principal_for_digest)

    def session(self, secret: str) -> Principal | None:
        return self._check("session", secret, access.principal_for_session)

    def forget(self, kind: str, secret: str) -> None:
        with self._lock:
            self._checked.pop((kind, access.digest(secret)), None)

    def _check(self, kind: str, secret: str, lookup) -> Principal | None:
        key = (kind, access.digest(secret))
        with self._lock:
            principal, checked_at = self._checked.get(key, (None, float("-inf")))
        age = time.monotonic() - checked_at
        if age < CHECKED_FOR:
            return principal
        try:
            with db.dashboard_scope() as connection:
                principal = lookup(connection, secret, access.wall_now())
        except DBAPIError as error:
            if principal is not None and age < STALE_GRACE:
                return principal
            raise DatabaseUnavailable(f"database unreachable ({type(error.orig or error).__name__})") from None
        with self._lock:
            if principal is None:
                self._checked.pop(key, None)  # a wrong secret is not remembered: nothing to fill memory with
            else:
                self._checked[key] = (principal, time.monotonic())
        return principal
