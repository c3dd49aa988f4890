"""The scrubber: finds personal data in every string of a JSON value and replaces it with
placeholders, counting what it replaced."""
from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from modelops.privacy.pii import accounts, addresses, identifiers, keyed, names, phones
from modelops.privacy.pii.pseudonyms import TOKEN_HEX_DIGITS, pseudonym
from modelops.privacy.pii.regions import regions_for
from modelops.privacy.pii.spans import PLACEHOLDERS, Span, add_unless_overlapping
from modelops.privacy.pii.vendors import combined

NOT_DIGIT = re.compile(r"\D")
PLACEHOLDER = re.compile(r"\[(?:" + "|".join(PLACEHOLDERS) + r")(?::[0-9a-f]{%d})?\]" % TOKEN_HEX_DIGITS)
KEPT = "KEPT"  # the kind of a span that is already a placeholder
FIELD_NAME_BREAK = re.compile(r"[\W_]+|(?<=[a-z])(?=[A-Z])")


@dataclass(frozen=True)
class ScrubResult:
    value: Any
    hits: dict[str, int] = field(default_factory=dict)  # placeholder kind -> replacements made


class Scrubber:
    """A scrubber for one vendor list and, optionally, one tenant's pseudonym key.

    vendors: the ledger's own vendor names, never taken for a person (on top of a built-in list).
    pseudonym_key: when given, placeholders carry a keyed digest ("[NAME:3fa2c1]") so the same
    value maps to the same token; see pseudonyms.tenant_key.
    country: the tenant's country (ISO 3166-1 alpha-2), whose national phone formats are read
    first, with its neighbours'; None reads those of every served country.
    """

    def __init__(self, vendors: Iterable[str] = (), pseudonym_key: bytes | None = None, country: str | None = None):
        self._vendors = combined(vendors)
        self._key = pseudonym_key
        self._regions = regions_for(country)

    def spans(self, text: str, context: str = "") -> list[Span]:
        """Where the personal data in one string is, in text order. context: the name of the
        field the string sits in ("routing_number"), which can tell what a bare number is."""
        # Placeholders of an earlier pass stay as they are: scrubbing scrubbed text changes nothing.
        found = [Span(m.start(), m.end(), KEPT) for m in PLACEHOLDER.finditer(text)] if "[" in text else []
        add_unless_overlapping(found, identifiers.find_emails(text))
        # A detector that needs more digits than the text holds cannot find anything in it.
        digits = len(NOT_DIGIT.sub("", text))
        if digits:
            add_unless_overlapping(found, identifiers.find_ibans(text))
            if digits >= identifiers.CARD_MIN_DIGITS:
                add_unless_overlapping(found, identifiers.find_cards(text))
            if digits >= identifiers.SSN_DIGITS:
                add_unless_overlapping(found, identifiers.find_ssns(text, context))
            add_unless_overlapping(found, accounts.find_accounts(text, context))
            if digits >= accounts.ROUTING_DIGITS:
                add_unless_overlapping(found, accounts.find_routing_numbers(text, context))
            add_unless_overlapping(found, identifiers.find_ips(text))
            if digits >= phones.MIN_DIGITS:
                add_unless_overlapping(found, phones.find_phones(text, context, self._regions))
        # A Romance street may have no number ("rue de Bonvin"): addresses are looked for in every text.
        add_unless_overlapping(found, addresses.find_addresses(text))
        add_unless_overlapping(found, names.find_names(text, found, self._vendors))
        return sorted(span for span in found if span.kind != KEPT)

    def scrub(self, value: Any) -> ScrubResult:
        return self.scrub_many([value])[0]

    def scrub_many(self, values: Iterable[Any]) -> list[ScrubResult]:
        """One result per value. Strings repeated across the batch (categories, vendor names,
        descriptor boilerplate) are scrubbed once."""
        seen: dict[tuple[str, str], tuple[str, Counter]] = {}
        results = []
        for value in values:
            hits: Counter = Counter()
            scrubbed = self._walk(value, "", seen, hits)
            results.append(ScrubResult(scrubbed, dict(hits)))
        return results

    def _walk(self, value: Any, context: str, seen: dict, hits: Counter) -> Any:
        """A scrubbed copy of ``value``. Containers are copied from a stack of their own rather
        than by recursion, so that no depth of nesting can exhaust the interpreter's stack."""
        if not isinstance(value, (dict, list, tuple)):
            return self._leaf(value, context, seen, hits)
        top: list[Any] = [None]
        # (a container to copy, its context, where its copy goes: a container and a key in it)
        pending: list[tuple[Any, str, Any, Any]] = [(value, context, top, 0)]
        # tuples and list subclasses are copied as lists, then made what they were, innermost first
        retyped: list[tuple[type, Any, Any]] = []
        while pending:
            original, context, target, slot = pending.pop()
            if isinstance(original, dict):
                copy: Any = {}
                for key, item in original.items():
                    inner = keyed.inherited(context, _field_words(key))
                    if isinstance(item, (dict, list, tuple)):
                        copy[key] = None
                        pending.append((item, inner, copy, key))
                    else:
                        copy[key] = self._leaf(item, inner, seen, hits)
            else:
                copy = []
                for item in original:
                    if isinstance(item, (dict, list, tuple)):
                        pending.append((item, context, copy, len(copy)))
                        copy.append(None)
                    else:
                        copy.append(self._leaf(item, context, seen, hits))
                if type(original) is not list:
                    retyped.append((type(original), target, slot))
            target[slot] = copy
        for kind, target, slot in reversed(retyped):
            target[slot] = kind(target[slot])
        return top[0]

    def _leaf(self, value: Any, context: str, seen: dict, hits: Counter) -> Any:
        """A scrubbed string, or a number named personal data by its field; anything else as it is."""
        # Exact type checks first: this runs for every value of every payload.
        kind = type(value)
        if kind is str or isinstance(value, str):
            key = (value, context)
            found = seen.get(key)
            if found is None:
                found = seen[key] = self._scrub_text(value, context)
            text, text_hits = found
            if text_hits:
                hits.update(text_hits)
            return text
        if context and (kind is int or kind is float):  # a bool is an int too, and never a number here
            number_kind = keyed.number_kind(value, context)
            if number_kind:
                hits[number_kind] += 1
                return self._placeholder(number_kind, str(value))
        return value

    def _scrub_text(self, text: str, context: str) -> tuple[str, Counter]:
        spans = self.spans(text, context)
        whole_kind = keyed.text_kind(text, context) if context else None
        if whole_kind and not _covers_every_digit(spans, text):
            spans = [Span(0, len(text), whole_kind)]
        if not spans:
            return text, Counter()
        parts, position = [], 0
        for span in spans:
            parts.append(text[position:span.start])
            parts.append(self._placeholder(span.kind, text[span.start:span.end]))
            position = span.end
        parts.append(text[position:])
        return "".join(parts), Counter(span.kind for span in spans)

    def _placeholder(self, kind: str, original: str) -> str:
        return pseudonym(self._key, kind, original) if self._key else PLACEHOLDERS[kind]


def _covers_every_digit(spans: list[Span], text: str) -> bool:
    covered = {i for span in spans for i in range(span.start, span.end)}
    return all(i in covered for i, char in enumerate(text) if char.isdigit())


@functools.lru_cache(maxsize=4096)
def _field_words(key: Any) -> str:
    """"routingNumber" and "routing_number" both read as "routing Number"."""
    return FIELD_NAME_BREAK.sub(" ", key) if isinstance(key, str) else ""
