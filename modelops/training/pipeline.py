"""The training pipeline, as the spec lays it out: collect → preprocess → train → validate → save → record.

A version is validated, then refitted: a model fitted on the training side of the split is
scored on the validation side (the version's figures, and what the gate judges), and the model
it serves is fitted again on every usable row. Both are stored; the gate scores production's
validation model, never its served one, on the candidate's validation rows, so neither model
it compares has seen them (``evaluation``).

One run trains one agent for one scope: a tenant (its own rows, read as the tenant, so row-level
security applies), a region (the pooled rows of its opted-in tenants) or the global model
(synthetic rows). Transactions stay short: the run is claimed in one, the data read in another,
the model fitted with no transaction open, and the version recorded and judged by the promotion
gate in a last one. The worker holds the run's lock (``runs.exclusive``) from claim to record, so
two live workers never train one run, and a job redelivered after its worker died takes the run
over and records at most one version, since a version row's training run is unique.
"""
from __future__ import annotations

import datetime as dt
import gc
import itertools
import json
import platform
import shutil
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from modelops import clock, db
from modelops.agents import get_agent
from modelops.config import settings
from modelops.privacy.pii import scrub_many
from modelops.registry import store as registry_store
from modelops.registry import versions
from modelops.registry.artifacts import ArtifactStore
from modelops.training import collection, gate, runs, sources, streaming
from modelops.training import profile as training_profile
from modelops.training.errors import TrainingRefused
from modelops.training.evaluation import HeldValidation, Validation, score, split
from modelops.training.schedule import RETRAINING_SCHEDULE

# Rows are parsed, scrubbed and validated this many at a time: a million rows held at once as
# parsed dicts (raw, scrubbed, validated) would take several GB, and the scrubber scrubs a string
# repeated within a batch (a merchant, a date) once, so much smaller batches cost it 10% more.
BATCH_ROWS = 50_000
# Below this many usable rows a model would only memorise; the run records why it made none.
MIN_TRAINING_ROWS = 20
# Principals are recorded as UUIDs (the spec's created_by column); the same name, the same id.
PRINCIPALS = uuid.UUID("6f1c2f0e-5d0b-4f3e-9a59-0d3c7d1b2a10")
# The seed of the validation split. It never changes, so that a row stays on its side from one
# version of a model to the next (see ``evaluation``); the model's own seed is its config's.
VALIDATION_SEED = 0


@dataclass
class Dataset:
    inputs: list[dict] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    collected: int = 0


def principal_id(name: str) -> uuid.UUID:
    return uuid.uuid5(PRINCIPALS, name)


def _scope(tenant_id):
    return db.tenant_scope(tenant_id) if tenant_id else db.operator_scope()


def collect(agent_type: str, tenant_id, now: dt.datetime) -> tuple[Iterator[dict], int]:
    """Every labelled row of the tenant for the agent up to now, archived or in Postgres, and how
    many arrived since the last training: the model learns from all of its tenant's evidence, of
    which these are new.

    The rows are read in one transaction as JSON text (a fraction of the memory the parsed dicts
    take) and parsed only as the caller iterates over them."""
    with collection.tenant_rows(agent_type, tenant_id, now, BATCH_ROWS) as source:
        batches = list(source.batches)
    return _parsed(batches), source.new


def _parsed(batches: list[list[tuple[str, str]]]) -> Iterator[dict]:
    """The rows as dicts, each batch's text let go once parsed."""
    batches.reverse()
    while batches:
        for input_data, expected_output in batches.pop():
            yield {"input_data": json.loads(input_data), "expected_output": json.loads(expected_output)}


def preprocess(agent, rows: Iterable[dict]) -> Dataset:
    """Scrub again (defence in depth), keep rows whose input fits the agent and whose label it reads.

    A batch at a time: of a large collection only the validated inputs are ever held together."""
    data = Dataset()
    rows = iter(rows)
    # Each pass of the cyclic garbage collector walks every dict kept so far, and a million new
    # dicts set it off again and again (a sixth of this function's time at 300k rows). JSON values
    # make no cycles, so it waits until the rows are in.
    collecting = gc.isenabled()
    gc.disable()
    try:
        while batch := list(itertools.islice(rows, BATCH_ROWS)):
            data.collected += len(batch)
            scrubbed = scrub_many([row["input_data"] for row in batch])
            for row, clean in zip(batch, scrubbed):
                try:
                    features_input = agent.validate_input(clean.value)
                except ValueError as error:
                    data.skipped[f"input: {str(error).split(':')[0]}"] += 1
                    continue
                label = agent.label(row["expected_output"])
                if label is None:
                    data.skipped["label: unreadable expected_output"] += 1
                    continue
                data.inputs.append(features_input)
                data.labels.append(label)
    finally:
        if collecting:
            gc.enable()
    return data


