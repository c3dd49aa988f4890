"""Training tasks: the scheduled retrain checks, the training jobs they queue, and the shared
(global and regional) models that serve tenants without a model of their own."""
import os

from modelops import clock
from modelops import workflows
from modelops.training import cold_start, triggers
from schemas.tasks import TaskName
from workers.app import task

# A job whose worker died is redelivered and takes its run over (see modelops.training.runs).
TRAINING_JOB = {"bind": True, "outage_retries": 5}


def _worker(task) -> str:
    # the pool process, not just the node: each process of a node trains its own run
    return f"{task.request.hostname or 'inline'}/{os.getpid()}"


@task(TaskName.TRAINING_CHECK_TRIGGERS)
def check_triggers(agent_type: str) -> dict:
    """Decide for every tenant; queue a job for each that should train (after the runs committed)."""
    queued = triggers.check(agent_type, clock.now())
    for run_id in queued:
        train_model.delay(str(run_id))
    return {"agent_type": agent_type, "queued": [str(run_id) for run_id in queued]}


@task(TaskName.TRAINING_TRAIN_MODEL, **TRAINING_JOB)
def train_model(self, run_id: str) -> dict:
    """Result: {run_id, status, model_version_id, version, metrics, decision} or a skip reason."""
    return workflows.train(run_id, worker=_worker(self))


@task(TaskName.TRAINING_TRAIN_GLOBAL, **TRAINING_JOB)
def train_global(self, agent_type: str) -> dict:
    """The agent's global model, from synthetic data; the result is train_model's."""
    run_id = cold_start.request_global(agent_type, clock.now(), request_key=self.request.id)
    return workflows.train(run_id, worker=_worker(self))


@task(TaskName.TRAINING_TRAIN_REGIONAL, **TRAINING_JOB)
def train_regional(self, agent_type: str, region: str) -> dict:
    """The agent's model for a region, from its opted-in tenants' aggregate; the result is train_model's."""
    run_id = cold_start.request_regional(agent_type, region, clock.now(), request_key=self.request.id)
    return workflows.train(run_id, worker=_worker(self))


@task(TaskName.TRAINING_REFRESH_SHARED_MODELS)
def refresh_shared_models() -> dict:
    """Queue a global model per agent and a regional one per aggregate snapshot."""
    jobs = cold_start.shared_scopes()
    for agent_type, region in jobs:
        if region:
            train_regional.delay(agent_type, region)
        else:
            train_global.delay(agent_type)
    return {"queued": [{"agent_type": agent_type, "region": region} for agent_type, region in jobs]}
