"""A labelled corpus for the PII scrubber: accounting text with every personal-data span marked.

Records imitate what feedback carries: bank transaction descriptors (ALL CAPS), invoice memos,
correction notes and chat messages, some with personal data and some without, the latter full of
vendors that look like people and ordinary ledger words. Every value comes from a seeded random
generator, so a seed always gives the same corpus.

Where the names come from: Faker's per-locale name lists (most US, the rest from ten other
locales), while the scrubber's name lists are the US SSA baby-name and 1990 census files; the two
are built independently, and the foreign locales bring names neither US list holds.
"""
from __future__ import annotations

import ipaddress
import random
import re
import string
from dataclasses import dataclass, field

import phonenumbers
from faker import Faker

# Faker locale -> its weight among the names. zh_CN names are romanised.
NAME_LOCALES = {
    "en_US": 55, "es_MX": 10, "en_IN": 8, "en_GB": 5, "de_DE": 4, "fr_FR": 4, "zh_CN": 4,
    "it_IT": 3, "pt_BR": 3, "pl_PL": 2, "nl_NL": 2,
}

# Vendors whose names look like a person's. Some are on the scrubber's built-in list, some are
# deliberately not; the bench reports the two groups apart.
PERSON_LIKE_VENDORS = [
    "Wells Fargo", "Trader Joe's", "Ben & Jerry's", "Dollar General", "Johnson Controls", "Charles Schwab",
    "Morgan Stanley", "Edward Jones", "Raymond James", "Grant Thornton", "Harris Teeter", "Ann Taylor",
    "Lane Bryant", "Papa John's", "Jimmy John's", "Ruth's Chris Steak House", "Dick's Sporting Goods",
    "Sherwin-Williams", "Robert Half", "Kelly Services", "Jackson Hewitt", "Bob Evans", "Tommy Hilfiger",
    "Calvin Klein", "Ralph Lauren", "Kate Spade", "John Deere", "Goldman Sachs", "Merrill Lynch",
    "T. Rowe Price", "John Hancock", "Martha Stewart", "Mary Kay", "Harry & David", "Barnes & Noble",
    "Stanley Steemer", "Kenneth Cole", "Wendy's", "Macy's", "Kohl's", "Lowe's", "Home Depot",
    # not on the built-in list:
    "Jenny Craig", "Ruby Tuesday", "Tommy Bahama", "Jimmy Choo", "Chuck E. Cheese", "Dave Ramsey",
    "Marshall Field", "Lillian Vernon", "Sheldon Good", "Ashley Stewart", "Russell Stover", "Jack Henry Ross",
    "Hugo Boss", "Sam Ash Music", "Carter Bank", "Holland Todd", "Dean Witter", "Fred Meyer", "Nathan's Famous",
    "Peter Piper Pizza", "Jason Kennedy Salon", "Paul Mitchell", "Vince Camuto", "Lucy Lane",
]
PLAIN_VENDORS = [
    "Amazon Web Services", "Staples", "Office Depot", "Costco", "Walmart", "Target", "Starbucks", "Uber",
    "Delta Air Lines", "Comcast", "Verizon Wireless", "Adobe", "Microsoft", "Google Workspace", "Zoom",
    "Dropbox", "Slack", "Intuit QuickBooks", "Gusto", "ADP", "FedEx", "UPS", "Shell Oil", "Chevron",
    "Marriott", "Hilton", "Delta Dental", "Blue Cross", "Geico", "State Farm", "Cintas", "Sysco", "Grainger",
    "Uline", "Best Buy", "Apple Store", "AT&T", "Spectrum", "Xfinity", "DoorDash",
]
BUSINESS_WORDS = ["Landscaping", "Plumbing", "Electric", "Dental", "Auto Repair", "Consulting", "Bakery",
                  "Construction", "Roofing", "Law Group", "Cleaning Services", "Hardware", "Catering", "CPA"]
