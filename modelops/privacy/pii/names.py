"""Person names in free text, by name lists and the words around them.

Capitalisation alone cannot tell a name (bank descriptors are ALL CAPS, chat is lower case, and
every vendor is capitalised), so each word is looked up: is it a first name, a surname, an
everyday English word, a word of the trade? Then each run of adjacent name-like words is judged:

- first name + surname ("John Smith", "JANE DOE", "priya raghunathan") is a name on its own,
  unless both are everyday words ("Will Power") and not among the most common names;
- a lone name, or words no list knows, need a cue (see cues.py). After a title, a greeting, a
  role or a person-to-person rail ("Mr.", "Dear", "Tenant", "ZELLE TO") any name-like words are a
  name; after a payment phrase ("payment to", which may as well name a company) at least one must
  be a listed name; a weak cue ("paid", "from", or "said" after) only helps a listed name;
- a run that is a known vendor ("Wells Fargo"), or is followed by a business word ("Johnson
  Landscaping") or by a state code (the merchant and city of "KENNETH COLE CORPUS CHRISTI TX"),
  is not a person.
"""
from __future__ import annotations

import functools
import re

from modelops.privacy.pii import lexicon, vocabulary
from modelops.privacy.pii.cues import (
    AFTER_CUES, CITY_FIRST_WORDS, CITY_LAST_WORDS, MERCHANT_AFTER, MERCHANT_BEFORE, MERCHANT_BEFORE_PAIRS,
    PERSON_CUES, PERSON_PAIRS, PERSON_TO_PERSON, PERSON_TO_PERSON_REACH, PLACE_AFTER, PLACE_BEFORE, SIGN_OFFS,
    STRONG_PAIRS, WEAK_CUES,
)
from modelops.privacy.pii.spans import Span
from modelops.privacy.pii.tokens import words
from modelops.privacy.pii.vendors import VendorIndex

# Ranks past which a name that is also an everyday word no longer counts on its own: "Mark",
# "Derrick", "Brown" and "White" are names first; "Wells", "Price" or "Rich" are words first.
COMMON_WORD_FIRST_NAME_RANK = 700
COMMON_WORD_SURNAME_RANK = 1500
# A first name (or surname) that is an everyday word pairs with a known surname (or first name)
# only when it is this common: "Daisy Hale", but not "can ... why".
PAIRED_COMMON_WORD_FIRST_NAME_RANK = 2000
PAIRED_COMMON_WORD_SURNAME_RANK = 5000
# Past this rank the first-name list holds as many oddities ("Login") as names: such a word makes
# a name only beside a listed surname.
RARE_FIRST_NAME_RANK = 20000
# A lone word after a weak cue ("paid Johnson") must be a reasonably common name.
LONE_NAME_RANK = 5000
MAX_NAME_WORDS = 4  # not counting particles: "Ana Luisa de la Rosa"
MAX_PARTICLES = 3

# Lower-case particles inside a name: "Anouk van Baalen", "Maria de la Cruz".
PARTICLES = frozenset("van von der den de da del della di du la le dos das bin ibn al el".split())
SIGN_OFF_GAP = re.compile(r"[ \t]*[,!.]?[ \t]*\n[ \t\n]*")
# A city's name is no person's without a person cue; the commonest first names stay names ("paid Austin").
CITY_FIRST_NAME_RANK = 300
# Joiners inside a name: spaces, an initial's full stop.
NAME_GAP = re.compile(r"[ \t]+|\.[ \t]*")


