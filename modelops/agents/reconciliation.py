"""Reconciliation: does a ledger entry explain a bank line, and which of several does best.

Two input shapes, both with a ``bank_line`` (``description``, ``amount``, ``date``, optional
``currency`` and ``reference``):

- a pair, ``{"bank_line": {...}, "candidate": {...}}`` -> ``{"match": true, "score": 0.97}``;
- a ranking, ``{"bank_line": {...}, "candidates": [{...}, ...]}`` ->
  ``{"matches": [{"id": ..., "score": ...}, ...], "best": id or null}``, most probable first;
  ``best`` is the top candidate when its match probability exceeds one half.

A ledger entry (candidate) has ``id``, ``amount``, ``date``, optional ``description``,
``reference``, ``currency`` and ``counterparty``. Training rows are pairs labelled by
``expected_output = {"match": true}`` or ``{"match": false}``; a ranking's row carries no pair
label (``label`` returns None), so feedback on a ranking is sent as one pair per candidate judged.

The model scores a pair from how the two disagree (amount and date gaps, text similarity,
shared reference numbers), never from who they are, so one model ranks entries it never saw.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
from pydantic import Field

from modelops.agents.base import Prediction, flag_label
from modelops.agents.features import day, jaccard, normalise, references, trigrams
from modelops.agents.inputs import AgentInput, Currency, Money, Name, Text
from modelops.agents.tabular import TabularAgent


class BankLine(AgentInput):
    description: Text
    amount: Money
    date: dt.date
    currency: Currency | None = None
    reference: Text | None = None


class LedgerEntry(AgentInput):
    id: Name | int
    amount: Money
    date: dt.date
    description: Text = ""
    currency: Currency | None = None
    reference: Text | None = None
    counterparty: Text | None = None


class ReconciliationInput(AgentInput):
    bank_line: BankLine
    candidate: LedgerEntry | None = None
    candidates: list[LedgerEntry] | None = Field(default=None, max_length=1_000)


def pair_features(pairs: list[dict]) -> list[dict[str, float]]:
    """How a bank line and a ledger entry disagree, per {"bank_line", "candidate"} pair; NaN where
    a field is absent."""
    return [_pair_features(pair["bank_line"], pair["candidate"]) for pair in pairs]


def _pair_features(bank: dict, entry: dict) -> dict[str, float]:
    # Signs differ between a statement and a ledger; magnitudes are what must agree.
    gap = abs(abs(bank["amount"]) - abs(entry["amount"]))
    late = (day(bank["date"]) - day(entry["date"])).days
    bank_text = f"{bank['description']} {bank.get('reference') or ''}"
    entry_text = f"{entry.get('description') or ''} {entry.get('counterparty') or ''}"
    bank_refs = references(bank_text)
    entry_refs = references(f"{entry.get('reference') or ''} {entry.get('description') or ''}")
    return {
        "amount_gap_log": math.log1p(gap),
        "amount_gap_relative": gap / max(abs(entry["amount"]), 1.0),
        "amount_equal": float(gap < 0.005),
        "days_late": float(late),
        "days_apart": float(abs(late)),
        "text_similarity": jaccard(trigrams(bank_text), trigrams(entry_text)),
        "counterparty_named": _named(entry.get("counterparty"), bank_text),
        "reference_equal": float(bool(bank_refs & entry_refs)) if entry_refs else math.nan,
        "reference_tail": (float(any(ref[-4:] in seen for ref in entry_refs for seen in bank_refs))
                           if entry_refs else math.nan),
        "currency_equal": (float(bank["currency"] == entry["currency"])
                           if bank.get("currency") and entry.get("currency") else math.nan),
        "amount_log": math.log1p(abs(bank["amount"])),
    }


def _named(counterparty: str | None, text: str) -> float:
    """Share of the counterparty's words that the bank text contains (banks truncate names)."""
    words = set(normalise(counterparty or "").split())
    if not words:
        return math.nan
    found = set(normalise(text).split())
    return sum(1 for word in words if word in found or any(seen.startswith(word[:5]) for seen in found)) / len(words)


class ReconciliationAgent(TabularAgent):
    name = "reconciliation"
    input_model = ReconciliationInput
    features = staticmethod(pair_features)

    def validate_input(self, payload: Any) -> dict[str, Any]:
        data = super().validate_input(payload)
        if (data["candidate"] is None) == (data["candidates"] is None):
            raise ValueError("candidate: give either candidate (one ledger entry to score) "
                             "or candidates (a list to rank), not both or neither")
        return data

    def label(self, expected_output: Any) -> bool | None:
        return flag_label(expected_output, "match")

    def output(self, label: bool, confidence: float) -> dict[str, Any]:
        return {"match": label, "score": confidence if label else 1.0 - confidence}

    def predict(self, estimator, inputs: list[dict[str, Any]]) -> list[Prediction]:
        """Every pair of every input scored in one predict_proba call, then regrouped per input."""
        groups = [[row["candidate"]] if row.get("candidate") is not None else row["candidates"] for row in inputs]
        pairs = [{"bank_line": row["bank_line"], "candidate": entry} for row, group in zip(inputs, groups) for entry in group]
        scores = iter(match_probabilities(estimator, pairs).tolist())
        predictions = []
        for row, group in zip(inputs, groups):
            group_scores = [next(scores) for _ in group]
            if row.get("candidate") is not None:
                match = group_scores[0] > 0.5
                predictions.append(self._prediction(match, group_scores[0] if match else 1.0 - group_scores[0]))
            else:
                predictions.append(_ranking(group, group_scores))
        return predictions


def match_probabilities(estimator, pairs: list[dict]) -> np.ndarray:
    if not pairs:
        return np.empty(0)
    match_column = estimator.classes_.tolist().index(True)
    return estimator.predict_proba(pairs)[:, match_column]


def _ranking(candidates: list[dict], scores: list[float]) -> Prediction:
    """Candidates by descending match probability (ties keep their input order). The confidence is
    the top candidate's probability when it is named best, else the probability it is no match."""
    order = sorted(range(len(candidates)), key=lambda i: -scores[i])
    matches = [{"id": candidates[i]["id"], "score": scores[i]} for i in order]
    top = matches[0]["score"] if matches else 0.0
    best = matches[0]["id"] if top > 0.5 else None
    return Prediction(label=best, output={"matches": matches, "best": best},
                      confidence=top if best is not None else 1.0 - top)
