"""Street addresses of the countries the platform serves, and post-office boxes.

A street is found by one of four shapes (the vocabularies are in street_words.py):

- English (US, GB, IE, CA, AU, NZ): a building number, one to four name words, a street type:
  "12 Baker Street", "Flat 3, 42 Walsh Union", "807/21 Harrison Extension";
- Romance, number first: "28, rue de Richard", "12 bis avenue Victor Hugo", "580 avenue Turgeon";
- Romance, type first: "Calle Mayor, 5", "Paseo de Cristian Ibañez 4, 3º B", "Via Roma 12";
- German and Dutch: a name ending in a street word, then the number: "Hauptstraße 5",
  "Sabina-Franke-Gasse 77/93", "Kerkstraat 12", "Berliner Straße 12a"; and "Am Markt 3" when a
  postcode follows.

Then the address runs on over units ("Apt. 57", "Puerta 9", "Flat 5" before it) and a tail of
city, state or province and postcode in any of the served countries' orders ("Springfield, IL
62704", "London SW1A 2AA", "64056 Dinslaken", "1220 NX Hillegom", "Martinberg, SA, 2354",
"Cameronstad, NL N8H3V1", "E83 7KWR Aoibhin Ville").
"""
from __future__ import annotations

import re
from typing import Iterator

from modelops.privacy.pii import lexicon
from modelops.privacy.pii.spans import Span
from modelops.privacy.pii.street_words import (
    ADDRESS_CUES, COMMONWEALTH_TYPES, GERMAN_PREPOSITIONS, GERMANIC_ENDINGS, LOWERCASE_TYPES, PARTICLES, ROMANCE_TYPES,
    UNAMBIGUOUS_ENDINGS, UNITS, UNMISTAKABLE_ROMANCE_TYPES, USPS_SUFFIXES,
)
from modelops.privacy.pii.vocabulary import ACCOUNTING, BANKING


def _alternation(words) -> str:
    return "(?:" + "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)) + ")"


US_STATES = """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND
OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP FM MH PW AA AE AP""".split()
AU_STATES = "NSW VIC QLD SA WA TAS NT ACT".split()
CA_PROVINCES = "AB BC MB NB NL NS NT NU ON PE QC SK YT".split()

CAP_WORD = r"[A-ZÀ-ÖØ-Þ][\w'’.-]*"
# A unit and its number end a street's name: "rue Guillaume Suite 573", "avenue Timothée Apt. 482".
_NOT_A_UNIT = r"(?!(?i:" + _alternation(UNITS) + r")\.?[ \t]*#?\d)"
PARTICLE = _alternation(PARTICLES)
BETWEEN_NAME_WORDS = r"(?:[ \t]+(?:" + PARTICLE + r"[ \t]+)*|[ \t]+[dl]['’]|-)"

# -- the street ---------------------------------------------------------------------------------

ENGLISH_TYPES = USPS_SUFFIXES | COMMONWEALTH_TYPES
_ENGLISH_TYPE = _alternation(ENGLISH_TYPES)
_DIRECTION = r"(?:north|south|east|west|northeast|northwest|southeast|southwest|ne|nw|se|sw|n|s|e|w)\.?"
_ENGLISH_WORD = r"(?:[^\W\d_][\w'.-]*|\d{1,3}(?:st|nd|rd|th))"
ENGLISH_STREET = re.compile(
    r"(?<![\w$.,/#-])(?P<number>\d{1,6}(?:[/-]\d{1,5})?[a-z]?)\s+(?:" + _DIRECTION + r"\s+)?"
    r"(?P<name>(?:" + _ENGLISH_WORD + r"\s+){0,3}?" + _ENGLISH_WORD + r")\s+(?P<suffix>" + _ENGLISH_TYPE + r")\b(?!-\w)\.?"  # "rue St-Onge": St is a saint there
    # a type may end the name, another type then ends the street: "279 Rohetai Beach Road"
    r"(?:[ \t]+(?-i:(?=[A-Z]))" + _ENGLISH_TYPE + r"\b\.?)?"
    r"(?:\s+" + _DIRECTION + r"(?!\w))?",
    re.IGNORECASE,
)
_ROMANCE_TYPE = r"(?i:" + _alternation(ROMANCE_TYPES) + r"|c/|c\.(?=[ \t]))"  # "C/ Mayor", "C. Mayor": calle
_ROMANCE_NAME = (r"(?:(?:" + PARTICLE + r")[ \t]+|[dl]['’])*" + _NOT_A_UNIT + CAP_WORD
                 + r"(?:" + BETWEEN_NAME_WORDS + _NOT_A_UNIT + CAP_WORD + r"){0,4}")
