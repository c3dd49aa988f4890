"""A version's training profile: what its training inputs and validation confidences looked like.

Stored when the version is recorded (``record_profile``, ai.training_profiles) for the drift check
(modelops/monitoring/drift.py), which bins the version's recent inputs with the same edges and
categories (the ``*_bin_indexes`` functions here) and compares the shares.

Features are read from the validated inputs alike for every agent: nested objects are flattened
to dotted names; numbers are binned at the training deciles; strings with few distinct values in
training (currency, direction, a period) are categories; other strings (descriptions, merchants,
messages) are free text, profiled by their length and by their words (the training's most
frequent words, and any other word as one more bin); lists count by their length; a missing value
is a bin of its own. Features that were constant in training carry no information and are left out.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from collections import Counter
from typing import Any, Iterable

import numpy as np
from sqlalchemy import Connection, text

QUANTILES = np.linspace(0.1, 0.9, 9)  # deciles: ten bins of a continuous feature
MAX_CATEGORIES = 20  # a string feature with more distinct training values is free text
MAX_FEATURES = 40
PROFILE_ROWS = 20_000  # training rows profiled (an even sample of larger sets)
_WORD = re.compile(r"[^\W\d_]{2,}")  # runs of letters: numbers and references differ on every row


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted name: number | string | None}: objects flattened, lists as their length, booleans as
    the strings "true" / "false" (categories, not numbers)."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list):
        return {f"{prefix}.count": float(len(value))}
    if isinstance(value, bool):
        return {prefix: "true" if value else "false"}
    if isinstance(value, (int, float)):
        return {prefix: float(value) if math.isfinite(value) else None}
    return {prefix: value if value is None else str(value)}


def _numeric_bins(values: list[float | None]) -> dict | None:
    present = np.array([v for v in values if v is not None], dtype=float)
    if present.size == 0:
        return None
    edges = np.unique(np.quantile(present, QUANTILES))
    shares = bin_shares(numeric_bin_indexes(edges.tolist(), values), len(edges) + 2)
    return {"kind": "numeric", "edges": edges.tolist(), "shares": shares}


def numeric_bin_indexes(edges: list[float], values: Iterable[float | None]) -> np.ndarray:
    """Bin i holds values in (edges[i-1], edges[i]]; the last bin (len(edges) + 1) holds missing values."""
    numbers = np.array([np.nan if value is None else value for value in values], dtype=float)
    indexes = np.searchsorted(np.asarray(edges, dtype=float), numbers, side="left")
    indexes[np.isnan(numbers)] = len(edges) + 1
    return indexes


def _categorical_bins(values: list[str | None], categories: list[str]) -> dict:
    return {"kind": "categorical", "categories": categories,
            "shares": bin_shares(categorical_bin_indexes(categories, values), len(categories) + 2)}


def categorical_bin_indexes(categories: list[str], values: Iterable[str | None]) -> list[int]:
    """Each category its bin, then one for any other value, then one for missing values."""
    position = {category: index for index, category in enumerate(categories)}
    return [len(categories) + 1 if value is None else position.get(value, len(categories)) for value in values]


def bin_shares(indexes, bins: int) -> list[float]:
    counts = np.bincount(np.asarray(indexes, dtype=int), minlength=bins)[:bins]
    return (counts / max(1, len(indexes))).tolist()


def _informative(bins: dict | None) -> bool:
    return bins is not None and sum(share > 0 for share in bins["shares"]) > 1


def feature_columns(rows: list[dict]) -> dict[str, list[Any]]:
    """Every flattened feature's column over ``rows`` (None where a row lacks it)."""
    flat = [flatten(row) for row in rows]
    names = Counter(name for row in flat for name in row)
    return {name: [row.get(name) for row in flat] for name, _ in names.most_common()}


def lengths(column: list[Any]) -> list[float | None]:
    return [None if value is None else float(len(str(value))) for value in column]


def words(column: list[Any]) -> list[str | None]:
    """Every word of every value, one entry each (None for a value without words): a text's
    vocabulary is its distribution, and new merchants or phrasings move it."""
    found: list[str | None] = []
    for value in column:
        tokens = _WORD.findall(str(value).lower()) if value is not None else []
        found.extend(tokens or [None])
    return found


def profile_feature(field: str, column: list[Any]) -> dict[str, dict]:
    """The views of one training column worth comparing: {name: bins with the field and how it is
    read}. Numbers and few-valued strings are read as they are; free text by its length and by
    its words (the training's most frequent ``MAX_CATEGORIES``, then any other)."""
    strings = [value for value in column if isinstance(value, str)]
    distinct = Counter(strings)
    if not strings:
        views = {field: ("value", _numeric_bins(column))}
    elif len(distinct) <= MAX_CATEGORIES:
        views = {field: ("value", _categorical_bins(column, sorted(distinct)))}
    else:
        vocabulary = [word for word, _ in Counter(w for w in words(column) if w).most_common(MAX_CATEGORIES)]
        views = {f"{field}.length": ("length", _numeric_bins(lengths(column))),
                 f"{field}.words": ("words", _categorical_bins(words(column), vocabulary))}
    return {name: {**bins, "field": field, "read_as": read_as} for name, (read_as, bins) in views.items()
            if _informative(bins)}


def training_profile(inputs: list[dict], confidences: list[float]) -> dict:
    """The profile of a version: its training inputs' features and its validation confidences
    (rounded as the audit log stores them)."""
    step = max(1, math.ceil(len(inputs) / PROFILE_ROWS))
    sample = inputs[::step]
    features: dict[str, dict] = {}
    for field, column in feature_columns(sample).items():
        features.update(profile_feature(field, column))
        if len(features) >= MAX_FEATURES:
            break
    confidence = _numeric_bins([round(float(c), 2) for c in confidences]) if confidences else None
    return {"rows": len(sample), "features": features, "confidence": confidence}


def record_profile(connection: Connection, version_id: uuid.UUID, *, agent_type: str, tenant_id: Any, profile: dict,
                   now: dt.datetime) -> None:
    """Store a version's profile once (a redelivered training job finds it there)."""
    connection.execute(
        text("""INSERT INTO ai.training_profiles (model_version_id, tenant_id, agent_type, rows_profiled, profile, created_at)
                VALUES (:version, :tenant, :agent, :rows, CAST(:profile AS jsonb), :now)
                ON CONFLICT (model_version_id) DO NOTHING"""),
        {"version": version_id, "tenant": tenant_id, "agent": agent_type, "rows": profile["rows"],
         "profile": json.dumps(profile), "now": now},
    )
