"""A small corpus of short, noisy bank-statement lines for the classification agent's benchmark:
one small tenant's ledger, about 40 categories and a few hundred labelled rows.

Each category has a direction, a typical amount and a handful of merchants; some are well-known
brands, the rest are invented by Faker in six locales (US, UK, German, French, Dutch, Australian),
so the corpus does not rest on the names of one country. A line is printed the way banks print
them: a payment-rail prefix (POS, CARD 1234, DD, SEPA-LASTSCHRIFT, ACH DEBIT, VISA, FASTER PMT),
sometimes a payment processor's wrapper (SQ *, PAYPAL *, SP *), the merchant upper-cased and now
and then misspelt or shortened, a store number, a city, a reference or a date, and the whole line
cut at the bank's field width. Reviewers book about 3% of lines under a neighbouring category.

``corpus(seed)`` gives a tenant's rows as (classification input, category); the same seed gives
the same rows with the same Faker release (Faker's word lists can change between releases).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from faker import Faker

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "en_AU")
CURRENCY = {"en_US": "USD", "en_GB": "GBP", "de_DE": "EUR", "fr_FR": "EUR", "nl_NL": "EUR", "en_AU": "AUD"}


@dataclass(frozen=True)
class Category:
    name: str
    direction: str  # debit or credit
    median_amount: float
    brands: tuple[str, ...]  # real-world names a statement prints for it
    words: tuple[str, ...]  # trade words Faker's invented names in the category carry
    rails: tuple[str, ...]  # how it is paid: card, direct_debit, transfer, incoming


CATEGORIES = (
    Category("Groceries", "debit", 45, ("WOOLWORTHS", "TESCO STORES", "ALDI", "LIDL", "SAFEWAY", "ALBERT HEIJN"), ("MARKET", "FOODS"), ("card",)),
    Category("Restaurants", "debit", 38, ("NANDOS", "PIZZA EXPRESS", "CHIPOTLE"), ("BISTRO", "GRILL", "KITCHEN"), ("card",)),
    Category("Coffee", "debit", 6, ("STARBUCKS", "COSTA COFFEE", "BLUE BOTTLE", "PRET A MANGER"), ("COFFEE", "ESPRESSO"), ("card",)),
    Category("Fuel", "debit", 60, ("SHELL", "BP", "ESSO", "TOTALENERGIES", "CALTEX"), ("FUEL", "PETROL"), ("card",)),
    Category("Public Transport", "debit", 12, ("TFL TRAVEL CH", "DEUTSCHE BAHN", "SNCF", "NS GROEP", "OPAL"), ("TRANSIT",), ("card",)),
    Category("Taxi", "debit", 22, ("UBER TRIP", "BOLT.EU", "LYFT RIDE", "FREENOW"), ("CABS", "TAXI"), ("card",)),
    Category("Airfare", "debit", 320, ("RYANAIR", "EASYJET", "QANTAS", "LUFTHANSA", "KLM"), ("AIRWAYS",), ("card",)),
    Category("Hotels", "debit", 180, ("BOOKING.COM", "MARRIOTT", "IBIS HOTEL", "AIRBNB"), ("HOTEL", "INN"), ("card",)),
    Category("Software", "debit", 30, ("ATLASSIAN", "GITHUB", "ADOBE", "DROPBOX", "SLACK", "NOTION LABS"), ("SOFTWARE",), ("card",)),
    Category("Cloud Hosting", "debit", 140, ("AWS EMEA", "GOOGLE CLOUD", "DIGITALOCEAN", "HETZNER", "AZURE"), ("HOSTING",), ("card", "direct_debit")),
    Category("Mobile Phone", "debit", 55, ("VODAFONE", "TELSTRA", "T-MOBILE", "O2 UK", "ORANGE"), ("MOBILE",), ("direct_debit",)),
    Category("Internet", "debit", 70, ("BT GROUP", "COMCAST", "ZIGGO", "FREE TELECOM"), ("BROADBAND", "FIBRE"), ("direct_debit",)),
    Category("Electricity", "debit", 160, ("EDF ENERGY", "E.ON", "ORIGIN ENERGY", "VATTENFALL"), ("POWER", "ENERGY"), ("direct_debit",)),
    Category("Water", "debit", 45, ("THAMES WATER", "SYDNEY WATER", "VITENS"), ("WATER",), ("direct_debit",)),
    Category("Rent", "debit", 2400, (), ("PROPERTIES", "ESTATES", "REALTY"), ("transfer", "direct_debit")),
    Category("Insurance", "debit", 210, ("AXA", "ALLIANZ", "AVIVA", "HISCOX", "ZURICH"), ("INSURANCE",), ("direct_debit",)),
    Category("Bank Fees", "debit", 12, ("MONTHLY ACCOUNT FEE", "INTL TXN FEE", "OVERDRAFT FEE"), (), ("fee",)),
    Category("Interest Income", "credit", 8, ("INTEREST PAID", "CREDIT INTEREST"), (), ("fee",)),
    Category("Payroll", "debit", 3200, ("GUSTO", "ADP PAYROLL", "XERO PAYRUN"), ("PAYROLL",), ("transfer",)),
    Category("Taxes", "debit", 1800, ("HMRC VAT", "IRS USATAXPYMT", "FINANZAMT", "ATO", "DGFIP"), (), ("transfer", "direct_debit")),
    Category("Office Supplies", "debit", 65, ("STAPLES", "OFFICEWORKS", "VIKING DIRECT"), ("STATIONERY", "OFFICE"), ("card",)),
    Category("Computer Hardware", "debit", 900, ("APPLE STORE", "DELL", "MEDIAMARKT", "JB HI-FI"), ("COMPUTERS", "ELECTRONICS"), ("card",)),
    Category("Advertising", "debit", 260, ("FACEBK ADS", "GOOGLE ADS", "LINKEDIN ADS"), ("MEDIA", "MARKETING"), ("card",)),
    Category("Postage", "debit", 18, ("ROYAL MAIL", "USPS", "DHL EXPRESS", "POSTNL", "AUSPOST"), ("COURIERS", "FREIGHT"), ("card",)),
    Category("Legal Fees", "debit", 1200, (), ("LAW", "SOLICITORS", "LEGAL"), ("transfer",)),
    Category("Accounting Fees", "debit", 450, (), ("ACCOUNTANTS", "TAX ADVISORS"), ("transfer", "direct_debit")),
    Category("Customer Payments", "credit", 1500, (), ("LTD", "GMBH", "BV", "SARL", "PTY"), ("incoming",)),
    Category("Card Payouts", "credit", 900, ("STRIPE PAYOUT", "SQUARE INC", "PAYPAL TRANSFER", "SHOPIFY"), (), ("incoming",)),
    Category("Refunds", "credit", 40, ("AMAZON REFUND", "REFUND", "RETURN CREDIT"), (), ("incoming",)),
    Category("Loan Repayment", "debit", 850, ("FUNDING CIRCLE", "LOAN REPAYMENT", "IWOCA"), ("FINANCE", "CAPITAL"), ("direct_debit",)),
    Category("Owner Drawings", "debit", 1000, (), (), ("owner",)),
    Category("Internal Transfer", "debit", 2500, ("TO SAVINGS", "TFR TO BUSINESS SAVER", "SWEEP TO RESERVE"), (), ("fee",)),
    Category("Cash Withdrawal", "debit", 100, ("ATM WITHDRAWAL", "CASH WDL", "GELDAUTOMAT", "RETRAIT DAB"), (), ("fee",)),
    Category("Medical", "debit", 75, ("BOOTS PHARMACY", "WALGREENS", "APOTHEKE", "CHEMIST WAREHOUSE"), ("CLINIC", "DENTAL"), ("card",)),
    Category("Training", "debit", 300, ("UDEMY", "COURSERA", "LINKEDIN LEARNING"), ("ACADEMY", "TRAINING"), ("card",)),
    Category("Media Subscriptions", "debit", 14, ("NETFLIX", "SPOTIFY", "FT.COM", "NYTIMES", "AUDIBLE"), (), ("card",)),
    Category("Parking", "debit", 9, ("NCP PARKING", "WILSON PARKING", "PARKMOBILE", "Q-PARK"), ("PARKING",), ("card",)),
    Category("Vehicle Maintenance", "debit", 280, ("KWIK FIT", "HALFORDS", "MIDAS", "ATU"), ("AUTO", "MOTORS", "GARAGE"), ("card",)),
    Category("Cleaning", "debit", 160, (), ("CLEANING", "JANITORIAL"), ("transfer", "card")),
    Category("Donations", "debit", 50, ("RED CROSS", "OXFAM", "UNICEF", "MSF"), ("FOUNDATION", "TRUST"), ("card", "direct_debit")),
    Category("Entertainment", "debit", 90, ("TICKETMASTER", "EVENTBRITE", "ODEON CINEMAS"), ("EVENTS", "THEATRE"), ("card",)),
)
# Which category a reviewer confuses a line with, now and then.
NEIGHBOUR = {"Coffee": "Restaurants", "Restaurants": "Entertainment", "Taxi": "Public Transport", "Software": "Cloud Hosting",
             "Internet": "Mobile Phone", "Office Supplies": "Computer Hardware", "Parking": "Vehicle Maintenance",
             "Legal Fees": "Accounting Fees", "Card Payouts": "Customer Payments", "Media Subscriptions": "Software"}
PROCESSORS = ("SQ *", "PAYPAL *", "SP * ", "ZETTLE_*", "SUMUP *")
CARD_RAILS = ("POS PURCHASE {m} {store}", "CARD {last4} {m} {city}", "VISA DEBIT {date} {m}", "{m} {city} {country}",
              "CONTACTLESS {m} {city}", "KARTENZAHLUNG {m} {date}", "CB {m} {date} {city}", "{m} {store} {city}",
              "EFTPOS {m} {city} AU", "DEBIT CARD PURCHASE {m}")
DEBIT_RAILS = ("DD {m} {ref}", "SEPA-LASTSCHRIFT {m} MANDAT {ref}", "ACH DEBIT {m} PPD ID {ref}", "DIRECT DEBIT {m}",
               "PRLV SEPA {m} {ref}", "{m} DDR {ref}")
TRANSFER_RAILS = ("FASTER PMT TO {m} REF {ref}", "UEBERWEISUNG {m} {ref}", "BILL PAYMENT {m} {ref}", "TRANSFER TO {m}",
                  "VIR SEPA {m} {ref}", "BPAY {m} {ref}")
INCOMING_RAILS = ("FASTER PMT FROM {m} INV {ref}", "GUTSCHRIFT {m} RE {ref}", "ACH CREDIT {m} {ref}", "DEPOSIT {m}",
                  "VIR RECU {m} FACT {ref}", "{m} PAYMENT RECEIVED")
FEE_RAILS = ("{m}", "{m} {date}", "{m} {ref}")
RAILS = {"card": CARD_RAILS, "direct_debit": DEBIT_RAILS, "transfer": TRANSFER_RAILS, "incoming": INCOMING_RAILS,
         "fee": FEE_RAILS, "owner": TRANSFER_RAILS}
# Bank field widths: lines are cut there, mid-word.
WIDTHS = (18, 22, 25, 32, 40, 64)


def _invented(faker: Faker, category: Category, rng: np.random.Generator) -> str:
    """A local business: a Faker company or surname, with a trade word of its category."""
    base = faker.company() if rng.random() < 0.5 else faker.last_name()
    base = base.upper().replace(",", "").split(" - ")[0]
    if category.words:
        base = f"{base} {category.words[rng.integers(len(category.words))]}"
    return base


def _merchants(category: Category, rng: np.random.Generator, fakers: list[Faker]) -> list[str]:
    """The names this tenant pays in a category: a few brands and a few local businesses."""
    brands = [b for b in category.brands if rng.random() < 0.6] or list(category.brands[:1])
    if category.rails == ("owner",):
        return [f"{fakers[0].first_name()} {fakers[0].last_name()}".upper()]
    local = [] if not category.words else [_invented(fakers[rng.integers(len(fakers))], category, rng)
                                           for _ in range(rng.integers(1, 4))]
    return brands + local


def _garble(name: str, rng: np.random.Generator) -> str:
    """How banks and processors mangle a name: vowels dropped, words shortened, a wrapper."""
    draw = rng.random()
    if draw < 0.1:
        name = name[0] + "".join(c for c in name[1:] if c not in "AEIOU")
    elif draw < 0.2:
        name = " ".join(word[:5] for word in name.split())
    if rng.random() < 0.12:
        name = PROCESSORS[rng.integers(len(PROCESSORS))] + name
    return name


def _line(category: Category, merchant: str, rng: np.random.Generator, faker: Faker, date: dt.date) -> str:
    rail = category.rails[rng.integers(len(category.rails))]
    template = RAILS[rail][rng.integers(len(RAILS[rail]))]
    text = template.format(
        m=_garble(merchant, rng), store=str(rng.integers(10, 9999)), last4=f"{rng.integers(0, 10_000):04d}",
        city=faker.city().upper(), country=faker.current_country_code(), ref=str(rng.integers(10**5, 10**10)),
        date=date.strftime(("%d/%m", "%m-%d", "%d%b")[rng.integers(3)]).upper(),
    )
    return text[:WIDTHS[rng.integers(len(WIDTHS))]].strip()


def corpus(seed: int, rows: int = 360, test_rows: int = 2_000) -> tuple[list[tuple[dict, str]], list[tuple[dict, str]]]:
    """(training rows, test rows) of one tenant: rows of (classification input, category). The
    category mix is skewed (some categories a few lines a year, others weekly); the test rows are
    later lines of the same tenant, with its merchants, and now and then a merchant it never used."""
    rng = np.random.default_rng(seed)
    fakers = [Faker(locale) for locale in LOCALES]
    for index, faker in enumerate(fakers):
        faker.seed_instance(seed * 100 + index)
    home = int(rng.integers(len(LOCALES)))
    weights = rng.zipf(1.6, len(CATEGORIES)).clip(1, 25).astype(float)
    weights /= weights.sum()
    merchants = [_merchants(category, rng, fakers) for category in CATEGORIES]

    def row(which: int, start: dt.date, fresh_share: float) -> tuple[dict, str]:
        category, faker = CATEGORIES[which], fakers[home if rng.random() < 0.7 else rng.integers(len(fakers))]
        names = merchants[which]
        fresh = category.words and rng.random() < fresh_share
        merchant = _invented(faker, category, rng) if fresh else names[min(int(rng.zipf(1.8)) - 1, len(names) - 1)]
        date = start + dt.timedelta(days=int(rng.integers(0, 365)))
        amount = round(float(category.median_amount * rng.lognormal(0, 0.5)), 2)
        label = NEIGHBOUR.get(category.name, category.name) if rng.random() < 0.03 else category.name
        return ({"description": _line(category, merchant, rng, faker, date), "merchant": None, "amount": amount,
                 "currency": CURRENCY[LOCALES[home]], "direction": category.direction, "date": date.isoformat()}, label)

    def mixed(count: int, start: dt.date, fresh_share: float) -> list[tuple[dict, str]]:
        return [row(int(rng.choice(len(CATEGORIES), p=weights)), start, fresh_share) for _ in range(count)]

    # Every category is in training at least twice: the tenant has booked each before.
    training = [row(which, dt.date(2025, 1, 1), 0.0) for which in range(len(CATEGORIES)) for _ in range(2)]
    training += mixed(rows - len(training), dt.date(2025, 1, 1), 0.0)
    return training, mixed(test_rows, dt.date(2026, 1, 1), 0.1)