_FRENCH_NUMBER = r"\d{1,5}(?:[ \t]?(?:bis|ter|quater|[A-Za-z])\b)?"
ROMANCE_NUMBER_FIRST = re.compile(
    # a Canadian unit may lead the civic number with a hyphen: "12-345 rue Principale"
    r"(?<![\w$.,/#-])(?:\d{1,5}-)?" + _FRENCH_NUMBER + r"[ \t]*,?[ \t]+" + _ROMANCE_TYPE + r"\.?[ \t]*" + _ROMANCE_NAME
)
ROMANCE_TYPE_FIRST = re.compile(
    r"(?<![\w])" + _ROMANCE_TYPE + r"\.?[ \t]*" + _ROMANCE_NAME
    + r"[ \t]*,?[ \t]+(?:(?i:n[º°o]|núm|num|nr)\.?[ \t]*)?(?:\d{1,5}[A-Za-z]?\b|s/n)(?![.,]?\d)"
)
_HOUSE_NUMBER = r"\d{1,4}[ \t]?[A-Za-z]?(?:[ \t]?[-/][ \t]?\d{1,4}[A-Za-z]?)?(?![\w]|[.,]\d)"
ROMANCE_NO_NUMBER = re.compile(r"(?<![\w])(?P<type>" + _ROMANCE_TYPE + r")\.?[ \t]*" + _ROMANCE_NAME)  # see _romance_without_number
# The last word before a street: "Ship to", "Livraison :", "new address".
WORD_BEFORE = re.compile(r"([^\W\d_]+)[ \t]*(?:to|au|à|a|an|naar)?[ \t]*[:/-]?[ \t]*\Z", re.IGNORECASE)
# German and Dutch streets are found word by word: a word with a street ending, then this.
HOUSE_NUMBER_AFTER = re.compile(r"[ \t]*,?[ \t]*" + _HOUSE_NUMBER)
GERMANIC_ENDING_TUPLE = tuple(sorted(GERMANIC_ENDINGS, key=len, reverse=True))
WORD_TOKEN = re.compile(r"[^\W\d_][\w'’-]*\.?")
GERMAN_PREPOSITION_FIRST_WORDS = frozenset(preposition.split()[0] for preposition in GERMAN_PREPOSITIONS)
GERMAN_PREPOSITION_STREET = re.compile(
    r"(?<![\w-])(?:" + "|".join(GERMAN_PREPOSITIONS) + r")[ \t]+" + CAP_WORD + r"(?:[ \t]+" + CAP_WORD + r")?[ \t]+" + _HOUSE_NUMBER
)

# -- what may come before and after it ------------------------------------------------------------

UNIT = r"(?i:" + _alternation(UNITS) + r")\.?[ \t]*(?:(?i:n[º°o])\.?[ \t]*)?#?[ \t]*[\w-]{1,6}\b"
UNIT_AFTER = re.compile(
    r"(?:[ \t]*,?[ \t]*(?:" + UNIT + r"|#[ \t]*[\w-]{1,6}\b|\d{1,2}[ºª°](?:[ \t]?[A-Z]\b)?)"
    r"|[ \t]*[,\n][ \t]*RD[ \t]+\d{1,3}(?!\w)"  # New Zealand's rural delivery line: "RD 6"
    r"|[ \t]*,?[ \t]*(?i:stn|succ|station|succursale)\.?[ \t]+(?:[A-Z]\b|[A-Z][\w-]+))+"  # Canada's "PO BOX 4001 STN A"
)
# "Flat 3, 42 Walsh Union", "Studio 58b" before a street: the unit the number may follow directly.
UNIT_BEFORE = re.compile(r"(?i:flat|studio|unit|suite|apartment|apt|level|shop|villa)\.?[ \t]*#?(?:\d{1,5}[A-Za-z]?(?:[ \t]*[,\n][ \t]*|[ \t]+))?\Z")

