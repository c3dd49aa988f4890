"""A labelled corpus of personal data as the platform's non-US tenants write it: per country, street
addresses, phone numbers (national and international), names as "LAST, FIRST" and first names
after a cue; and, for every tenant, card numbers of each network in each separator style and
numbers under sensitive JSON keys in each JSON type; plus text that must be left alone (cities,
ledger words).

Two splits, built apart so that the held-out one measures rather than confirms:

- "tuning": Faker seeds from 100, the countries' main locales, the TUNING templates and keys;
- "held-out": Faker seeds from 900, the sibling locales too (de_AT, de_CH, fr_CA, nl_BE, en_NZ),
  and templates and key names that no rule was tuned on;
- "fresh": Faker seeds from 1700, the held-out locales, and templates and keys written after the
  held-out split's misses had been read to find missing shapes: it measures what that reading
  could not have fitted.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

import phonenumbers
from faker import Faker

# country -> (the locale the tuning split draws from, the locales the held-out split draws from)
LOCALES = {
    "GB": ("en_GB", ("en_GB",)), "DE": ("de_DE", ("de_DE", "de_AT", "de_CH")), "FR": ("fr_FR", ("fr_FR", "fr_CH")),
    "ES": ("es_ES", ("es_ES",)), "NL": ("nl_NL", ("nl_NL", "nl_BE")), "IE": ("en_IE", ("en_IE",)),
    "CA": ("en_CA", ("en_CA", "fr_CA")), "AU": ("en_AU", ("en_AU", "en_NZ")),
}
SPLITS = {"tuning": 100, "held-out": 900, "fresh": 1700}

TEMPLATES = {
    "tuning": {
        "address": ["Ship to {}", "Remit to: {}", "new address {} from next month", "Invoice address: {}"],
        "phone": ["call {} about the invoice", "Tel. {}", "mobile: {}", "contact {} re overdue"],
        "last_first": ["ACH DEBIT {} PPD", "PAYROLL {} NET PAY", "Employee: {}"],
        "first_alone": ["paid {} for the cleaning", "Dear {}, the invoice is attached", "transfer to {} for rent",
                        "Thanks,\n{}"],
        "city": ["Travel to {} for the client meeting", "Office rent {} branch", "Hotel in {} 3 nights"],
    },
    "held-out": {
        "address": ["Lieferadresse / delivery: {}", "please send the cheque to {}, thanks", "{}", "Customer moved to {} (see ticket)"],
        "phone": ["ring {} after 5pm", "Telefon: {}", "whatsapp {} for the receipt", "his number is {}"],
        "last_first": ["SALARY {} MAR", "Payee: {}", "TRANSFER FROM {} REF 99812"],
        "first_alone": ["from {}: receipt attached", "Ms {} approved it", "money sent to {} yesterday", "Kind regards,\n{}",
                        "Mr {} paid in cash"],
        "city": ["Flights {} - Madrid for the trade fair", "Parking fee {} airport", "{} office supplies"],
    },
    "fresh": {
        "address": ["Billing address changed: {}", "deliver the parts to {} before Friday", "Adresse : {}",
                    "supplier's warehouse is at {}"],
        "phone": ["cell {}", "Tél. {}", "she left her mobile, {}, with reception", "reach me on {}"],
        "last_first": ["DIRECT DEBIT {} 0412", "Beneficiary: {}", "STANDING ORDER TO {}"],
        "first_alone": ["refund to {} approved", "Hi {}, see the attached", "cash given to {} for petty cash",
                        "Best,\n{}", "reimbursed {} for the taxi"],
        "city": ["Trade fair {} booth rental", "Train tickets to {} for the audit", "{} warehouse rent"],
    },
}
KEYS = {
    "tuning": ["account_number", "acct", "iban", "routing_number", "sort_code", "card_number", "ssn", "tax_id"],
    "held-out": ["accountNumber", "bank_account_no", "IBAN", "routingNo", "sortCode", "cardPan", "SSN", "taxId", "acct_num", "bsb"],
    "fresh": ["AccountNo", "account-number", "Iban", "aba_routing", "sort-code", "card_pan", "ssn_number", "vat_tax_id",
              "bankAcct", "bsb_number"],
}
CARD_TYPES = ["visa13", "visa16", "visa19", "mastercard", "amex", "discover", "diners", "jcb15", "jcb16", "maestro"]
SEPARATORS = {"plain": "", "spaces": " ", "dashes": "-", "dots": "."}
PHONE_STYLES = {"national": phonenumbers.PhoneNumberFormat.NATIONAL, "international": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                "E.164": phonenumbers.PhoneNumberFormat.E164}
PHONE_KINDS = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)


@dataclass
class Item:
    group: str  # what the bench reports it under: "ADDRESS / DE", "CARD / jcb15 / dashes"...
    value: object  # the text or JSON value scrubbed
    secret: str  # the personal data; caught when none of its letters or digits survive
    country: str | None  # the tenant's country the value is scrubbed for
    pii: bool = True  # False: the secret must survive (a city)


def _fill(rng: random.Random, templates: list[str], value: str) -> tuple[str, str]:
    return rng.choice(templates).format(value), value


def _address(faker: Faker, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return faker.street_address().strip()
    return faker.address().strip()


def _phone(rng: random.Random, region: str, style: int) -> str:
    example = phonenumbers.example_number_for_type(region, rng.choice(PHONE_KINDS))
    national = str(example.national_number)
    for _ in range(50):  # other numbers of the same range, as long as they stay valid
        digits = national[:-4] + "".join(rng.choice("0123456789") for _ in range(4))
        candidate = phonenumbers.parse(f"+{example.country_code}{digits}")
        if phonenumbers.is_valid_number(candidate):
            return phonenumbers.format_number(candidate, style)
    return phonenumbers.format_number(example, style)


def _card(faker: Faker, card_type: str, separator: str) -> str:
    digits = faker.credit_card_number(card_type)
    if not separator:
        return digits
    sizes = {15: (4, 6, 5), 14: (4, 6, 4)}.get(len(digits)) if card_type in ("amex", "diners") else None
    sizes = sizes or tuple([4] * (len(digits) // 4) + ([len(digits) % 4] if len(digits) % 4 else []))
    groups, position = [], 0
    for size in sizes:
        groups.append(digits[position:position + size])
        position += size
    return separator.join(groups)


def _keyed_value(rng: random.Random, faker: Faker, key: str):
    if re.search(r"(?i)iban", key):
        text = faker.iban()
    elif re.search(r"(?i)card|pan", key):
        text = faker.credit_card_number()
    elif re.search(r"(?i)sort|bsb", key):
        text = f"{rng.randint(10, 99)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
    else:
        text = "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 14)))
        text = str(rng.randint(1, 9)) + text[1:]
    kind = rng.choice(["int", "string", "float"]) if text.isdigit() else "string"
    value = int(text) if kind == "int" else float(text) if kind == "float" else text
    return value, kind, text


def generate(split: str, per_group: int = 60, seed: int | None = None) -> list[Item]:
    """The split's items; ``seed`` draws its locales, templates and keys from other Faker seeds than
    the split's own, values that no rule can have been written against."""
    base = SPLITS[split] if seed is None else seed
    rng = random.Random(base)
    templates, items = TEMPLATES[split], []
    for offset, (country, (tuning_locale, held_out_locales)) in enumerate(LOCALES.items()):
        locales = (tuning_locale,) if split == "tuning" else held_out_locales
        fakers = [Faker(locale) for locale in locales]
        for index, faker in enumerate(fakers):
            faker.seed_instance(base + 10 * offset + index)
        for _ in range(per_group):
            faker = rng.choice(fakers)
            text, secret = _fill(rng, templates["address"], _address(faker, rng))
            items.append(Item(f"ADDRESS / {country}", text, secret, country))
            region = rng.choice(list(LOCALES)) if rng.random() < 0.2 else country  # a neighbour's number now and then
            style = rng.choice(list(PHONE_STYLES))
            text, secret = _fill(rng, templates["phone"], _phone(rng, region, PHONE_STYLES[style]))
            items.append(Item(f"PHONE / {style}", text, secret, country))
            items.append(Item(f"PHONE / {country}", text, secret, country))
            name = f"{faker.last_name()}, {faker.first_name()}".upper()
            text, secret = _fill(rng, templates["last_first"], name)
            items.append(Item("NAME / LAST, FIRST upper case", text, secret, country))
            text, secret = _fill(rng, templates["first_alone"], faker.first_name())
            items.append(Item("NAME / first name after a cue", text, secret, country))
            text, secret = _fill(rng, templates["city"], faker.city())
            items.append(Item("CITY kept", text, secret, country, pii=False))
    faker = Faker("en_US")
    faker.seed_instance(base)
    for card_type in CARD_TYPES:
        for style, separator in SEPARATORS.items():
            for _ in range(per_group // 4):
                number = _card(faker, card_type, separator)
                items.append(Item(f"CARD / {card_type}", f"card {number} charged", number, None))
                items.append(Item(f"CARD / {style}", f"card {number} charged", number, None))
    for key in KEYS[split]:
        for _ in range(per_group // 2):
            value, kind, text = _keyed_value(rng, faker, key)
            items.append(Item(f"KEYED / {kind}", {key: value, "memo": "monthly"}, text, None))
    return items
