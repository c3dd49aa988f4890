from __future__ import annotations

import hashlib
import os
import pickle
import secrets

import pytest
from sklearn.linear_model import LogisticRegression

from modelops.keys import KEY_VARIABLE
from modelops.registry.artifacts import ArtifactIntegrityError, ArtifactSignatureError, ArtifactStore, serialise


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


class RunsACommand:
    """Unpickling this runs ``touch marker``: what a planted artifact would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def planted(store: ArtifactStore, marker) -> tuple[str, str]:
    """A pickle that runs a command, put in the store at its content address: (path, sha256)."""
    data = pickle.dumps(RunsACommand(marker))
    sha256 = hashlib.sha256(data).hexdigest()
    path = f"{sha256[:2]}/{sha256}.joblib"
    (store.root / sha256[:2]).mkdir(parents=True, exist_ok=True)
    (store.root / path).write_bytes(data)
    return path, sha256


def test_an_artifact_is_signed_beside_it(tmp_path):
    stored = ArtifactStore(tmp_path).save(fitted())
    assert len((tmp_path / f"{stored.path}.sig").read_text()) == 64


def test_a_planted_file_recorded_with_its_own_hash_is_refused_before_it_is_unpickled(tmp_path):
    """What a database session that rewrites a version's path and sha256 achieves: no signature."""
    store, marker = ArtifactStore(tmp_path), tmp_path / "unpickled"
    path, sha256 = planted(store, marker)
    with pytest.raises(ArtifactSignatureError, match=f"artifact {path} has no signature"):
        store.load(path, sha256)
    assert not marker.exists()


def test_a_signature_copied_from_another_artifact_is_refused(tmp_path):
    store, marker = ArtifactStore(tmp_path), tmp_path / "unpickled"
    genuine = store.save(fitted())
    path, sha256 = planted(store, marker)
    (tmp_path / f"{path}.sig").write_bytes((tmp_path / f"{genuine.path}.sig").read_bytes())
    with pytest.raises(ArtifactSignatureError, match="does not match its signature"):
        store.load(path, sha256)
    assert not marker.exists()


def test_an_artifact_signed_under_another_key_is_refused(tmp_path, monkeypatch):
    store = ArtifactStore(tmp_path)
    monkeypatch.setenv(KEY_VARIABLE, secrets.token_hex(32))
    stored = store.save(fitted())
    monkeypatch.setenv(KEY_VARIABLE, secrets.token_hex(32))
    with pytest.raises(ArtifactSignatureError, match=f"artifact {stored.path} .* does not match its signature"):
        store.load(stored.path, stored.sha256)
    assert not store.intact(stored.path, stored.sha256)


def test_an_artifact_saved_again_is_signed_again(tmp_path):
    """A file written before artifacts were signed is refused until its model is saved again."""
    store = ArtifactStore(tmp_path)
    stored = store.save(fitted())
    (tmp_path / f"{stored.path}.sig").unlink()
    assert not store.intact(stored.path, stored.sha256)
    assert store.save(fitted()) == stored
    assert store.intact(stored.path, stored.sha256)


def test_a_recorded_hash_that_is_not_a_sha256_is_refused(tmp_path):
    stored = ArtifactStore(tmp_path).save(fitted())
    with pytest.raises(ArtifactIntegrityError, match="is not 64 lowercase hex"):
        ArtifactStore(tmp_path).load(stored.path, stored.sha256.upper())


def test_the_bytes_depend_on_the_values_not_on_which_string_objects_are_shared():
    shared = "".join(["dt", "ype"])
    distinct = "".join(["d", "type"])
    assert shared == distinct and shared is not distinct
    assert pickle.dumps([shared, shared]) != pickle.dumps([shared, distinct])  # what a plain pickler does
    assert serialise([shared, shared]) == serialise([shared, distinct])