GL_ACCOUNTS = [
    "Office Supplies", "Payroll Tax Q3", "Meals and Entertainment", "Travel", "Rent Expense", "Utilities",
    "Software Subscriptions", "Professional Fees", "Bank Service Charges", "Cost of Goods Sold",
    "Accounts Receivable", "Accounts Payable", "Advertising and Marketing", "Insurance - General Liability",
    "Repairs and Maintenance", "Depreciation Expense", "Interest Expense", "Sales Tax Payable",
    "Payroll Expenses", "Employee Benefits", "Shipping and Delivery", "Legal Fees", "Dues and Subscriptions",
    "Telephone Expense", "Vehicle Expenses", "Contract Labor", "Owner's Draw", "Uncategorized Expense",
    "Computer Equipment", "Fuel", "Postage", "Charitable Contributions", "Loan Payable", "Prepaid Expenses",
]
CITIES = [
    "AUSTIN TX", "CHARLOTTE NC", "MADISON WI", "JACKSON MS", "TYLER TX", "DALLAS TX", "HOUSTON TX",
    "VIRGINIA BEACH VA", "CORPUS CHRISTI TX", "SAINT PAUL MN", "SANTA ANA CA", "SAN JOSE CA", "ATLANTA GA",
    "PORTLAND OR", "DENVER CO", "SEATTLE WA", "CHICAGO IL", "BOSTON MA", "PHOENIX AZ", "LAFAYETTE LA",
    "EUGENE OR", "IRVING TX", "ARLINGTON VA", "HENDERSON NV", "LINCOLN NE", "WARREN MI", "LAWRENCE KS",
    "ALLEN TX", "FRISCO TX", "ELIZABETH NJ", "FORT COLLINS CO", "GRAND RAPIDS MI", "CAROL STREAM IL",
    "SPRINGFIELD IL", "COLUMBUS OH", "NEW YORK NY", "LOS ANGELES CA", "SAN FRANCISCO CA", "MIAMI FL",
]

