"""Fitted models kept in memory by each serving process, least recently used out first.

An artifact never changes once its version row records its hash, so a model loaded once may be
kept as long as memory allows, keyed by version id: only which version serves a tenant changes
(that is the pointer cache's business). Every load goes through ``ArtifactStore.load`` with the
recorded sha256, so a tampered file is refused, never unpickled. A fitted pipeline is kept
compiled (``modelops.serving.compiled``): the same answers without scikit-learn's per-call wrappers.

The budget counts artifact bytes (the version row records them, so nothing has to be measured
after loading). A loaded model holds about twice its artifact's size in memory (1.7-2.3x by agent,
docs/benchmarks.md), so the default of 512 MB of artifacts is about 1 GB per pool process: a
hundred tenants' six models (170 MB of artifacts each trained on 2,000 rows) fit three times over.
"""
from __future__ import annotations

import gc
import os
import uuid
from collections import OrderedDict
from typing import Any, Protocol

from modelops.registry.artifacts import ArtifactIntegrityError, ArtifactStore
from modelops.serving.compiled import compiled

DEFAULT_BUDGET_MB = 512


class LoadableModel(Protocol):
    id: uuid.UUID
    artifact_path: str
    artifact_sha256: str
    artifact_size_bytes: int


def budget_bytes() -> int:
    return int(float(os.environ.get("MODELOPS_MODEL_CACHE_MB", DEFAULT_BUDGET_MB)) * 2**20)


class ModelCache:
    def __init__(self, store: ArtifactStore, budget: int):
        self.store = store
        self.budget = budget
        self._models: OrderedDict[uuid.UUID, tuple[Any, int]] = OrderedDict()
        self._held = 0
        self.loads = 0

    def get(self, model: LoadableModel) -> Any:
        """The fitted estimator of ``model``; ArtifactIntegrityError if its file is not the recorded one."""
        entry = self._models.get(model.id)
        if entry is not None:
            self._models.move_to_end(model.id)
            return entry[0]
        if not model.artifact_path or not model.artifact_sha256:
            raise ArtifactIntegrityError(f"model version {model.id} records no artifact")
        estimator = compiled(self.store.load(model.artifact_path, model.artifact_sha256))
        self.loads += 1
        # A model stays for the process's life (or until evicted), and a hundred of them are tens of
        # thousands of objects that every full collection would walk: 25-35 ms of CPU each, every few
        # seconds in a busy serving process, a pause that every request of the batch waits out
        # (docs/benchmarks.md). Frozen, the collector leaves them alone; an evicted model is still
        # freed by reference counting (a fitted model holds no reference cycles).
        gc.freeze()
        size = model.artifact_size_bytes
        # the newest model stays even when it alone exceeds the budget: it is the one being asked for
        while self._models and self._held + size > self.budget:
            _, (_, evicted_size) = self._models.popitem(last=False)
            self._held -= evicted_size
        self._models[model.id] = (estimator, size)
        self._held += size
        return estimator

    def __len__(self) -> int:
        return len(self._models)

    @property
    def held_bytes(self) -> int:
        return self._held
