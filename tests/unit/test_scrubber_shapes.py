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
    # a canton or province in parentheses after the locality
    ("CH", "chemin des Vignes 5\n1003 Lausanne (VD)", "[ADDRESS]"),
    ("NL", "Kerkstraat 12\n7551 AB Hengelo (Ov)", "[ADDRESS]"),
    # French and Spanish lines with no number or postcode
    ("FR", "Ship to avenue Foch", "Ship to [ADDRESS]"),
    ("FR", "livraison : Rue des Lilas", "livraison : [ADDRESS]"),
    ("FR", "Colis envoyé rue de la Roquette hier", "Colis envoyé [ADDRESS] hier"),
    ("ES", "enviar a calle Goya", "enviar a [ADDRESS]"),
    ("ES", "C. Serrano 41, 28001 Madrid", "[ADDRESS]"),
])
def test_more_street_shapes(country, text, expected):
    assert scrubbed(text, country=country) == expected


@pytest.mark.parametrize("text, expected", [
    # Canada Post's French types and abbreviations, typed without accents or without the mute e
    ("Livrer au 12 croissant des Pins, Gatineau (Québec) J9J 1A1", "Livrer au [ADDRESS]"),  # province in parentheses
    ("Livrer au 450 boul. René-Lévesque Ouest, bureau 300, Montréal QC H2Z 1Z8", "Livrer au [ADDRESS]"),
    ("Livrer au 77 allee des Érables, Lévis QC G6V 4Z1", "Livrer au [ADDRESS]"),
    ("Livrer au 143 allé Croteau svp", "Livrer au [ADDRESS] svp"),
    ("Livrer au 9 cote Sainte-Geneviève", "Livrer au [ADDRESS]"),
    ("Livrer au 1203-45 rue Saint-Denis, Montréal QC H2X 3K2", "Livrer au [ADDRESS]"),  # unit-civic number
    # Canada Post's English types that the US and Commonwealth lists lack
    ("Ship to 18 Maple Townline, Orillia ON L3V 6H1", "Ship to [ADDRESS]"),
    ("Ship to 230 Glenview Heath", "Ship to [ADDRESS]"),
    # a locality line is the address's when a province and postcode end it, however it is spelt
    ("Ship to 208 rue Georges\nSaint -Jovite Est, QC J8E 2T4", "Ship to [ADDRESS]"),
    # post-office boxes and rural routes
    ("Envoyer à C.P. 1234, succ. Centre-Ville, Montréal, QC H3C 3J7", "Envoyer à [ADDRESS]"),
    ("Envoyer à case postale 88, Rimouski QC G5L 7B7", "Envoyer à [ADDRESS]"),
    ("Remit to PO BOX 4001 STN A\nVICTORIA BC V8X 3X4", "Remit to [ADDRESS]"),
    ("Remit to RR 2, Mono Centre, ON L9W 6S3", "Remit to [ADDRESS]"),
])
def test_canadian_addresses(text, expected):
    assert scrubbed(text, country="CA") == expected


@pytest.mark.parametrize("text", [
    "je suis allé au bureau", "RR 5 rating", "Circuit Breaker 20A replaced", "Invoice 3 Private Sessions",
])
def test_words_near_canadian_street_shapes_that_are_no_address(text):
    assert "[ADDRESS]" not in scrubbed(text, country="CA")


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
