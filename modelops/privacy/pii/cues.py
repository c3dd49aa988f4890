"""The words around a run of name-like words that say what it is: a person (after "Mr.", "ZELLE
TO", "paid"; before "said"), a shop ("POS PURCHASE ...", "... charge"), or a city before a state code.

Folded to lower case, as the name detector compares them.
"""
from __future__ import annotations

# Cues, strongest first. After a "person" cue (a title, a greeting, a role, a person-to-person
# payment rail) even words no list knows are a name; after a "strong" one (a payment phrase, which
# may as well name a company) the words must be listed names; a "weak" one only helps a listed name.
PERSON_CUES = frozenset("""
mr mrs ms miss mx dr prof dear hi hello hey attn attention regards sincerely thanks cc name payee beneficiary
bnf recipient employee contractor customer client tenant landlord cardholder owner signed
""".split())
PERSON_TO_PERSON = frozenset("zelle venmo cashapp".split())
PERSON_TO_PERSON_REACH = 3  # words back: "ZELLE PAYMENT TO", "VENMO CASHOUT FROM"
PAYMENT_WORDS = frozenset("""
transfer xfer payment pmt sent send paid wire refund reimbursement reimburse check deposit credit remittance
transferred received payroll
""".split())
WEAK_CUES = frozenset("""
to from paid pay by with per contact ask asked tell told call called email emailed text texted via and or
meet met spoke thank
""".split()) | PAYMENT_WORDS
CONVERSATION_WORDS = frozenset("spoke met talked meeting chatted call".split())
# Two-word cues, as (last word, the word before it).
PERSON_PAIRS = frozenset([("app", "cash")] + [("with", word) for word in CONVERSATION_WORDS])
STRONG_PAIRS = frozenset((joiner, word) for joiner in ("to", "from", "for") for word in PAYMENT_WORDS)
# The first or last word of a two-word city: what is left of a payee's run before a state code.
CITY_FIRST_WORDS = frozenset("san santa los las saint st fort ft new north south east west port lake mount mt palm el grand corpus baton salt".split())
CITY_LAST_WORDS = frozenset("city beach springs falls park heights rapids island".split())
# Card purchases are made at merchants: words around a run that make it a shop, not a person.
MERCHANT_BEFORE = frozenset("purchase purchases checkcard pos recurring subscription merchant vendor store".split())
MERCHANT_BEFORE_PAIRS = frozenset([("on", "authorized")])
MERCHANT_AFTER = frozenset("charge charges subscription invoice invoices bill bills order orders purchase store location".split())
AFTER_CUES = frozenset("said says asked called emailed wrote approved signed confirmed mentioned sent texted replied".split())
# A sign-off at the end of a line makes the next line's name-like words a signature: "Thanks,\nAnna".
SIGN_OFFS = frozenset("""
thanks thank thx cheers regards best sincerely greetings yours gruss grusse grusze viele cordialement salutations
amities bises saludos atentamente abrazos groet groeten ciao saluti
""".split())
# Words that make the next words a place: "travel to Berlin", "hotel in Lyon", "the Madrid office".
PLACE_BEFORE = frozenset("""
travel travelled traveled trip trips flight flights fly flew train drive drove taxi hotel hotels office offices branch
store warehouse airport relocated moved relocation conference fair expo site plant depot
""".split())
PLACE_AFTER = frozenset("office branch airport store warehouse site plant depot hotel trip".split())
