"""Artifact paths are relative to the store and resolved inside it: an absolute path, a '..' or a
symlink that leads out is refused, at save and at load, with an error naming the path."""
from __future__ import annotations

import os
from pathlib import PurePosixPath

import pytest
from sklearn.dummy import DummyClassifier

from modelops.registry.artifacts import ArtifactStore, UnsafeArtifactPath, relative_path


@pytest.mark.parametrize("path, expected", [
    ("ab/abcd.joblib", "ab/abcd.joblib"),
    ("./ab//abcd.joblib", "ab/abcd.joblib"),
    ("abcd.joblib", "abcd.joblib"),
])
def test_a_relative_path_is_kept_in_its_plain_form(path, expected):
    assert relative_path(path) == PurePosixPath(expected)


@pytest.mark.parametrize("path, why", [
    ("/etc/passwd", "absolute"),
    ("//srv/planted.joblib", "absolute"),
    ("../planted.joblib", "climbs out"),
    ("ab/../../planted.joblib", "climbs out"),
    ("ab/..", "climbs out"),
    ("", "not a path"),
    ("   ", "not a path"),
    ("ab/x\0.joblib", "not a path"),
])
def test_a_path_that_could_leave_the_store_is_refused_by_name(path, why):
    with pytest.raises(UnsafeArtifactPath, match=why) as refused:
        relative_path(path)
    assert repr(path) in str(refused.value)


def test_a_path_that_is_not_a_string_is_refused():
    with pytest.raises(UnsafeArtifactPath, match="not a path"):
        relative_path(None)


def test_a_path_resolves_inside_the_store(tmp_path):
    store = ArtifactStore(tmp_path / "store")
    assert store.resolve("ab/abcd.joblib") == (tmp_path / "store" / "ab" / "abcd.joblib").resolve()


def test_a_symlinked_file_leading_out_is_refused(tmp_path):
    store = ArtifactStore(tmp_path / "store")
    (tmp_path / "store" / "ab").mkdir(parents=True)
    (tmp_path / "outside.joblib").write_bytes(b"planted")
    os.symlink(tmp_path / "outside.joblib", tmp_path / "store" / "ab" / "abcd.joblib")
    with pytest.raises(UnsafeArtifactPath, match="'ab/abcd.joblib' is refused: a symlink leads it out"):
        store.resolve("ab/abcd.joblib")


def test_a_symlinked_folder_leading_out_is_refused(tmp_path):
    (tmp_path / "store").mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "store" / "ab")
    with pytest.raises(UnsafeArtifactPath, match="symlink leads it out"):
        ArtifactStore(tmp_path / "store").resolve("ab/abcd.joblib")


def test_symlinks_that_stay_inside_the_store_are_followed(tmp_path):
    """A store reached through a symlink (a mount point), or folders linked within it, stay usable."""
    (tmp_path / "real" / "cd").mkdir(parents=True)
    os.symlink(tmp_path / "real", tmp_path / "store")
    os.symlink(tmp_path / "real" / "cd", tmp_path / "real" / "ab")
    assert ArtifactStore(tmp_path / "store").resolve("ab/abcd.joblib") == tmp_path / "real" / "cd" / "abcd.joblib"


def test_saving_through_a_folder_that_leads_out_is_refused(tmp_path):
    """The store names the file, but a planted symlink where its folder goes would still send the
    write elsewhere."""
    store, elsewhere = ArtifactStore(tmp_path / "store"), tmp_path / "elsewhere"
    model = DummyClassifier().fit([[0], [1]], [0, 1])
    probe = ArtifactStore(tmp_path / "probe").save(model)
    (tmp_path / "store").mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, tmp_path / "store" / probe.path.split("/")[0])
    with pytest.raises(UnsafeArtifactPath, match=probe.path.split("/")[0]):
        store.save(model)
    assert list(elsewhere.iterdir()) == []


def test_a_load_with_no_path_names_what_is_wrong(tmp_path):
    with pytest.raises(UnsafeArtifactPath, match="None is refused: it is not a path"):
        ArtifactStore(tmp_path).load(None, "0" * 64)
