"""Telephone numbers: North American ones by their numbering-plan shape, others by a leading + (or 00)
and the length their country allows.

phonenumbers' own matcher finds the same numbers but costs about 0.25 ms for every short string
searched, more than the whole scrubbing budget of a record; so a pattern finds the candidates and
the library judges only those.
"""
from __future__ import annotations

import re
from typing import Iterator

import phonenumbers

from modelops.privacy.pii.spans import Span

# Area code and exchange never start with 0 or 1 in the North American plan.
NANP = re.compile(r"""(?<![\w+])
    (?P<country>(?:\+\s?1|001|1)[\s.-]?)?
    (?:\(\s?(?P<area>[2-9]\d\d)\s?\)\s?|(?P<bare_area>[2-9]\d\d)[\s.-]?)
    [2-9]\d\d[\s.-]?\d{4}
    (?:\s*(?:x|ext\.?|extension)\s*\d{1,6})?
    (?!\d)""", re.VERBOSE | re.IGNORECASE)
INTERNATIONAL = re.compile(r"(?<![\w+])(?:\+|00)\s?[1-9]\d{0,2}(?:[\s.-]?\(?\d{1,5}\)?){1,7}(?!\d)")
SEPARATORS = re.compile(r"[\s.()-]+")
GROUP_BREAK = re.compile(r"[\s.-]+(?=\(?\d)")
# Toll-free numbers belong to businesses ("NETFLIX.COM 866-579-7172"), never to a person.
TOLL_FREE = frozenset("800 833 844 855 866 877 888".split())
# Ten bare digits are as often an ID as a phone: only a word nearby makes them a phone.
PHONE_CUE = re.compile(r"\b(?:phone|ph|tel|telephone|cell|mobile|call|called|calling|text|texted|txt|fax|sms|whatsapp|number|reach|contact)\b", re.IGNORECASE)
PHONE_CUE_REACH = 30
# No number shorter than this is possible anywhere (see _longest_possible_number); a text with
# fewer digits holds no phone.
MIN_DIGITS = 8


def find_phones(text: str, context: str = "") -> Iterator[Span]:
    # International first: "+49 1512 3455716" also holds a North American shape ("1512 345 5716").
    if "+" in text or "00" in text:
        for match in INTERNATIONAL.finditer(text):
            if match.group().startswith("00") and len(SEPARATORS.findall(match.group())) < 2:
                continue  # "00" then a run of digits is an order number; dialled from abroad it is grouped
            end = _longest_possible_number(text, match.start(), match.end())
            if end is not None:
                yield Span(match.start(), end, "PHONE")
    for match in NANP.finditer(text):
        area = match.group("area") or match.group("bare_area")
        if area in TOLL_FREE or (match.group().isdigit() and not _cued(text, match.start(), context)):
            continue
        yield Span(match.start(), match.end(), "PHONE")


def _cued(text: str, start: int, context: str) -> bool:
    return bool(PHONE_CUE.search(context) or PHONE_CUE.search(text, max(0, start - PHONE_CUE_REACH), start))


def _longest_possible_number(text: str, start: int, end: int) -> int | None:
    """Where the number ends: the candidate loses trailing groups (a date, an amount) until its length
    is one the country uses."""
    while end > start:
        candidate = text[start:end]
        digits = re.sub(r"\D", "", candidate)
        if candidate.startswith("00"):
            digits = digits[2:]
        if MIN_DIGITS <= len(digits) <= 15 and _possible("+" + digits):
            return end
        breaks = [m.start() for m in GROUP_BREAK.finditer(candidate)]
        if not breaks:
            return None
        end = start + breaks[-1]
    return None


def _possible(number: str) -> bool:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(parsed) and phonenumbers.region_code_for_number(parsed) is not None