def environment() -> dict[str, str]:
    import joblib
    import numpy
    import scipy
    import sklearn
    import tokenizers

    # tokenizers: it cuts the chat agent's messages into the sentence encoder's tokens
    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": numpy.__version__,
            "scipy": scipy.__version__, "joblib": joblib.__version__, "tokenizers": tokenizers.__version__}


# what a candidate the gate passed goes on to: (connection, version id, now) -> its A/B test, in
# the transaction that records the verdict (modelops.workflows gives the experiments' lifecycle)
OnCandidate = Callable[[Connection, uuid.UUID, dt.datetime], dict]


def train_run(run_id: uuid.UUID | str, worker: str, on_candidate: OnCandidate) -> dict:
    """Carry out one training run end to end; returns its outcome (also recorded on the run).

    ``worker`` names this process (host and pid): the run's claim is recorded under it.
    """
    try:
        run_id = uuid.UUID(str(run_id))
    except ValueError:
        raise ValueError(f"a training run id is a UUID, got {run_id!r}") from None
    with runs.exclusive(run_id) as held:
        if not held:
            return {"run_id": str(run_id), "status": "running",
                    "reason": "another live worker is training this run and will record its outcome"}
        now = clock.now()
        with db.operator_scope() as connection:
            run = runs.claim(connection, run_id, worker, now)
            finished = runs.get(connection, run_id) if run is None else None
        if run is None:
            if finished is None:
                raise ValueError(f"training run {run_id} does not exist")
            return _outcome(finished)
        attempts = run["details"]["attempts"]
        if attempts > runs.MAX_ATTEMPTS:
            reason = (f"given up: claimed {attempts} times and never finished (its workers died or lost the database;"
                      f" the last was {run['details']['previous_worker']})")
            _finish(run_id, worker, "failed", error=reason)
            return {"run_id": str(run_id), "status": "failed", "reason": reason}
        try:
            outcome = _train(run, now, worker, on_candidate)
        except TrainingRefused as refusal:
            _finish(run_id, worker, "skipped", error=str(refusal), details=refusal.details)
            return {"run_id": str(run_id), "status": "skipped", "reason": str(refusal), "details": refusal.details}
        except OperationalError:
            raise  # may pass: the task retries, and the retry takes the run over
        except Exception as error:
            _finish(run_id, worker, "failed", error=f"{type(error).__name__}: {error}")
            raise
        _finish(run_id, worker, "succeeded", model_version_id=outcome["model_version_id"], details=outcome["details"])
        return {"run_id": str(run_id), "status": "succeeded", **outcome}


def _finish(run_id, worker: str, status: str, **outcome) -> None:
    with db.operator_scope() as connection:
        runs.finish(connection, run_id, status=status, now=clock.now(), worker=worker, **outcome)


def _phase(run_id, worker: str, phase: str) -> None:
    with db.operator_scope() as connection:
        runs.note_phase(connection, run_id, worker, phase, clock.now())


def _outcome(run: dict) -> dict:
    return {"run_id": str(run["id"]), "status": run["status"], "model_version_id": str(run["model_version_id"]) if run["model_version_id"] else None,
            "reason": run["error"], "details": run["details"]}


def _usable(collected: int, skipped: Counter, labels: Counter) -> dict:
    """The counts the run records; TrainingRefused when the rows cannot make a model."""
    usable = sum(labels.values())
    counts = {"collected": collected, "usable": usable, "skipped": dict(skipped)}
    if usable < MIN_TRAINING_ROWS:
        raise TrainingRefused(f"{usable} usable rows (of {collected} collected), fewer than the "
                              f"{MIN_TRAINING_ROWS} a model needs", counts)
    if len(labels) < 2:
        raise TrainingRefused(f"every usable row has the same label {next(iter(labels))!r}: a model needs at least "
                              f"two classes to learn to tell apart", counts)
    return counts


def _refuse_repeat(agent_type: str, scope: str, recipe: dict, counts: dict) -> None:
    """A shared model is not trained again from the same source, config and libraries: it would be
    the same bytes under a new version number."""
    with db.operator_scope() as connection:
        latest = registry_store.latest(connection, agent_type, scope)
    if latest is None:
        return
    config = latest.training_config
    before = {"agent": config.get("agent"), "split": config.get("split"), "environment": config.get("environment"),
              "source": config.get("data", {}).get("source")}
    if before == json.loads(json.dumps(recipe)):
        raise TrainingRefused(f"source, config and libraries are those of {latest.version}: training again would "
                              f"make the same model", counts)


