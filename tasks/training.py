"""Training tasks: the scheduled retrain checks, the training jobs they queue, and the shared
(global and regional) models that serve tenants without a model of their own."""
import os

from sqlalchemy.exc import OperationalError

from modelops import clock
from modelops.training import cold_start, pipeline, triggers
from workers.app import app

# A job whose worker died is redelivered and takes its run over (see modelops.training.runs).
TRAINING_JOB = {"bind": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


def _worker(task) -> str:
    # the pool process, not just the node: each process of a node trains its own run
    return f"{task.request.hostname or 'inline'}/{os.getpid()}"


@app.task(name="modelops.training.check_triggers")
def check_triggers(agent_type: str) -> dict:
    """Decide for every tenant; queue a job for each that should train (after the runs committed)."""
    queued = triggers.check(agent_type, clock.now())
    for run_id in queued:
        train_model.delay(str(run_id))
    return {"agent_type": agent_type, "queued": [str(run_id) for run_id in queued]}


@app.task(name="modelops.training.train_model", **TRAINING_JOB)
def train_model(self, run_id: str) -> dict:
    """Result: {run_id, status, model_version_id, version, metrics, decision} or a skip reason."""
    return pipeline.train_run(run_id, worker=_worker(self))


@app.task(name="modelops.training.train_global", **TRAINING_JOB)
def train_global(self, agent_type: str) -> dict:
    """The agent's global model, from synthetic data; the result is train_model's."""
    run_id = cold_start.request_global(agent_type, clock.now(), request_key=self.request.id)
    return pipeline.train_run(run_id, worker=_worker(self))


@app.task(name="modelops.training.train_regional", **TRAINING_JOB)
def train_regional(self, agent_type: str, region: str) -> dict:
    """The agent's model for a region, from its opted-in tenants' aggregate; the result is train_model's."""
    run_id = cold_start.request_regional(agent_type, region, clock.now(), request_key=self.request.id)
    return pipeline.train_run(run_id, worker=_worker(self))


@app.task(name="modelops.training.refresh_shared_models")
def refresh_shared_models() -> dict:
    """Queue a global model per agent and a regional one per aggregate snapshot."""
    jobs = cold_start.shared_scopes()
    for agent_type, region in jobs:
        if region:
            train_regional.delay(agent_type, region)
        else:
            train_global.delay(agent_type)
    return {"queued": [{"agent_type": agent_type, "region": region} for agent_type, region in jobs]}
