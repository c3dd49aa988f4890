"""The layers hold by themselves: the import contracts of pyproject.toml (the command line above
the Celery layer above the domain above the schemas; the domain's packages in one order, without
cycles), checked by import-linter on every run."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
OURS = {"cli", "workers", "tasks", "modelops", "schemas", "celeryconfig", "beat_schedule"}


def imported(path: Path) -> set[str]:
    """The top-level names a module imports, wherever in it (inside functions too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_import_contracts_are_kept():
    linter = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(linter)], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout


def test_the_celery_layers_top_level_modules_import_only_downwards():
    # import-linter checks packages; these two modules are checked here
    assert imported(PROJECT / "celeryconfig.py") & OURS <= {"beat_schedule"}
    assert imported(PROJECT / "beat_schedule.py") & OURS <= {"modelops", "schemas"}


def test_the_schemas_and_the_domain_import_nothing_above_them():
    for package, allowed in (("schemas", {"schemas"}), ("modelops", {"modelops", "schemas"})):
        for path in (PROJECT / package).rglob("*.py"):
            above = imported(path) & OURS - allowed
            assert not above, f"{path.relative_to(PROJECT)} imports {sorted(above)}"
