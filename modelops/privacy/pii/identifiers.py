"""Identifiers with a fixed shape: e-mail addresses, payment cards, IBANs, SSNs and IP addresses.

Each is found by a pattern and then confirmed by its own rules (Luhn, mod 97, SSA's ranges, octet
bounds), so an order number or a version string that only has the shape is left alone.
"""
from __future__ import annotations

import re
from typing import Iterator

from modelops.privacy.pii import checksums
from modelops.privacy.pii.spans import Span

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")

# Cards are written plain or in groups of digits with one separator throughout: 4-4-4-4(-3),
# Amex and Diners 4-6-5 / 4-6-4, 4-4-4-3 for fifteen digits, 4-4-4 for Maestro's twelve; the
# separator a space (or a few), a dash, a dot or " - ". A "+" before the digits makes them a phone.
CARD = re.compile(r"""(?<![\d+-])(?:
      \d{4}(?P<sep>[ ]{1,3}|[.-]|[ ]-[ ])\d{2,6}(?:(?P=sep)\d{1,6}){1,4}
    | \d{12,19}
)(?!\d|[.,-]\d)""", re.VERBOSE)
NOT_DIGITS = re.compile(r"\D+")

# The fewest digits a text can hold for each pattern to match: the scrubber skips the rest.
CARD_MIN_DIGITS = 12
SSN_DIGITS = 9

IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ ]?[A-Za-z0-9])")

SSN_DASHED = re.compile(r"(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])")
SSN_PLAIN = re.compile(r"(?<![\d-])(\d{3})(\d{2})(\d{4})(?![\d-])")
# An undashed nine-digit number is only an SSN when the text says so shortly before it.
SSN_CUE = re.compile(r"\b(?:ssn|ss#|ss no|social security|soc\.? ?sec|itin|taxpayer id)", re.IGNORECASE)
SSN_CUE_REACH = 40

IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\.?\d|\w)")
VERSION_BEFORE = re.compile(r"(?:\bversion|\bver\.?|\bv)\s*$", re.IGNORECASE)  # "version 1.2.3.4", "v1.2.3.4"
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}|:)?(?::[0-9A-Fa-f]{0,4}){2,7}(?::(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")


def find_emails(text: str) -> Iterator[Span]:
    if "@" in text:
        for match in EMAIL.finditer(text):
            yield Span(match.start(), match.end(), "EMAIL")


def find_cards(text: str) -> Iterator[Span]:
    for match in CARD.finditer(text):
        end = _card_end(text, match.start(), match.end())
        if end is not None:
            yield Span(match.start(), end, "CARD")


def _card_end(text: str, start: int, end: int) -> int | None:
    """Where a card number ends: trailing groups (a year, an amount) are shed until the digits
    left are a card's."""
    while True:
        candidate = text[start:end]
        digits = NOT_DIGITS.sub("", candidate)
        if len(digits) < CARD_MIN_DIGITS:
            return None
        if checksums.is_card_number(digits):
            return end
        breaks = [m.start() for m in NOT_DIGITS.finditer(candidate)]
        if not breaks:
            return None
        end = start + breaks[-1]


def find_ibans(text: str) -> Iterator[Span]:
    for match in IBAN_START.finditer(text):
        length = checksums.iban_length(match.group()[:2])
        if length is None:
            continue
        end = _iban_end(text, match.start(), length)
        if end is not None and checksums.iban_valid(re.sub(r"[ -]", "", text[match.start():end])):
            yield Span(match.start(), end, "IBAN")


def _iban_end(text: str, start: int, length: int) -> int | None:
    """Where an IBAN of this many characters ends if written compact or in groups, else None."""
    count, position = 0, start
    while position < len(text) and count < length:
        char = text[position]
        if char.isascii() and char.isalnum():
            count += 1
        elif char not in " -" or not text[position - 1].isalnum():
            return None  # a separator may only stand singly between characters
        position += 1
    if count < length or (position < len(text) and text[position].isalnum()):
        return None
    return position


def find_ssns(text: str, context: str = "") -> Iterator[Span]:
    for match in SSN_DASHED.finditer(text):
        area, _, group, serial = match.groups()
        if checksums.ssn_valid(area, group, serial) or checksums.itin_valid(area, group, serial):
            yield Span(match.start(), match.end(), "SSN")
    for match in SSN_PLAIN.finditer(text):
        before = context + " " + text[max(0, match.start() - SSN_CUE_REACH):match.start()]
        if SSN_CUE.search(before) and (checksums.ssn_valid(*match.groups()) or checksums.itin_valid(*match.groups())):
            yield Span(match.start(), match.end(), "SSN")


def find_ips(text: str) -> Iterator[Span]:
    if "." in text:
        for match in IPV4.finditer(text):
            if checksums.ipv4_valid(match.group()) and not VERSION_BEFORE.search(text, max(0, match.start() - 10), match.start()):
                yield Span(match.start(), match.end(), "IP")
    if "::" in text or text.count(":") >= 7:
        for match in IPV6.finditer(text):
            candidate = match.group()
            groups = [group for group in candidate.split(":") if group]
            if len(groups) >= 2 and checksums.ipv6_valid(candidate):
                yield Span(match.start(), match.end(), "IP")
