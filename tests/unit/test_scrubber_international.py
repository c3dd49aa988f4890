"""The scrubber beyond US formats: addresses and phones of the served countries, numbers under
sensitive keys in every JSON type, cards of every network and separator style, names written
"LAST, FIRST" or as a first name after a cue, and city names left alone. Every example is written
by hand, not drawn from the benchmark's generator."""
from __future__ import annotations

import pytest

from modelops.privacy.pii import Scrubber, scrub


def scrubbed(value, **options):
    return scrub(value, **options).value


@pytest.mark.parametrize("country, text, expected", [
    ("GB", "Please send it to 10 Downing Street, London SW1A 2AA.", "Please send it to [ADDRESS]."),
    ("GB", "Flat 4, 27 Sidney Mews\nBrighton\nBN1 1AA", "[ADDRESS]"),
    ("IE", "Deliver to 45 Main Street, Dublin 2, D02 X285 today", "Deliver to [ADDRESS] today"),
    ("CA", "Office: 220 Yonge St, Toronto, ON M5B 2H1", "Office: [ADDRESS]"),
    ("CA", "Livrer au 1200 rue Sainte-Catherine, Montréal, QC H3B 1K9", "Livrer au [ADDRESS]"),
    ("AU", "Unit 5, 12 Kent Parade, Sydney NSW 2000", "[ADDRESS]"),
    ("AU", "Remit to 3/18 Ocean Esplanade, Manly QLD 4179", "Remit to [ADDRESS]"),
    ("DE", "Rechnung an Hauptstraße 5, 10115 Berlin", "Rechnung an [ADDRESS]"),
    ("DE", "Lieferung: Berliner Straße 12a, 60311 Frankfurt am Main", "Lieferung: [ADDRESS]"),
    ("DE", "Am Lindenhof 3, 80331 München", "[ADDRESS]"),
    ("FR", "Facture au 12 bis rue de la Paix, 75002 Paris", "Facture au [ADDRESS]"),
    ("FR", "livraison 8, avenue Jean Jaurès 69007 Lyon", "livraison [ADDRESS]"),
    ("ES", "Enviar a Calle Mayor, 5, 28013 Madrid", "Enviar a [ADDRESS]"),
    ("ES", "C/ de Alcalá 45, 3º B, 28014 Madrid", "[ADDRESS]"),
    ("NL", "Factuuradres: Kerkstraat 12, 1017 GA Amsterdam", "Factuuradres: [ADDRESS]"),
    ("NL", "stuur naar Prinsengracht 263-267 graag", "stuur naar [ADDRESS] graag"),
])
def test_addresses_of_each_served_country(country, text, expected):
    assert scrubbed(text, country=country) == expected


@pytest.mark.parametrize("text", [
    "Spring 2024 catalogue", "Training 5 sessions", "Parking 2 hours", "Q3 2024 Payroll Run",
    "Invoice 2024 for Place Cards", "Hotel in Senftenberg 3 nights",
])
def test_words_with_a_number_that_are_no_street(text):
    assert scrubbed(text) == text


@pytest.mark.parametrize("country, text", [
    ("DE", "Ruf an: 030 12345678"), ("DE", "Tel. (030) 1234 5678"), ("GB", "call 020 7946 0958"),
    ("GB", "mobile 07700 900123"), ("FR", "tél 06 12 34 56 78"), ("ES", "móvil 612 34 56 78"),
    ("NL", "bel 020-1234567"), ("IE", "call 087 123 4567"), ("AU", "phone (02) 9374 4000"),
    ("AU", "mob 0412 345 678"), ("IT", "cellulare 312 345 6789"),
])
def test_national_phone_numbers(country, text):
    assert scrubbed(text, country=country).endswith("[PHONE]")


def test_a_neighbours_number_is_read_too_and_a_tenant_of_no_country_reads_every_served_one():
    assert scrubbed("Tel. 01 42 68 53 00", country="DE") == "Tel. [PHONE]"  # Paris, for a German tenant
    assert scrubbed("Ruf an: 030 12345678") == "Ruf an: [PHONE]"


