"""Consistent pseudonyms: within one tenant the same person (or card, or e-mail) always becomes the
same token, so a model can still learn "this payee again"; across tenants the tokens differ, and
without the key they cannot be turned back into the value."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re

from modelops.privacy.pii.lexicon import fold
from modelops.privacy.pii.tokens import words

TOKEN_HEX_DIGITS = 6
TITLES = frozenset("mr mrs ms miss mx dr prof".split())


def tenant_key(secret: bytes, tenant_id: str) -> bytes:
    """A tenant's own pseudonym key, derived from the deployment's secret."""
    return hmac.new(secret, f"pseudonym-key:{tenant_id}".encode(), hashlib.sha256).digest()


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """"[NAME:3fa2c1]": the kind, and a keyed digest of the value in its canonical form."""
    digest = hmac.new(key, f"{kind}:{canonical(kind, value)}".encode(), hashlib.sha256).hexdigest()
    return f"[{kind}:{digest[:TOKEN_HEX_DIGITS]}]"


def canonical(kind: str, value: str) -> str:
    """One spelling per value: "SMITH, JOHN" and "John Smith" are one person, "(212) 555-0134" and
    "+1 212 555 0134" one phone."""
    if kind == "NAME":
        return " ".join(sorted(key for key in (fold(m.group()) for m in words(value)) if key not in TITLES))
    if kind == "EMAIL":
        return value.strip().lower()
    if kind == "IP":
        return str(ipaddress.ip_address(value.strip()))
    if kind == "ADDRESS":
        return " ".join(m.group().lower() for m in re.finditer(r"\w+", value))
    if kind == "PHONE":
        digits = re.sub(r"\D", "", re.split(r"(?i)x|ext", value)[0])
        if value.lstrip().startswith("00"):
            digits = digits[2:]
        return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()
