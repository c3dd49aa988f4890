"""PII scrubbing: personal data in feedback payloads becomes placeholders before anything is stored.

    scrub(value) -> ScrubResult(value=<scrubbed copy>, hits={"NAME": 1, "PHONE": 1})
    scrub_many(values) -> [ScrubResult, ...]   # the batch form the intake uses
    scrub(value, country="DE")                 # the tenant's country: its national formats first

Any JSON value is walked (dict keys are kept, non-string scalars pass through unless their key
names them personal data, the input is never changed). See docs/scrubber.md for what is caught,
how, and how well.
"""
from __future__ import annotations

import functools
from typing import Any, Iterable

from modelops.privacy.pii.pseudonyms import tenant_key
from modelops.privacy.pii.regions import normalise
from modelops.privacy.pii.scrubber import Scrubber, ScrubResult
from modelops.privacy.pii.spans import PLACEHOLDERS

__all__ = ["PLACEHOLDERS", "ScrubResult", "Scrubber", "scrub", "scrub_many", "tenant_key"]


@functools.lru_cache(maxsize=64)
def _default(country: str | None) -> Scrubber:
    return Scrubber(country=country)


def _scrubber(vendors: Iterable[str], pseudonym_key: bytes | None, country: str | None) -> Scrubber:
    vendors = tuple(vendors)
    country = normalise(country) if country is not None else None
    return Scrubber(vendors, pseudonym_key, country) if vendors or pseudonym_key else _default(country)


def scrub(value: Any, *, vendors: Iterable[str] = (), pseudonym_key: bytes | None = None,
          country: str | None = None) -> ScrubResult:
    return _scrubber(vendors, pseudonym_key, country).scrub(value)


def scrub_many(values: Iterable[Any], *, vendors: Iterable[str] = (), pseudonym_key: bytes | None = None,
               country: str | None = None) -> list[ScrubResult]:
    return _scrubber(vendors, pseudonym_key, country).scrub_many(values)
