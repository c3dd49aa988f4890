"""Synthetic support messages to an accounting platform, and their intents.

Messages are templates with slots (banks, reports, months, people), greetings and sign-offs,
lower-casing and typos. A tenant (``tenant_seed``) has its own intent mix, its users' typo rate
and greeting habits. ``drift`` brings phrasings the model has not seen (users start saying "feed"
for bank connection, "seats" for users) and moves the intent mix.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from modelops.agents.synthetic.common import check_drift, noisy_choice, rows_rng, tenant_rng

TEMPLATES = {
    "connect_bank": ("how do i connect my {bank} account", "my {bank} transactions stopped syncing",
                     "bank connection to {bank} keeps failing", "can't link {bank} to the app",
                     "nothing has imported from {bank} since {month}", "is {bank} supported for automatic import"),
    "reset_password": ("i forgot my password", "can't log in to my account", "please reset my password",
                       "locked out after too many attempts", "the two factor code never arrives", "login page says wrong password"),
    "export_report": ("how do i export the {report} to {fmt}", "download the {report} for {month} as {fmt}",
                      "need the {report} in {fmt} for my accountant", "can i schedule the {report} export every month"),
    "invoice_not_sent": ("my invoice to {customer} never arrived", "{customer} says they did not get invoice {ref}",
                         "invoice emails are not going out", "customer didn't receive the invoice i sent on {month} 3"),
    "categorize_transaction": ("how do i change the category of a transaction", "wrong category on my {merchant} charge",
                               "recategorize {merchant} as {category}", "why is {merchant} booked under {category}",
                               "set a rule so {merchant} is always {category}"),
    "add_user": ("how do i invite my accountant", "add a new user to our workspace", "give {name} access to the books",
                 "can {name} get read only access", "how many users can we add"),
    "change_plan": ("how do i upgrade to the {plan} plan", "i want to change my subscription plan",
                    "downgrade us to {plan}", "what does the {plan} plan include", "switch to annual billing"),
    "cancel_subscription": ("i want to cancel my subscription", "how do i close my account", "please stop my subscription",
                            "cancel at the end of {month}", "we are moving to another tool, cancel us"),
    "billing_question": ("why was i charged {amount} this month", "what is this {amount} charge from you",
                         "i was charged twice in {month}", "where can i find my billing invoices", "update the card you bill"),
    "tax_question": ("when is the {tax} due", "how do i file {tax} for {quarter}", "which {tax} rate applies to {category}",
                     "does the app calculate {tax} automatically", "my {tax} report looks wrong for {quarter}"),
    "payroll_issue": ("payroll didn't run on friday", "{name} was paid the wrong amount", "payslips for {month} are missing",
                      "how do i add a new employee to payroll", "payroll tax filing failed"),
    "reconciliation_help": ("my balance doesn't match the {bank} statement", "how do i reconcile {month}",
                            "duplicate transactions after reconciling {bank}", "how do i undo a reconciliation",
                            "the reconciliation is off by {amount}"),
    "receipt_upload": ("how do i attach a receipt", "receipt upload keeps failing", "can i email receipts to the app",
                       "the app doesn't read my {merchant} receipt", "where do uploaded receipts go"),
}
# Phrasings that appear only with drift.
DRIFT_TEMPLATES = {
    "connect_bank": ("my {bank} feed is busted again", "feed from {bank} is stuck"),
    "add_user": ("we need two more seats", "how do i buy another seat for {name}"),
    "billing_question": ("what's this {amount} debit from you guys", "you billed us {amount} out of nowhere"),
    "reconciliation_help": ("books don't tie out to {bank}", "can't tie out {month}"),
}
INTENTS = tuple(TEMPLATES)
SLOTS = {
    "bank": ("Chase", "Bank of America", "Wells Fargo", "Barclays", "HSBC", "Revolut", "Monzo", "Citi", "TD Bank"),
    "month": ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october"),
    "report": ("profit and loss", "balance sheet", "cash flow statement", "general ledger", "trial balance", "aged receivables"),
    "fmt": ("excel", "csv", "pdf", "xlsx"),
    "customer": ("acme", "globex", "initech", "our biggest client", "a customer"),
    "ref": ("INV-1042", "#2231", "INV 88", "number 5120"),
    "merchant": ("amazon", "uber", "starbucks", "adobe", "staples", "delta"),
    "category": ("travel", "meals", "software", "office supplies", "rent"),
    "name": ("my bookkeeper", "sarah", "our cfo", "john", "the new hire"),
    "plan": ("premium", "basic", "plus", "advanced", "starter"),
    "amount": ("$49", "$120", "29.99", "$300", "eur 45"),
    "tax": ("vat", "sales tax", "gst", "quarterly estimated tax", "1099"),
    "quarter": ("q1", "q2", "q3", "last quarter"),
}
GREETINGS = ("", "", "hi, ", "hello ", "hey team, ", "good morning. ", "quick question: ")
SIGN_OFFS = ("", "", "", " thanks", " thank you!", " pls help", " asap", "?", " any idea?")


@dataclass(frozen=True)
class Users:
    intent_mix: np.ndarray
    drift_mix: np.ndarray
    typo_rate: float
    greeting_share: float


@lru_cache(maxsize=64)
def users(tenant_seed: int) -> Users:
    rng = tenant_rng(tenant_seed, "chat")
    return Users(intent_mix=rng.dirichlet(np.full(len(INTENTS), 3.0)), drift_mix=rng.dirichlet(np.full(len(INTENTS), 0.7)),
                 typo_rate=float(rng.uniform(0.0, 0.04)), greeting_share=float(rng.uniform(0.2, 0.8)))


def chat_rows(n: int, *, seed: int = 0, tenant_seed: int = 0, drift: float = 0.0,
              noise: float = 0.03) -> list[tuple[dict, dict]]:
    """(input_data = {"message": ...}, {"intent": ...})."""
    people = users(tenant_seed)
    drift = check_drift(drift)
    rng = rows_rng(seed, tenant_seed, "chat")
    mix = (1 - drift) * people.intent_mix + drift * people.drift_mix
    intents = rng.choice(len(INTENTS), size=n, p=mix / mix.sum())
    rows, labels = [], []
    for index in intents:
        intent = INTENTS[index]
        fresh = intent in DRIFT_TEMPLATES and rng.random() < 0.6 * drift
        templates = DRIFT_TEMPLATES[intent] if fresh else TEMPLATES[intent]
        text = templates[int(rng.integers(len(templates)))]
        text = text.format(**{slot: values[int(rng.integers(len(values)))] for slot, values in SLOTS.items()})
        if rng.random() < people.greeting_share:
            text = GREETINGS[int(rng.integers(len(GREETINGS)))] + text
        text = _typos(rng, text + SIGN_OFFS[int(rng.integers(len(SIGN_OFFS)))], people.typo_rate)
        rows.append({"message": text[0].upper() + text[1:] if rng.random() < 0.5 else text})
        labels.append(intent)
    labels = noisy_choice(rows_rng(seed, tenant_seed, "chat-noise"), labels, list(INTENTS), noise)
    return [(row, {"intent": label}) for row, label in zip(rows, labels)]


def _typos(rng: np.random.Generator, text: str, rate: float) -> str:
    """Swap neighbouring letters at ``rate`` per character: fat fingers on a phone."""
    chars = list(text)
    for i in np.flatnonzero(rng.random(len(chars) - 1) < rate):
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)