STATE = "(?:" + "|".join(sorted(set(US_STATES + AU_STATES + CA_PROVINCES), key=len, reverse=True)) + r")\.?(?!\w)"
POSTCODE = r"""(?:
      [A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}                    # GB
    | [AC-FHKNPRTV-Y]\d{2}[ \t]?[0-9AC-FHKNPRTV-Y]{4}          # IE Eircode (D6W too: the 4 is \d here)
    | D6W[ \t]?[0-9AC-FHKNPRTV-Y]{4}
    | [A-Z]\d[A-Z][ \t]?\d[A-Z]\d                              # CA
    | (?:[A-Z]{1,2}-)?\d{4}[ \t]?[A-Z]{2}(?![\w])              # NL
    | (?:[A-Z]{1,2}-)?\d{4,5}(?:-\d{3,4})?                     # US ZIP(+4), DE FR ES IT 5 digits, AU NZ AT CH BE DK 4, PT 4-3
)(?!\w)"""
SEPARATOR = r"(?:[ \t]*,[ \t]*\n?[ \t]*|[ \t]*\n[ \t]*|[ \t]+)"
# A locality's line that ends in a province or state and a postcode is the address's, whatever the
# locality's spelling ("Raymond -sur-Mer, SK S8P2P4", "St. John's, NL A1C 5M2"): the postcode makes it one.
# Quebec may write the province in parentheses.
LOCALITY_LINE = (r"(?:[ \t]*,[ \t]*\n?[ \t]*|[ \t]*\n[ \t]*)[^\W\d_][^\n\d,;:()]{0,40}?(?:[ \t]*,[ \t]*|[ \t]+)"
                 r"(?:" + STATE + SEPARATOR + r"|\([^\W\d_][^\n\d()]{1,30}\)[ \t]+)?" + POSTCODE)  # "Gatineau (Québec) J9J 1A1"
CITY = CAP_WORD + r"(?:" + BETWEEN_NAME_WORDS + CAP_WORD + r"){0,3}(?:[ \t]+\d{1,2}(?!\d))?"  # "Dublin 2"
US_CITY_STATE_ZIP = r"(?i:\s*,?\s*(?:[^\W\d_][\w.'-]*\s+){0,3}?[^\W\d_][\w.'-]*,?\s+(?:" + "|".join(US_STATES) + r")\.?\s+\d{5}(?:-\d{4})?(?!\d))"
# A canton, province or region after the locality, in parentheses: "3214 Jacot-Guillarmod (SO)",
# "Hengelo (Gld)", "28013 Madrid (Madrid)".
REGION_IN_PARENTHESES = r"(?:[ \t]*\([A-ZÀ-ÖØ-Þ][^\W\d_]{0,24}\))"
TAIL = re.compile(
    r"(?:" + US_CITY_STATE_ZIP
    + "|" + SEPARATOR + CITY + "(?:" + SEPARATOR + STATE + ")?" + SEPARATOR + POSTCODE
    + "|" + SEPARATOR + STATE + SEPARATOR + POSTCODE
    + "|" + SEPARATOR + POSTCODE + "(?:" + SEPARATOR + CITY + ")?" + "(?:" + SEPARATOR + STATE + ")?"
    + "|" + LOCALITY_LINE
    + ")" + REGION_IN_PARENTHESES + "?",
    re.VERBOSE,
)

PO_BOX = re.compile(
    r"(?i:\b(?:p\.?\s?o\.?\s?box|post office box|gpo box|locked bag|private bag|postfach|postbus|apartado(?: de correos)?|"
    r"bo[iî]te postale|b\.?p\.?|casella postale|case postale|casier postal|c\.p\.|rural route|r\.r\.)\s*#?\s*\d[\d ]{0,8}\d?\b)"
)
# Canada's rural routes, "RR 2, Mono Centre, ON L9W 6S3": in capitals and before a locality with a
# postcode only, since "RR" alone says little.
RURAL_ROUTE = re.compile(r"\bRR[ \t]*#?[ \t]*\d{1,2}\b")
PO_BOX_WORDS = frozenset("box bag postfach postbus apartado boîte boite bp casella case casier route".split())
PO_BOX_INITIALS = ("b.p.", "c.p.", "r.r.")  # split into letters by WORD_TOKEN, so looked for in the text
LEDGER_WORDS = ACCOUNTING | BANKING
DIGIT_NEAR_WORD = re.compile(r"\d[ \t,]*[^\W\d_]|[^\W\d_][ \t,.]*\d")