# Templates: {SLOT}s are filled by the generators below. Personal-data slots are labelled.
BANK_WITH_PII = [
    "ZELLE TO {NAME} ON {MMDD} REF # {REF}", "ZELLE FROM {NAME} CONF# {REF}", "ZELLE PAYMENT TO {NAME} {REF}",
    "VENMO PAYMENT {NAME} {REF}", "VENMO CASHOUT FROM {NAME}", "CASH APP*{NAME} {CITY}",
    "ONLINE TRANSFER TO {NAME} REF #{REF} CHECKING {ACCOUNT_MASKED}", "ONLINE TRANSFER FROM {NAME} SAVINGS {ACCOUNT_MASKED}",
    "ACH CREDIT GUSTO PAYROLL IND NAME:{NAME} IND ID:{REF}", "ACH DEBIT {NAME_LF} PPD ID: {REF}",
    "WIRE TRANSFER TO {NAME} ACCT {ACCOUNT} ROUTING {ROUTING}", "INCOMING WIRE FROM {NAME} BNF ACCT {ACCOUNT}",
    "WIRE OUT {IBAN} BNF {NAME}", "CHECK #{CHECKNO} PAID TO {NAME}", "MOBILE DEPOSIT {NAME} {MMDD}",
    "POS PURCHASE {VENDOR} {CITY} CARD {CARD}", "PAYMENT THANK YOU {NAME} {PHONE}",
    "ACH DEBIT {PLAIN_VENDOR} PMT {REF} ACCT {ACCOUNT}", "REFUND TO {NAME} CARD ENDING {LAST4}",
    "TRANSFER TO {NAME} RTN {ROUTING} ACCT {ACCOUNT}",
]
MEMO_WITH_PII = [
    "Invoice {INVOICE} for {NAME}, consulting services {MONTH}", "Bill to: {NAME}, {ADDRESS}",
    "Please remit to {ADDRESS_FULL}. Questions: {EMAIL} or {PHONE}", "Payment by card {CARD} approved",
    "Wire to IBAN {IBAN}, reference {INVOICE}", "Contractor {NAME} (SSN {SSN}) - 1099 for {GL}",
    "Paid {NAME} for {GL}", "Reimbursement to {NAME} for {GL}, {AMOUNT}", "Mr. {LAST} - deposit for {GL}",
    "Ship to {NAME} at {ADDRESS_FULL}", "Customer {NAME} ({EMAIL}) prepaid {INVOICE}",
    "Direct deposit to acct {ACCOUNT}, routing {ROUTING}", "Card {CARD} exp 09/27 charged {AMOUNT}",
    "Employee {NAME_LF} SSN {SSN}", "Tenant {NAME}, unit at {ADDRESS}", "Remit to {NAME}, {ADDRESS_FULL}",
    "Payroll for {NAME} to account number {ACCOUNT}", "Dear {FIRST}, invoice {INVOICE} is attached",
]
NOTE_WITH_PII = [
    "Reclassified from {GL} to {GL}: this is the reimbursement to {NAME}, not a vendor payment",
    "Customer {NAME} called from {PHONE} about invoice {INVOICE}", "Moved to {GL}; employee {NAME} (SSN {SSN})",
    "Vendor remit address changed to {ADDRESS_FULL}", "Login from {IP} flagged, user {EMAIL}",
    "{NAME} said this is a personal expense", "Duplicate payment to {NAME}, refund to card {CARD}",
    "Per {NAME}, use account {ACCOUNT} for future payments", "Wrong payee: should be {NAME}, not {VENDOR}",
    "Social security number {SSN_PLAIN} was in the memo", "Changed category for {NAME}'s flight to {GL}",
    "Contact {NAME} at {PHONE} or {EMAIL}", "Bank details: IBAN {IBAN}, BIC DEUTDEFF",
    "API calls from {IP} and {IP} look automated", "Refund to {NAME}, card {CARD}, ending {LAST4}",
    "Spoke with {FIRST} about the {VENDOR} charge", "{NAME} approved the {GL} reclass",
    "Account {ACCOUNT} belongs to {NAME}", "Mailing address: {ADDRESS_FULL}",
]
CHAT_WITH_PII = [
    "hey can you check why the payment from {name} got categorized as {gl}?", "my email is {EMAIL}, call me at {PHONE}",
    "the card {CARD} was charged twice", "send the check to {name} at {ADDRESS}", "i think {name} paid with acct {ACCOUNT}",
    "thanks {first}! that fixed it", "why is {name} showing up under {gl}", "can you text me at {PHONE}",
    "the wire to {IBAN} bounced", "my ssn is {SSN} do you need it for the w9?", "{name} is our new bookkeeper",
    "it was {name}'s lunch not a client meal", "i logged in from {IP} and it said locked", "{name} said it's fine",
    "please update my address to {ADDRESS_FULL}", "routing {ROUTING} account {ACCOUNT} for direct deposit",
    "can you ask {name} about the {vendor} bill", "the zelle to {name} should be contract labor",
    "reach me at {PHONE} or {EMAIL} thx", "paid {name} cash for the move",
]
CLEAN_BANK = [
    "POS PURCHASE {VENDOR} #{STORE} {CITY}", "CHECKCARD {MMDD} {VENDOR} {CITY}", "ACH DEBIT {VENDOR} PMT {REF}",
    "DEBIT CARD PURCHASE {VENDOR} {CITY}", "RECURRING PAYMENT {VENDOR} {REF}", "ONLINE PAYMENT TO {VENDOR} CONF# {REF}",
    "ORDER {ORDER16} {VENDOR}", "ACH CREDIT {VENDOR} DEPOSIT", "MONTHLY SERVICE FEE", "INTEREST PAYMENT",
    "{VENDOR} {CITY} {MMDD}", "PURCHASE AUTHORIZED ON {MMDD} {VENDOR} {CITY}", "WIRE TRANSFER FEE",
]
CLEAN_MEMO = [
    "Invoice {INVOICE} for {GL} - {VENDOR}, due {DATE}, total {AMOUNT}", "Reclassified {GL} to {GL}",
    "{VENDOR} monthly subscription {DATE}", "PO {PO} {VENDOR} {AMOUNT}", "Order number {ORDER16} from {VENDOR}",
    "{GL}", "{VENDOR}", "{VENDOR} - {GL}", "Payment to {VENDOR} for {GL}, {AMOUNT}", "Q3 {GL} accrual",
]
CLEAN_NOTE = [
    "This should be {GL}, not {GL}", "{VENDOR} charges are always {GL}", "Duplicate of {INVOICE}",
    "Split between {GL} and {GL}", "Paid {VENDOR} twice in {MONTH}; second one refunded",
    "{VENDOR} is a vendor, not a customer", "Order {ORDER16} was returned to {VENDOR}",
    "Move {VENDOR} to {GL} from now on", "Received from {VENDOR}, {AMOUNT} on {DATE}",
]
CLEAN_CHAT = [
    "why is {vendor} categorized as {gl}?", "can you move the {vendor} charge to {gl}",
    "the {vendor} invoice {INVOICE} was paid twice", "{vendor} should be {gl} not {gl}",
    "thanks, that {gl} fix worked", "is {ORDER16} a card number? it's our order id from {vendor}",
]
SOURCES = {  # source -> (templates with PII, templates without, how its text is cased)
    "bank": (BANK_WITH_PII, CLEAN_BANK, "upper"),
    "memo": (MEMO_WITH_PII, CLEAN_MEMO, "as_is"),
    "note": (NOTE_WITH_PII, CLEAN_NOTE, "as_is"),
    "chat": (CHAT_WITH_PII, CLEAN_CHAT, "chat"),
}
SLOT = re.compile(r"\{([A-Za-z0-9_]+)\}")
CARD_BRANDS = [  # (issuer prefixes, length, how it is grouped)
    (["4"], 16, (4, 4, 4, 4)), (["4"], 13, None), ([str(p) for p in range(51, 56)], 16, (4, 4, 4, 4)),
    ([str(p) for p in range(2221, 2721)], 16, (4, 4, 4, 4)), (["34", "37"], 15, (4, 6, 5)),
    (["6011", "65"] + [str(p) for p in range(644, 650)], 16, (4, 4, 4, 4)),
    ([str(p) for p in range(3528, 3590)], 16, (4, 4, 4, 4)), (["36", "300", "305"], 14, (4, 6, 4)),
]
IBAN_FORMATS = {  # country -> BBAN layout: d digit, a upper letter, c letter or digit
    "DE": "d" * 18, "GB": "aaaa" + "d" * 14, "FR": "d" * 10 + "c" * 11 + "dd", "ES": "d" * 20,
    "IT": "a" + "d" * 10 + "c" * 12, "NL": "aaaa" + "d" * 10, "CH": "d" * 5 + "c" * 12, "BE": "d" * 12,
    "PL": "d" * 24, "AT": "d" * 16,
}
ROUTING_PREFIXES = [f"{p:02d}" for p in list(range(1, 13)) + list(range(21, 33))]
TOLL_FREE_AREAS = {800, 833, 844, 855, 866, 877, 888}
PHONE_REGIONS = ["GB", "DE", "FR", "IN", "MX", "BR", "ES", "IT", "AU", "JP", "CN"]
PHONE_KINDS = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)


