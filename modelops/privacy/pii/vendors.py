"""Known vendor names, found in text as runs of words, so that a vendor that looks like a person
("Wells Fargo", "Trader Joe's") is not taken for one."""
from __future__ import annotations

from typing import Iterable

from modelops.privacy.pii.lexicon import fold, vendor_names
from modelops.privacy.pii.tokens import words


class VendorIndex:
    """Vendor names keyed by their first word, longest first, for a left-to-right scan."""

    def __init__(self, names: Iterable[str]):
        self._by_first_word: dict[str, list[tuple[str, ...]]] = {}
        for name in names:
            key = tuple(fold(match.group()) for match in words(name))
            if key and key not in self._by_first_word.get(key[0], ()):
                self._by_first_word.setdefault(key[0], []).append(key)
        for keys in self._by_first_word.values():
            keys.sort(key=len, reverse=True)

    def matches(self, folded: list[str]) -> list[tuple[int, int]]:
        """The [start, end) word positions of each vendor name in a text's folded words."""
        found, position = [], 0
        while position < len(folded):
            end = self._match_at(folded, position)
            if end:
                found.append((position, end))
                position = end
            else:
                position += 1
        return found

    def _match_at(self, folded: list[str], position: int) -> int:
        for key in self._by_first_word.get(folded[position], ()):
            end = position + len(key)
            if tuple(folded[position:end]) == key:
                return end
        return 0

    def __bool__(self) -> bool:
        return bool(self._by_first_word)


def combined(extra: Iterable[str] = ()) -> VendorIndex:
    """The built-in list plus the caller's own (a ledger's vendor names)."""
    return VendorIndex([*vendor_names(), *extra])
