"""The PII scrubber: what it replaces, what it must leave alone, and how it walks JSON values."""
from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelops.privacy.pii import PLACEHOLDERS, Scrubber, ScrubResult, scrub, scrub_many, tenant_key
from modelops.privacy.pii import checksums


def scrubbed(text: str, **options) -> str:
    return scrub(text, **options).value


# -- text that carries no personal data passes unchanged ------------------------------------------

@pytest.mark.parametrize("text", [
    "Office Supplies", "Payroll Tax Q3", "Amazon Web Services", "Wells Fargo", "Trader Joe's", "Home Depot",
    "Ben & Jerry's", "Dollar General", "Johnson Controls", "Charles Schwab", "Morgan Stanley",
    "INV-2024-00017", "PO-88123 partial receipt 3 of 5", "Order 5234987612349875 shipped",
    "Invoice total $1,234.56 due 2024-03-15", "Sales tax 8.25% on $12,000.00", "Net 30 terms, 2% 10 days",
    "GL account 6100 Rent Expense", "Accounts Receivable 1200", "Reclass from 6200 Utilities to 6300 Telephone",
    "Meals and Entertainment", "Cost of Goods Sold", "Owner's Draw", "Depreciation - 2023 Ford F-150",
    "POS PURCHASE TRADER JOE'S #552 PORTLAND OR", "CHECKCARD 0412 HOME DEPOT #4521 ATLANTA GA",
    "ACH DEBIT WELLS FARGO LOAN PMT", "PURCHASE AUTHORIZED ON 03/14 HARRIS TEETER CHARLOTTE NC",
    "NETFLIX.COM 866-579-7172 CA", "Version 1.2.3.4 release notes", "2024 Payroll Run",
    "Paid Johnson Landscaping for the spring cleanup", "Received from Barnes Gonzalez LLP",
    "Bill Payment - Comcast", "Chase Sapphire annual fee", "Mark as reviewed",
    "why is home depot categorized as office supplies?",
])
def test_accounting_text_without_personal_data_is_unchanged(text):
    result = scrub(text)
    assert result.value == text
    assert result.hits == {}


# -- each kind of personal data --------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Paid John Smith for consulting", "Paid [NAME] for consulting"),
    ("ZELLE TO JOHN SMITH ON 03/14 REF # PP0ABC123", "ZELLE TO [NAME] ON 03/14 REF # PP0ABC123"),
    ("VENMO PAYMENT JANE DOE 1023", "VENMO PAYMENT [NAME] 1023"),
    ("hey can you check why the payment from john smith got categorized as rent?",
     "hey can you check why the payment from [NAME] got categorized as rent?"),
    ("ZELLE TO PRIYA RAGHUNATHAN ON 03/14", "ZELLE TO [NAME] ON 03/14"),
    ("ACH DEBIT SMITH, JOHN PPD ID: 4X7", "ACH DEBIT [NAME] PPD ID: 4X7"),
    ("Dear Sarah, invoice attached", "Dear [NAME], invoice attached"),
    ("Mr. Whitehead paid the deposit", "Mr. [NAME] paid the deposit"),
    ("Customer Anouk van Baalen called", "Customer [NAME] called"),
    ("it was Maria Garcia's lunch", "it was [NAME]'s lunch"),
    ("CASH APP*FLAVIO BAEZA MIAMI FL", "CASH APP*[NAME] MIAMI FL"),
])
def test_person_names_in_every_case(text, expected):
    assert scrubbed(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("SSN 123-45-6789 on file", "SSN [SSN] on file"),
    ("social security number 123456789", "social security number [SSN]"),
    ("ITIN 912-70-1234", "ITIN [SSN]"),
    ("call (212) 555-0134 today", "call [PHONE] today"),
    ("cell 212.555.0134 x12", "cell [PHONE]"),
    ("+1-212-555-0134", "[PHONE]"),
    ("office +44 20 7946 0958", "office [PHONE]"),
    ("text me at 2125550134", "text me at [PHONE]"),
    ("mail jane.doe+tax@example.co.uk now", "mail [EMAIL] now"),
    ("wire to IBAN DE89 3704 0044 0532 0130 00 today", "wire to IBAN [IBAN] today"),
    ("GB82WEST12345698765432", "[IBAN]"),
    ("routing 021000021 acct 12345678901", "routing [ACCOUNT] acct [ACCOUNT]"),
    ("wire via bank 021000021", "wire via bank [ACCOUNT]"),
    ("Account #: 0001234567", "Account #: [ACCOUNT]"),
    ("a/c 87654321 and 12345678", "a/c [ACCOUNT] and [ACCOUNT]"),
    ("ONLINE TRANSFER CHECKING XXXXXX4321", "ONLINE TRANSFER CHECKING [ACCOUNT]"),
    ("card ending in 4321", "card ending in [ACCOUNT]"),
    ("login from 192.168.10.24", "login from [IP]"),
    ("login from 2001:db8::8a2e:370:7334", "login from [IP]"),
    ("ship to 123 Main Street Apt. 4, Springfield, IL 62704", "ship to [ADDRESS]"),
    ("send it to 45 oak st please", "send it to [ADDRESS] please"),
    ("P.O. Box 1234", "[ADDRESS]"),
])
def test_each_structured_kind(text, expected):
    assert scrubbed(text) == expected


