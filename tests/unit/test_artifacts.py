from __future__ import annotations

import pickle

import pytest
from sklearn.linear_model import LogisticRegression

from modelops.training.artifacts import ArtifactIntegrityError, ArtifactStore, serialise


def fitted(seed: int = 0) -> LogisticRegression:
    return LogisticRegression(random_state=seed).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])


def test_an_artifact_is_named_by_its_hash_and_loads_back(tmp_path):
    store = ArtifactStore(tmp_path)
    stored = store.save(fitted())
    assert stored.path.endswith(f"{stored.sha256}.joblib")
    assert (tmp_path / stored.path).stat().st_size == stored.size_bytes
    assert store.load(stored.path, stored.sha256).predict([[3.0]]).tolist() == [1]
    assert store.save(fitted()) == stored  # same model, same bytes, same file


def test_an_artifact_with_one_changed_byte_is_refused(tmp_path):
    store = ArtifactStore(tmp_path)
    stored = store.save(fitted())
    data = bytearray((tmp_path / stored.path).read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / stored.path).write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError, match="refusing to load"):
        store.load(stored.path, stored.sha256)


def test_a_swapped_artifact_is_refused(tmp_path):
    store = ArtifactStore(tmp_path)
    first, other = store.save(fitted()), store.save(LogisticRegression(C=0.5).fit([[0.0], [1.0]], [0, 1]))
    with pytest.raises(ArtifactIntegrityError):
        store.load(other.path, first.sha256)


def test_a_missing_artifact_is_a_clear_error(tmp_path):
    with pytest.raises(ArtifactIntegrityError, match="missing"):
        ArtifactStore(tmp_path).load("ab/nothing.joblib", "0" * 64)


def test_the_bytes_depend_on_the_values_not_on_which_string_objects_are_shared():
    shared = "".join(["dt", "ype"])
    distinct = "".join(["d", "type"])
    assert shared == distinct and shared is not distinct
    assert pickle.dumps([shared, shared]) != pickle.dumps([shared, distinct])  # what a plain pickler does
    assert serialise([shared, shared]) == serialise([shared, distinct])
