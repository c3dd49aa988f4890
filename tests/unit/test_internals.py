"""Every private part of the libraries this project relies on is there in the installed versions,
and a worker started with a library that lacks one refuses to start, naming it."""
from __future__ import annotations

import pytest

from workers import internals


@pytest.mark.parametrize("internal", internals.INTERNALS, ids=str)
def test_each_internal_relied_on_is_present(internal):
    assert internal.present(), f"{internal} is gone: adapt {internal.used_by} before raising the pin"


def test_a_missing_internal_refuses_the_start_naming_it_and_its_user():
    gone = internals.Internal("billiard.pool", "ApplyResult", "_renamed_in_a_new_release", "workers/shutdown.py")
    absent_class = internals.Internal("celery_batches", "NoSuchClass", "_buffer", "tasks/serving.py", kind="assigned")
    with pytest.raises(internals.MissingInternal) as refused:
        internals.self_check((*internals.INTERNALS[:2], gone, absent_class))
    message = str(refused.value)
    assert "billiard.pool.ApplyResult._renamed_in_a_new_release (used by workers/shutdown.py)" in message
    assert "celery_batches.NoSuchClass._buffer" in message
    assert str(internals.INTERNALS[0]) not in message


def test_the_libraries_reached_into_are_pinned_exactly():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    pinned = {requirement.split(">")[0].split("[")[0]: requirement for requirement in project["dependencies"]}
    for library in ("celery", "kombu", "billiard", "celery-batches"):
        assert "<=" in pinned[library], f"{library} needs an exact upper bound: {pinned[library]}"
