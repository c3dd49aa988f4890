"""Training that streams: memory that does not grow with the rows, for the tenants with millions.

The in-memory pipeline holds every validated row, its TF-IDF features and the model at once (1M
classification rows: 3.1 GB). Above ``streaming_rows()`` usable rows, a text agent (classification,
journal, chat) trains this way instead:

1. **One pass over the rows** (the archive's and Postgres's, read in one snapshot, a chunk at a
   time from a server-side cursor): scrub, validate, read the label, put the row on its side of
   the split (the same seeded hash of the input as ``evaluation.split``, so the gate still compares
   on rows neither model learned from), and turn it into hashed features: words, word pairs and
   character n-grams within words, as the in-memory model reads them, and the agent's traits, each
   hashed into a fixed number of columns, so no vocabulary is kept. Each chunk's features go to a
   temporary directory on disk; the validation side's validated inputs too (the gate scores the
   production model on them, and that model may be an in-memory one that reads inputs).
2. **Fit from the spill** by ``partial_fit`` of a logistic model (SGD), a few epochs over the
   training side's chunks, in a seeded order, the classes known from the pass. A seeded sample of
   at most ``calibration_rows`` training rows is held out and fits the softmax temperature, as
   ``HeldOutTemperature`` does for the in-memory SGD model.
3. **Score** the validation side a chunk at a time (``evaluation.Tally``); then the served model
   goes on from the validation model's state over the validation side once: incremental learning
   makes "refit on every row" one more pass rather than a second fit from scratch.

What stays in memory: one chunk of rows and features, the two models (a fixed number of hashed
columns per class), the calibration rows (at most ``calibration_rows``), the profile's sample (at
most ``profile.PROFILE_ROWS``) and counts per label. The rows' order is the order they are read in
(the archive's months, then Postgres by creation time), shuffled within the epoch by the seed: the
same stored rows give the same model. Hashing costs some accuracy against TF-IDF's learned
vocabulary, which is why tenants below the threshold keep the in-memory model (docs/training.md
has the figures).
"""
from __future__ import annotations

import copy
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import scipy.sparse as sparse
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

# the in-memory SGD model's calibrated form and its temperature fit, reused as they are
from modelops.agents.estimators import HeldOutTemperature, class_scores, fitted_temperature
from modelops.agents.features import char_ngrams_of_words, field_text, word_ngrams
from modelops.agents.text_classifier import TextClassifierAgent
from modelops.config import whole_number
from modelops.privacy.pii import scrub_many
from modelops.training import profile as training_profile
from modelops.training.evaluation import Tally, on_validation_side, row_key

DEFAULT_STREAMING_ROWS = 500_000
# Recorded with the version (training_config.agent.streaming). 2**18 columns per text part: the
# word and n-gram vocabularies of a tenant's statements are a few tens of thousands, so collisions
# are rare, and a model holds 2 x 2**18 x classes coefficients while it learns (16 MB for 4 classes).
# L2 rather than elastic net: it leaves every column never seen at zero, so the stored (sparse)
# model is as small, and SGD runs twice as fast without the L1 bookkeeping.
STREAMING_DEFAULTS = {"hash_columns": 2**18, "trait_columns": 2**12, "epochs": 2, "alpha": 5e-6, "penalty": "l2",
                      "chunk_rows": 50_000, "calibration_rows": 20_000}


def config(agent: TextClassifierAgent) -> dict:
    """The agent's config (its n-gram settings, seed) with the streaming learner's beside it."""
    return {**agent.default_config(), "streaming": STREAMING_DEFAULTS}


def streaming_rows() -> int:
    """The usable-row count from which a text agent trains by streaming (MODELOPS_STREAMING_ROWS)."""
    return whole_number("MODELOPS_STREAMING_ROWS", DEFAULT_STREAMING_ROWS, "rows")


def streams(agent, rows: int) -> bool:
    """Whether this agent trains by streaming on this many rows: the text agents, from the threshold.
    (The tabular agents' boosted trees learn from small tables and cannot learn incrementally.)"""
    return isinstance(agent, TextClassifierAgent) and rows >= streaming_rows()


def hashed_features(agent: TextClassifierAgent, config: dict) -> FeatureUnion:
    """Words and word runs, character n-grams within words, and the agent's traits, each hashed into
    a fixed number of columns and normalised per part, like the in-memory TF-IDF parts."""
    def hashed(fields: list[str], analyzer) -> Pipeline:
        return make_pipeline(FunctionTransformer(field_text, kw_args={"fields": fields}),
                             HashingVectorizer(analyzer=analyzer, n_features=config["streaming"]["hash_columns"],
                                               alternate_sign=False, dtype=np.float32))

    parts = [("words", hashed(agent.word_fields, partial(word_ngrams, sizes=tuple(config["word_ngrams"])))),
             ("chars", hashed(agent.char_fields, partial(char_ngrams_of_words, sizes=tuple(config["char_ngrams"]))))]
    if agent.traits is not None:
        parts.append(("traits", make_pipeline(
            FunctionTransformer(agent.traits),
            FeatureHasher(n_features=config["streaming"]["trait_columns"], input_type="dict", alternate_sign=False,
                          dtype=np.float32))))
    return FeatureUnion(parts)