@dataclass
class Record:
    text: str
    source: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # personal data: (start, end, kind)
    name_tags: dict[int, str] = field(default_factory=dict)  # start of a NAME span -> its locale
    vendors: list[tuple[int, int, str]] = field(default_factory=list)  # person-like vendors: (start, end, name)

    @property
    def has_pii(self) -> bool:
        return bool(self.spans)


class CorpusGenerator:
    def __init__(self, seed: int = 7):
        self.random = random.Random(seed)
        self.fakers = {}
        for offset, locale in enumerate(NAME_LOCALES):
            self.fakers[locale] = Faker(locale)
            self.fakers[locale].seed_instance(seed + offset)
        self.us = self.fakers["en_US"]

    def records(self, count: int, pii_share: float = 0.6) -> list[Record]:
        return [self.record(self.random.random() < pii_share) for _ in range(count)]

    def record(self, with_pii: bool) -> Record:
        source = self.random.choice(list(SOURCES))
        with_templates, clean_templates, casing = SOURCES[source]
        template = self.random.choice(with_templates if with_pii else clean_templates)
        record = Record(text="", source=source)
        position = 0
        for piece_index, piece in enumerate(SLOT.split(template)):
            if piece_index % 2 == 0:
                value, kind, vendor = _case(piece, casing), None, False
            else:
                value, kind, locale, vendor = self.fill(piece, casing)
                if kind == "NAME":
                    record.name_tags[position] = locale
            if kind:
                record.spans.append((position, position + len(value), kind))
            if vendor:
                record.vendors.append((position, position + len(value), vendor))
            record.text += value
            position += len(value)
        return record

    def fill(self, slot: str, casing: str) -> tuple[str, str | None, str | None, str | bool]:
        """The slot's text, its personal-data kind (None for none), the name's locale, the vendor."""
        lower = slot.islower()  # chat slots: {name}, {gl}, {vendor} are written lower case
        slot = slot.upper()
        chat_case = "chat_lower" if (lower and self.random.random() < 0.6) else casing
        if slot in ("NAME", "NAME_LF", "FIRST", "LAST"):
            locale = self.random.choices(list(NAME_LOCALES), weights=list(NAME_LOCALES.values()))[0]
            return _case(self.name(slot, locale), chat_case if lower else casing), "NAME", locale, False
        if slot == "VENDOR":
            name, person_like = self.vendor()
            return _case(name, chat_case if lower else casing), None, None, name if person_like else False
        if slot == "PLAIN_VENDOR":
            return _case(self.random.choice(PLAIN_VENDORS), casing), None, None, False
        if slot == "GL":
            return _case(self.random.choice(GL_ACCOUNTS), chat_case if lower else casing), None, None, False
        generator, kind = PII_SLOTS.get(slot, (None, None))
        if generator:
            return _case(generator(self), casing), kind, None, False
        return _case(PLAIN_SLOTS[slot](self), casing), None, None, False

    # -- personal data ----------------------------------------------------------------------------

    def name(self, slot: str, locale: str) -> str:
        faker = self.fakers[locale]
        first = faker.first_romanized_name() if locale == "zh_CN" else faker.first_name()
        last = faker.last_romanized_name() if locale == "zh_CN" else faker.last_name()
        if slot == "FIRST":
            return first
        if slot == "LAST":
            return last
        if slot == "NAME_LF":
            return f"{last}, {first}"
        if locale == "en_US" and self.random.random() < 0.1:
            return f"{first} {self.random.choice(string.ascii_uppercase)}. {last}"
        return f"{first} {last}"

    def email(self) -> str:
        if self.random.random() < 0.5:
            return self.us.email()
        first, last = self.us.first_name().lower(), self.us.last_name().lower()
        return f"{first}{self.random.choice(['.', '_', ''])}{last}{self.random.randint(1, 99)}@{self.us.free_email_domain()}"

    def phone(self) -> str:
        if self.random.random() < 0.3:
            return self.international_phone()
        while True:
            area, exchange, line = self.random.randint(201, 989), self.random.randint(200, 999), self.random.randint(0, 9999)
            number = phonenumbers.parse(f"+1{area}{exchange}{line:04d}")
            if phonenumbers.is_valid_number(number) and area not in TOLL_FREE_AREAS:  # a business's, not a person's
                break
        a, e, n = str(area), str(exchange), f"{line:04d}"
        return self.random.choice([
            f"({a}) {e}-{n}", f"{a}-{e}-{n}", f"{a}.{e}.{n}", f"+1 {a} {e} {n}", f"+1-{a}-{e}-{n}",
            f"1-{a}-{e}-{n}", f"({a}){e}-{n}", f"{a}-{e}-{n} ext. {self.random.randint(1, 999)}",
            f"{a} {e} {n}", f"+1 ({a}) {e}-{n}", f"{a}{e}{n}",
        ])

    def international_phone(self) -> str:
        region = self.random.choice(PHONE_REGIONS)
        example = phonenumbers.example_number_for_type(region, self.random.choice(PHONE_KINDS))
        national, number = str(example.national_number), example
        for _ in range(50):  # vary the last digits while the number stays valid; some ranges are narrow
            digits = national[:-4] + "".join(self.random.choice(string.digits) for _ in range(4))
            candidate = phonenumbers.parse(f"+{example.country_code}{digits}")
            if phonenumbers.is_valid_number(candidate):
                number = candidate
                break
        style = self.random.choice([phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164])
        return phonenumbers.format_number(number, style)

    def ssn(self, dashed: bool = True) -> str:
        area = self.random.choice([a for a in range(1, 900) if a != 666])
        group, serial = self.random.randint(1, 99), self.random.randint(1, 9999)
        return f"{area:03d}-{group:02d}-{serial:04d}" if dashed else f"{area:03d}{group:02d}{serial:04d}"

    def card(self) -> str:
        prefixes, length, grouping = self.random.choice(CARD_BRANDS)
        body = self.random.choice(prefixes)
        body += "".join(self.random.choice(string.digits) for _ in range(length - len(body) - 1))
        digits = body + _luhn_digit(body)
        if grouping is None or self.random.random() < 0.3:
            return digits
        separator, groups, position = self.random.choice([" ", "-"]), [], 0
        for size in grouping:
            groups.append(digits[position:position + size])
            position += size
        return separator.join(groups)

    def iban(self) -> str:
        country = self.random.choice(list(IBAN_FORMATS))
        pools = {"d": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}
        bban = "".join(self.random.choice(pools[kind]) for kind in IBAN_FORMATS[country])
        check = 98 - int("".join(str(int(char, 36)) for char in bban + country + "00")) % 97
        compact = f"{country}{check:02d}{bban}"
        if self.random.random() < 0.5:
            return compact
        return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))

    def account(self) -> str:
        return "".join(self.random.choice(string.digits) for _ in range(self.random.randint(8, 17)))

    def masked_account(self) -> str:
        last = f"{self.random.randint(0, 9999):04d}"
        return self.random.choice([f"XXXXXX{last}", f"****{last}", f"...{last}", f"xxxx-xxxx-{last}"])

    def routing(self) -> str:
        while True:
            digits = self.random.choice(ROUTING_PREFIXES) + "".join(self.random.choice(string.digits) for _ in range(6))
            d = [int(c) for c in digits]
            for check in range(10):
                if (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + check)) % 10 == 0:
                    return digits + str(check)

    def ip(self) -> str:
        if self.random.random() < 0.6:
            return str(ipaddress.IPv4Address(self.random.randint(0x01000000, 0xDFFFFFFF)))
        address = ipaddress.IPv6Address(self.random.getrandbits(128) & ~(0xFFFF << 64) if self.random.random() < 0.3 else self.random.getrandbits(128))
        return address.exploded if self.random.random() < 0.3 else str(address)

    def address(self, full: bool = False) -> str:
        street = self.us.street_address()
        if not full:
            return street
        return f"{street}, {self.us.city()}, {self.us.state_abbr()} {self.us.postcode()}"

    # -- everything else --------------------------------------------------------------------------

    def vendor(self) -> tuple[str, bool]:
        roll = self.random.random()
        if roll < 0.45:
            return self.random.choice(PERSON_LIKE_VENDORS), True
        if roll < 0.65:
            return self.local_business(), True
        return self.random.choice(PLAIN_VENDORS), False

    def local_business(self) -> str:
        last, first = self.us.last_name(), self.us.first_name()
        return self.random.choice([
            f"{last} {self.random.choice(BUSINESS_WORDS)}", f"{last} & Sons", f"{first}'s {self.random.choice(BUSINESS_WORDS)}",
            f"{last} {self.us.last_name()} LLP", f"{last} Brothers {self.random.choice(BUSINESS_WORDS)}",
        ])

    def reference(self) -> str:
        """A confirmation code as banks print them: letters and at least one digit."""
        code = [self.random.choice(string.ascii_uppercase + string.digits) for _ in range(self.random.randint(6, 11))]
        code[self.random.randrange(len(code))] = self.random.choice(string.digits)
        return "".join(code)

    def order_number(self) -> str:
        """Sixteen digits that fail the Luhn check: an order id, not a card."""
        while True:
            digits = "".join(self.random.choice(string.digits) for _ in range(16))
            if _luhn_digit(digits[:-1]) != digits[-1]:
                return digits

    def amount(self) -> str:
        return f"${self.random.randint(1, 250000) / 100:,.2f}"