@pytest.mark.parametrize("text", [
    "invoice due 01 02 2024", "Datum 12.03.2024", "ref 0042 1234", "total 1 234 567", "SSN 000-12-3456",
])
def test_dates_amounts_and_references_are_not_national_phones(text):
    assert "[PHONE]" not in scrubbed(text, country="FR")


def test_a_malformed_country_is_refused():
    with pytest.raises(ValueError, match="ISO 3166-1"):
        scrub("hello", country="Germany")
    with pytest.raises(ValueError):
        Scrubber(country="1X")


@pytest.mark.parametrize("key", ["account_number", "accountNumber", "acct", "bank_account_no", "iban", "routing_number",
                                 "sort_code", "sortCode", "card_number", "ssn", "tax_id", "bsb"])
@pytest.mark.parametrize("value", [123456789012, 123456789012.0, "123456789012", "12-34-56-78"])
def test_numbers_under_sensitive_keys_whatever_their_json_type(key, value):
    result = scrub({key: value, "memo": "monthly"})
    assert isinstance(result.value[key], str) and result.value[key].startswith("[")
    assert result.value["memo"] == "monthly"
    assert sum(result.hits.values()) == 1


def test_a_generic_key_takes_its_parents_meaning_and_ledger_accounts_are_kept():
    assert scrubbed({"bank_account": {"number": 98765432}}) == {"bank_account": {"number": "[ACCOUNT]"}}
    assert scrubbed({"gl_account": 610000, "account_type": "expense", "account": 6100, "account_name": "Rent 2024"}) == {
        "gl_account": 610000, "account_type": "expense", "account": 6100, "account_name": "Rent 2024"}
    assert scrubbed({"acct": True, "iban": None}) == {"acct": True, "iban": None}


@pytest.mark.parametrize("digits", [
    "4111111111111111", "4222222222222", "4000056655665556", "5555555555554444", "2223003122003222",
    "378282246310005", "6011000990139424", "6200000000000005", "30569309025904", "36227206271667",
    "3566002020360505", "3530111333300000", "213112345678904", "180012345678905", "6304000000000000",
])
@pytest.mark.parametrize("separator", ["", " ", "-", ".", "  "])
def test_cards_of_every_network_in_every_separator_style(digits, separator):
    groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
    number = separator.join(groups)
    assert scrubbed(f"paid with {number} yesterday") == "paid with [CARD] yesterday"


@pytest.mark.parametrize("text, expected", [
    ("PAYROLL MUELLER, HANS NET PAY", "PAYROLL [NAME] NET PAY"),
    ("ACH DEBIT KOWALSKI, WITOLD PPD", "ACH DEBIT [NAME] PPD"),
    ("Employee: ROSENOW, HANS JÜRGEN", "Employee: [NAME]"),
    ("Dubois, Amélie - expense claim", "[NAME] - expense claim"),
    ("WIRE FROM OKAFOR, CHIDI REF 4471", "WIRE FROM [NAME] REF 4471"),
])
def test_last_comma_first(text, expected):
    assert scrubbed(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("paid Ingrid for the cleaning", "paid [NAME] for the cleaning"),
    ("transfer to Hüseyin for rent", "transfer to [NAME] for rent"),
    ("from Margarethe: receipt attached", "from [NAME]: receipt attached"),
    ("Ms Okonkwo approved it", "Ms [NAME] approved it"),
    ("Thanks,\nSiobhan", "Thanks,\n[NAME]"),
    ("Kind regards,\nJoost", "Kind regards,\n[NAME]"),
])
def test_a_first_name_alone_after_a_cue(text, expected):
    assert scrubbed(text) == expected


@pytest.mark.parametrize("text", [
    "Travel to Berlin for the client meeting", "Flights from Berlin", "invoice from Berlin", "Hotel in Lyon 2 nights",
    "the Madrid office supplies", "paid to Amsterdam branch", "shipped from Rotterdam",
])
def test_city_names_are_not_names(text):
    assert scrubbed(text) == text