def find_addresses(text: str) -> Iterator[Span]:
    if not DIGIT_NEAR_WORD.search(text):
        # Only a Romance street can do without a number; a plain split is enough to rule it out.
        if not ROMANCE_TYPES.isdisjoint(text.lower().split()):
            for match in ROMANCE_NO_NUMBER.finditer(text):
                if _romance_without_number(text, match):
                    yield _with_units_and_tail(text, match.start(), match.end())
        return
    tokens = WORD_TOKEN.findall(text)
    lower = {token.lower().rstrip(".") for token in tokens}
    # Each shape runs only where its words are: the patterns cost far more than these set checks.
    if not ENGLISH_TYPES.isdisjoint(lower):
        for match in ENGLISH_STREET.finditer(text):
            if _english_plausible(match):
                yield _with_units_and_tail(text, match.start(), match.end())
    if lower & ROMANCE_TYPES or "c/" in text.lower() or "C. " in text:  # "C/ Mayor", "C. Mayor": calle
        for pattern in (ROMANCE_NUMBER_FIRST, ROMANCE_TYPE_FIRST):
            for match in pattern.finditer(text):
                yield _with_units_and_tail(text, match.start(), match.end())
        for match in ROMANCE_NO_NUMBER.finditer(text):
            if _romance_without_number(text, match):
                yield _with_units_and_tail(text, match.start(), match.end())
    if not GERMAN_PREPOSITION_FIRST_WORDS.isdisjoint(tokens):
        for match in GERMAN_PREPOSITION_STREET.finditer(text):
            if TAIL.match(text, match.end()):
                yield _with_units_and_tail(text, match.start(), match.end())
    if any(token.lower().endswith(GERMANIC_ENDING_TUPLE) for token in tokens):
        yield from _germanic_streets(text)
    if lower & PO_BOX_WORDS or any(initials in text.lower() for initials in PO_BOX_INITIALS):
        for match in PO_BOX.finditer(text):
            yield _with_units_and_tail(text, match.start(), match.end())
    if "RR" in tokens:
        for match in RURAL_ROUTE.finditer(text):
            if TAIL.match(text, match.end()):
                yield _with_units_and_tail(text, match.start(), match.end())


def _germanic_streets(text: str) -> Iterator[Span]:
    previous = None
    for word in WORD_TOKEN.finditer(text):
        number = HOUSE_NUMBER_AFTER.match(text, word.end()) if word.group().lower().endswith(GERMANIC_ENDING_TUPLE) else None
        if number and _germanic_plausible(word.group(), previous is not None and previous.end() + 1 == word.start()):
            # "Berliner Straße 12": the word before a bare street word is the street's name
            start = previous.start() if previous is not None and _is_bare_ending(word.group()) and previous.group()[0].isupper() else word.start()
            yield _with_units_and_tail(text, start, number.end())
        previous = word


def _romance_without_number(text: str, match: re.Match) -> bool:
    """A type and a name with no number are a street when a postcode follows, when the type is one
    no English sentence has and is written in lower case ("rue de Bonvin"), or after an address
    word when the type is such a word or in lower case ("Ship to avenue Didier", "livraison :
    Rue Bellecour"; not "Ship to Place Cards Inc")."""
    if TAIL.match(text, match.end()):
        return True
    street_type = match.group("type").rstrip(".")
    unmistakable = street_type.lower() in UNMISTAKABLE_ROMANCE_TYPES
    if street_type.islower() and unmistakable:
        return True
    if not (street_type.islower() or unmistakable):
        return False  # "Ship to Place Cards Inc": a capitalised English word is a name's start
    before = WORD_BEFORE.search(text, max(0, match.start() - 30), match.start())
    return before is not None and before.group(1).lower() in ADDRESS_CUES


def _is_bare_ending(word: str) -> bool:
    return word.lower() in GERMANIC_ENDINGS


def _with_units_and_tail(text: str, start: int, end: int) -> Span:
    unit = UNIT_AFTER.match(text, end)
    if unit:
        end = unit.end()
    tail = TAIL.match(text, end)
    if tail:
        end = tail.end()
    before = UNIT_BEFORE.search(text, max(0, start - 24), start)
    if before:
        start = before.start()
    return Span(start, end, "ADDRESS")


def _english_plausible(match: re.Match) -> bool:
    """A street name is capitalised (unless the whole address is lower case with a plain suffix)
    and is no ledger phrase: "2024 Payroll Run" is not an address."""
    name, suffix = match.group("name"), match.group("suffix")
    if all(word.lower() in LEDGER_WORDS for word in name.split()):
        return False
    if name[0].isupper() and suffix[0].isupper():
        return True
    return name.islower() and suffix.lower() in LOWERCASE_TYPES


def _germanic_plausible(word: str, after_a_word: bool) -> bool:
    """"Hauptstraße 5", "Berliner Straße 12", not "Spring 2024": the ending follows a stem (or, as
    a word of its own, a name), and the word is none of English's, unless the ending is one no
    English word has."""
    lower = word.lower()
    ending = next(e for e in GERMANIC_ENDING_TUPLE if lower.endswith(e))
    stem = lower[:len(lower) - len(ending)].rstrip("-")
    if ending in UNAMBIGUOUS_ENDINGS:
        return len(stem) >= 2 or (after_a_word and word[0].isupper())
    if not word[0].isupper() or len(stem) < 2:
        return False
    return lexicon.fold(word) not in lexicon.english_words() and lower not in LEDGER_WORDS