def _refuse_unsplittable(usable: int, validation_rows: int, training_classes: int, counts: dict) -> None:
    """TrainingRefused when the sides cannot both learn and judge."""
    if not validation_rows or training_classes < 2:
        what = "none falls on the validation side" if not validation_rows else "those on the training side hold a single class"
        raise TrainingRefused(f"of the {usable} usable rows {what}: too few to both learn from and judge by", counts)


@dataclass
class Fitted:
    validation_model: Any  # fitted on the training side: the version's figures are its
    served_model: Any  # fitted on every usable row: what the version serves
    metrics: dict  # the validation model's, on the validation side
    confidences: list[float]  # the validation model's, on the validation side
    seconds: float  # both fits


def validate_then_refit(agent, config: dict, train_x: list, train_y: list, val_x: list, val_y: list) -> Fitted:
    """Score a fit of the training side on the validation side, then fit again on both sides
    (training then validation, each in hash order, so the same rows give the same bytes)."""
    started = time.perf_counter()
    validation_model = agent.build_estimator(config).fit(train_x, train_y)
    predicted = agent.predict(validation_model, val_x)
    confidences = [p.confidence for p in predicted]
    metrics = score(val_y, [p.label for p in predicted], train_y, confidences)
    served_model = agent.build_estimator(config).fit(train_x + val_x, train_y + val_y)
    return Fitted(validation_model, served_model, metrics, confidences, time.perf_counter() - started)


def judged_model(version: registry_store.ModelVersion | None, artifact_root: Path) -> registry_store.ModelVersion | None:
    """The version as the gate should load it: with its validation model's artifact when it
    recorded one (a version refitted on all its rows has seen the candidate's validation rows;
    its validation model has not). Versions from before the refit served their validation model.
    A version whose served artifact fails its integrity check is left as it is, so that the gate
    refuses it and holds the candidate, as for any production model it cannot load: what serves
    the scope is then a matter for an operator."""
    if version is None:
        return None
    validation_model = (version.training_config or {}).get("validation_model")
    if not validation_model or not ArtifactStore(artifact_root).intact(version.model_artifact_path, version.artifact_sha256):
        return version
    return replace(version, model_artifact_path=validation_model["artifact_path"],
                   artifact_sha256=validation_model["artifact_sha256"])


@dataclass
class Trained:
    """A scope's two models and everything the version records about how they were made."""
    validation_model: Any
    served_model: Any
    metrics: dict
    seconds: float  # the fits
    training_samples: int
    validation_samples: int
    served_rows: int
    profile: dict
    validation: Validation  # the rows the gate scores production on
    config: dict  # the agent's, as recorded
    split: dict
    data: dict  # collected, usable, skipped, new since the last training, source, ...


def _learn(run: dict, agent, schedule: dict, tenant_id, region: str | None, now: dt.datetime, worker: str,
           scratch: Path) -> Trained:
    """Collect, preprocess, split and fit: streamed for a tenant with many rows (``streaming``),
    in memory otherwise."""
    agent_type = run["agent_type"]
    if not tenant_id:
        source = sources.aggregate(agent_type, region) if region else sources.synthetic(agent_type)
        config = agent.default_config() if region else agent.synthetic_config()
        return _learn_in_memory(run, agent, schedule, config, source.rows, len(source.rows), source.description, worker,
                                False)
    with collection.tenant_rows(agent_type, tenant_id, now, BATCH_ROWS) as rows:
        streamed = streaming.streams(agent, rows.rows)
        config = streaming.config(agent) if streamed else agent.default_config()
        if streamed:
            spill = streaming.Spill(scratch)
            seen = streaming.read_and_spill(agent, config, rows.batches, rows.rows, schedule["validation_split"],
                                            VALIDATION_SEED, spill)
        else:
            batches = list(rows.batches)
    source = {"kind": "tenant"}
    if not streamed:
        return _learn_in_memory(run, agent, schedule, config, _parsed(batches), rows.new, source, worker, True,
                                archived_parts=rows.archived_parts)
    counts = _usable(seen.collected, seen.skipped, seen.labels)
    singletons = streaming.singleton_classes(seen)
    _refuse_unsplittable(seen.usable, sum(count for label, count in seen.validation_labels.items() if label not in singletons),
                         len(seen.labels - seen.validation_labels), counts)
    _phase(run["id"], worker, "fitting")
    fitted = streaming.fit(agent, config, seen, spill, config["random_state"])
    split_config = {"method": "seeded hash of the input", "validation_split": schedule["validation_split"],
                    "seed": VALIDATION_SEED, "served_model": "the validation model, then one more pass over the "
                                                             "validation side (streamed)"}
    return Trained(fitted.validation_model, fitted.served_model, fitted.metrics, fitted.seconds,
                   fitted.training_samples, fitted.validation_samples, seen.usable, fitted.profile, fitted.validation,
                   config, split_config, {**counts, "new_since_last": rows.new, "archived_parts": rows.archived_parts,
                                          "source": source, "streamed": True})