class Word:
    """What the lists say about one word of the text, and the judgements the rules ask of it
    (worked out once per distinct word: the rules ask them again and again)."""

    __slots__ = ("key", "first", "last", "given", "common", "never", "possessive", "shape",
                 "listed", "unknown", "strong_first", "strong_last", "name_worthy")

    def __init__(self, key: str, first: int | None, last: int | None, given: bool, common: bool, never: bool,
                 possessive: bool, shape: str):
        self.key = key
        self.first = first  # rank among first names
        self.last = last  # rank among surnames
        self.given = given  # a given name somewhere in Europe or beyond (lexicon.given_names)
        self.common = common  # an everyday English word
        self.never = never  # a word of the trade, a month, a state
        self.possessive = possessive
        self.shape = shape  # upper, title, lower, initial
        self.listed = first is not None or last is not None
        # no list knows it: a foreign name, or a brand, or jargon
        self.unknown = not self.listed and not common and not never and len(key) > 1
        self.strong_first = first is not None and (not common or first < COMMON_WORD_FIRST_NAME_RANK)
        self.strong_last = last is not None and (not common or last < COMMON_WORD_SURNAME_RANK)
        # can stand in a full name: more a name than an everyday word, or a word no list knows
        self.name_worthy = self.strong_first or self.strong_last or self.unknown or shape == "initial"

    def as_initial(self) -> "Word":
        return Word(self.key, self.first, self.last, self.given, self.common, self.never, self.possessive, "initial")


@functools.lru_cache(maxsize=100_000)
def describe(text: str) -> Word:
    key = lexicon.fold(text)
    if len(text) == 1:
        shape = "initial" if text.isupper() else "lower"
    elif text.isupper():
        shape = "upper"
    elif text[0].isupper():
        shape = "title"
    else:
        shape = "lower"
    return Word(
        key=key,
        first=lexicon.first_names().get(key),
        last=lexicon.surnames().get(key),
        given=key in lexicon.given_names(),
        common=key in lexicon.english_words(),
        never=key in vocabulary.NEVER_NAMES or (shape == "upper" and key in vocabulary.STATE_CODES),
        possessive=text.lower().endswith(("'s", "’s")),
        shape=shape,
    )


def _as_initial(word: Word, text: str, end: int) -> Word:
    """A single lower-case letter with a full stop is an initial too: "jared w. smith"."""
    if word.shape == "lower" and len(word.key) == 1 and text[end:end + 1] == ".":
        return word.as_initial()
    return word


