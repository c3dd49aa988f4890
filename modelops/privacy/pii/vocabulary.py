"""Words of the accounting and banking trade that are never a person's name here, even when the name
lists hold them (Price, Bill, June) or the dictionary does not (ACH, LLC, Zelle).

Folded to lower case; the detector checks these before it consults any name list.
"""
from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Abbreviations are left out: Jan, Mar, Jun and Sun are people's names too.
MONTHS_AND_DAYS = _words("""
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
""")

# Bank descriptor codes, payment rails and card networks.
BANKING = _words("""
ach pos atm eft dda xfer trf trn txn trx ref refs conf confirmation id ids orig descr des indn ind sec ppd ccd
ckcd checkcard chkcard cashout cashback payout dbt crd debit credit purchase pmt pymt pymnt paymt payment payments deposit withdrawal
recurring online mobile transfer wire incoming outgoing instant zelle venmo paypal cashapp sq tst amzn mktp
www com net org inc llc llp lp ltd corp co plc gmbh pllc pc dba visa mastercard mc amex discover jcb diners
unionpay interac swift iban bic aba rtn routing acct chk sav savings checking ending memo invoice inv po
billing remit remittance payee payer payor beneficiary bnf originator refund reversal chargeback fee fees
interest dividend payroll paycheck direct dd irs eftps usps ups fedex dhl aws gcp saas api sku qty
""")

# Ledger words: account names, document kinds, periods.
ACCOUNTING = _words("""
gl coa cogs ap ar jv je ytd mtd qtd fy q1 q2 q3 q4 cpa ein tin ssn itin w2 w4 w9 i9 hr llc
expense expenses revenue income sales cost costs tax taxes vat gst hst accrual accrued prepaid depreciation
amortization receivable receivables payable payables equity liability liabilities asset assets capital
retained earnings ledger journal entry entries reconciliation reconcile reconciled statement statements
office supplies software subscription subscriptions utilities rent lease insurance travel meals entertainment
mileage fuel gas repairs maintenance marketing advertising consulting contractor contractors professional
legal accounting bookkeeping wages salary salaries bonus commission commissions benefits health dental vision
retirement pension shipping freight postage inventory equipment furniture vehicle vehicles loan loans mortgage
principal charge charges card cards bank cash petty misc miscellaneous uncategorized other general
""")

# US states and their postal codes: the last words of most card descriptors ("AUSTIN TX").
STATE_CODES = _words("""
al ak az ar ca co ct de dc fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj nm ny nc nd oh ok
or pa ri sc sd tn tx ut vt va wa wv wi wy pr gu vi
""")
STATE_NAMES = _words("""
alabama alaska arizona arkansas california colorado connecticut delaware florida hawaii idaho illinois indiana
iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi missouri montana
nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah vermont wisconsin wyoming hampshire
""")
# Georgia, Virginia, Carolina, Dakota and Washington are left out: they are people's names too.

# Chat shorthand and file words, which no dictionary lists but no one is called.
CHAT = _words("""
ok okay thx thanx tks ty pls plz asap lol btw fyi idk np omg imo tbh yep nope yeah hmm pdf csv xlsx xls docx jpg png
url app apps login logout signup email emails inbox
""")

NEVER_NAMES = MONTHS_AND_DAYS | BANKING | ACCOUNTING | STATE_NAMES | CHAT

# A name followed by one of these is a business: "Johnson Landscaping", "Miller & Sons", "Rosa's Cafe".
BUSINESS_WORDS = _words("""
inc llc llp lp ltd corp corporation co company companies group holdings partners associates enterprises
industries services service solutions consulting consultants plc gmbh pllc pc cpa sons brothers bros trust
foundation bank financial capital insurance realty properties property management law firm attorneys cpas
accounting bookkeeping plumbing electric electrical heating cooling hvac roofing landscaping lawn construction
contracting builders painting cleaning janitorial pest auto automotive tire tires motors repair garage towing
hardware supply supplies lumber market grocery deli bakery cafe coffee restaurant grill kitchen bar tavern pub
pizza pizzeria diner steakhouse bbq catering florist flowers salon spa barber studio photography design
dental dentistry clinic medical pharmacy veterinary hospital printing print signs storage moving logistics
trucking transport freight travel tours farms farm winery brewery store stores shop outlet mart
""")