@pytest.mark.parametrize("number", [
    "4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "4222222222222",  # Visa 16 and 13
    "5555555555554444", "2221000000000009", "2720 9999 9999 9996",  # Mastercard, 51-55 and 2221-2720
    "378282246310005", "3782 822463 10005",  # Amex, 15 digits in 4-6-5
    "6011111111111117", "3530111333300000", "36227206271667", "3056 930902 5904",  # Discover, JCB, Diners
])
def test_luhn_valid_cards_of_every_brand(number):
    assert checksums.luhn_valid(number.replace(" ", "").replace("-", ""))
    assert scrubbed(f"charged to {number} today") == "charged to [CARD] today"


@pytest.mark.parametrize("number", ["4111111111111112", "5234 9876 1234 9875", "2221-0000-0000-0008"])
def test_sixteen_digits_that_fail_luhn_are_not_cards(number):
    assert not checksums.luhn_valid(number.replace(" ", "").replace("-", ""))
    assert scrubbed(f"order {number}") == f"order {number}"


@pytest.mark.parametrize("text", [
    "000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000",  # SSA never issues these
    "ref 123456789",  # nine bare digits without an SSN cue
    "IBAN DE88 3704 0044 0532 0130 00",  # one check digit off
    "999.1.1.1", "10.0.0.256",  # octets out of range
    "routing 12345",  # too short for an account number
])
def test_lookalikes_that_fail_the_rules_are_kept(text):
    assert scrubbed(text) == text


def test_a_bare_number_is_read_by_the_field_it_sits_in():
    result = scrub({"routing_number": "021000021", "accountNumber": "000123456789", "gl_account": "6100", "ssn": "123456789"})
    assert result.value == {"routing_number": "[ACCOUNT]", "accountNumber": "[ACCOUNT]", "gl_account": "6100", "ssn": "[SSN]"}


# -- vendors that look like people -----------------------------------------------------------------

def test_the_ledger_vendor_list_protects_a_vendor_that_looks_like_a_person():
    assert scrubbed("Payment to Lucy Lane for Travel") == "Payment to [NAME] for Travel"
    assert scrubbed("Payment to Lucy Lane for Travel", vendors=["Lucy Lane"]) == "Payment to Lucy Lane for Travel"


def test_a_vendor_word_inside_a_person_name_does_not_protect_it():
    assert scrubbed("Paid Michael Dell for the audit") == "Paid [NAME] for the audit"


# -- walking JSON values ---------------------------------------------------------------------------

PAYLOAD = {
    "description": "ZELLE TO JANE DOE",
    "amount": 1250.0,
    "approved": True,
    "note": None,
    "lines": [
        {"memo": "call 212-555-0134", "qty": 3, "tags": ["Office Supplies", {"contact": "jane@example.com"}]},
        "card 4111 1111 1111 1111",
        7,
    ],
    "John Smith": "key kept",
}