class _Text:
    """One text's words and what is known about them, for the judgement of runs."""

    def __init__(self, text: str, blocked: list[Span], vendors: VendorIndex | None):
        self.text = text
        self.matches = words(text)
        if blocked:
            self.matches = [m for m in self.matches if not any(s.start < m.end() and m.start() < s.end for s in blocked)]
        self.words = [_as_initial(describe(m.group()), text, m.end()) for m in self.matches]
        shapes = [w.shape for w in self.words if w.shape != "initial"]
        self.lower_case = bool(shapes) and sum(s == "lower" for s in shapes) >= 0.7 * len(shapes)
        self._vendors = vendors
        # Runs are judged word by word and length by length, so the same questions come back:
        # what the text's vendor words, particle words and cues are is worked out once.
        self._vendor_words: set[int] | None = None
        self._particle_words = {index for index, word in enumerate(self.words) if word.key in PARTICLES and word.shape == "lower"}
        self._cues: dict[int, str | None] = {}

    @property
    def vendor_words(self) -> set[int]:
        """The positions of words that are part of a known vendor's name."""
        if self._vendor_words is None:
            runs = self._vendors.matches([w.key for w in self.words]) if self._vendors else []
            self._vendor_words = {index for start, end in runs for index in range(start, end)}
        return self._vendor_words

    def gap(self, left: int, right: int) -> str:
        return self.text[self.matches[left].end():self.matches[right].start()]

    def name_like(self, index: int) -> bool:
        word = self.words[index]
        if word.never:
            return False
        if word.shape == "initial":
            return True
        if word.shape == "lower" and not self.lower_case:
            return self.particle(index)  # in mixed-case prose a lower-case word is not a name
        return word.listed or word.unknown

    def particle(self, index: int) -> bool:
        """"van", "de la" after the capitalised first part of a name (or anywhere in lower-case text)."""
        if index not in self._particle_words or not 0 < index < len(self.words) - 1:
            return False
        if self.lower_case:
            return True
        before = index - 1
        while before > 0 and index - before < MAX_PARTICLES and self._particle_word(before):
            before -= 1
        return self.words[before].shape == "title"

    def _particle_word(self, index: int) -> bool:
        return index in self._particle_words

    def joined(self, left: int, right: int) -> bool:
        gap = self.gap(left, right)
        if gap.startswith("."):
            return self.words[left].shape == "initial" and NAME_GAP.fullmatch(gap) is not None
        return NAME_GAP.fullmatch(gap) is not None

    def cue_before(self, index: int) -> str | None:
        """'person', 'strong', 'weak' or None: what the words just before this one say about it."""
        if index not in self._cues:
            self._cues[index] = self._cue_before(index)
        return self._cues[index]

    def _cue_before(self, index: int) -> str | None:
        if index == 0:
            return None
        if "\n" in self.gap(index - 1, index):
            # a signature: the line before ends in a sign-off ("Thanks,", "Kind regards,")
            return "person" if self.words[index - 1].key in SIGN_OFFS and SIGN_OFF_GAP.fullmatch(self.gap(index - 1, index)) else None
        before = self.words[index - 1].key
        pair = (before, self.words[index - 2].key) if index >= 2 else None
        reach = self.words[max(0, index - PERSON_TO_PERSON_REACH):index]
        if before in PERSON_CUES or pair in PERSON_PAIRS or any(w.key in PERSON_TO_PERSON for w in reach):
            return "person"
        if pair in STRONG_PAIRS:
            return "strong"
        if before in WEAK_CUES:
            return "weak"
        return None

    def merchant_around(self, start: int, end: int) -> bool:
        """"POS PURCHASE ...", "CHECKCARD 0412 ...", "the ... charge": the run names a shop."""
        if start > 0 and "\n" not in self.gap(start - 1, start):
            before = self.words[start - 1].key
            if before in MERCHANT_BEFORE or (start >= 2 and (before, self.words[start - 2].key) in MERCHANT_BEFORE_PAIRS):
                return True
        return end < len(self.words) and self.words[end].key in MERCHANT_AFTER and NAME_GAP.fullmatch(self.gap(end - 1, end)) is not None

    def place_around(self, start: int, end: int) -> bool:
        """"travel to Berlin", "hotel in Lyon", "the Madrid office": the run names a place."""
        before = {word.key for word in self.words[max(0, start - 2):start]}
        return bool(before & PLACE_BEFORE) or any(
            index < len(self.words) and self.words[index].key in PLACE_AFTER for index in (end - 1, end))

    def is_city(self, start: int, end: int) -> bool:
        return " ".join(word.key for word in self.words[start:end]) in lexicon.cities()

    def cue_after(self, end: int) -> bool:
        return end < len(self.words) and self.words[end].key in AFTER_CUES and NAME_GAP.fullmatch(self.gap(end - 1, end)) is not None

    def business_after(self, end: int) -> bool:
        """"Johnson Landscaping", "Miller & Sons": a business word right after the run."""
        return end < len(self.words) and self.words[end].key in vocabulary.BUSINESS_WORDS and self.gap(end - 1, end).strip() in ("", "&")

    def place_after(self, end: int) -> bool:
        """"CORPUS CHRISTI TX", "Austin, TX": a state code right after the run makes it a place."""
        return (end < len(self.words) and self.words[end].shape == "upper" and self.words[end].key in vocabulary.STATE_CODES
                and self.gap(end - 1, end).strip() in ("", ","))

    def is_vendor(self, start: int, end: int) -> bool:
        """Every word is part of a known vendor's name ("Intuit QuickBooks" is two of them)."""
        vendor_words = self.vendor_words
        return all(index in vendor_words for index in range(start, end))

    def touches_vendor(self, start: int, end: int) -> bool:
        vendor_words = self.vendor_words
        return any(index in vendor_words for index in range(start, end))

    def name_words(self, start: int, end: int) -> list[Word]:
        """The words from start to end that are not particles: the parts of a name."""
        if not self._particle_words:
            return self.words[start:end]
        return [word for index, word in enumerate(self.words[start:end], start) if not self.particle(index)]

    def city_length(self, end: int) -> int:
        """How many of the words before a state code name the city: "MIAMI", "SAN FRANCISCO"."""
        if end >= 2 and (self.words[end - 2].key in CITY_FIRST_WORDS or self.words[end - 1].key in CITY_LAST_WORDS):
            return 2
        return 1

    def span(self, start: int, end: int) -> Span:
        """The name's stretch of text; a possessive 's stays outside the placeholder."""
        stop = self.matches[end - 1].end() - (2 if self.words[end - 1].possessive else 0)
        return Span(self.matches[start].start(), stop, "NAME")