def _learn_in_memory(run: dict, agent, schedule: dict, config: dict, rows: Iterable[dict], new: int, source: dict,
                     worker: str, own: bool, archived_parts: int = 0) -> Trained:
    data = preprocess(agent, rows)
    counts = _usable(data.collected, data.skipped, Counter(data.labels))
    split_config = {"method": "seeded hash of the input", "validation_split": schedule["validation_split"],
                    "seed": VALIDATION_SEED, "served_model": "refitted on all usable rows"}
    if not own:
        recipe = {"agent": config, "split": split_config, "environment": environment(), "source": source}
        _refuse_repeat(run["agent_type"], run["scope_key"], recipe, counts)
    train_x, val_x, train_y, val_y = split(data.inputs, data.labels, schedule["validation_split"], VALIDATION_SEED)
    _refuse_unsplittable(len(data.labels), len(val_y), len(set(train_y)), counts)
    _phase(run["id"], worker, "fitting")
    fitted = validate_then_refit(agent, config, train_x, train_y, val_x, val_y)
    # what the model's inputs and confidences looked like, for the drift check to compare with
    profile = training_profile.training_profile(train_x + val_x, fitted.confidences)
    data_counts = {**counts, "new_since_last": new, "source": source}
    if archived_parts:
        data_counts["archived_parts"] = archived_parts
    return Trained(fitted.validation_model, fitted.served_model, fitted.metrics, fitted.seconds, len(train_y), len(val_y),
                   len(train_y) + len(val_y), profile, HeldValidation(val_x, val_y), config, split_config, data_counts)


@contextmanager
def _scratch(run_id) -> Iterator[Path]:
    """A streamed training's chunks on disk, named by the run and removed when it ends; a run taken
    over after its worker was killed first removes what the killed one left."""
    scratch = Path(tempfile.gettempdir()) / "modelops-training" / str(run_id)
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _train(run: dict, now: dt.datetime, worker: str, on_candidate: OnCandidate) -> dict:
    agent_type, scope = run["agent_type"], run["scope_key"]
    tenant_id, region = versions.scope_parts(scope)
    agent, schedule = get_agent(agent_type), RETRAINING_SCHEDULE[agent_type]
    with _scratch(run["id"]) as scratch:
        trained = _learn(run, agent, schedule, tenant_id, region, now, worker, scratch)
        store = ArtifactStore(settings().artifact_dir)
        stored, validated = store.save(trained.served_model), store.save(trained.validation_model)

        _phase(run["id"], worker, "judging")
        with _scope(tenant_id) as connection:
            production = registry_store.production(connection, agent_type, scope)
        verdict = gate.judge(agent, trained.metrics, trained.validation, judged_model(production, settings().artifact_dir),
                             shared=tenant_id is None)
    new_version = versions.NewVersion(
        agent_type=agent_type, tenant_id=tenant_id, region=region, trained_on=now,
        training_samples=trained.training_samples, validation_samples=trained.validation_samples,
        metrics=trained.metrics["summary"], metrics_detail=trained.metrics,
        training_duration=dt.timedelta(seconds=trained.seconds), artifact_path=stored.path,
        artifact_sha256=stored.sha256, artifact_size_bytes=stored.size_bytes,
        training_config={"agent": trained.config, "schedule": schedule, "split": trained.split, "environment": environment(),
                         "data": {**trained.data, "cutoff": now.isoformat()},
                         "served_model_rows": trained.served_rows,
                         "validation_model": {"artifact_path": validated.path, "artifact_sha256": validated.sha256}},
        created_by=principal_id(run["requested_by"]), training_run_id=run["id"],
    )
    with _scope(tenant_id) as connection:
        version_id, version = _record_once(connection, new_version, now)
        training_profile.record_profile(connection, version_id, agent_type=agent_type, tenant_id=tenant_id,
                                        profile=trained.profile, now=now)
        decision = gate.apply(connection, version_id, verdict, now)
        if decision["outcome"] == "candidate":
            # "Deploy to staging for A/B testing": in the same transaction as the verdict, so a
            # candidate is never left passed-but-untested; a redelivered job finds it `testing`.
            decision["ab_test"] = on_candidate(connection, version_id, now)
    counts = {key: trained.data[key] for key in ("collected", "usable", "skipped")}
    return {"model_version_id": str(version_id), "version": version, "metrics": trained.metrics["summary"],
            "decision": decision, "details": {**counts, "decision": decision}}


def _record_once(connection, new_version: versions.NewVersion, now: dt.datetime) -> tuple[uuid.UUID, str]:
    existing = registry_store.by_training_run(connection, new_version.training_run_id)
    return (existing.id, existing.version) if existing else versions.record(connection, new_version, now)
