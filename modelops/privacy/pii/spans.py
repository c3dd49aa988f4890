"""What a detector reports: a stretch of text and the kind of personal data it holds."""
from __future__ import annotations

from typing import NamedTuple

# Each kind of personal data and the placeholder that replaces it.
PLACEHOLDERS = {
    "NAME": "[NAME]",
    "SSN": "[SSN]",
    "NATIONAL_ID": "[NATIONAL_ID]",
    "PHONE": "[PHONE]",
    "EMAIL": "[EMAIL]",
    "CARD": "[CARD]",
    "IBAN": "[IBAN]",
    "ACCOUNT": "[ACCOUNT]",
    "ADDRESS": "[ADDRESS]",
    "IP": "[IP]",
}


class Span(NamedTuple):
    start: int
    end: int
    kind: str

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end


def add_unless_overlapping(accepted: list[Span], candidates) -> None:
    """Keep each candidate that touches no span already accepted: earlier detectors take precedence."""
    for candidate in candidates:
        if not any(candidate.overlaps(span) for span in accepted):
            accepted.append(candidate)
