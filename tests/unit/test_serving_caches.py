"""The serving caches: routes re-read in bulk when stale, models kept least-recently-used, hash-checked."""
from __future__ import annotations

import gc
import uuid
import weakref
from dataclasses import dataclass

import pytest
from sklearn.linear_model import LogisticRegression

from modelops.serving.models import ModelCache
from modelops.serving.pointers import PointerCache
from modelops.serving.reproducibility import current_environment, environment_note
from modelops.serving.routes import Route
from modelops.registry.artifacts import ArtifactIntegrityError, ArtifactStore


class Ticks:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class CountingRefresher:
    """Resolves every key it is given with the current generation, and says what it was told."""

    def __init__(self):
        self.calls: list[list] = []
        self.known: list[dict] = []
        self.generation = 0

    def __call__(self, keys, known):
        self.calls.append(sorted(keys))
        self.known.append(known)
        return {key: (f"signature {self.generation}", Route(model=None, reason=f"generation {self.generation}")) for key in keys}


def keys(n: int) -> list[tuple[str, uuid.UUID]]:
    return [("classification", uuid.UUID(int=i + 1)) for i in range(n)]


def test_routes_are_resolved_once_per_max_age_and_the_keys_in_use_together():
    ticks, resolver = Ticks(), CountingRefresher()
    cache = PointerCache(resolver, max_age=0.5, monotonic=ticks)
    a, b, c, d = keys(4)
    assert cache.routes([a, b])[a].reason == "generation 0"
    ticks.now += 0.1
    resolver.generation = 1
    routes = cache.routes([a, b, c])
    assert resolver.calls == [sorted([a, b]), [c]]  # a and b still fresh: only the new key was read
    assert routes[a].reason == "generation 0" and routes[c].reason == "generation 1"
    ticks.now += 0.3  # a and b 0.4 s old, c 0.3 s: all still fresh
    cache.routes([a, c, b])
    assert len(resolver.calls) == 2
    ticks.now += 0.15  # a and b are now 0.55 s old, c 0.45 s
    resolver.generation = 2
    assert cache.routes([a])[a].reason == "generation 2"
    # one call for the stale key, and with it the others in use that are at least half as old:
    # b and c, though this batch did not ask for them; so the next batches read nothing
    assert resolver.calls[-1] == sorted([a, b, c])
    # with what was known of them, so that unchanged routes can be kept without resolving them again
    assert resolver.known[-1] == {a: ("signature 0", Route(None, "generation 0")), b: ("signature 0", Route(None, "generation 0")),
                                  c: ("signature 1", Route(None, "generation 1"))}
    ticks.now += 0.1
    assert cache.routes([b, c])[c].reason == "generation 2"
    assert len(resolver.calls) == 3
    ticks.now += 0.2  # a new key: the others are 0.3 s old, asked for within max_age, and read with it
    cache.routes([d])
    assert resolver.calls[-1] == sorted([a, b, c, d])


def test_a_key_no_longer_asked_for_is_not_read_again_with_the_others():
    ticks, resolver = Ticks(), CountingRefresher()
    cache = PointerCache(resolver, max_age=0.5, monotonic=ticks)
    a, b = keys(2)
    cache.routes([a, b])
    for _ in range(4):  # only a is asked for from now on
        ticks.now += 0.6
        cache.routes([a])
    assert resolver.calls[1:] == [[a], [a], [a], [a]]


def test_the_route_table_is_bounded_least_recently_used_out():
    resolver = CountingRefresher()
    cache = PointerCache(resolver, max_keys=2, monotonic=Ticks())
    a, b, c = keys(3)
    cache.routes([a])
    cache.routes([b])
    cache.routes([a])  # a is now more recent than b
    cache.routes([c])  # b goes
    calls = len(resolver.calls)
    cache.routes([a, c])
    assert len(resolver.calls) == calls
    cache.routes([b])
    assert resolver.calls[-1] == [b]


@dataclass(frozen=True)
class Artifact:
    id: uuid.UUID
    artifact_path: str
    artifact_sha256: str
    artifact_size_bytes: int


def stored(store: ArtifactStore, c: float) -> Artifact:
    saved = store.save(LogisticRegression(C=c).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]))
    return Artifact(uuid.uuid4(), saved.path, saved.sha256, saved.size_bytes)


def test_a_model_is_loaded_once_then_served_from_memory(tmp_path):
    store = ArtifactStore(tmp_path)
    artifact = stored(store, 1.0)
    cache = ModelCache(store, budget=10**9)
    first = cache.get(artifact)
    (tmp_path / artifact.artifact_path).unlink()  # served from memory: the file is not read again
    assert cache.get(artifact) is first and cache.loads == 1
    assert first.predict([[3.0]]).tolist() == [1]


def test_models_beyond_the_budget_leave_least_recently_used_first(tmp_path):
    store = ArtifactStore(tmp_path)
    a, b, c = (stored(store, value) for value in (1.0, 2.0, 3.0))
    cache = ModelCache(store, budget=a.artifact_size_bytes + b.artifact_size_bytes + c.artifact_size_bytes - 1)
    cache.get(a)
    cache.get(b)
    cache.get(a)
    cache.get(c)  # over budget: b, the least recently used, goes
    assert len(cache) == 2 and cache.held_bytes == a.artifact_size_bytes + c.artifact_size_bytes
    loads = cache.loads
    cache.get(a)
    cache.get(c)
    assert cache.loads == loads
    cache.get(b)
    assert cache.loads == loads + 1


def test_a_model_larger_than_the_budget_is_still_served(tmp_path):
    store = ArtifactStore(tmp_path)
    artifact = stored(store, 1.0)
    cache = ModelCache(store, budget=1)
    assert cache.get(artifact).predict([[0.0]]).tolist() == [0]
    assert len(cache) == 1


def test_a_loaded_model_is_left_alone_by_the_cyclic_collector_and_freed_once_evicted(tmp_path):
    store = ArtifactStore(tmp_path)
    a, b = stored(store, 1.0), stored(store, 2.0)
    cache = ModelCache(store, budget=max(a.artifact_size_bytes, b.artifact_size_bytes))  # room for one
    try:
        model = cache.get(a)
        assert gc.is_tracked(model) and not any(held is model for held in gc.get_objects())  # frozen: not walked
        gone = weakref.ref(model)
        del model
        cache.get(b)  # over budget: a goes
        assert gone() is None
    finally:
        gc.unfreeze()  # (the rest of this test process as it was)


def test_a_tampered_artifact_is_refused_and_not_cached(tmp_path):
    store = ArtifactStore(tmp_path)
    artifact = stored(store, 1.0)
    path = tmp_path / artifact.artifact_path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    cache = ModelCache(store, budget=10**9)
    with pytest.raises(ArtifactIntegrityError):
        cache.get(artifact)
    assert len(cache) == 0


def test_identity_is_promised_only_in_the_environment_recorded_at_training():
    here = dict(current_environment())
    assert environment_note(here) is None
    older = {**here, "scikit-learn": "0.24.2"}
    note = environment_note(older)
    assert note.startswith("library versions differ") and "scikit-learn" in note and "0.24.2" in note
    assert "numpy" not in note
    assert "records no training environment" in environment_note(None)
