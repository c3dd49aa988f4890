"""The word lists the name detector reads, loaded once per process on first use (see data/README.md)."""
from __future__ import annotations

import functools
import gzip
import unicodedata
from importlib import resources


def _lines(filename: str) -> list[str]:
    with resources.files(__package__).joinpath("data").joinpath(filename).open("rb") as raw:
        return gzip.decompress(raw.read()).decode("utf-8").split()


@functools.cache
def first_names() -> dict[str, int]:
    """First names given to US babies 1880-2017, most frequent first: name -> rank (0 = most common)."""
    return {name: rank for rank, name in enumerate(_lines("first_names.txt.gz"))}


@functools.cache
def surnames() -> dict[str, int]:
    """US surnames of the 1990 census, most frequent first: name -> rank."""
    return {name: rank for rank, name in enumerate(_lines("surnames.txt.gz"))}


@functools.cache
def given_names() -> frozenset[str]:
    """Given names of Europe and the other countries of Jörg Michael's name dictionary, as the
    gender-guesser package ships it (its data file only; none of its code is used): the names of
    the served countries' people that the US list lacks ("Jelle", "Aoibheann", "Hüseyin")."""
    text = resources.files("gender_guesser").joinpath("data").joinpath("nam_dict.txt").read_text("utf-8")
    # A line is "<gender> <name> <frequency per country>"; "#" lines are comments, "=" lines
    # equivalences, and a "+" joins the parts of a compound name ("Jean+Pierre").
    return frozenset(
        fold(line.split(None, 2)[1]) for line in text.splitlines()
        if line and line[0] not in "#=" and "+" not in line.split(None, 2)[1]
    )


@functools.cache
def english_words() -> frozenset[str]:
    """Common English words (never capitalised in a dictionary): the everyday vocabulary."""
    return frozenset(_lines("english_words.txt.gz"))


@functools.cache
def cities() -> frozenset[str]:
    """The world's cities of 15,000 people or more (GeoNames), folded, words joined by one space."""
    with resources.files(__package__).joinpath("data").joinpath("cities.txt.gz").open("rb") as raw:
        return frozenset(line for line in gzip.decompress(raw.read()).decode("utf-8").splitlines() if line)


@functools.cache
def vendor_names() -> tuple[str, ...]:
    """Well-known vendors, brands and banks of the served countries, many of which look like a person's name."""
    text = resources.files(__package__).joinpath("data").joinpath("vendors.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@functools.lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """The form the lists are keyed by: lower case, no accents, no apostrophes or possessive 's."""
    folded = word.lower().replace("’", "'")
    if folded.endswith("'s"):
        folded = folded[:-2]
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    return folded.replace("'", "")
