"""Every private part of the libraries this project relies on is there in the installed versions,
a worker started with a library that lacks one refuses to start, naming it, and no module but
workers/internals.py names one."""
from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest
from celery import Celery

from workers import internals

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("modelops", "workers", "tasks", "cli", "schemas", "celeryconfig.py", "beat_schedule.py")
# pickle's pure-Python pickler (registry/artifacts.py) is the standard library's, which moves with
# Python itself rather than with a pinned dependency; joblib builds on it too.
STANDARD_LIBRARY = {("pickle", "_Pickler")}


@pytest.mark.parametrize("internal", internals.INTERNALS, ids=str)
def test_each_internal_relied_on_is_present(internal):
    assert internal.present(), f"{internal} is gone: adapt workers/internals.py before raising the pin"


def test_a_missing_internal_refuses_the_start_naming_it_and_what_needs_it():
    gone = internals.Internal("billiard.pool", "ApplyResult", "_renamed_in_a_new_release", internals.GIVE_BACK)
    absent_class = internals.Internal("celery_batches", "NoSuchClass", "_buffer", internals.GATHERING, kind="assigned")
    with pytest.raises(internals.MissingInternal) as refused:
        internals.self_check((*internals.INTERNALS[:2], gone, absent_class))
    message = str(refused.value)
    assert "billiard.pool.ApplyResult._renamed_in_a_new_release (needed for the give-back at a stop)" in message
    assert "celery_batches.NoSuchClass._buffer" in message
    assert str(internals.INTERNALS[0]) not in message


def test_the_libraries_reached_into_are_pinned_exactly():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = {requirement.split(">")[0].split("[")[0]: requirement for requirement in project["dependencies"]}
    for library in ("celery", "kombu", "billiard", "celery-batches"):
        assert "<=" in pinned[library], f"{library} needs an exact upper bound: {pinned[library]}"


def private_names_used(source: str) -> list[tuple[int, str]]:
    """Where a module names another object's private attribute (``x._name``, ``getattr(x, "_name")``,
    ``super()._name``), or one of the listed internals even on ``self``."""
    listed = {internal.name for internal in internals.INTERNALS}
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            name, owner = node.attr, node.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr", "hasattr")
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            name, owner = node.args[1].value, node.args[0]
        else:
            continue
        if not name.startswith("_") or name.startswith("__"):
            continue
        on_self = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
        if (isinstance(owner, ast.Name) and (owner.id, name) in STANDARD_LIBRARY) or (on_self and name not in listed):
            continue
        found.append((node.lineno, f"{ast.unparse(owner)}.{name}"))
    return found


def test_no_module_but_the_internals_module_names_a_private_part_of_a_library():
    modules = [path for part in PROJECT for path in ([ROOT / part] if part.endswith(".py") else (ROOT / part).rglob("*.py"))]
    offenders = [f"{path.relative_to(ROOT)}:{line}: {name}" for path in modules if path != ROOT / "workers" / "internals.py"
                 for line, name in private_names_used(path.read_text())]
    assert offenders == []


@pytest.mark.parametrize(("source", "expected"), [
    ("job._accepted = True", ["job._accepted"]),
    ("x = getattr(pool, '_pool', None)", ["pool._pool"]),
    ("super()._do_flush()", ["super()._do_flush"]),
    ("self._buffer.qsize()", ["self._buffer"]),      # a listed internal, though reached through self
    ("self._our_own_state = 1", []),                  # a subclass's own attribute
    ("obj.__class__", []),
    ("class P(pickle._Pickler): pass", []),
])
def test_the_fence_sees_each_way_of_naming_a_private_part(source, expected):
    assert [name for _, name in private_names_used(source)] == expected


def request(task_id: str, **workflow) -> SimpleNamespace:
    fields = {"group": None, "parent_id": None, "children": [], "stamps": None, **workflow}
    return SimpleNamespace(id=task_id, task="t", args=[], kwargs={}, hostname="h", retries=0, delivery_info={},
                           ignore_result=False, chord=None, stamped_headers=list(fields["stamps"] or ()), **fields)


def test_a_batch_stores_for_each_request_what_mark_as_done_stores():
    app = Celery(backend="cache+memory://")
    requests = [request("a"), request("b", group="g1", parent_id="p"), request("c", stamps={"s": 1}), request("d")]
    answers = [1, {"x": 2}, [3], None]
    for one, answer in zip(requests, answers):
        app.backend.mark_as_done(one.id, answer, request=one)
    stored = [app.backend.get_task_meta(one.id) for one in requests]
    made = internals.success_metas(app.backend, answers, requests)
    without_time = [{key: value for key, value in meta.items() if key not in ("date_done", "task_id")} for meta in (*stored, *made)]
    assert without_time[:4] == without_time[4:]
    assert all(meta["date_done"] for meta in made)
    assert made[0] is not made[3]  # each request's own meta, whatever they share