def _luhn_digit(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def _case(text: str, casing: str) -> str:
    if casing == "upper":
        return text.upper()
    if casing == "chat_lower":
        return text.lower()
    return text


PII_SLOTS = {
    "EMAIL": (CorpusGenerator.email, "EMAIL"),
    "PHONE": (CorpusGenerator.phone, "PHONE"),
    "SSN": (CorpusGenerator.ssn, "SSN"),
    "SSN_PLAIN": (lambda g: g.ssn(dashed=False), "SSN"),
    "CARD": (CorpusGenerator.card, "CARD"),
    "IBAN": (CorpusGenerator.iban, "IBAN"),
    "ACCOUNT": (CorpusGenerator.account, "ACCOUNT"),
    "ACCOUNT_MASKED": (CorpusGenerator.masked_account, "ACCOUNT"),
    "LAST4": (lambda g: f"{g.random.randint(0, 9999):04d}", "ACCOUNT"),
    "ROUTING": (CorpusGenerator.routing, "ROUTING"),
    "IP": (CorpusGenerator.ip, "IP"),
    "ADDRESS": (CorpusGenerator.address, "ADDRESS"),
    "ADDRESS_FULL": (lambda g: g.address(full=True), "ADDRESS"),
}
PLAIN_SLOTS = {
    "REF": lambda g: g.reference(),
    "MMDD": lambda g: f"{g.random.randint(1, 12):02d}/{g.random.randint(1, 28):02d}",
    "DATE": lambda g: f"2024-{g.random.randint(1, 12):02d}-{g.random.randint(1, 28):02d}",
    "MONTH": lambda g: g.random.choice(["January", "March", "June", "August", "October", "December"]) + " 2024",
    "INVOICE": lambda g: f"INV-{g.random.choice([2023, 2024, 2025])}-{g.random.randint(1, 99999):05d}",
    "PO": lambda g: f"PO-{g.random.randint(1000, 99999)}",
    "ORDER16": CorpusGenerator.order_number,
    "AMOUNT": CorpusGenerator.amount,
    "CITY": lambda g: g.random.choice(CITIES),
    "STORE": lambda g: str(g.random.randint(100, 9999)),
    "CHECKNO": lambda g: str(g.random.randint(1000, 9999)),
}


def generate(count: int, seed: int = 7) -> list[Record]:
    return CorpusGenerator(seed).records(count)


if __name__ == "__main__":
    for sample in generate(40):
        print(sample.source, "|", sample.text, "|", [(sample.text[s:e], k) for s, e, k in sample.spans])
