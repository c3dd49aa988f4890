"""One-time sign-in codes: what a sign-in link carries instead of a token.

A link with a long-lived token signs in whoever follows it, for as long as the token lives, and it
stays in browser histories. A code names its token by the token's SHA-256 (never the token), ends
after CODE_TTL, and works once. It is signed with a key derived from the deployment's secret key
(modelops.keys), so nothing needs storing to check it: the command line that prints a link and the
dashboard that reads it share only that key. Its use is recorded in Redis, by the SHA-256 of the
code, until it would have expired anyway; someone who can write to the broker could at most let a
code they hold be used again within that time.

Following a link shows whom it signs in as and a button; only the button's POST, with the page's
XSRF field, signs in (modelops.dashboard.server.SignInHandler).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass

import redis

from modelops import keys

PREFIX = "mdo_signin_"
CODE_TTL = 30 * 60
PURPOSE = "dashboard-sign-in"
USED_KEY = "modelops:dashboard:sign-in-used:{}"
# token digest (32 bytes), expiry (unix seconds, 8 bytes), nonce (16 bytes), then the HMAC (32 bytes)
LAYOUT = struct.Struct(">32sQ16s")
MAC_BYTES = 32


class InvalidCode(ValueError):
    """Not a code this deployment issued, or one that has expired."""


@dataclass(frozen=True)
class SignIn:
    token_digest: str  # hex, as ai.dashboard_tokens keeps it
    expires_at: int
    code_digest: str  # what its use is recorded by


def issue(token_digest: str, now: float, ttl: int = CODE_TTL) -> str:
    """A code that signs in with the token whose SHA-256 is ``token_digest``, until ``now + ttl``."""
    payload = LAYOUT.pack(bytes.fromhex(token_digest), int(now) + ttl, secrets.token_bytes(16))
    return PREFIX + base64.urlsafe_b64encode(payload + _mac(payload)).decode().rstrip("=")


def read(code: str, now: float) -> SignIn:
    """The sign-in a code grants; InvalidCode when it is malformed, forged or expired."""
    if not code.startswith(PREFIX):
        raise InvalidCode("not a sign-in code")
    encoded = code[len(PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        raise InvalidCode("not a sign-in code") from None
    payload, mac = raw[:LAYOUT.size], raw[LAYOUT.size:]
    if len(payload) != LAYOUT.size or not hmac.compare_digest(mac, _mac(payload)):
        raise InvalidCode("not a sign-in code of this deployment")
    token_digest, expires_at, _ = LAYOUT.unpack(payload)
    if expires_at <= now:
        raise InvalidCode("the sign-in code has expired")
    return SignIn(token_digest.hex(), expires_at, hashlib.sha256(code.encode()).hexdigest())


def spend(client: redis.Redis, sign_in: SignIn, now: float) -> bool:
    """Record the code's use; False when it had been used already."""
    return bool(client.set(USED_KEY.format(sign_in.code_digest), 1, nx=True, ex=max(1, sign_in.expires_at - int(now))))


def spent(client: redis.Redis, sign_in: SignIn) -> bool:
    return bool(client.exists(USED_KEY.format(sign_in.code_digest)))


def _mac(payload: bytes) -> bytes:
    return hmac.new(keys.derived_key(PURPOSE), payload, hashlib.sha256).digest()
