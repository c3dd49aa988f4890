"""Telephone numbers: North American ones by their numbering-plan shape; others by a leading + (or 00)
and the length their country allows; and national formats ("030 12345678", "06 12 34 56 78",
"(02) 9374 4000", "612 34 56 78") read in the tenant's country and its neighbours (regions.py).

phonenumbers' own matcher finds the same numbers but costs about 0.25 ms for every short string
searched, more than the whole scrubbing budget of a record; so a pattern finds the candidates and
the library judges only those.
"""
from __future__ import annotations

import re
from typing import Iterator

import phonenumbers

from modelops.privacy.pii.regions import SERVED
from modelops.privacy.pii.spans import Span

# Area code and exchange never start with 0 or 1 in the North American plan.
NANP = re.compile(r"""(?<![\w+])
    (?P<country>(?:\+\s?1|001|1)[\s.-]?)?
    (?:\(\s?(?P<area>[2-9]\d\d)\s?\)\s?|(?P<bare_area>[2-9]\d\d)[\s.-]?)
    [2-9]\d\d[\s.-]?\d{4}
    (?:\s*(?:x|ext\.?|extension)\s*\d{1,6})?
    (?!\d)""", re.VERBOSE | re.IGNORECASE)
INTERNATIONAL = re.compile(r"(?<![\w+])(?:\+|00)\s?[1-9]\d{0,2}(?:[\s.-]?\(?\d{1,5}\)?){1,7}(?!\d)")
NOT_DIGIT = re.compile(r"\D")
SEPARATORS = re.compile(r"[\s.()-]+")
GROUP_BREAK = re.compile(r"[\s.-]+(?=\(?\d)")
# Toll-free numbers belong to businesses ("NETFLIX.COM 866-579-7172"), never to a person.
TOLL_FREE = frozenset("800 833 844 855 866 877 888".split())
# Ten bare digits are as often an ID as a phone: only a word nearby makes them a phone.
PHONE_CUE = re.compile(r"\b(?:phone|ph|tel|telephone|cell|mobile|mob|call|called|calling|ring|text|texted|txt|fax|sms|whatsapp|"
                       r"number|reach|contact|telefon|telefono|teléfono|téléphone|tél|portable|móvil|movil|handy|mobiel|"
                       r"telefoon|gsm|cellulare)\b", re.IGNORECASE)
PHONE_CUE_REACH = 30
# A national number written as its country writes it: a trunk 0 and an area code (in parentheses or
# not), then groups; or, in countries that dial no trunk prefix (Spain, Italy, Portugal, Poland),
# three or more groups. Dates and amounts are ruled out below.
NATIONAL = re.compile(r"""(?<![\w+#/.,:-])(?:
      (?P<trunk>\(0[1-9]\d{0,4}\)|0[1-9]\d{0,4})(?P<groups>(?:[ \t]{1,2}|[.\/-]|\)[ ]?|[ ]?[-/][ ]?)\d{2,8}(?:(?:[ \t]|[.\/-]|[ ]?-[ ]?)\d{2,8}){0,4})?
    | (?P<bare>[1-9]\d{1,3}(?:[ .-]\d{2,4}){2,4})
)(?!\w|[.,/:-]?\d)""", re.VERBOSE)
SSN_LIKE = re.compile(r"\d{3}([ -])\d\d\1\d{4}")  # the SSN detector's, even where SSA's rules refuse it
DATE_LIKE = re.compile(r"(?:0?[1-9]|[12]\d|3[01])[ ./-](?:0?[1-9]|1[0-2])[ ./-](?:19|20)?\d\d")
NATIONAL_MIN_DIGITS = 9
# Countries whose national numbers are dialled without a trunk prefix (Spain, Italy, Portugal...).
NO_TRUNK_PREFIX = frozenset(
    region for region in phonenumbers.SUPPORTED_REGIONS
    if not phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix
)
# No number shorter than this is possible anywhere (see _longest_possible_number); a text with
# fewer digits holds no phone.
MIN_DIGITS = 8


def find_phones(text: str, context: str = "", regions: tuple[str, ...] = ()) -> Iterator[Span]:
    # International first: "+49 1512 3455716" also holds a North American shape ("1512 345 5716").
    if "+" in text or "00" in text:
        for match in INTERNATIONAL.finditer(text):
            if match.group().startswith("00") and len(SEPARATORS.findall(match.group())) < 2:
                continue  # "00" then a run of digits is an order number; dialled from abroad it is grouped
            end = _longest_possible_number(text, match.start(), match.end())
            if end is not None:
                yield Span(match.start(), end, "PHONE")
    if regions:
        yield from _national(text, context, regions)
    for match in NANP.finditer(text):
        area = match.group("area") or match.group("bare_area")
        if area in TOLL_FREE or (match.group().isdigit() and not _cued(text, match.start(), context)):
            continue
        yield Span(match.start(), match.end(), "PHONE")


def _national(text: str, context: str, regions: tuple[str, ...]) -> Iterator[Span]:
    for match in NATIONAL.finditer(text):
        candidate = match.group()
        digits = NOT_DIGIT.sub("", candidate)
        shortest = NATIONAL_MIN_DIGITS - 1 if candidate.startswith("(") else NATIONAL_MIN_DIGITS  # "(022) 10730"
        if len(digits) < shortest or len(digits) > 13 or DATE_LIKE.fullmatch(candidate) or SSN_LIKE.fullmatch(candidate):
            continue
        grouped = not candidate.isdigit()
        cued = _cued(text, match.start(), context)
        # After a phone word ("ring", "Telefon:", "his number is") a number valid in any served
        # country is a phone: a customer abroad writes it as at home ("01512 3450309" to an Irish tenant).
        readable = tuple(dict.fromkeys(regions + SERVED)) if cued else regions
        if match.group("bare"):
            if NANP.fullmatch(candidate):
                continue  # the North American pattern below judges these, toll-free numbers included
            # No trunk prefix to go by: only a number valid in a region that dials none will do.
            if _valid_in(digits, tuple(r for r in readable if r in NO_TRUNK_PREFIX)):
                yield Span(match.start(), match.end(), "PHONE")
        elif grouped or cued:
            # A trunk 0 and an area code are a phone's own shape: a length the tenant's country (or,
            # for a tenant of no known country, any served country) allows is enough; elsewhere the
            # number must be one that is in service.
            if _valid_in(digits, readable) or _possible_in(digits, regions[:1] if len(regions) < len(SERVED) else regions):
                yield Span(match.start(), match.end(), "PHONE")


def _valid_in(digits: str, regions: tuple[str, ...]) -> bool:
    for region in regions:
        parsed = _parse(digits, region)
        if parsed is not None and phonenumbers.is_valid_number(parsed):
            return True
    return False


def _possible_in(digits: str, regions: tuple[str, ...]) -> bool:
    for region in regions:
        parsed = _parse(digits, region)
        if parsed is not None and phonenumbers.is_possible_number(parsed):
            return True
    return False


def _parse(digits: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None


def _cued(text: str, start: int, context: str) -> bool:
    return bool(PHONE_CUE.search(context) or PHONE_CUE.search(text, max(0, start - PHONE_CUE_REACH), start))


def _longest_possible_number(text: str, start: int, end: int) -> int | None:
    """Where the number ends: the candidate loses trailing groups (a date, an amount) until its length
    is one the country uses."""
    while end > start:
        candidate = text[start:end]
        digits = NOT_DIGIT.sub("", candidate.replace("(0)", ""))  # "+44 (0)20 ...": the trunk 0 is not dialled from abroad
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
