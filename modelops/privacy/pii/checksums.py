"""Check digits and validity rules that tell a real identifier from a number that merely looks like
one. The check-digit schemes themselves (Luhn, ISO 7064 mod 97, the ABA 3-7-1 sum, the national ids)
are python-stdnum's; what is here is which issuer ranges make a payment card and what SSA issues."""
from __future__ import annotations

import functools
import ipaddress
import re

from stdnum import iban as stdnum_iban
from stdnum import luhn, numdb
from stdnum.us import rtn

# A BBAN layout in the IBAN registry: "8!n10!n" is eight digits, then ten.
BBAN_PART = re.compile(r"(\d+)!")


# Issuer identification ranges of the card networks (first digits, inclusive) and the lengths each
# issues. A number is a card only if it falls in one of them and its Luhn digit holds.
CARD_RANGES = (
    # (lowest prefix, highest prefix, lengths)
    ("4", "4", (13, 16, 19)),  # Visa
    ("51", "55", (16,)), ("2221", "2720", (16,)),  # Mastercard
    ("34", "34", (15,)), ("37", "37", (15,)),  # American Express
    ("6011", "6011", (16, 17, 18, 19)), ("644", "649", (16, 17, 18, 19)), ("65", "65", (16, 17, 18, 19)),  # Discover
    ("35", "35", (16, 17, 18, 19)), ("2131", "2131", (15,)), ("1800", "1800", (15,)),  # JCB (3528-3589 today; the rest of 35 is no other network's)
    ("300", "305", (14, 15, 16, 17, 18, 19)), ("36", "36", (14, 15, 16, 17, 18, 19)),  # Diners Club
    ("38", "39", (14, 15, 16, 17, 18, 19)),
    ("62", "62", (16, 17, 18, 19)), ("81", "81", (16, 17, 18, 19)),  # UnionPay
    ("50", "50", tuple(range(12, 20))), ("56", "69", tuple(range(12, 20))),  # Maestro and national debit
    ("0604", "0604", tuple(range(12, 20))),  # Maestro's old UK range
    ("2200", "2204", (16, 17, 18, 19)),  # Mir
    ("8600", "8600", (16,)), ("9860", "9860", (16,)),  # Uzcard, Humo
)


def card_issued(digits: str) -> bool:
    """Whether some card network issues numbers of this prefix and length."""
    length = len(digits)
    for low, high, lengths in CARD_RANGES:
        if length in lengths and low <= digits[:len(low)] <= high:
            return True
    return False


def is_card_number(digits: str) -> bool:
    return 12 <= len(digits) <= 19 and card_issued(digits) and luhn.is_valid(digits)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check that every payment card number carries in its last digit."""
    return luhn.is_valid(digits)


@functools.lru_cache(maxsize=256)
def iban_length(country: str) -> int | None:
    """The length of the IBAN a country issues (ISO 13616 registry as python-stdnum holds it)."""
    if len(country) != 2 or not country.isalpha() or not country.isascii():
        return None
    info = numdb.get("iban").info(country.upper())[0][1]
    if "bban" not in info:
        return None
    return 4 + sum(int(size) for size in BBAN_PART.findall(info["bban"]))


def iban_valid(compact: str) -> bool:
    """The registry's layout for the country and mod 97 of the rearranged number is 1. The country's
    own bank-code checks are not asked: an IBAN with a wrong branch digit is still somebody's."""
    return stdnum_iban.is_valid(compact, check_country=False)


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """SSA's rules: no area 000, 666 or 900-999, no group 00, no serial 0000."""
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def itin_valid(area: str, group: str, serial: str) -> bool:
    """An IRS individual taxpayer number: area 9xx with a group in the ranges the IRS issues."""
    middle = int(group)
    return area[0] == "9" and (50 <= middle <= 65 or 70 <= middle <= 88 or 90 <= middle <= 92 or 94 <= middle <= 99) and serial != "0000"


def routing_valid(digits: str) -> bool:
    """An ABA routing transit number: python-stdnum's prefix and 3-7-1 checksum rules."""
    return len(digits) == 9 and rtn.is_valid(digits)


def ipv4_valid(candidate: str) -> bool:
    """Four octets of 0-255 with no leading zeros (which would make it a version or a serial)."""
    octets = candidate.split(".")
    return len(octets) == 4 and all(o.isdigit() and int(o) <= 255 and (o == "0" or o[0] != "0") for o in octets)


def ipv6_valid(candidate: str) -> bool:
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True
