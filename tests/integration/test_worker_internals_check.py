"""A worker whose libraries lack a private part it relies on refuses to start, naming the part,
instead of running with a give-back at shutdown that silently no longer happens."""
from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

# the library as a release that renamed the part would ship it: gone before the worker starts
START_WITHOUT_DO_FLUSH = (
    "import sys, celery_batches; del celery_batches.Batches._do_flush; "
    "from celery.__main__ import main; sys.argv[0] = 'celery'; main()"
)


def test_a_worker_missing_an_internal_refuses_to_start_naming_it(broker, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", START_WITHOUT_DO_FLUSH, "-A", "workers.app", "worker", "--queues", "maintenance",
         "--pool", "solo", "--loglevel", "WARNING", "--hostname", f"internals-check@{tmp_path.name}"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "celery_batches.Batches._do_flush (needed for gathering predictions for a free pool process)" in done.stderr + done.stdout
