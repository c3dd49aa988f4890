"""The command line, `modelops ...`.

The top layer: it composes the Celery layer (`workers/`, imported inside the commands that talk
to the broker) and the domain (`modelops/`), which never import it. Each module adds the commands
of one area to the `main` group; what a command does beyond reading options and printing is a
domain operation, shared with the tasks.
"""
from cli import data, database, experiments, monitoring, serving, stack, training  # noqa: F401  (registers their commands)
from cli import dashboard, operator, service_credentials  # noqa: F401  (registers their commands)
from cli.base import main

__all__ = ["main"]
