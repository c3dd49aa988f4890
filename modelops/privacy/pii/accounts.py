"""Bank account and routing numbers, which have no shape of their own: a run of digits is one
only when the text (or the field it sits in) calls it an account, or when it is masked."""
from __future__ import annotations

import re
from typing import Iterator

from modelops.privacy.pii import checksums
from modelops.privacy.pii.spans import Span

# Words that announce an account or routing number, in prose and in bank descriptors.
CUE = r"(?:acct|accts|account|accounts|acc|a/c|chk|checking|savings|sav|routing|rtn|aba|transit|beneficiary|member)"
# What may stand between the cue and the number: "acct no.", "Account #:", "RTN/ABA", "routing and account numbers".
FILLER = r"(?:[\s#:.,/-]|\b(?:no|nbr|num|number|numbers|is|of|and|&)\b|\b" + CUE + r"\b)*?"
# A number 7 to 17 digits long, possibly grouped (but not a date), or one masked down to its last digits.
NUMBER = r"(?:(?:[*xX•#]+|\.{2,})[ -]?\d{2,6}|(?!\d{4}-\d\d-\d\d(?!\d))\d(?:[ -]?\d){6,16})"
CUED_NUMBERS = re.compile(
    r"\b" + CUE + r"\b" + FILLER + r"(?<![\w$.,])(?P<numbers>" + NUMBER + r"(?:\s*(?:and|&|/|,)\s*" + NUMBER + r")*)(?!\w|[.,]\d)",
    re.IGNORECASE,
)
NUMBER_IN_LIST = re.compile(NUMBER)
# A mask of four or more characters says "account or card" without any cue: XXXX-XXXX-1234, ****1234;
# so does "ending in 1234".
MASKED = re.compile(r"(?<![\w*•])(?:[*•]{4,}|[xX]{4,})(?:[ -](?:[*•]{4}|[xX]{4}))*[ -]?\d{2,6}(?!\w)")
ENDING_IN = re.compile(r"\b(?:ending|ends)(?:\s+(?:in|with))?\s*[#:]?\s*(\d{4,6})(?!\d)", re.IGNORECASE)
FIELD_CUE = re.compile(r"acct|account|routing|aba|iban|bank", re.IGNORECASE)
WHOLE_NUMBER = re.compile(r"\s*(" + NUMBER + r")\s*")


def find_accounts(text: str, context: str = "") -> Iterator[Span]:
    """Numbers after an account cue; masked numbers anywhere; a bare number in a field named for one."""
    for match in CUED_NUMBERS.finditer(text):
        for number in NUMBER_IN_LIST.finditer(text, match.start("numbers"), match.end("numbers")):
            yield Span(number.start(), number.end(), "ACCOUNT")
    for match in MASKED.finditer(text):
        yield Span(match.start(), match.end(), "ACCOUNT")
    for match in ENDING_IN.finditer(text):
        yield Span(match.start(1), match.end(1), "ACCOUNT")
    if context and FIELD_CUE.search(context):
        whole = WHOLE_NUMBER.fullmatch(text)
        if whole:
            yield Span(whole.start(1), whole.end(1), "ACCOUNT")


# A routing number needs no word of its own if the text is about moving money and its checksum holds.
ROUTING_DIGITS = 9
ROUTING = re.compile(r"(?<![\d-])\d{%d}(?![\d-])" % ROUTING_DIGITS)
MONEY_CUE = re.compile(r"\b(?:wire|ach|bank|deposit|transfer|remit|payment|pmt|dd)\b", re.IGNORECASE)
MONEY_CUE_REACH = 60


def find_routing_numbers(text: str, context: str = "") -> Iterator[Span]:
    for match in ROUTING.finditer(text):
        before = context + " " + text[max(0, match.start() - MONEY_CUE_REACH):match.start()]
        if checksums.routing_valid(match.group()) and MONEY_CUE.search(before):
            yield Span(match.start(), match.end(), "ACCOUNT")
