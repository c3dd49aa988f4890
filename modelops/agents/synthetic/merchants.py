"""The world the transaction generators draw from: categories, their amounts and merchants, and how
banks print a merchant on a statement.

A merchant may appear under two categories with different descriptors (Uber trips and Uber Eats,
Apple's app store and its shops, Google Workspace and Google Ads); ``alternative`` is the category
some tenants book a merchant under instead (Costco as Meals rather than Office Supplies).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    name: str
    direction: str
    median_amount: float
    spread: float  # sigma of log(amount)
    weight: float  # share of an average tenant's transactions
    round_share: float  # how often the amount is a whole number of tens
    days: tuple[int, ...] = ()  # days of the month it falls on, when it is a scheduled payment


@dataclass(frozen=True)
class Merchant:
    name: str
    category: str
    descriptors: tuple[str, ...]  # {ref} is a per-row code, {store} a store number, {city} a city
    alternative: str | None = None


CATEGORIES = (
    Category("Software", "debit", 60, 1.0, 10, 0.05),
    Category("Travel", "debit", 240, 1.1, 8, 0.02),
    Category("Meals", "debit", 28, 0.8, 12, 0.02),
    Category("Rent", "debit", 4200, 0.5, 2, 0.9, days=(1, 2, 3)),
    Category("Utilities", "debit", 210, 0.6, 4, 0.05),
    Category("Payroll", "debit", 18000, 0.8, 3, 0.3, days=(14, 15, 28, 30)),
    Category("Office Supplies", "debit", 85, 0.9, 9, 0.03),
    Category("Advertising", "debit", 650, 1.0, 6, 0.2),
    Category("Professional Services", "debit", 1500, 0.9, 4, 0.5),
    Category("Insurance", "debit", 480, 0.6, 2, 0.3, days=(1, 5, 10)),
    Category("Bank Fees", "debit", 18, 0.5, 4, 0.6),
    Category("Taxes", "debit", 3200, 1.0, 2, 0.4, days=(15, 20, 30)),
    Category("Telecom", "debit", 140, 0.6, 4, 0.05),
    Category("Shipping", "debit", 45, 0.9, 5, 0.02),
    Category("Equipment", "debit", 1400, 0.7, 3, 0.1),
    Category("Revenue", "credit", 2400, 1.2, 12, 0.25),
    Category("Refunds", "credit", 90, 1.0, 3, 0.05),
    Category("Transfers", "credit", 5000, 0.9, 2, 0.8),
    Category("Interest", "credit", 12, 1.2, 1, 0.0, days=(28, 30, 31)),
)
CATEGORY = {category.name: category for category in CATEGORIES}

MERCHANTS = (
    Merchant("Adobe", "Software", ("ADOBE *CREATIVE CLD", "ADOBE *ACROPRO SUBS", "ADOBE SYSTEMS {ref}")),
    Merchant("Slack", "Software", ("SLACK T{ref}", "SLACK TECHNOLOGIES")),
    Merchant("Atlassian", "Software", ("ATLASSIAN {ref}", "ATLASSIAN PTY LTD")),
    Merchant("Zoom", "Software", ("ZOOM.US 888-799-9666", "ZOOM VIDEO COMM {ref}")),
    Merchant("Microsoft", "Software", ("MSFT *AZURE {ref}", "MICROSOFT*365 BUSINESS", "MSFT * E0{ref}")),
    Merchant("Google", "Software", ("GOOGLE *GSUITE_{ref}", "GOOGLE *WORKSPACE", "GOOGLE *CLOUD {ref}")),
    Merchant("GitHub", "Software", ("GITHUB, INC.", "GITHUB *{ref}")),
    Merchant("Dropbox", "Software", ("DROPBOX*{ref}", "DROPBOX BUSINESS")),
    Merchant("Amazon Web Services", "Software", ("AWS EMEA {ref}", "AMAZON WEB SERVICES AWS.AMAZON.CO")),
    Merchant("Notion", "Software", ("NOTION LABS, INC.", "NOTION.SO {ref}")),
    Merchant("Intuit", "Software", ("INTUIT *QBOOKS ONLINE", "INTUIT *{ref}"), alternative="Professional Services"),
    Merchant("Apple", "Software", ("APPLE.COM/BILL", "APPLE.COM/US {ref}")),
    Merchant("Delta Air Lines", "Travel", ("DELTA AIR {ref}", "DELTA AIR LINES ATLANTA")),
    Merchant("United Airlines", "Travel", ("UNITED {ref}", "UNITED AIRLINES HOUSTON")),
    Merchant("Lufthansa", "Travel", ("LUFTHANSA {ref}", "DLH LUFTHANSA")),
    Merchant("Uber", "Travel", ("UBER *TRIP {ref}", "UBER TRIP HELP.UBER.COM")),
    Merchant("Lyft", "Travel", ("LYFT *RIDE {ref}", "LYFT *{ref}")),
    Merchant("Marriott", "Travel", ("MARRIOTT {city}", "MARRIOTT HOTELS {store}")),
    Merchant("Hilton", "Travel", ("HILTON HOTELS {city}", "HILTON GARDEN INN {store}")),
    Merchant("Airbnb", "Travel", ("AIRBNB * {ref}", "AIRBNB HMQ{ref}")),
    Merchant("Expedia", "Travel", ("EXPEDIA {ref}", "EXPEDIA.COM")),
    Merchant("Amtrak", "Travel", ("AMTRAK {ref}", "AMTRAK .COM {store}")),
    Merchant("Hertz", "Travel", ("HERTZ RENT-A-CAR {city}", "HERTZ #{store}")),
    Merchant("Starbucks", "Meals", ("STARBUCKS STORE {store}", "SQ *STARBUCKS {city}"), alternative="Office Supplies"),
    Merchant("Chipotle", "Meals", ("CHIPOTLE {store}", "CHIPOTLE ONLINE")),
    Merchant("Pret A Manger", "Meals", ("PRET A MANGER {city}", "PRET {store}")),
    Merchant("Uber", "Meals", ("UBER *EATS {ref}", "UBER EATS {ref}")),
    Merchant("DoorDash", "Meals", ("DOORDASH*{ref}", "DD *DOORDASH {city}")),
    Merchant("Grubhub", "Meals", ("GRUBHUB*{ref}", "GRUBHUB {city}")),
    Merchant("Panera Bread", "Meals", ("PANERA BREAD #{store}", "PANERA {city}")),
    Merchant("Sweetgreen", "Meals", ("SWEETGREEN {city}", "SQ *SWEETGREEN {store}")),
    Merchant("Blue Door Cafe", "Meals", ("SQ *BLUE DOOR CAFE", "TST* BLUE DOOR CAFE {city}")),
    Merchant("Trattoria Roma", "Meals", ("TST* TRATTORIA ROMA", "TRATTORIA ROMA {city}")),
    Merchant("WeWork", "Rent", ("WEWORK {ref}", "WEWORK COMPANIES")),
    Merchant("Regus", "Rent", ("REGUS MANAGEMENT {ref}", "IWG REGUS {city}")),
    Merchant("Harbor Point Properties", "Rent", ("HARBOR POINT PROPERTIES", "HARBOR PT PROP LLC {ref}")),
    Merchant("Oakridge Holdings", "Rent", ("OAKRIDGE HOLDINGS RENT", "OAKRIDGE HLDGS {ref}")),
    Merchant("PG&E", "Utilities", ("PGANDE WEB ONLINE {ref}", "PG&E ELECTRIC")),
    Merchant("Con Edison", "Utilities", ("CON ED OF NY {ref}", "CONSOLIDATED EDISON")),
    Merchant("Duke Energy", "Utilities", ("DUKE ENERGY {ref}", "DUKE-ENERGY PAYMENT")),
    Merchant("City Water Dept", "Utilities", ("CITY OF {city} WATER", "{city} WATER UTIL {ref}")),
    Merchant("National Grid", "Utilities", ("NATIONAL GRID {ref}", "NATL GRID US")),
    Merchant("Gusto", "Payroll", ("GUSTO PAYROLL {ref}", "GUSTO NET {ref}", "GUSTO TAX {ref}")),
    Merchant("ADP", "Payroll", ("ADP WAGE PAY {ref}", "ADP PAYROLL FEES", "ADP TX/FINCL SVC")),
    Merchant("Paychex", "Payroll", ("PAYCHEX EIB INVOICE", "PAYCHEX-RCX PAYROLL")),
    Merchant("Rippling", "Payroll", ("RIPPLING {ref}", "PEOPLE CENTER INC")),
    Merchant("Staples", "Office Supplies", ("STAPLES {store}", "STAPLES.COM {ref}")),
    Merchant("Office Depot", "Office Supplies", ("OFFICE DEPOT #{store}", "ODP OFFICEMAX {store}")),
    Merchant("Amazon", "Office Supplies", ("AMZN MKTP US*{ref}", "AMAZON.COM*{ref}", "AMZN Mktp US {ref}")),
    Merchant("Costco", "Office Supplies", ("COSTCO WHSE #{store}", "COSTCO.COM {ref}"), alternative="Meals"),
    Merchant("Walmart", "Office Supplies", ("WAL-MART #{store}", "WALMART.COM {ref}")),
    Merchant("Uline", "Office Supplies", ("ULINE *SHIP SUPPLIES", "ULINE {ref}"), alternative="Shipping"),
    Merchant("Google", "Advertising", ("GOOGLE *ADS{ref}", "GOOGLE ADS {ref}")),
    Merchant("Meta", "Advertising", ("FACEBK *{ref}", "META PLATFORMS ADS {ref}")),
    Merchant("LinkedIn", "Advertising", ("LINKEDIN {ref}", "LNKD.IN ADS {ref}")),
    Merchant("Mailchimp", "Advertising", ("MAILCHIMP *MONTHLY", "INTUIT *MAILCHIMP"), alternative="Software"),
    Merchant("Upwork", "Professional Services", ("UPWORK -{ref}", "UPWORK ESCROW INC")),
    Merchant("Fiverr", "Professional Services", ("FIVERR {ref}", "FIVERR INTERNATIONAL")),
    Merchant("Baker & Lowe LLP", "Professional Services", ("BAKER LOWE LLP {ref}", "BAKER & LOWE LLP")),
    Merchant("Chen CPA Group", "Professional Services", ("CHEN CPA GROUP", "CHEN CPA {ref}")),
    Merchant("LegalZoom", "Professional Services", ("LEGALZOOM* {ref}", "LEGALZOOM.COM")),
    Merchant("Hiscox", "Insurance", ("HISCOX INC {ref}", "HISCOX INSURANCE")),
    Merchant("State Farm", "Insurance", ("STATE FARM RO {ref}", "STATE FARM INSURANCE")),
    Merchant("Next Insurance", "Insurance", ("NEXT INSURANCE {ref}", "NEXT-INSURANCE.COM")),
    Merchant("", "Bank Fees", ("MONTHLY SERVICE FEE", "WIRE TRANSFER FEE", "OVERDRAFT ITEM FEE",
                               "FOREIGN TRANSACTION FEE", "STOP PAYMENT FEE")),
    Merchant("IRS", "Taxes", ("IRS USATAXPYMT {ref}", "US TREASURY TAX PYMT {ref}")),
    Merchant("State Dept of Revenue", "Taxes", ("{city} DEPT REVENUE {ref}", "STATE DEPT OF REV TAX PMT")),
    Merchant("HMRC", "Taxes", ("HMRC VAT {ref}", "HMRC PAYE {ref}")),
    Merchant("Verizon", "Telecom", ("VZWRLSS*APOCC VISE", "VERIZON WIRELESS {ref}")),
    Merchant("AT&T", "Telecom", ("ATT*BILL PAYMENT", "AT&T {ref}")),
    Merchant("T-Mobile", "Telecom", ("T-MOBILE*AUTO PAY", "TMOBILE POSTPAID {ref}")),
    Merchant("Comcast", "Telecom", ("COMCAST BUSINESS {ref}", "COMCAST CABLE COMM"), alternative="Utilities"),
    Merchant("FedEx", "Shipping", ("FEDEX {ref}", "FEDEX OFFICE {store}")),
    Merchant("UPS", "Shipping", ("UPS*{ref}", "THE UPS STORE {store}")),
    Merchant("USPS", "Shipping", ("USPS PO {store}", "USPS.COM CLICKNSHIP")),
    Merchant("DHL", "Shipping", ("DHL EXPRESS {ref}", "DHL *{ref}")),
    Merchant("Apple", "Equipment", ("APPLE STORE #R{store}", "APPLE ONLINE STORE {ref}")),
    Merchant("Dell", "Equipment", ("DELL MARKETING L.P.", "DELL {ref}")),
    Merchant("Best Buy", "Equipment", ("BEST BUY {store}", "BESTBUY.COM {ref}")),
    Merchant("Amazon", "Equipment", ("AMZN MKTP US*{ref}", "AMAZON.COM*{ref}")),
    Merchant("Lenovo", "Equipment", ("LENOVO US {ref}", "LENOVO.COM")),
    Merchant("Stripe", "Revenue", ("STRIPE TRANSFER ST-{ref}", "STRIPE PAYOUT {ref}")),
    Merchant("Shopify", "Revenue", ("SHOPIFY PAYOUT {ref}", "SHOPIFY* {ref}")),
    Merchant("Square", "Revenue", ("SQUARE INC DEPOSIT {ref}", "SQ TRANSFER {ref}")),
    Merchant("PayPal", "Revenue", ("PAYPAL TRANSFER {ref}", "PAYPAL *INST XFER")),
    Merchant("Acme Corp", "Revenue", ("ACME CORP INV {ref}", "ACME CORPORATION PAYMENT")),
    Merchant("Globex", "Revenue", ("GLOBEX LLC {ref}", "GLOBEX INC ACH")),
    Merchant("Amazon", "Refunds", ("AMZN MKTP US REFUND {ref}", "AMAZON.COM RETURN {ref}")),
    Merchant("United Airlines", "Refunds", ("UNITED REFUND {ref}", "UNITED AIRLINES CREDIT")),
    Merchant("Best Buy", "Refunds", ("BEST BUY RETURN {store}",)),
    Merchant("Staples", "Refunds", ("STAPLES CREDIT {store}",)),
    Merchant("", "Transfers", ("ONLINE TRANSFER FROM CHK ...{store}", "TRANSFER FROM SAVINGS {ref}",
                               "OWNER CONTRIBUTION {ref}")),
    Merchant("", "Interest", ("INTEREST PAYMENT", "INTEREST EARNED", "MONTHLY INTEREST CREDIT")),
)

# Names for merchants that appear only after a drift, so the model has never seen them.
NEW_MERCHANTS = {
    "Software": ("Nimbus Cloud", "Quillset", "Taskbeam"), "Travel": ("Skyloop Air", "Railjet Tours"),
    "Meals": ("Ramen Lab", "Verde Kitchen"), "Office Supplies": ("Paperline", "Deskhaus"),
    "Advertising": ("Adwave", "Promolift"), "Shipping": ("Parcelnet", "Swiftbox"),
    "Professional Services": ("Northwind Advisory", "Ledgerlight Partners"), "Revenue": ("Initech", "Hooli"),
}
CITIES = ("SEATTLE WA", "AUSTIN TX", "DENVER CO", "BOSTON MA", "CHICAGO IL", "NEW YORK NY", "OAKLAND CA",
          "PORTLAND OR", "MIAMI FL", "ATLANTA GA")
# How a bank wraps a card or ACH descriptor; each tenant's bank uses a few of these.
CARD_WRAPPERS = ("{d}", "POS PURCHASE {d}", "CARD {last4} {d}", "DEBIT CARD PURCHASE - {d}", "PURCHASE AUTHORIZED ON {md} {d}",
                 "CHECKCARD {md} {d}", "VISA {d}")
TRANSFER_WRAPPERS = ("ACH DEBIT {d}", "{d} ACH PMT", "ELECTRONIC PMT {d}", "AUTOPAY {d}", "DIRECT DEBIT {d}")
CREDIT_WRAPPERS = ("ACH CREDIT {d}", "DEPOSIT {d}", "{d}", "INCOMING WIRE {d}", "MOBILE DEPOSIT {d}")