def find_names(text: str, blocked: list[Span], vendors: VendorIndex | None = None) -> list[Span]:
    if not text:
        return []
    doc = _Text(text, blocked, vendors)
    found: list[Span] = []
    index = 0
    while index < len(doc.words):
        if not doc.name_like(index):
            index += 1
            continue
        end = index + 1
        while end < len(doc.words) and doc.name_like(end) and doc.joined(end - 1, end):
            end += 1
        found.extend(doc.span(*name) for name in _names_in_run(doc, index, end))
        index = end
    return found


def _names_in_run(doc: _Text, start: int, end: int) -> list[tuple[int, int]]:
    """The person names in a run of name-like words, left to right, each as long as it can be."""
    if doc.place_after(end):  # before "business after": "CO" is Colorado there, not "company"
        # A run before a state code ends in a city. After "ZELLE TO" or "CASH APP*" the rest is
        # the payee; otherwise it is a merchant ("KENNETH COLE CORPUS CHRISTI TX").
        if doc.cue_before(start) != "person":
            return []
        end -= doc.city_length(end)
    elif doc.business_after(end):
        return []  # "Barnes Gonzalez LLP": the whole run names the business
    # "TRANSFER FROM HUMPHRIES, ERIC": the run's last word may be a surname the given name follows
    surname_first = _last_comma_first(doc, end - 1)
    if surname_first:
        return _names_between(doc, start, end - 1) + [surname_first]
    return _names_between(doc, start, end)


def _names_between(doc: _Text, start: int, end: int) -> list[tuple[int, int]]:
    names, first = [], start
    while first < end:
        length = _longest_name_at(doc, first, end)
        if length:
            names.append((first, first + length))
        first += length or 1
    return names


def _longest_name_at(doc: _Text, first: int, end: int) -> int:
    for length in range(min(end - first, MAX_NAME_WORDS + MAX_PARTICLES), 0, -1):
        if len(doc.name_words(first, first + length)) <= MAX_NAME_WORDS and _is_name(doc, first, first + length):
            return length
    return 0


def _is_name(doc: _Text, start: int, end: int) -> bool:
    if doc.particle(start) or doc.particle(end - 1):
        return False
    cue = doc.cue_before(start) or ("weak" if doc.cue_after(end) else None)
    run = doc.name_words(start, end)
    if len(run) == 1:
        listed_as_name = _lone_name(run[0], cue)
    else:
        listed_as_name = _full_name(run, cue, doc.lower_case, doc.touches_vendor(start, end))
    # Most runs fail on their words alone; what the text around says is asked only of the rest.
    if not listed_as_name or doc.is_vendor(start, end) or doc.business_after(end) or doc.merchant_around(start, end):
        return False
    # "Berlin", "travel to Rothenburg ob der Tauber"
    return cue == "person" or not (doc.place_around(start, end) or (doc.is_city(start, end) and not _common_first_name(run[0])))


def _common_first_name(word: Word) -> bool:
    return word.first is not None and word.first < CITY_FIRST_NAME_RANK and len(word.key) > 1


def _lone_name(word: Word, cue: str | None) -> bool:
    if word.shape == "initial" or cue is None:
        return False
    if cue == "person":
        return word.name_worthy
    if word.possessive:
        return False
    if word.shape != "lower" and word.first is not None and (word.first < RARE_FIRST_NAME_RANK or not word.common):
        return True  # "paid Amber", "transfer to Dean": a capitalised first name after "paid", "to", "from"
    if word.shape == "title" and word.given and not word.common and not word.never:
        # "paid Hüseyin": a given name the US list lacks; a word no name list knows is a brand
        # as often as not ("paid Iberdrola", "transfer to Revolut")
        return True
    if cue == "strong":
        return word.name_worthy and word.listed
    ranked = min(r for r in (word.first, word.last, LONE_NAME_RANK) if r is not None)
    return not word.common and ranked < LONE_NAME_RANK


