"""Training tasks: the scheduled retrain checks and the training jobs they queue."""
from sqlalchemy.exc import OperationalError

from modelops import clock
from modelops.training import pipeline, triggers
from workers.app import app


@app.task(name="modelops.training.check_triggers")
def check_triggers(agent_type: str) -> dict:
    """Decide for every tenant; queue a job for each that should train (after the runs committed)."""
    queued = triggers.check(agent_type, clock.now())
    for run_id in queued:
        train_model.delay(str(run_id))
    return {"agent_type": agent_type, "queued": [str(run_id) for run_id in queued]}


@app.task(name="modelops.training.train_model", bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def train_model(self, run_id: str) -> dict:
    """Result: {run_id, status, model_version_id, version, metrics, decision} or a skip reason."""
    return pipeline.train_run(run_id, worker=self.request.hostname or "inline")
