"""Predictions for a batch of requests: check each, route each, one predict per model, one audit write.

The cost of a prediction is mostly fixed per call (a predict_proba on one row costs about as much
as on a hundred), so requests are grouped by the model that answers them and each group is
predicted in one vectorised call. A bad request, a tenant without a model or a model that cannot
be loaded fails only the requests concerned; the others are answered. Every answer is in the
audit log, committed, before any answer is returned.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
import uuid
from collections import defaultdict
from typing import Any, Callable, NamedTuple

import sklearn

from modelops import clock
from modelops.agents import get_agent
from modelops.config import settings
from modelops.monitoring import counters
from modelops.serving import auditlog
from modelops.serving.models import ModelCache, budget_bytes
from modelops.serving.pointers import PointerCache
from modelops.serving.requests import Refused, ValidRequest, parse_many
from modelops.serving.route_refresh import refresh_routes
from modelops.serving.routes import ServedModel
from modelops.registry.artifacts import ArtifactStore

log = logging.getLogger(__name__)


class Planned(NamedTuple):
    index: int  # position in the batch, where its answer goes
    request: ValidRequest
    model: ServedModel
    ab_test_id: uuid.UUID | None
    ab_group: str | None
    request_key: str | None


def derived_key(features_input: dict[str, Any]) -> str:
    """A sticky key for a request that brought none: the same input lands in the same group."""
    canonical = json.dumps(features_input, sort_keys=True, separators=(",", ":"))
    return "input:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def new_ids(count: int) -> list[uuid.UUID]:
    """``count`` random (version 4) UUIDs, as uuid4 makes them, from one read of the system's
    randomness instead of one read (a system call) for each."""
    random = os.urandom(16 * count)
    return [uuid.UUID(bytes=random[start:start + 16], version=4) for start in range(0, 16 * count, 16)]


def refused(reason: str) -> dict:
    return {"status": "rejected", "reason": reason}


def unavailable(reason: str) -> dict:
    return {"status": "unavailable", "reason": reason}


def answered(row: auditlog.LogRow, version: dict[str, str]) -> dict:
    """The answer logged as ``row``, by the model ``version`` describes (``ServedModel.describe``)."""
    return {
        "status": "predicted", "prediction_id": str(row.id), "agent_type": row.agent_type,
        "tenant_id": str(row.tenant_id), "output": row.predicted_output, "confidence": row.confidence,
        "model_version": version, "ab_group": row.ab_group,
        "ab_test_id": str(row.ab_test_id) if row.ab_test_id else None,
    }


class Server:
    def __init__(self, pointers: PointerCache, models: ModelCache,
                 write_log: Callable[[list[auditlog.LogRow]], None] = auditlog.write,
                 now: Callable[[], dt.datetime] = clock.now,
                 count: Callable[[list[auditlog.LogRow], dict[uuid.UUID, int], dt.date], None] | None = None):
        self.pointers = pointers
        self.models = models
        self.write_log = write_log
        self.now = now
        self.count = count  # the metric counters (a worker's server counts; one built without, as in unit tests, does not)

    def predict_many(self, requests: list[Any]) -> list[dict]:
        """One answer per request, in order: predicted, rejected (bad input) or unavailable (no model)."""
        started = time.perf_counter()
        answers: list[dict | None] = [None] * len(requests)
        valid = self.checked(requests, answers)
        by_model = self.planned(valid, answers)
        timestamp = self.now()
        rows, failed = self.predicted(by_model, timestamp, started, answers)
        self.write_log(rows)
        if self.count:  # only once the audit rows committed: nothing is counted that was not logged
            self.count(rows, failed, timestamp.date())
        return answers

    # The stages of predict_many, each its own method so that bench/bench_serving.py can time them.

    @staticmethod
    def checked(requests: list[Any], answers: list) -> list[tuple[int, ValidRequest]]:
        """The requests that are valid, with their positions; the others' refusals are in ``answers``."""
        valid: list[tuple[int, ValidRequest]] = []
        for index, parsed in enumerate(parse_many(requests)):
            if isinstance(parsed, Refused):
                answers[index] = refused(parsed.reason)
            else:
                valid.append((index, parsed))
        return valid

    def predicted(self, by_model: dict[uuid.UUID, list[Planned]], timestamp: dt.datetime, started: float,
                  answers: list) -> tuple[list[auditlog.LogRow], dict[uuid.UUID, int]]:
        """The audit rows of every planned request (answers filled in), and the failures per model."""
        rows: list[auditlog.LogRow] = []
        failed: dict[uuid.UUID, int] = {}
        # A fitted model's parameters were checked when it was fitted; checking them again on every
        # predict call is a twentieth of a one-row prediction, and serving makes one call per model.
        with sklearn.config_context(skip_parameter_validation=True):
            for planned in by_model.values():
                rows += self._predict(planned, timestamp, started, answers, failed)
        return rows, failed

    def planned(self, valid: list[tuple[int, ValidRequest]], answers: list) -> dict[uuid.UUID, list[Planned]]:
        routes = self.pointers.routes((request.agent_type, request.tenant_id) for _, request in valid)
        by_model: dict[uuid.UUID, list[Planned]] = defaultdict(list)
        for index, request in valid:
            route = routes[(request.agent_type, request.tenant_id)]
            if route.model is None:
                answers[index] = unavailable(route.reason)
                continue
            key = request.request_key or (derived_key(request.features_input) if route.test else None)
            model, group = route.choose(key)
            test_id = route.test.id if group else None
            by_model[model.id].append(Planned(index, request, model, test_id, group, key))
        return by_model

    def _predict(self, planned: list[Planned], timestamp: dt.datetime, started: float, answers: list,
                 failed: dict[uuid.UUID, int]) -> list[auditlog.LogRow]:
        model = planned[0].model
        try:
            estimator = self.models.get(model)
            predictions = get_agent(model.agent_type).predict(estimator, [p.request.features_input for p in planned])
        except Exception as error:  # one model failing must not cost the other models' requests their answers
            log.exception("model version %s (%s) could not answer", model.id, model.agent_type)
            for p in planned:
                answers[p.index] = unavailable(f"model version {model.id} ({model.agent_type} {model.version}) could not answer: {error}")
            failed[model.id] = len(planned)
            return []
        # the request's time in this process: from the batch's start until its answer was computed
        duration_ms = (time.perf_counter() - started) * 1000
        version = model.describe()  # one for the group's answers: they are only serialised
        rows = []
        for p, prediction, row_id in zip(planned, predictions, new_ids(len(planned))):
            row = auditlog.LogRow(
                id=row_id, model_version_id=model.id, agent_type=model.agent_type,
                tenant_id=p.request.tenant_id, input_data=p.request.features_input,
                predicted_output=prediction.output, confidence=prediction.confidence,
                prediction_timestamp=timestamp, duration_ms=duration_ms,
                reproducibility_note=model.reproducibility_note, ab_test_id=p.ab_test_id,
                ab_group=p.ab_group, request_key=p.request_key,
            )
            rows.append(row)
            answers[p.index] = answered(row, version)
        return rows


_servers: dict[int, Server] = {}


def server() -> Server:
    """This process's server: its caches are made after a worker forks, never shared with a parent."""
    if os.getpid() not in _servers:
        _servers.clear()
        _servers[os.getpid()] = Server(PointerCache(refresh_routes), ModelCache(ArtifactStore(settings().artifact_dir), budget_bytes()),
                                       count=counters.recorder().predictions)
    return _servers[os.getpid()]


def predict_many(requests: list[Any]) -> list[dict]:
    return server().predict_many(requests)
