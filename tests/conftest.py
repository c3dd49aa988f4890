"""Test settings: the real Postgres and Redis of the machine, in a database and a Redis db of
their own, so a test run never touches a deployment's data."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get(
    "MODELOPS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/modelops_test"
)
TEST_REDIS_URL = os.environ.get("MODELOPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# Set before anything reads settings, and inherited by every worker process a test starts.
os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ["REDIS_URL"] = TEST_REDIS_URL
os.environ.pop("RESULT_BACKEND_URL", None)
os.environ.pop("APP_DATABASE_URL", None)
os.environ["MODELOPS_HOME"] = str(PROJECT / ".modelops-test")
os.environ["MODELOPS_ARTIFACT_DIR"] = str(PROJECT / ".modelops-test" / "artifacts")

pytest_plugins = ["tests.fixtures"]
