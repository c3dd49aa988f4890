"""PII scrubbing: personal data in feedback payloads becomes placeholders before anything is stored.

    scrub(value) -> ScrubResult(value=<scrubbed copy>, hits={"NAME": 1, "PHONE": 1})
    scrub_many(values) -> [ScrubResult, ...]   # the batch form the intake uses

Any JSON value is walked (dict keys are kept, non-string scalars pass through, the input is never
changed). See docs/scrubber.md for what is caught, how, and how well.
"""
from __future__ import annotations

import functools
from typing import Any, Iterable

from modelops.privacy.pii.pseudonyms import tenant_key
from modelops.privacy.pii.scrubber import Scrubber, ScrubResult
from modelops.privacy.pii.spans import PLACEHOLDERS

__all__ = ["PLACEHOLDERS", "ScrubResult", "Scrubber", "scrub", "scrub_many", "tenant_key"]


@functools.cache
def _default() -> Scrubber:
    return Scrubber()


def _scrubber(vendors: Iterable[str], pseudonym_key: bytes | None) -> Scrubber:
    vendors = tuple(vendors)
    return Scrubber(vendors, pseudonym_key) if vendors or pseudonym_key else _default()


def scrub(value: Any, *, vendors: Iterable[str] = (), pseudonym_key: bytes | None = None) -> ScrubResult:
    return _scrubber(vendors, pseudonym_key).scrub(value)


def scrub_many(values: Iterable[Any], *, vendors: Iterable[str] = (), pseudonym_key: bytes | None = None) -> list[ScrubResult]:
    return _scrubber(vendors, pseudonym_key).scrub_many(values)