def _full_name(run: list[Word], cue: str | None, lower_case: bool, vendor_inside: bool) -> bool:
    first, last = run[0], run[-1]
    if last.shape == "initial" or any(w.possessive for w in run[:-1]):
        return False
    if cue in ("person", "strong"):  # "ZELLE TO DERRICK M. JORDAN", "Tenant Daisy Hale"
        if not all(w.listed or w.unknown or w.shape == "initial" for w in run):
            return False
        if cue == "strong" and not any(w.listed for w in run):
            return not vendor_inside  # "Payment to Nevenka Bolzmann", but not to "Google Workspace"
        first_ok = first.name_worthy or (first.first is not None and first.first < PAIRED_COMMON_WORD_FIRST_NAME_RANK)
        last_ok = last.name_worthy or (last.last is not None and last.last < PAIRED_COMMON_WORD_SURNAME_RANK)
        return first_ok and last_ok
    if last.possessive and last.first is not None and last.last is None:
        return False  # "Trader Joe's", "Papa John's": a first name with 's is a shop
    if last.common and last.key in MERCHANT_AFTER:
        return False  # "the kenneth cole bill": the bill is not part of the name
    if lower_case and first.common and last.common:
        return False
    if _first_and_surname(first, last) and all(w.name_worthy or w.listed for w in run[1:-1]):
        return True
    if not all(w.name_worthy for w in run):
        return False
    if first.unknown and last.strong_last and not last.common:
        return True  # a first name nobody listed, before a well-known surname: "Xochitl Gonzalez"
    if first.strong_first and (last.strong_last or last.strong_first):
        return True
    if first.first is not None and first.first < RARE_FIRST_NAME_RANK and not first.common and last.unknown:
        return True  # a listed first name before a surname nobody listed: "Priya Raghunathan"
    if not any(w.listed for w in run):  # "Nevenka Bolzmann", or a product: "Google Workspace"
        return cue is not None and not vendor_inside
    return cue == "weak" and not (first.common and last.common)


def _first_and_surname(first: Word, last: Word) -> bool:
    """A listed first name and a listed surname; an everyday word among them must be a common name."""
    if first.first is None or last.last is None:
        return False
    if first.common and last.common:
        return first.strong_first and last.strong_last
    if first.common:
        return first.first < PAIRED_COMMON_WORD_FIRST_NAME_RANK  # "Derrick Martinez"
    return not last.common or last.last < PAIRED_COMMON_WORD_SURNAME_RANK  # "Jane Doe"


def _last_comma_first(doc: _Text, index: int) -> tuple[int, int] | None:
    """"SMITH, JOHN" (or "ROSENOW, HANS JÜRGEN") as payroll exports write it; either part may be a
    name no list holds, but not both unless the text is in capitals, where a comma between two
    words is an export's way of writing a name."""
    after = index + 1
    if after >= len(doc.words) or doc.gap(index, after).strip() != "," or not doc.name_like(after):
        return None
    surname, given = doc.words[index], doc.words[after]
    if not (surname.name_worthy or surname.listed) or not (given.first is not None or given.unknown):
        return None
    if given.common and given.first is None:
        return None
    both_unknown = surname.unknown and given.unknown
    if both_unknown and doc.cue_before(index) != "person" and not (surname.shape == given.shape == "upper"):
        return None
    if doc.is_city(index, index + 1) and not surname.listed:
        return None  # "Lyon, France"
    end = after + 1
    if end < len(doc.words) and doc.joined(after, end) and doc.name_like(end) and (doc.words[end].first is not None or doc.words[end].unknown) \
            and not doc.words[end].common:
        end += 1  # a second given name
    if doc.place_after(end):
        return None
    return index, end