class Spill:
    """Chunks of features and labels in a temporary directory, by side; the validation side's inputs too."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.chunks: dict[str, list[int]] = {"train": [], "validation": []}

    def write(self, side: str, features, labels: list, inputs: list | None = None) -> None:
        index = len(self.chunks[side])
        sparse.save_npz(self.directory / f"{side}-{index}.npz", features.tocsr(), compressed=False)
        (self.directory / f"{side}-{index}.labels.json").write_text(json.dumps(labels))
        if inputs is not None:
            (self.directory / f"{side}-{index}.inputs.json").write_text(json.dumps(inputs))
        self.chunks[side].append(index)

    def read(self, side: str, index: int) -> tuple[Any, np.ndarray]:
        labels = json.loads((self.directory / f"{side}-{index}.labels.json").read_text())
        return sparse.load_npz(self.directory / f"{side}-{index}.npz"), np.asarray(labels)

    def inputs(self, side: str, index: int) -> list:
        return json.loads((self.directory / f"{side}-{index}.inputs.json").read_text())


@dataclass
class Pass:
    """What the pass over the rows counted and kept."""
    collected: int = 0
    skipped: Counter = field(default_factory=Counter)
    labels: Counter = field(default_factory=Counter)  # every usable row's
    validation_labels: Counter = field(default_factory=Counter)
    calibration: list = field(default_factory=list)  # (features, labels) chunks held out for the temperature
    calibration_rows: int = 0
    profile_sample: list = field(default_factory=list)
    usable: int = 0


@dataclass
class Streamed:
    validation_model: Any
    served_model: Any
    metrics: dict
    training_samples: int
    validation_samples: int
    profile: dict
    seconds: float  # the fits
    validation: "SpilledValidation"


class SpilledValidation:
    """The validation side as the gate reads it: its inputs and labels a chunk at a time."""

    def __init__(self, spill: Spill, singletons: set, rows: int):
        self.spill, self.singletons, self.rows = spill, singletons, rows

    def batches(self) -> Iterator[tuple[list, list]]:
        for index in self.spill.chunks["validation"]:
            labels = self.spill.read("validation", index)[1].tolist()
            kept = [i for i, label in enumerate(labels) if label not in self.singletons]
            inputs = self.spill.inputs("validation", index)
            yield [inputs[i] for i in kept], [labels[i] for i in kept]


def read_and_spill(agent, config: dict, batches: Iterable[list[tuple[str, str]]], expected_rows: int,
                   validation_split: float, seed: int, spill: Spill) -> Pass:
    """The one pass over the rows: batches of (input_data, expected_output) JSON text in, hashed
    chunks on disk out."""
    featurizer = hashed_features(agent, config)
    settings = config["streaming"]
    seen = Pass()
    # a band of the hash space next to the validation side, wide enough for about calibration_rows
    calibration_band = min(0.1, settings["calibration_rows"] / max(1, expected_rows))
    profile_step = max(1, math.ceil(expected_rows / training_profile.PROFILE_ROWS))
    pending: dict[str, tuple[list, list]] = {"train": ([], []), "validation": ([], [])}

    def flush(side: str) -> None:
        inputs, labels = pending[side]
        if inputs:
            spill.write(side, featurizer.transform(inputs), labels, inputs if side == "validation" else None)
            pending[side] = ([], [])

    for batch in batches:
        seen.collected += len(batch)
        scrubbed = scrub_many([json.loads(input_data) for input_data, _ in batch])
        calibration: tuple[list, list] = ([], [])
        for (_, expected_text), clean in zip(batch, scrubbed):
            expected = json.loads(expected_text)
            try:
                features_input = agent.validate_input(clean.value)
            except ValueError as error:
                seen.skipped[f"input: {str(error).split(':')[0]}"] += 1
                continue
            label = agent.label(expected)
            if label is None:
                seen.skipped["label: unreadable expected_output"] += 1
                continue
            if seen.usable % profile_step == 0:
                seen.profile_sample.append(features_input)
            seen.usable += 1
            seen.labels[label] += 1
            key = row_key(features_input, seed)
            if on_validation_side(key, validation_split):
                side = "validation"
                seen.validation_labels[label] += 1
            elif (on_validation_side(key, validation_split + calibration_band)
                  and seen.calibration_rows < settings["calibration_rows"]):
                calibration[0].append(features_input)
                calibration[1].append(label)
                seen.calibration_rows += 1
                continue
            else:
                side = "train"
            pending[side][0].append(features_input)
            pending[side][1].append(label)
            if len(pending[side][0]) >= settings["chunk_rows"]:
                flush(side)
        if calibration[0]:
            seen.calibration.append((featurizer.transform(calibration[0]), np.asarray(calibration[1])))
    flush("train")
    flush("validation")
    return seen


def singleton_classes(seen: Pass) -> set:
    """Classes with a single row: they can only be learned from (as in ``evaluation.split``)."""
    return {label for label, count in seen.labels.items() if count < 2}


def fit(agent, config: dict, seen: Pass, spill: Spill, seed: int) -> Streamed:
    """Fit the validation model on the training side, score it on the validation side, then go on
    over the validation side for the served model; each with its temperature from the held-out rows."""
    settings = config["streaming"]
    started = time.perf_counter()
    classes = np.array(sorted(seen.labels, key=str))
    singletons = singleton_classes(seen)
    model = SGDClassifier(loss="log_loss", penalty=settings["penalty"], alpha=settings["alpha"], random_state=seed)
    order = np.random.default_rng(seed)
    chunks = [("train", index) for index in spill.chunks["train"]]
    # a validation row of a single-row class is learned from, as in the in-memory split
    chunks += [("validation", index) for index in spill.chunks["validation"]] if singletons else []
    for _ in range(settings["epochs"]):
        for position in order.permutation(len(chunks)):
            side, index = chunks[position]
            features, labels = spill.read(side, index)
            if side == "validation":
                kept = np.isin(labels, list(singletons))
                features, labels = features[kept], labels[kept]
            _learn(model, features, labels, classes, order)
    calibration = _calibration(seen)
    validation_model = _finished(agent, config, copy.deepcopy(model), calibration, seen.profile_sample[:1], seed)
    fit_seconds = time.perf_counter() - started

    tally, confidences = Tally(), []
    training_counts = seen.labels - Counter({label: count for label, count in seen.validation_labels.items()
                                             if label not in singletons})
    validation_rows = 0
    profile_step = max(1, math.ceil(sum(seen.validation_labels.values()) / training_profile.PROFILE_ROWS))
    for index in spill.chunks["validation"]:
        features, labels = spill.read("validation", index)
        kept = ~np.isin(labels, list(singletons))
        features, labels = features[kept], labels[kept]
        probabilities = validation_model.named_steps["model"].predict_proba(features)
        best = probabilities.argmax(axis=1)
        chosen = probabilities[np.arange(len(best)), best]
        tally.add(labels.tolist(), classes[best].tolist(), chosen)
        confidences.extend(chosen[::profile_step].tolist())
        validation_rows += len(labels)

    started = time.perf_counter()
    for index in spill.chunks["validation"]:
        features, labels = spill.read("validation", index)
        kept = ~np.isin(labels, list(singletons))
        _learn(model, features[kept], labels[kept], classes, order)
    served_model = _finished(agent, config, model, calibration, seen.profile_sample[:1], seed)
    fit_seconds += time.perf_counter() - started

    training_rows = seen.usable - validation_rows
    return Streamed(validation_model, served_model, tally.metrics(training_counts), training_rows, validation_rows,
                    training_profile.training_profile(seen.profile_sample, confidences), fit_seconds,
                    SpilledValidation(spill, singletons, validation_rows))


def _learn(model: SGDClassifier, features, labels: np.ndarray, classes: np.ndarray, order: np.random.Generator) -> None:
    if len(labels):
        shuffled = order.permutation(len(labels))
        model.partial_fit(features[shuffled], labels[shuffled], classes=classes)


def _calibration(seen: Pass) -> tuple[Any, np.ndarray] | None:
    if seen.calibration_rows < HeldOutTemperature.MIN_CALIBRATION_ROWS:
        return None
    return sparse.vstack([features for features, _ in seen.calibration]).tocsr(), np.concatenate(
        [labels for _, labels in seen.calibration])


def _finished(agent, config: dict, model: SGDClassifier, calibration, sample: list, seed: int) -> Pipeline:
    """The fitted linear model behind the hashed features, with probabilities at its temperature:
    an estimator like the in-memory one (``predict_proba`` on validated inputs, ``classes_``), so
    serving, the gate and the drift check read it the same way (hashing learns nothing: its parts
    are fitted on a sample row only to be marked fitted). ``model`` is stored sparse: only the
    columns it saw are non-zero."""
    scaled = HeldOutTemperature(SGDClassifier(), calibration_share=0.0, random_state=seed)
    scaled.estimator_, scaled.classes_ = model, model.classes_
    scaled.temperature_ = 1.0
    if calibration is not None:
        features, labels = calibration
        known = np.isin(labels, model.classes_)
        scaled.temperature_ = fitted_temperature(class_scores(model, features[known]), np.searchsorted(model.classes_, labels[known]))
    model.sparsify()
    return Pipeline([("features", hashed_features(agent, config).fit(sample)), ("model", scaled)])
