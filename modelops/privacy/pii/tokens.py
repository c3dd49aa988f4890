"""Words as the name detector and the vendor list see them: runs of letters, with inner
apostrophes and hyphens (O'Brien, Joe's, Jean-Luc). Letters glued to digits ("VY3238F76", "Q3")
are codes, not words."""
from __future__ import annotations

import re

WORD = re.compile(r"(?<![^\W_])[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+)*(?![^\W_])")


def words(text: str) -> list[re.Match]:
    return list(WORD.finditer(text))
