"""Values whose field says what they are: {"account_number": 123456789012}, {"iban": "..."},
{"sortCode": "12-34-56"}, {"ssn": 123456789}. Under such a key a number is personal data whatever
its JSON type (integer, float or string) and whatever its shape, so the whole value is replaced.

Field names reach this module as words ("account Number", see scrubber._field_words), folded here
to lower case.
"""
from __future__ import annotations

import functools
import re

# Field-name words and the kind of what they hold, most specific first: "card account" is a card.
KEY_KINDS = (
    ("IBAN", r"iban|bban"),
    ("CARD", r"card|cc|pan|cvv|cvc|cvv2|csc|cardnumber|creditcard|debitcard"),
    ("SSN", r"ssn|itin|social security(?: number| no)?"),
    ("NATIONAL_ID", r"sin|tin|ein|nino|nir|dni|nie|nif|bsn|pps|tfn|idnr|passport|steuerid|taxid|"
                    r"tax (?:id|number|no|nr|code)|national (?:id|insurance|number)|social (?:security|insurance)|"
                    r"driver'?s? licen[cs]e|personnummer|codice fiscale|steuer id"),
    ("ACCOUNT", r"account|accounts|acct|acc|accountnumber|accountno|routing|aba|rtn|transit|bsb|sort ?code|"
                r"clabe|swift|bic|kontonummer|konto|rekening|rekeningnummer|cuenta|compte|rib"),
    ("PHONE", r"phone|telephone|tel|mobile|cell|fax|msisdn|whatsapp|telefon|telefono|telephone|handy|gsm"),
)
KEY_PATTERNS = tuple((kind, re.compile(r"(?<![a-z])(?:" + words + r")(?![a-z])")) for kind, words in KEY_KINDS)
# "gl_account", "account_type", "expense account": a ledger account, named or numbered by the chart
# of accounts, is no bank account.
LEDGER_QUALIFIERS = re.compile(r"(?<![a-z])(?:gl|ledger|coa|chart|nominal|category|type|class|name|names|expense|"
                               r"income|revenue|asset|liability|equity|(?<!sort )code|group|status|currency|manager|owner)(?![a-z])")
# Field names that say nothing alone ("number", "value"): they take their meaning from the parent.
GENERIC_KEYS = frozenset("number no nr num value id digits last4 last four masked full raw".split())
# The fewest digits (or masked characters) that make a value one: a four-digit GL code under
# "account" is kept; a CVV has three.
MIN_DIGITS = {"ACCOUNT": 5, "IBAN": 5, "CARD": 3, "SSN": 5, "NATIONAL_ID": 5, "PHONE": 6}
# A string is one identifier when it is a single run of digits, letters and separators.
IDENTIFIER = re.compile(r"\s*[+#(]?[\w*•.()/ -]{2,40}\s*")
WORDS_OF_PROSE = re.compile(r"[^\W\d_]{3,}\s+[^\W\d_]{3,}")  # two words in a row: a sentence, not a number
MASK = re.compile(r"[*•xX]")


@functools.lru_cache(maxsize=4096)
def kind_for(context: str) -> str | None:
    """The kind of personal data a field so named holds, or None."""
    words = context.lower()
    if not words:
        return None
    for kind, pattern in KEY_PATTERNS:
        if pattern.search(words):
            if kind == "ACCOUNT" and LEDGER_QUALIFIERS.search(words):
                return None
            return kind
    return None


def inherited(parent: str, key_words: str) -> str:
    """The context of a value: its own field's words, or the parent's too when its own say nothing
    ({"bank_account": {"number": ...}})."""
    if parent and key_words.lower() in GENERIC_KEYS:
        return f"{parent} {key_words}"
    return key_words


def number_kind(value: int | float, context: str) -> str | None:
    """The kind of a JSON number under this field, or None to keep it."""
    kind = kind_for(context)
    if kind is None or value != value or value in (float("inf"), float("-inf")):
        return None
    digits = len(str(abs(int(value)))) if isinstance(value, int) or value.is_integer() else len(str(value)) - 1
    return kind if digits >= MIN_DIGITS[kind] else None


def text_kind(text: str, context: str) -> str | None:
    """The kind of a string under this field when the whole string is one identifier, or None."""
    kind = kind_for(context)
    if kind is None or not IDENTIFIER.fullmatch(text) or WORDS_OF_PROSE.search(text):
        return None
    digits = sum(char.isdigit() for char in text)
    masked = len(MASK.findall(text)) if digits else 0
    return kind if digits + masked >= MIN_DIGITS[kind] and digits >= 2 else None
