"""Flower's basic auth: Flower shows every task, worker and queue of the deployment, so whatever
starts it through our command line gives it a user and password.

``MODELOPS_FLOWER_AUTH=user:password`` when set; otherwise the credential kept in
``<home>/flower-auth`` (mode 0600), made with a random password the first time it is needed.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cli.base import CommandError

AUTH_VARIABLE = "MODELOPS_FLOWER_AUTH"
AUTH_FILE = "flower-auth"
GENERATED_USER = "modelops"


@dataclass(frozen=True)
class FlowerAuth:
    user: str
    password: str
    kept_in: Path | None  # the file it was read from or written to; None when from the environment
    generated: bool  # made just now: its password has not been shown to anyone yet

    @property
    def basic_auth(self) -> str:
        """Flower's ``--basic-auth`` value (FLOWER_BASIC_AUTH in its environment)."""
        return f"{self.user}:{self.password}"

    @property
    def described(self) -> str:
        """How to sign in, for the terminal of whoever started Flower."""
        return f"basic auth from {AUTH_VARIABLE}" if self.kept_in is None else f"user {self.user}, password {self.password}"


def flower_auth(env: dict[str, str], home: Path) -> FlowerAuth:
    """The credential Flower is to ask for; CommandError when the environment's is malformed."""
    if value := env.get(AUTH_VARIABLE):
        user, password = _parsed(value, AUTH_VARIABLE)
        return FlowerAuth(user, password, None, generated=False)
    path = home / AUTH_FILE
    try:
        user, password = _parsed(path.read_text().strip(), str(path))
        return FlowerAuth(user, password, path, generated=False)
    except FileNotFoundError:
        return _generate(path)


def _parsed(value: str, where: str) -> tuple[str, str]:
    user, _, password = value.partition(":")
    if not user or not password:
        raise CommandError(f"{where} must be user:password")
    return user, password


def _generate(path: Path) -> FlowerAuth:
    password = secrets.token_urlsafe(18)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{AUTH_FILE}.{os.getpid()}")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write(f"{GENERATED_USER}:{password}\n")
    try:
        # a link, unlike a rename, never replaces: of two commands starting Flower at once, one
        # file wins whole and the other command reads it
        os.link(partial, path)
    except FileExistsError:
        return flower_auth({}, path.parent)
    finally:
        partial.unlink()
    return FlowerAuth(GENERATED_USER, password, path, generated=True)