def test_nested_payloads_are_walked_at_any_depth():
    result = scrub(PAYLOAD)
    assert result.value == {
        "description": "ZELLE TO [NAME]",
        "amount": 1250.0,
        "approved": True,
        "note": None,
        "lines": [
            {"memo": "call [PHONE]", "qty": 3, "tags": ["Office Supplies", {"contact": "[EMAIL]"}]},
            "card [CARD]",
            7,
        ],
        "John Smith": "key kept",
    }
    assert result.hits == {"NAME": 1, "PHONE": 1, "EMAIL": 1, "CARD": 1}


def test_the_input_is_never_changed():
    before = copy.deepcopy(PAYLOAD)
    scrub(PAYLOAD)
    scrub_many([PAYLOAD, PAYLOAD])
    assert PAYLOAD == before


def test_hit_counts_are_per_value_even_when_a_batch_repeats_strings():
    results = scrub_many(["Paid John Smith and Jane Doe", "Office Supplies", "Paid John Smith and Jane Doe", {"a": "SSN 123-45-6789"}])
    assert [r.value for r in results] == ["Paid [NAME] and [NAME]", "Office Supplies", "Paid [NAME] and [NAME]", {"a": "SSN [SSN]"}]
    assert [r.hits for r in results] == [{"NAME": 2}, {}, {"NAME": 2}, {"SSN": 1}]
    assert all(isinstance(r, ScrubResult) for r in results)


def test_scrubbing_scrubbed_text_changes_nothing():
    key = tenant_key(b"deployment secret", "tenant-a")
    for options in ({}, {"pseudonym_key": key}):
        once = scrubbed("hey can you check the payment from john smith, card 4111111111111111", **options)
        assert scrubbed(once, **options) == once


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def _same_shape(original, scrubbed_value, key: str = "") -> bool:
    if isinstance(original, dict):
        return list(original) == list(scrubbed_value) and all(_same_shape(original[k], scrubbed_value[k], k) for k in original)
    if isinstance(original, list):
        # a list's items are under its key: {"iban": [10000]} is a keyed number too
        return len(original) == len(scrubbed_value) and all(_same_shape(o, s, key) for o, s in zip(original, scrubbed_value))
    if isinstance(original, str):
        return isinstance(scrubbed_value, str)
    if isinstance(scrubbed_value, str) and not isinstance(original, bool):  # a number under a key such as "acct"
        return scrubbed_value in PLACEHOLDERS.values() and any(word in key.lower() for word in ("acc", "ssn", "tin", "card", "iban", "sin", "tel", "cc", "pan", "nie", "nif", "bsn", "pps", "tfn", "ein", "rib"))
    return original is scrubbed_value or original == scrubbed_value


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_any_json_value_keeps_its_shape_keys_and_scalars(value):
    before = copy.deepcopy(value)
    result = scrub(value)
    assert value == before
    assert _same_shape(value, result.value)
    assert set(result.hits) <= set(PLACEHOLDERS)


# -- consistent pseudonyms -------------------------------------------------------------------------

def test_pseudonyms_are_off_by_default():
    assert scrubbed("Paid John Smith") == "Paid [NAME]"


def test_the_same_person_gets_the_same_token_within_a_tenant_and_another_across_tenants():
    tenant_a = Scrubber(pseudonym_key=tenant_key(b"deployment secret", "tenant-a"))
    tenant_b = Scrubber(pseudonym_key=tenant_key(b"deployment secret", "tenant-b"))
    spellings = ["Paid John Smith", "ZELLE TO JOHN SMITH", "ACH DEBIT SMITH, JOHN PPD"]
    tokens = {value.split("[")[1].split("]")[0] for value in (r.value for r in tenant_a.scrub_many(spellings))}
    assert len(tokens) == 1 and tokens.pop().startswith("NAME:")
    assert tenant_a.scrub("Paid John Smith").value != tenant_b.scrub("Paid John Smith").value
    assert tenant_a.scrub("Paid John Smith").value != tenant_a.scrub("Paid Jane Smith").value


def test_a_phone_written_two_ways_gets_one_token():
    scrubber = Scrubber(pseudonym_key=tenant_key(b"deployment secret", "tenant-a"))
    first, second = (r.value for r in scrubber.scrub_many(["call (212) 555-0134", "call +1 212 555 0134"]))
    assert first == second and first.startswith("call [PHONE:")
