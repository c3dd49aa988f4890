"""Street, phone and name shapes added after the first international release, and the brands the
first-name rule must leave alone. Every example is written by hand, not drawn from the benchmark's
generator."""
from __future__ import annotations

import pytest

from modelops.privacy.pii import scrub


def scrubbed(value, **options):
    return scrub(value, **options).value


@pytest.mark.parametrize("country, text, expected", [
    # a unit after a Romance street ends its name, and the city/province/postcode tail still follows
    ("CA", "Livrer au 4410 boulevard Laurier Suite 210, Québec, QC G1V 2M1 svp", "Livrer au [ADDRESS] svp"),
    ("CA", "moved to 88 rue Principale Apt. 4", "moved to [ADDRESS]"),
    ("CA", "12 rang Saint-Joseph, Sainte-Marie, QC G6E 3B2", "[ADDRESS]"),  # Québec's "rang" roads
    ("CA", "Ship to 123 Main St, Toronto ON M5V 2T6", "Ship to [ADDRESS]"),
    # Australian and New Zealand street types of AS/NZS 4819, a second type ending the street,
    # and New Zealand's rural delivery line
    ("AU", "Unit 4/12 Harbour Villas, Cairns QLD 4870", "[ADDRESS]"),
    ("AU", "deliver to 15 Mall Strip, Perth WA 6000 pls", "deliver to [ADDRESS] pls"),
    ("NZ", "27 Ocean Beach Road\nRD 2\nWhangarei 0172", "[ADDRESS]"),
    ("AU", "at 1/7 Wattle Cul-de-sac, Adelaide SA 5000", "at [ADDRESS]"),
    ("CA", "at 8227 rue St-Onge, Laval, QC H7N 1B2", "at [ADDRESS]"),  # "St-" is a saint, not a street type
    ("BE", "Frankrijklei 12, 2000 Antwerpen", "[ADDRESS]"),  # Antwerp's "-lei" avenues
    # French and Spanish lines with no number or postcode
    ("FR", "Ship to avenue Foch", "Ship to [ADDRESS]"),
    ("FR", "livraison : Rue des Lilas", "livraison : [ADDRESS]"),
    ("FR", "Colis envoyé rue de la Roquette hier", "Colis envoyé [ADDRESS] hier"),
    ("ES", "enviar a calle Goya", "enviar a [ADDRESS]"),
    ("ES", "C. Serrano 41, 28001 Madrid", "[ADDRESS]"),
])
def test_more_street_shapes(country, text, expected):
    assert scrubbed(text, country=country) == expected


@pytest.mark.parametrize("text", [
    "Ship to Place Cards Inc", "Invoice for Place Cards", "Avenue Q tickets",
    "Passage fees for the Route 66 trip",
])
def test_english_words_that_are_romance_street_types_stay(text):
    assert "[ADDRESS]" not in scrubbed(text)


@pytest.mark.parametrize("country, text", [
    ("IE", "ring 01512 3450309 after 5pm"),  # a German mobile written as in Germany, to an Irish tenant
    ("IE", "his number is 612 34 06 20"),  # a Spanish mobile
    ("AU", "Telefon: 0612 345 678"),
])
def test_a_foreign_national_number_after_a_phone_word(country, text):
    assert "[PHONE]" in scrubbed(text, country=country)


@pytest.mark.parametrize("text", ["ref 01512 3450309", "order 612 34 06 20 shipped"])
def test_a_foreign_national_shape_without_a_phone_word_stays(text):
    assert scrubbed(text, country="IE") == text


@pytest.mark.parametrize("text", [
    "paid Iberdrola for the electricity", "transfer to Revolut", "paid Mercadona 45.20", "from Endesa: new tariff",
    "Payment to Hugo Boss for uniforms", "paid Jimmy Choo in March", "transfer to Harvey Norman",
    "paid Albert Heijn", "Received from El Corte Inglés",
])
def test_brands_after_a_payment_word_stay(text):
    assert "[NAME]" not in scrubbed(text)


@pytest.mark.parametrize("text, expected", [
    ("paid Jelle for the cleaning", "paid [NAME] for the cleaning"),  # Dutch given names no US list holds
    ("transfer to Aoibheann for rent", "transfer to [NAME] for rent"),
    ("money sent to Grzegorz", "money sent to [NAME]"),
    ("paid Hugo for the cleaning", "paid [NAME] for the cleaning"),  # a given name alone is still a person
])
def test_given_names_of_the_served_countries_after_a_cue_go(text, expected):
    assert scrubbed(text) == expected
