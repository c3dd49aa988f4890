"""Journal: a transaction -> the accounts of its journal entry,
e.g. {"debit_account": "6100", "credit_account": "2000"}.

Input: the classification agent's transaction plus an optional ``payment_method`` (card,
bank_transfer, bill_pay, petty_cash, ...). The two accounts are learned as one joint label
"6100|2000" rather than two independent outputs: the credit side depends on the debit side
(a refund credits the expense account its purchase debited), a joint label can only be a pair
the tenant has actually posted (never a debit and credit on the same account), and its
probability is the probability of the whole entry. A tenant posts tens of distinct pairs, few
enough for one classifier.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelops.agents.features import transaction_traits
from modelops.agents.inputs import Name, Transaction
from modelops.agents.text_classifier import TextClassifierAgent

SEPARATOR = "|"


class JournalInput(Transaction):
    payment_method: Name | None = None


def journal_traits(rows: list[dict]) -> list[dict[str, str]]:
    traits = transaction_traits(rows)
    for row, trait in zip(rows, traits):
        trait["payment_method"] = row.get("payment_method") or "unknown"
    return traits


def account(value: Any) -> str | None:
    """An account code as text ("6100" and 6100 are one account); None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    code = str(value).strip()
    return code if code and SEPARATOR not in code else None


class JournalAgent(TextClassifierAgent):
    name = "journal"
    labels_are_tenants_own = True  # account codes come from the tenant's own chart of accounts
    input_model = JournalInput
    word_fields = ["description", "merchant"]
    char_fields = ["merchant", "description"]
    traits = staticmethod(journal_traits)

    def label(self, expected_output: Any) -> str | None:
        if not isinstance(expected_output, Mapping):
            return None
        debit, credit = account(expected_output.get("debit_account")), account(expected_output.get("credit_account"))
        return f"{debit}{SEPARATOR}{credit}" if debit and credit else None

    def output(self, label: str, confidence: float) -> dict[str, Any]:
        debit, credit = label.split(SEPARATOR)
        return {"debit_account": debit, "credit_account": credit}
