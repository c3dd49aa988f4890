"""The deployment's secret key, and the keys derived from it for each purpose.

One secret signs what must not be forged: service credentials, the system's own task messages,
model artifacts. It never enters the database, so a database session (even the owner's) can
neither read it nor forge what it signs. Every host of a deployment needs the same key:
``MODELOPS_SECRET_KEY`` (64 hex characters) when set, else the file ``<home>/secret.key``, made
on first use (mode 0600) for a single-host deployment.

Each purpose gets its own key, derived with HMAC-SHA256 from the secret, so that a key handed
out (a service's credential) reveals nothing of the secret or of any other purpose's key.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from modelops.config import settings

KEY_VARIABLE = "MODELOPS_SECRET_KEY"
KEY_FILE = "secret.key"
KEY_BYTES = 32


class SecretKeyError(RuntimeError):
    """The secret key is missing or malformed."""


def _parse(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise SecretKeyError(f"{where} must be {KEY_BYTES * 2} hex characters") from None
    if len(key) != KEY_BYTES:
        raise SecretKeyError(f"{where} must be {KEY_BYTES * 2} hex characters, got {len(key) * 2}")
    return key


def key_file() -> Path:
    return settings().home / KEY_FILE


def _from_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of several processes starting at once, one writes the key and the others read it
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(100):  # another process may have created it and not yet written it
            text = path.read_text()
            if text.strip():
                return _parse(text, str(path))
            time.sleep(0.01)
        raise SecretKeyError(f"{path} is empty") from None
    key = secrets.token_bytes(KEY_BYTES)
    with os.fdopen(descriptor, "w") as file:
        file.write(key.hex() + "\n")
    return key


def secret_key() -> bytes:
    return _secret_key(os.environ.get(KEY_VARIABLE) or None, key_file())


@functools.lru_cache(maxsize=8)
def _secret_key(value: str | None, path: Path) -> bytes:
    # read once per process and place: every signed message needs it
    return _parse(value, KEY_VARIABLE) if value else _from_file(path)


def derived_key(purpose: str) -> bytes:
    """The key of one purpose (``"artifacts"``, ``"internal-tasks"``, ``"service:ledger:1"``...)."""
    return _derived_key(secret_key(), purpose)


@functools.lru_cache(maxsize=1024)
def _derived_key(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, purpose.encode("utf-8"), hashlib.sha256).digest()
