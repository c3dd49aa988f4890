"""The domain's workflows that span its packages, composed in one place so that each package
depends only on those below it (the import contract in pyproject.toml): training, then the
candidate's A/B test."""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Connection

from modelops.experiments import lifecycle
from modelops.training import gate, pipeline


def start_ab_test(connection: Connection, version_id: uuid.UUID, now: dt.datetime) -> dict:
    """"Deploy to staging for A/B testing": a candidate the gate passed is tested against production."""
    return lifecycle.start_test(connection, version_id, actor=gate.ACTOR, now=now)


def train(run_id: uuid.UUID | str, worker: str) -> dict:
    """One training run end to end, its candidate (if the gate passes one) put into an A/B test."""
    return pipeline.train_run(run_id, worker, on_candidate=start_ab_test)
