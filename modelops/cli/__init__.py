"""The command line, `modelops ...`.

The CLI is the composition root: the one place in this package that reaches into `workers/`
(imported inside the commands that talk to the broker), so that the domain stays importable and
testable without Celery. Each module adds the commands of one area to the `main` group.
"""
from modelops.cli import data, database, experiments, monitoring, serving, stack, training  # noqa: F401  (registers their commands)
from modelops.cli import dashboard, operator, service_credentials  # noqa: F401  (registers their commands)
from modelops.cli.base import main

__all__ = ["main"]
