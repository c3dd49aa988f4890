"""The signed envelope a calling service wraps each public call in.

The call's arguments travel as a JSON text (``body``), signed as it is: the worker checks the
signature over the exact characters the caller signed, so no language has to reproduce anyone's
canonical JSON, and any language with HMAC-SHA256 can produce an envelope::

    {"service": "ledger", "issued_at": 1765000000, "nonce": "3f9c...",
     "body": "{\\"event\\": {...}}",
     "signature": hex(HMAC-SHA256(credential, "modelops-call-v1\\n{task}\\n{service}\\n{issued_at}\\n{nonce}\\n{body}"))}

The task's name is signed too, so a call signed for one task cannot be replayed as another.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable

SCHEME = "modelops-call-v1"
SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")  # as ai.services allows
HEX_SIGNATURE = re.compile(r"^[0-9a-fA-F]{64}$")
FIELDS = ("service", "issued_at", "nonce", "body", "signature")
# How far a message's issue time may be from the worker's clock: a queue backlog longer than this
# refuses the calls in it (their callers, long timed out, send again with a fresh envelope).
FRESHNESS_SECONDS = 900
MAX_BODY_CHARACTERS = 16 * 1024 * 1024


class Unauthenticated(ValueError):
    """A call whose sender cannot be established; the message names what is wrong."""

    def __init__(self, reason: str, service: str | None = None):
        super().__init__(reason)
        self.service = service


@dataclass(frozen=True)
class Envelope:
    service: str
    issued_at: int
    nonce: str
    body: str
    signature: str


@dataclass(frozen=True)
class AuthenticatedCall:
    service: str
    nonce: str
    arguments: dict[str, Any]


def signing_text(task_name: str, service: str, issued_at: int, nonce: str, body: str) -> bytes:
    # surrogatepass: a body may carry a lone surrogate (from a JSON \\u escape), still signable
    return "\n".join([SCHEME, task_name, service, str(issued_at), nonce, body]).encode("utf-8", "surrogatepass")


def signature(key: bytes, task_name: str, service: str, issued_at: int, nonce: str, body: str) -> str:
    return hmac.new(key, signing_text(task_name, service, issued_at, nonce, body), hashlib.sha256).hexdigest()


def seal(key: bytes, service: str, task_name: str, arguments: dict[str, Any], now: float | None = None) -> dict:
    """The envelope of one call, as a calling service sends it (``kwargs={"envelope": ...}``)."""
    issued_at = int(time.time() if now is None else now)
    nonce = secrets.token_hex(16)
    body = json.dumps(arguments, separators=(",", ":"), ensure_ascii=False)
    return {"service": service, "issued_at": issued_at, "nonce": nonce, "body": body,
            "signature": signature(key, task_name, service, issued_at, nonce, body)}


def parse(raw: Any) -> Envelope:
    """The envelope's fields, typed, or Unauthenticated naming what is missing or malformed."""
    if not isinstance(raw, dict):
        raise Unauthenticated(f"the call must carry an envelope object, got {type(raw).__name__}")
    claimed = raw.get("service")
    # only a name a service could have is attributed (and recorded): anything else is no service's
    service = claimed if isinstance(claimed, str) and SERVICE_NAME.match(claimed) else None
    missing = [field for field in FIELDS if field not in raw]
    unknown = sorted(ascii(field)[:40] for field in raw if field not in FIELDS)
    if missing or unknown:
        raise Unauthenticated("the envelope " + "; ".join(
            part for part in (missing and f"lacks {', '.join(missing)}", unknown and f"has unknown fields {', '.join(unknown)}")
            if part), service)
    issued_at, nonce, body, signed = raw["issued_at"], raw["nonce"], raw["body"], raw["signature"]
    if service is None:
        raise Unauthenticated("envelope.service must be a service's name: 1 to 63 lowercase letters, digits and dashes")
    if not isinstance(issued_at, int) or isinstance(issued_at, bool):
        raise Unauthenticated("envelope.issued_at must be an integer (seconds since 1970)", service)
    if not isinstance(nonce, str) or not 16 <= len(nonce) <= 64:
        raise Unauthenticated("envelope.nonce must be a string of 16 to 64 characters", service)
    if not isinstance(body, str) or len(body) > MAX_BODY_CHARACTERS:
        raise Unauthenticated(f"envelope.body must be a JSON text of at most {MAX_BODY_CHARACTERS} characters", service)
    if not isinstance(signed, str) or not HEX_SIGNATURE.match(signed):
        raise Unauthenticated("envelope.signature must be 64 hex characters", service)
    return Envelope(service, issued_at, nonce, body, signed)


def open_envelope(raw: Any, task_name: str, key_of: Callable[[str], bytes], now: float) -> AuthenticatedCall:
    """The authenticated call inside ``raw``, or Unauthenticated.

    ``key_of(service)`` is the service's current credential (Unauthenticated when it has none).
    The body is parsed only once the signature holds: nothing an unauthenticated sender wrote is
    interpreted beyond the envelope's own fields."""
    envelope = parse(raw)
    key = key_of(envelope.service)
    expected = signature(key, task_name, envelope.service, envelope.issued_at, envelope.nonce, envelope.body)
    if not hmac.compare_digest(expected, envelope.signature.lower()):
        raise Unauthenticated(f"the signature of service {envelope.service!r} does not verify for {task_name}",
                              envelope.service)
    if abs(now - envelope.issued_at) > FRESHNESS_SECONDS:
        raise Unauthenticated(f"the envelope was issued {int(now - envelope.issued_at)} s from now, "
                              f"more than the {FRESHNESS_SECONDS} s allowed", envelope.service)
    try:
        arguments = json.loads(envelope.body)
    except (ValueError, RecursionError) as error:
        raise Unauthenticated(f"envelope.body is not JSON: {str(error)[:200]}", envelope.service) from None
    if not isinstance(arguments, dict):
        raise Unauthenticated("envelope.body must be a JSON object of the task's arguments", envelope.service)
    return AuthenticatedCall(envelope.service, envelope.nonce, arguments)
